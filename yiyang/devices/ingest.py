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

Exactly once: the device rows are locked (``SELECT … FOR UPDATE``, in id order) for the
transaction, so two consumers never judge the same device's messages at the same time;
(device, seq) already stored is a duplicate (counted, not stored again), a seq below the
device's highest stored seq that was never stored is a replay (``stale_seq``), and the
unique constraint on (device, seq) is the last line of defence.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from yiyang.common import crypto
from yiyang.devices import alerts
from yiyang.devices.models import Device, DeviceStatus, Quarantine, Reading, Source
from yiyang.residents import loinc
from yiyang.residents.models import (
    Consent,
    ConsentPurpose,
    Observation,
    ObservationSource,
    Resident,
    ResidentStatus,
)

MAX_MESSAGES = 500  # per body
MAX_PAYLOAD = 512 * 1024  # bytes per body
FUTURE_SKEW = datetime.timedelta(minutes=5)
MAX_AGE = datetime.timedelta(days=30)
PAYLOAD_KEPT = 4096  # bytes of a refused message kept in the quarantine

GLUCOSE_CONTEXTS = {
    "fasting": loinc.GLUCOSE_FASTING,
    "random": loinc.GLUCOSE_RANDOM,
    "postprandial": loinc.GLUCOSE_RANDOM,
}

# kind → {value key: (LOINC code whose plausible range and unit apply | None, required)}
KINDS: dict[str, dict[str, tuple[str | None, bool]]] = {
    "bp": {
        "sys": (loinc.SYSTOLIC, True),
        "dia": (loinc.DIASTOLIC, True),
        "hr": (loinc.HEART_RATE, False),
    },
    "glucose": {"mmol": (loinc.GLUCOSE_RANDOM, True), "context": (None, True)},
    "spo2": {"spo2": (loinc.SPO2, True), "hr": (loinc.HEART_RATE, False)},
    "temp": {"c": (loinc.TEMPERATURE, True)},
    "hr": {"hr": (loinc.HEART_RATE, True)},
    "weight": {"kg": (loinc.WEIGHT, True)},
    "battery": {"pct": (None, True)},
    "sos": {},
    "fall": {},
}


@dataclass(frozen=True)
class Envelope:
    source: str  # Source.MQTT | Source.HTTP
    serial: str  # from the topic or the HTTP login
    payload: bytes
    signature: str | None = None  # MQTT 5 user property "sig"
    authenticated: bool = False  # HTTP: credentials already checked by the endpoint


@dataclass(frozen=True)
class Rejection:
    index: int | None  # position in a batch body (None: the whole body)
    seq: int | None
    code: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "seq": self.seq, "code": self.code, "detail": self.detail}


@dataclass
class Outcome:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)


