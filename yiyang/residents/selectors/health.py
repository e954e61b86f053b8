"""Reads of the health record (``*_for(user, resident)``): conditions, medications,
allergies, encounters, documents and observations, and what the pages make of the
observations (the latest values, a series for the charts, the readings table).

Each takes a resident fetched with ``selectors.registry.get_resident_for`` (scoped,
audited) and checks ``access.require_health_view`` (staff with ``ResidentPerm.HEALTH_VIEW``,
the resident herself, a family proxy allowed to view readings). A document download is
audited on its own (``residents.document.read``).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import NotFound
from yiyang.residents import loinc
from yiyang.residents.access import require_health_view
from yiyang.residents.models import (
    Allergy,
    Condition,
    Document,
    Encounter,
    Medication,
    Observation,
    ObservationSource,
    Resident,
)


def conditions_for(user: User, resident: Resident) -> QuerySet[Condition]:
    require_health_view(user, resident)
    return Condition.objects.filter(resident=resident).order_by("status", "icd10", "pk")


def medications_for(user: User, resident: Resident) -> QuerySet[Medication]:
    require_health_view(user, resident)
    return Medication.objects.filter(resident=resident).order_by("-long_term", "name", "pk")


def allergies_for(user: User, resident: Resident) -> QuerySet[Allergy]:
    require_health_view(user, resident)
    return Allergy.objects.filter(resident=resident).order_by("substance", "pk")


def encounters_for(user: User, resident: Resident) -> QuerySet[Encounter]:
    require_health_view(user, resident)
    return (
        Encounter.objects.filter(resident=resident)
        .select_related("institution", "practitioner")
        .order_by("-date", "-pk")
    )


def documents_for(user: User, resident: Resident) -> QuerySet[Document]:
    require_health_view(user, resident)
    return Document.objects.filter(resident=resident).order_by("-uploaded_at", "-pk")


def get_document_for(user: User, resident: Resident, item_id: Any) -> Document:
    """One document of the resident's record for download; the read is audited."""
    require_health_view(user, resident)
    try:
        document = Document.objects.get(resident=resident, pk=item_id)
    except (Document.DoesNotExist, ValueError, TypeError):
        raise NotFound("document") from None
    record(
        actor=user,
        action="residents.document.read",
        obj=document,
        object_repr=f"document {document.pk} of resident {resident.pk}",
        details={"resident": resident.pk},
    )
    return document


def observations_for(
    user: User,
    resident: Resident,
    *,
    codes: Iterable[str] | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> QuerySet[Observation]:
    """The resident's observations, newest first, optionally of ``codes`` (LOINC codes)
    between ``since`` and ``until`` (inclusive)."""
    require_health_view(user, resident)
    qs = Observation.objects.filter(resident=resident)
    code_list = list(codes or [])
    if code_list:
        qs = qs.filter(code__in=code_list)
    if since is not None:
        qs = qs.filter(effective_at__gte=since)
    if until is not None:
        qs = qs.filter(effective_at__lte=until)
    return qs.order_by("-effective_at", "code", "pk")


def observation_series(
    user: User,
    resident: Resident,
    code: str,
    since: datetime.datetime,
    until: datetime.datetime,
) -> list[tuple[datetime.datetime, Decimal]]:
    """(time, value) of one code over a period, oldest first — one range scan of
    ``observation_series_idx`` (resident, code, -effective_at)."""
    require_health_view(user, resident)
    rows = Observation.objects.filter(
        resident=resident, code=code, effective_at__gte=since, effective_at__lte=until
    ).order_by("-effective_at")
    return list(reversed(rows.values_list("effective_at", "value")))


@dataclass(frozen=True)
class Latest:
    code: loinc.Code
    value: Decimal
    at: datetime.datetime
    source: str


def latest_vitals(user: User, resident: Resident) -> list[Latest]:
    """The newest value of each code in ``loinc.SUMMARY_CODES`` that has one (one indexed
    lookup per code)."""
    require_health_view(user, resident)
    found = []
    for code in loinc.SUMMARY_CODES:
        row = (
            Observation.objects.filter(resident=resident, code=code)
            .order_by("-effective_at")
            .values_list("value", "effective_at", "source")
            .first()
        )
        if row is not None:
            found.append(Latest(loinc.CODES[code], row[0], row[1], row[2]))
    return found


@dataclass
class Reading:
    """Rows measured together (a BP panel, a weight with its BMI) or a single row, for
    the readings table."""

    at: datetime.datetime
    source: str
    rows: list[Observation] = field(default_factory=list)

    @property
    def removable(self) -> bool:
        return self.rows[0].source == ObservationSource.MANUAL

    @property
    def primary(self) -> Observation:
        return self.rows[0]

    def value_of(self, code: str) -> Observation | None:
        return next((r for r in self.rows if r.code == code), None)

    @property
    def parts(self) -> list[dict[str, Any]]:
        """What the readings table shows: a BP pair as one "120/80 mmHg" part, then the
        other rows (heart rate, a derived BMI …) each with its short label."""
        parts: list[dict[str, Any]] = []
        systolic, diastolic = self.value_of(loinc.SYSTOLIC), self.value_of(loinc.DIASTOLIC)
        rest = self.rows
        if systolic is not None and diastolic is not None:
            parts.append(
                {
                    "code": loinc.BP_PANEL,
                    "label": _("BP"),
                    "value": f"{_shown(systolic)}/{_shown(diastolic)}",
                    "unit": systolic.unit,
                    "derived": False,
                }
            )
            rest = [r for r in self.rows if r not in (systolic, diastolic)]
        for row in rest:
            spec = loinc.CODES.get(row.code)
            parts.append(
                {
                    "code": row.code,
                    "label": str(spec.short) if spec else row.code,
                    "value": _shown(row),
                    "unit": row.unit,
                    "derived": row.source == ObservationSource.DERIVED,
                }
            )
        return parts


def _shown(row: Observation) -> str:
    """A value with its code's precision (135, 6.5, 36.8)."""
    spec = loinc.CODES.get(row.code)
    decimals = spec.decimals if spec else 2
    return f"{Decimal(row.value):.{decimals}f}"


_READING_ORDER = {code: i for i, code in enumerate(loinc.SUMMARY_CODES)}


def recent_readings(
    user: User, resident: Resident, since: datetime.datetime, limit: int = 50
) -> list[Reading]:
    """The newest readings since ``since`` (at most ``limit``), panels grouped."""
    rows = list(observations_for(user, resident, since=since)[: limit * 3])
    readings: list[Reading] = []
    by_panel: dict[uuid.UUID, Reading] = {}
    for row in rows:
        if row.panel is not None and row.panel in by_panel:
            by_panel[row.panel].rows.append(row)
            continue
        reading = Reading(at=row.effective_at, source=row.source, rows=[row])
        readings.append(reading)
        if row.panel is not None:
            by_panel[row.panel] = reading
    for reading in readings:
        reading.rows.sort(
            key=lambda r: (r.source == ObservationSource.DERIVED, _READING_ORDER.get(r.code, 99))
        )
        reading.source = reading.rows[0].source
    return readings[:limit]
