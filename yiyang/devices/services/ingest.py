"""The ingestion core shared by the MQTT consumer and ``POST /api/v1/ingest`` (ADR 0018,
docs/device-protocol.md).

``process(envelopes)`` takes raw messages as they arrived (bytes, the claimed serial, the
MQTT signature or the HTTP login) and, in ONE transaction: checks each device, signature,
JSON shape, kind, values, timestamps and sequence numbers; stores each (device, seq) once
as a ``Reading`` and its observations in the resident's health record; opens or folds
alerts (``alerts.evaluate``); puts everything
refused into ``Quarantine`` with its reason; updates the devices (last seen, last seq,
battery, counters). Bad input never raises — it becomes a ``Rejection`` and a quarantine
row. Only an infrastructure error (the database) raises, and then nothing was committed:
the caller must not acknowledge and should retry.

Exactly once (ADR 0018, "Concurrent consumers"): the unique constraint on (device, seq) is
the guard — readings are inserted with ``ON CONFLICT (device_id, seq) DO NOTHING
RETURNING``, so a (device, seq) stored before, or meanwhile by another consumer, is a
duplicate (counted, not stored again) and only the rows actually inserted become
observations and are evaluated by the alert rules. Nothing is locked while the batch is
judged; the device rows are locked last, in id order, and updated by increments, so
several consumers work in parallel and their counters add up. A seq below the device's
highest stored seq that was never stored is a replay (``stale_seq``) — over MQTT, where
several consumers and redeliveries reorder a device's messages, only when it is more than
``MQTT_REORDER_WINDOW`` below.
"""

from __future__ import annotations

import datetime
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from yiyang.devices.models import Device, DeviceStatus, Quarantine, Reading, Source
from yiyang.devices.protocol import (
    MAX_SEQ_AHEAD,
    SENDS,
    Envelope,
    Message,
    Outcome,
    Refusal,
    Refused,
    Rejection,
    decode,
    device_key,
    kept,
    observations_for,
    parse_message,
    piece,
    seq_of,
)
from yiyang.devices.services import alerts
from yiyang.residents.access import consenting_to
from yiyang.residents.models import ConsentPurpose, ResidentStatus
from yiyang.residents.services.device_observations import (
    DeviceObservation,
    record_device_observations,
)

REDELIVERY_LOOKBACK = datetime.timedelta(days=1)  # where a redelivery's refusal is sought
# Over MQTT a device's messages may arrive out of order: several consumers share the
# subscription, and a consumer's unacknowledged messages come back after its restart. A
# seq at most this far below the device's highest stored one that was never stored is a
# late arrival (stored); further below, a replay (``stale_seq``). HTTP is strict (0).
MQTT_REORDER_WINDOW = 1000