class Refused(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def sign(secret: str, payload: bytes) -> str:
    """The MQTT ``sig``: hex HMAC-SHA256 of the payload keyed with the device secret."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


@lru_cache(maxsize=50_000)
def _secret(token: str) -> str:
    return crypto.decrypt(token)


# --- one message ------------------------------------------------------------------------


@dataclass
class Message:
    seq: int
    measured_at: datetime.datetime
    kind: str
    values: dict[str, Any]


def _number(kind: str, key: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refused("bad_field", f"{kind}.{key} must be a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise Refused("bad_field", f"{kind}.{key} must be a number") from None
    if not number.is_finite():
        raise Refused("bad_field", f"{kind}.{key} must be a finite number")
    return number


def parse_message(raw: Any, now: datetime.datetime) -> Message:
    """Check one decoded message against the protocol; ``Refused`` says why not."""
    if not isinstance(raw, dict):
        raise Refused("malformed", "a message must be a JSON object")
    unknown = set(raw) - {"seq", "ts", "kind", "values"}
    if unknown:
        raise Refused("bad_field", f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    for name in ("seq", "ts", "kind", "values"):
        if name not in raw:
            raise Refused("bad_field", f"{name} is missing")
    seq = raw["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0 or seq >= 2**63:
        raise Refused("bad_field", "seq must be an integer ≥ 0")
    kind = raw["kind"]
    if not isinstance(kind, str):
        raise Refused("bad_field", "kind must be a string")
    if kind not in KINDS:
        raise Refused("unknown_kind", f"unknown kind {kind[:20]!r}")
    ts = raw["ts"]
    if not isinstance(ts, str):
        raise Refused("bad_field", "ts must be an ISO 8601 string with an offset")
    try:
        measured_at = datetime.datetime.fromisoformat(ts)
    except ValueError:
        raise Refused("bad_field", "ts must be an ISO 8601 string with an offset") from None
    if measured_at.tzinfo is None:
        raise Refused("bad_field", "ts must carry a UTC offset (e.g. +08:00)")
    if measured_at > now + FUTURE_SKEW:
        raise Refused("future_ts", f"ts {ts} is in the future")
    if measured_at < now - MAX_AGE:
        raise Refused("old_ts", f"ts {ts} is more than {MAX_AGE.days} days old")
    values = raw["values"]
    if not isinstance(values, dict):
        raise Refused("bad_field", "values must be an object")
    spec = KINDS[kind]
    extra = set(values) - set(spec)
    if extra:
        raise Refused("bad_field", f"{kind} takes no {', '.join(sorted(map(str, extra)))}")
    clean: dict[str, Any] = {}
    for key, (code, required) in spec.items():
        if key not in values:
            if required:
                raise Refused("bad_field", f"{kind}.{key} is missing")
            continue
        value = values[key]
        if kind == "glucose" and key == "context":
            if value not in GLUCOSE_CONTEXTS:
                raise Refused(
                    "bad_field", "glucose.context must be fasting, random or postprandial"
                )
            clean[key] = value
            continue
        number = _number(kind, key, value)
        if code is None:  # battery
            if number != number.to_integral_value() or not 0 <= number <= 100:
                raise Refused("out_of_range", f"{kind}.{key} must be an integer 0–100")
            clean[key] = int(number)
            continue
        spec_code = loinc.CODES[code]
        if not spec_code.in_range(number):
            raise Refused(
                "out_of_range", f"{kind}.{key} {value} is outside {spec_code.range_text()}"
            )
        clean[key] = float(spec_code.quantize(number))
    if kind == "bp" and clean["sys"] <= clean["dia"]:
        raise Refused("out_of_range", "bp.sys must be higher than bp.dia")
    return Message(seq=seq, measured_at=measured_at, kind=kind, values=clean)


def observations_for(message: Message) -> list[tuple[str, float]]:
    """(LOINC code, value in the canonical unit) of the observations a reading makes."""
    v = message.values
    if message.kind == "bp":
        rows = [(loinc.SYSTOLIC, v["sys"]), (loinc.DIASTOLIC, v["dia"])]
        return rows + ([(loinc.HEART_RATE, v["hr"])] if "hr" in v else [])
    if message.kind == "glucose":
        return [(GLUCOSE_CONTEXTS[v["context"]], v["mmol"])]
    if message.kind == "spo2":
        return [(loinc.SPO2, v["spo2"])] + ([(loinc.HEART_RATE, v["hr"])] if "hr" in v else [])
    if message.kind == "temp":
        return [(loinc.TEMPERATURE, v["c"])]
    if message.kind == "hr":
        return [(loinc.HEART_RATE, v["hr"])]
    if message.kind == "weight":
        return [(loinc.WEIGHT, v["kg"])]
    return []  # battery, sos, fall


# --- a batch ----------------------------------------------------------------------------


def _decode(payload: bytes) -> list[Any]:
    if len(payload) > MAX_PAYLOAD:
        raise Refused("malformed", f"body larger than {MAX_PAYLOAD} bytes")
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refused("malformed", "body is not UTF-8 JSON") from None
    if isinstance(body, list):
        if not body:
            raise Refused("malformed", "empty batch")
        if len(body) > MAX_MESSAGES:
            raise Refused("malformed", f"more than {MAX_MESSAGES} messages in one body")
        return body
    if isinstance(body, dict):
        return [body]
    raise Refused("malformed", "body must be a JSON object or an array of objects")


def _seq_of(raw: Any) -> int | None:
    if isinstance(raw, dict):
        seq = raw.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq < 2**63:
            return seq
    return None


def _kept(payload: bytes) -> str:
    return payload[:PAYLOAD_KEPT].decode("utf-8", errors="replace")


def process(envelopes: Sequence[Envelope]) -> list[Outcome]:
    """See the module docstring. One outcome per envelope, in order."""
    now = timezone.now()
    outcomes = [Outcome() for _ in envelopes]
    quarantine: list[Quarantine] = []
    readings: list[Reading] = []
    observations: list[Observation] = []

    with transaction.atomic():
        serials = sorted({e.serial for e in envelopes if e.serial})
        devices = {
            d.serial: d
            for d in Device.objects.select_for_update().filter(serial__in=serials).order_by("pk")
        }
        resident_ids = {d.resident_id for d in devices.values() if d.resident_id}
        consenting = set(
            Consent.objects.filter(
                resident_id__in=resident_ids,
                purpose=ConsentPurpose.DEVICE_MONITORING,
                withdrawn_at__isnull=True,
            ).values_list("resident_id", flat=True)
        )
        active = set(
            Resident.objects.filter(pk__in=resident_ids, status=ResidentStatus.ACTIVE).values_list(
                "pk", flat=True
            )
        )

        # 1. Envelope level: device, signature, JSON; then each message's shape.
        accepted_by_env: list[list[tuple[int, Message]]] = [[] for _ in envelopes]
        is_batch = [False] * len(envelopes)
        for i, env in enumerate(envelopes):
            device = devices.get(env.serial)

            def refuse(
                code: str,
                detail: str,
                index: int | None = None,
                seq: int | None = None,
                raw: bytes | None = None,
                *,
                i: int = i,
                env: Envelope = env,
                device: Device | None = device,
            ) -> None:
                outcomes[i].rejected.append(Rejection(index, seq, code, detail))
                quarantine.append(
                    Quarantine(
                        device=device,
                        serial=env.serial[:64],
                        source=env.source,
                        code=code,
                        detail=detail[:255],
                        seq=seq,
                        payload=_kept(env.payload if raw is None else raw),
                        received_at=now,
                    )
                )

            if device is None:
                refuse("unknown_device", f"no device with serial {env.serial[:64]!r}")
                continue
            if device.status == DeviceStatus.RETIRED:
                refuse("device_retired", f"device {device.serial} is retired")
                continue
            if env.source == Source.MQTT:
                expected = sign(_secret(device.secret), env.payload)
                if not env.signature or not hmac.compare_digest(expected, env.signature):
                    refuse(
                        "bad_signature",
                        f"missing or wrong sig for {device.serial} (another device's topic?)",
                    )
                    continue
            elif not env.authenticated:
                refuse("bad_signature", "the HTTP request was not authenticated")
                continue
            try:
                raws = _decode(env.payload)
            except Refused as exc:
                refuse(exc.code, exc.detail)
                continue
            batch = is_batch[i] = len(raws) > 1
            for j, raw in enumerate(raws):
                index = j if batch else None
                seq = _seq_of(raw)
                piece = json.dumps(raw, ensure_ascii=False).encode() if batch else None
                try:
                    message = parse_message(raw, now)
                except Refused as exc:
                    refuse(exc.code, exc.detail, index, seq, piece)
                    continue
                if device.resident_id is None:
                    refuse(
                        "unbound", f"{device.serial} is not bound to a resident", index, seq, piece
                    )
                    continue
                if device.resident_id not in active:
                    refuse(
                        "unbound", "the bound resident's record is not active", index, seq, piece
                    )
                    continue
                if device.resident_id not in consenting:
                    refuse(
                        "no_consent",
                        "the resident's consent to device monitoring is not active",
                        index,
                        seq,
                        piece,
                    )
                    continue
                accepted_by_env[i].append((j, message))

        # 2. Sequence numbers: duplicates (stored, or twice in this batch) and replays.
        wanted: dict[int, set[int]] = {}
        for i, env in enumerate(envelopes):
            device = devices.get(env.serial)
            for _j, message in accepted_by_env[i]:
                assert device is not None
                wanted.setdefault(device.pk, set()).add(message.seq)
        stored: set[tuple[int, int]] = set()
        if wanted:
            q = Q()
            for device_id, seqs in wanted.items():
                q |= Q(device_id=device_id, seq__in=sorted(seqs))
            stored = set(Reading.objects.filter(q).values_list("device_id", "seq"))
        seen: set[tuple[int, int]] = set()
        new_seq: dict[int, int] = {}
        battery: dict[int, tuple[datetime.datetime, int]] = {}
        counts: dict[int, int] = {}
        for i, env in enumerate(envelopes):
            device = devices.get(env.serial)
            for j, message in accepted_by_env[i]:
                assert device is not None
                key = (device.pk, message.seq)
                if key in stored or key in seen:
                    outcomes[i].duplicates += 1
                    continue
                if device.last_seq is not None and message.seq < device.last_seq:
                    index = j if is_batch[i] else None
                    detail = f"seq {message.seq} is below {device.last_seq}, the highest stored"
                    outcomes[i].rejected.append(Rejection(index, message.seq, "stale_seq", detail))
                    quarantine.append(
                        Quarantine(
                            device=device,
                            serial=device.serial,
                            source=env.source,
                            code="stale_seq",
                            detail=detail,
                            seq=message.seq,
                            payload=_kept(env.payload),
                            received_at=now,
                        )
                    )
                    continue
                seen.add(key)
                resident_id = device.resident_id
                assert resident_id is not None  # checked in step 1
                outcomes[i].accepted += 1
                panel = uuid.uuid4()
                readings.append(
                    Reading(
                        device=device,
                        seq=message.seq,
                        resident_id=resident_id,
                        kind=message.kind,
                        measured_at=message.measured_at,
                        values=message.values,
                        source=env.source,
                        received_at=now,
                        panel=panel,
                    )
                )
                for code, value in observations_for(message):
                    observations.append(
                        Observation(
                            resident_id=resident_id,
                            code=code,
                            value=Decimal(str(value)),
                            unit=loinc.CODES[code].unit,
                            effective_at=message.measured_at,
                            source=ObservationSource.DEVICE,
                            panel=panel,
                            device_serial=device.serial,
                        )
                    )
                new_seq[device.pk] = max(new_seq.get(device.pk, -1), message.seq)
                if message.kind == "battery":
                    latest = battery.get(device.pk)
                    if latest is None or message.measured_at >= latest[0]:
                        battery[device.pk] = (message.measured_at, message.values["pct"])
                counts[device.pk] = counts.get(device.pk, 0) + 1

        # 3. Write.
        Reading.objects.bulk_create(readings, batch_size=1000)
        alerts.evaluate(readings)
        Observation.objects.bulk_create(observations, batch_size=1000)
        Quarantine.objects.bulk_create(quarantine, batch_size=1000)
        rejected_per_device: dict[int, int] = {}
        for row in quarantine:
            if row.device_id:
                rejected_per_device[row.device_id] = rejected_per_device.get(row.device_id, 0) + 1
        touched = []
        for device in devices.values():
            heard = any(
                env.serial == device.serial and (o.accepted or o.duplicates)
                for env, o in zip(envelopes, outcomes, strict=True)
            )
            if device.pk in new_seq:
                device.last_seq = max(device.last_seq or -1, new_seq[device.pk])
            if device.pk in battery:
                device.battery_pct = battery[device.pk][1]
            device.readings_count += counts.get(device.pk, 0)
            device.rejected_count += rejected_per_device.get(device.pk, 0)
            if heard:
                device.last_seen_at = now
            touched.append(device)
        Device.objects.bulk_update(
            touched,
            ["last_seq", "battery_pct", "readings_count", "rejected_count", "last_seen_at"],
        )
    return outcomes


def quarantine_failure(envelope: Envelope, error: str) -> Outcome:
    """Put a message whose processing keeps failing for a reason other than the database
    (a bug) into the quarantine as ``internal_error`` — so that it cannot block the
    pipeline. The caller decides when (the MQTT consumer: after repeated failures, alone,
    with the database reachable)."""
    detail = f"processing failed: {error}"[:255]
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(serial=envelope.serial).first()
        Quarantine.objects.create(
            device=device,
            serial=envelope.serial[:64],
            source=envelope.source,
            code="internal_error",
            detail=detail,
            payload=_kept(envelope.payload),
            received_at=timezone.now(),
        )
        if device is not None:
            device.rejected_count += 1
            device.save(update_fields=["rejected_count"])
    return Outcome(rejected=[Rejection(None, None, "internal_error", detail)])
