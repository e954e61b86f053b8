"""The observations home devices send, written in bulk: the one way another app (the
devices ingestion, ADR 0018) writes rows of ``residents_observation``.

``record_device_observations(rows, now)`` stores many readings' observations in one
statement, inside the caller's transaction. It is the bulk variant of
``observations.record_observation`` for a caller that is not a person: no permission, scope
or audit row (the device authenticated itself, and its reading is kept as evidence by the
caller), and none of the per-row checks the health-record form needs. What it relies on,
the caller has checked for every row: the device is bound to the resident, she is active,
and her device-monitoring consent is in force (``access.consenting_to``, the same rule
as ``access.has_consent``); each value is a LOINC code of ``residents.loinc`` with a value
inside its plausible range, quantized to the code's precision.

On PostgreSQL one ``INSERT … SELECT`` from a JSON document of the rows (``json.dumps`` and
PostgreSQL's parser cost far less than adapting a Python list per column); elsewhere
(SQLite) one ``bulk_create``.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection

from yiyang.residents import loinc
from yiyang.residents.models import Observation, ObservationSource

UNITS = {code: spec.unit for code, spec in loinc.CODES.items()}


class DeviceObservation(NamedTuple):
    """One observation of one device reading."""

    resident_id: int
    code: str  # a key of ``loinc.CODES``
    value: float  # in the code's canonical unit, already quantized to its decimals
    measured_at: datetime.datetime
    panel: uuid.UUID | None  # the reading's rows share it (a BP panel, SpO2 with pulse)
    device_serial: str


def record_device_observations(rows: Sequence[DeviceObservation], now: datetime.datetime) -> None:
    """Store ``rows`` (source ``device``, recorded at ``now``) in one statement."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _insert_pg(rows, now)
    else:
        _insert_orm(rows)


def _insert_orm(rows: Sequence[DeviceObservation]) -> None:
    # The value as parsed (a float already quantized to the code's decimals): its shortest
    # repr is the exact decimal stored.
    Observation.objects.bulk_create(
        [
            Observation(
                resident_id=row.resident_id,
                code=row.code,
                value=Decimal(str(row.value)),
                unit=UNITS[row.code],
                effective_at=row.measured_at,
                source=ObservationSource.DEVICE,
                panel=row.panel,
                device_serial=row.device_serial,
            )
            for row in rows
        ],
        batch_size=1000,
    )


def _insert_pg(rows: Sequence[DeviceObservation], now: datetime.datetime) -> None:
    stamps: dict[datetime.datetime, str] = {}  # a panel's rows share their time
    document = json.dumps(
        [
            {
                "r": row.resident_id,
                "c": row.code,
                "v": row.value,
                "u": UNITS[row.code],
                "m": stamps.get(row.measured_at)
                or stamps.setdefault(row.measured_at, row.measured_at.isoformat()),
                "p": row.panel.hex if row.panel else None,
                "s": row.device_serial,
            }
            for row in rows
        ],
        separators=(",", ":"),
    )
    params: list[Any] = [ObservationSource.DEVICE.value, now, document]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO residents_observation (resident_id, code, value, unit, effective_at, "
            "source, panel, device_serial, recorded_at) "
            "SELECT t.r, t.c, t.v, t.u, t.m, %s, t.p, t.s, %s "
            "FROM json_to_recordset(%s::json) AS t(r bigint, c text, v numeric, u text, "
            "m timestamptz, p uuid, s text)",
            params,
        )