def _json_default(value: Any) -> str:
    if isinstance(value, datetime.datetime | uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json(rows: Any) -> str:
    """Rows (dicts) as one JSON array, for ``json_to_recordset`` on PostgreSQL."""
    return json.dumps(list(rows), separators=(",", ":"), default=_json_default)


@dataclass
class _Device:
    """What ``process`` needs of a device row (read without model instances)."""

    pk: int
    serial: str
    kind: str
    status: str
    secret: str
    resident_id: int | None
    last_seq: int | None
    resident_active: bool
    consenting: bool


def _devices(serials: Sequence[str]) -> dict[str, _Device]:
    """The devices of ``serials`` with their resident's status and device-monitoring
    consent (the residents app's rule, ``consenting_to``), one query (no lock: see
    ``_update_devices``)."""
    if not serials:
        return {}
    rows = (
        Device.objects.filter(serial__in=serials)
        .annotate(consenting=consenting_to(ConsentPurpose.DEVICE_MONITORING))
        .values_list(
            "pk",
            "serial",
            "kind",
            "status",
            "secret",
            "resident_id",
            "last_seq",
            "resident__status",
            "consenting",
        )
    )
    return {
        row[1]: _Device(
            *row[:7], resident_active=row[7] == ResidentStatus.ACTIVE, consenting=bool(row[8])
        )
        for row in rows
    }


@dataclass(slots=True)
class _New:
    """A message judged good, to be stored unless (device, seq) is already there."""

    env: int  # index of its envelope
    index: int | None  # position in a batch body (None: a single message)
    device: _Device
    message: Message
    source: str


def _fresh(pk: int, new: _New) -> alerts.Fresh:
    m = new.message
    return alerts.Fresh(pk, new.device.resident_id or 0, m.kind, m.values, m.measured_at)


def _insert_readings(
    rows: list[_New], now: datetime.datetime
) -> list[tuple[_New, alerts.Fresh, uuid.UUID]]:
    """Store ``rows``; return those actually inserted, each with the stored reading (as
    ``alerts.Fresh``: its id and what the rules test) and its panel. On
    PostgreSQL one ``INSERT … ON CONFLICT (device_id, seq) DO NOTHING RETURNING``, in
    (device, seq) order: a row another transaction stored meanwhile (a concurrent consumer)
    is skipped — the unique constraint is the guard — and waits for that transaction
    rather than failing. Elsewhere (SQLite: one writer at a time) a bulk insert."""
    if not rows:
        return []
    rows = sorted(rows, key=lambda n: (n.device.pk, n.message.seq))
    panels = [uuid.uuid4() for _ in rows]
    if connection.vendor != "postgresql":
        return _insert_readings_orm(rows, panels, now)
    ids = _insert_readings_pg(rows, panels, now)
    out = []
    for new, panel in zip(rows, panels, strict=True):
        pk = ids.get((new.device.pk, new.message.seq))
        if pk is not None:
            out.append((new, _fresh(pk, new), panel))
    return out


def _insert_readings_orm(
    rows: list[_New], panels: list[uuid.UUID], now: datetime.datetime
) -> list[tuple[_New, alerts.Fresh, uuid.UUID]]:
    """``_insert_readings`` elsewhere (SQLite): one bulk insert of ``rows`` (sorted, each
    with its panel in ``panels``); all of them are stored."""
    readings = Reading.objects.bulk_create(
        [
            Reading(
                device_id=n.device.pk,
                seq=n.message.seq,
                resident_id=n.device.resident_id or 0,  # bound: checked in _judge
                kind=n.message.kind,
                measured_at=n.message.measured_at,
                values=n.message.values,
                source=n.source,
                received_at=now,
                panel=panel,
            )
            for n, panel in zip(rows, panels, strict=True)
        ]
    )
    return [(n, _fresh(r.pk, n), panel) for n, r, panel in zip(rows, readings, panels, strict=True)]


def _insert_readings_pg(
    rows: list[_New], panels: list[uuid.UUID], now: datetime.datetime
) -> dict[tuple[int, int], int]:
    """``_insert_readings`` on PostgreSQL: one ``INSERT … ON CONFLICT DO NOTHING
    RETURNING`` of ``rows`` (sorted, each with its panel in ``panels``). Out: the id of
    each row inserted, by (device, seq); a row stored before or meanwhile is absent."""
    # One JSON document for the rows: json.dumps (C) and PostgreSQL's parser are much
    # cheaper than adapting a Python list per column.
    document = _json(
        {
            "d": n.device.pk,
            "s": n.message.seq,
            "r": n.device.resident_id,
            "k": n.message.kind,
            "m": n.message.measured_at.isoformat(),
            "v": n.message.values,
            "o": n.source,
            "p": panel.hex,
        }
        for n, panel in zip(rows, panels, strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO devices_reading (device_id, seq, resident_id, kind, measured_at, "
            '"values", source, received_at, panel) '
            "SELECT t.d, t.s, t.r, t.k, t.m, t.v, t.o, %s, t.p "
            "FROM json_to_recordset(%s::json) AS t(d bigint, s bigint, r bigint, k text, "
            "m timestamptz, v jsonb, o text, p uuid) "
            "ORDER BY t.d, t.s "
            "ON CONFLICT (device_id, seq) DO NOTHING RETURNING id, device_id, seq",
            [now, document],
        )
        return {(device_id, seq): pk for pk, device_id, seq in cursor.fetchall()}


def _observations(stored: list[tuple[_New, alerts.Fresh, uuid.UUID]]) -> list[DeviceObservation]:
    """The health-record observations the stored readings make (``observations_for``),
    sharing each reading's time, panel and device serial."""
    return [
        DeviceObservation(
            new.device.resident_id or 0,  # bound: checked in _judge
            code,
            value,
            new.message.measured_at,
            panel,
            new.device.serial,
        )
        for new, _, panel in stored
        for code, value in observations_for(new.message)
    ]


@dataclass
class _Change:
    last_seq: int | None = None
    battery: tuple[datetime.datetime, int] | None = None
    readings: int = 0
    rejected: int = 0
    heard: bool = False

    @property
    def battery_pct(self) -> int | None:
        return self.battery[1] if self.battery is not None else None


def _update_devices(changes: dict[int, _Change], now: datetime.datetime) -> None:
    """Counters, last seq, battery and last seen of the devices, as increments (so that
    concurrent consumers add up), the rows locked in id order (no deadlock between two
    consumers whose batches share devices) and only at the end of the transaction."""
    if not changes:
        return
    if connection.vendor != "postgresql":
        _update_devices_orm(changes, now)
    else:
        _update_devices_pg(changes, now)


def _update_devices_orm(changes: dict[int, _Change], now: datetime.datetime) -> None:
    """``_update_devices`` elsewhere (SQLite): each device row locked, changed, saved."""
    ids = sorted(changes)
    for device in Device.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        c = changes[device.pk]
        if c.last_seq is not None:
            device.last_seq = max(device.last_seq or -1, c.last_seq)
        if c.battery_pct is not None:
            device.battery_pct = c.battery_pct
        device.readings_count += c.readings
        device.rejected_count += c.rejected
        if c.heard:
            device.last_seen_at = now
        device.save(
            update_fields=[
                "last_seq", "battery_pct", "readings_count", "rejected_count", "last_seen_at"
            ]
        )  # fmt: skip


def _update_devices_pg(changes: dict[int, _Change], now: datetime.datetime) -> None:
    """``_update_devices`` on PostgreSQL: the rows locked (``FOR NO KEY UPDATE``, id order),
    then one ``UPDATE … FROM json_to_recordset`` of the increments."""
    ids = sorted(changes)
    document = _json(
        {
            "i": i,
            "q": changes[i].last_seq,
            "b": changes[i].battery_pct,
            "n": changes[i].readings,
            "x": changes[i].rejected,
            "h": changes[i].heard,
        }
        for i in ids
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM devices_device WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
            [ids],
        )
        cursor.execute(
            "UPDATE devices_device d SET last_seq = GREATEST(d.last_seq, v.q), "
            "battery_pct = COALESCE(v.b, d.battery_pct), "
            "readings_count = d.readings_count + v.n, "
            "rejected_count = d.rejected_count + v.x, "
            "last_seen_at = CASE WHEN v.h THEN %s ELSE d.last_seen_at END "
            "FROM json_to_recordset(%s::json) AS v(i bigint, q bigint, b int, n bigint, "
            "x bigint, h boolean) WHERE d.id = v.i",
            [now, document],
        )


def _not_yet_quarantined(
    rows: list[Quarantine],
    redelivered: list[bool],
    changes: dict[int, _Change],
    now: datetime.datetime,
) -> list[Quarantine]:
    """``rows`` without the refusals of redelivered messages that are in the quarantine
    already (the first delivery was committed but its PUBACK was lost, e.g. the consumer
    was killed): a redelivery is stored once, refused or not."""
    again = [row for row, flag in zip(rows, redelivered, strict=True) if flag]
    q = Q()
    for row in again:
        q |= Q(serial=row.serial, code=row.code, seq=row.seq, payload=row.payload)
    seen = set(
        Quarantine.objects.filter(q, received_at__gte=now - REDELIVERY_LOOKBACK).values_list(
            "serial", "code", "seq", "payload"
        )
    )
    kept = []
    for row, flag in zip(rows, redelivered, strict=True):
        if flag and (row.serial, row.code, row.seq, row.payload) in seen:
            if row.device_id is not None:
                changes[row.device_id].rejected -= 1
            continue
        kept.append(row)
    return kept


@dataclass(slots=True)
class _Batch:
    """What one ``process`` call builds up besides the stored rows: an outcome per
    envelope, the quarantine rows (each with whether its envelope is a redelivery) and the
    changes to each device's row."""

    envelopes: Sequence[Envelope]
    now: datetime.datetime
    outcomes: list[Outcome]
    quarantine: list[Quarantine] = field(default_factory=list)
    redelivered: list[bool] = field(default_factory=list)  # per quarantine row
    changes: dict[int, _Change] = field(default_factory=dict)

    def change(self, device_pk: int) -> _Change:
        """The pending change of device ``device_pk`` (created empty on first use)."""
        c = self.changes.get(device_pk)
        if c is None:
            c = self.changes[device_pk] = _Change()
        return c

    def refuse(
        self,
        i: int,
        env: Envelope,
        device: _Device | None,
        code: Refusal,
        detail: str,
        index: int | None = None,
        seq: int | None = None,
        raw: Any = None,
    ) -> None:
        """Refuse (the message ``index`` of) envelope ``i``: a ``Rejection`` in its outcome,
        a quarantine row keeping the envelope's payload — or only ``raw``, the refused
        message of a batch body — and one more rejection on the device's counter."""
        self.outcomes[i].rejected.append(Rejection(index, seq, code, detail))
        payload = env.payload if raw is None else piece(raw)  # one of a batch
        self.redelivered.append(env.redelivered)
        self.quarantine.append(
            Quarantine(
                device_id=device.pk if device else None,
                serial=env.serial[:64],
                source=env.source,
                code=code,
                detail=detail[:255],
                seq=seq,
                payload=kept(payload),
                received_at=self.now,
            )
        )
        if device is not None:
            self.change(device.pk).rejected += 1


def process(envelopes: Sequence[Envelope]) -> list[Outcome]:
    """See the module docstring. One outcome per envelope, in order. In one transaction:
    read the devices; judge each envelope and message; sort out sequence numbers
    (duplicates, replays); store the readings and count them; open or fold alerts; write
    the observations and the quarantine; update the devices, their rows locked last."""
    now = timezone.now()
    batch = _Batch(envelopes, now, [Outcome() for _ in envelopes])
    with transaction.atomic():
        devices = _devices(sorted({e.serial for e in envelopes if e.serial}))
        judged = _judge(batch, devices)
        fresh = _check_seqs(batch, judged)
        inserted = _insert_readings(fresh, now)
        _count_stored(batch, fresh, inserted)
        alerts.evaluate([r for _, r, _ in inserted])
        record_device_observations(_observations(inserted), now)
        _store_quarantine(batch)
        _update_devices(batch.changes, now)
    return batch.outcomes


def _judge(batch: _Batch, devices: dict[str, _Device]) -> list[_New]:
    """Step 1, each envelope on its own: its device, signature (MQTT) or authentication
    (HTTP) and JSON (``decode``); then each of its messages: shape and values
    (``parse_message``), a kind its device sends, a device bound to an active resident who
    consents to monitoring. In: the batch and the devices by serial (``_devices``). Out:
    the messages judged good, in order; every refusal is in ``batch`` (outcome, quarantine
    row, device counter). The envelope checks are inline, not a helper: this loop runs per
    message, thousands a second."""
    judged: list[_New] = []
    now, refuse = batch.now, batch.refuse
    for i, env in enumerate(batch.envelopes):
        device = devices.get(env.serial)
        if device is None:
            refuse(
                i, env, None, Refusal.UNKNOWN_DEVICE, f"no device with serial {env.serial[:64]!r}"
            )
            continue
        if device.status == DeviceStatus.RETIRED:
            refuse(i, env, device, Refusal.DEVICE_RETIRED, f"device {device.serial} is retired")
            continue
        if env.source == Source.MQTT:
            expected = hmac.digest(device_key(device.secret), env.payload, "sha256").hex()
            if not env.signature or not hmac.compare_digest(expected, env.signature):
                refuse(
                    i,
                    env,
                    device,
                    Refusal.BAD_SIGNATURE,
                    f"missing or wrong sig for {device.serial} (another device's topic?)",
                )
                continue
        elif not env.authenticated:
            refuse(i, env, device, Refusal.BAD_SIGNATURE, "the HTTP request was not authenticated")
            continue
        try:
            raws = decode(env.payload)
        except Refused as exc:
            refuse(i, env, device, exc.code, exc.detail)
            continue
        problem = (
            (Refusal.UNBOUND, f"{device.serial} is not bound to a resident")
            if device.resident_id is None
            else (Refusal.UNBOUND, "the bound resident's record is not active")
            if not device.resident_active
            else (Refusal.NO_CONSENT, "the resident's consent to device monitoring is not active")
            if not device.consenting
            else None
        )
        sends = SENDS.get(device.kind, ())
        several = len(raws) > 1
        for j, raw in enumerate(raws):
            index = j if several else None
            piece = raw if several else None
            try:
                message = parse_message(raw, now)
            except Refused as exc:
                refuse(i, env, device, exc.code, exc.detail, index, seq_of(raw), piece)
                continue
            if message.kind not in sends:
                refuse(
                    i,
                    env,
                    device,
                    Refusal.UNSUPPORTED_KIND,
                    f"a {device.kind} cannot send {message.kind!r} messages "
                    f"(it sends {', '.join(sorted(sends))})",
                    index,
                    message.seq,
                    piece,
                )
                continue
            if problem is not None:
                refuse(i, env, device, *problem, index, message.seq, piece)
                continue
            judged.append(_New(i, index, device, message, env.source))
    return judged


def _stored_seqs(judged: list[_New]) -> set[tuple[int, int]]:
    """The (device, seq) of ``judged`` already stored, one query (none when no seq is at or
    below its device's highest stored one). A seq above it cannot be stored yet — unless a
    concurrent transaction stores it now: the insert's ON CONFLICT sees to that."""
    behind = [
        n for n in judged if n.device.last_seq is not None and n.message.seq <= n.device.last_seq
    ]
    if not behind:
        return set()
    q = Q()
    by_device: dict[int, set[int]] = {}
    for n in behind:
        by_device.setdefault(n.device.pk, set()).add(n.message.seq)
    for device_id, seqs in by_device.items():
        q |= Q(device_id=device_id, seq__in=sorted(seqs))
    return set(Reading.objects.filter(q).values_list("device_id", "seq"))


def _check_seqs(batch: _Batch, judged: list[_New]) -> list[_New]:
    """Step 2, sequence numbers. In: the messages judged good. Out: those to store, once
    per (device, seq); a (device, seq) stored before or repeated in the batch is counted
    a duplicate, a replay far below the device's highest stored seq (``stale_seq``) or a
    jump far above it (``seq_jump``) is refused — both in ``batch``."""
    stored = _stored_seqs(judged)
    seen: set[tuple[int, int]] = set()
    fresh: list[_New] = []
    for n in judged:
        device, message = n.device, n.message
        key = (device.pk, message.seq)
        if key in stored or key in seen:
            batch.outcomes[n.env].duplicates += 1
            batch.change(device.pk).heard = True
            continue
        last = device.last_seq
        window = MQTT_REORDER_WINDOW if n.source == Source.MQTT else 0
        code = None
        if last is not None and message.seq < last - window:
            code = Refusal.STALE_SEQ
            detail = f"seq {message.seq} is below {last}, the highest stored"
            if window:
                detail += f" (by more than {window})"
        elif last is not None and message.seq > last + MAX_SEQ_AHEAD:
            code = Refusal.SEQ_JUMP
            detail = (
                f"seq {message.seq} is more than {MAX_SEQ_AHEAD} ahead of {last}, "
                "the highest stored"
            )
        if code is not None:
            # The whole envelope's payload is kept (as before), and its serial is the
            # device's: the device was found by it.
            batch.refuse(n.env, batch.envelopes[n.env], device, code, detail, n.index, message.seq)
            continue
        seen.add(key)
        fresh.append(n)
    return fresh


def _count_stored(
    batch: _Batch, fresh: list[_New], inserted: list[tuple[_New, alerts.Fresh, uuid.UUID]]
) -> None:
    """Step 3, after the insert. In: the messages meant to be stored and those actually
    inserted (``_insert_readings``). Each one's device was heard from; one another
    transaction stored meanwhile is a duplicate; one inserted is accepted and counted on
    its device (readings, highest seq, the latest battery level)."""
    done = {id(n) for n, _, _ in inserted}
    for n in fresh:
        c = batch.change(n.device.pk)
        c.heard = True
        if id(n) not in done:  # stored meanwhile by a concurrent transaction
            batch.outcomes[n.env].duplicates += 1
            continue
        batch.outcomes[n.env].accepted += 1
        c.readings += 1
        c.last_seq = max(c.last_seq if c.last_seq is not None else -1, n.message.seq)
        if n.message.kind == "battery" and (
            c.battery is None or n.message.measured_at >= c.battery[0]
        ):
            c.battery = (n.message.measured_at, n.message.values["pct"])


def _store_quarantine(batch: _Batch) -> None:
    """Step 4: write the batch's quarantine rows (one bulk insert), without the refusals of
    redelivered messages already quarantined (``_not_yet_quarantined``, one query, only
    when the batch has redeliveries)."""
    quarantine = batch.quarantine
    if any(batch.redelivered):
        quarantine = _not_yet_quarantined(quarantine, batch.redelivered, batch.changes, batch.now)
    if quarantine:
        Quarantine.objects.bulk_create(quarantine, batch_size=1000)


def quarantine_failure(envelope: Envelope, error: str) -> Outcome:
    """Put a message whose processing keeps failing for a reason other than the database
    (a bug) into the quarantine as ``internal_error`` — so that it cannot block the
    pipeline. The caller decides when (the MQTT consumer: after repeated failures, alone,
    with the database reachable)."""
    return quarantine_refusal(envelope, Refusal.INTERNAL_ERROR, f"processing failed: {error}")


def quarantine_refusal(envelope: Envelope, code: Refusal, detail: str) -> Outcome:
    """Quarantine a whole envelope refused before ``process`` could judge it (a body too
    large to read: ``envelope.payload`` holds only its first bytes), counted on its
    device."""
    detail = detail[:255]
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(serial=envelope.serial).first()
        Quarantine.objects.create(
            device=device,
            serial=envelope.serial[:64],
            source=envelope.source,
            code=code,
            detail=detail,
            payload=kept(envelope.payload),
            received_at=timezone.now(),
        )
        if device is not None:
            device.rejected_count += 1
            device.save(update_fields=["rejected_count"])
    return Outcome(rejected=[Rejection(None, None, code, detail)])
