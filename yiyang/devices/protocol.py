"""The device protocol's messages (docs/device-protocol.md, ADR 0018): what a device may
send, how one body is decoded and one message judged, with no database access.

``Envelope`` is a body as it arrived (MQTT or HTTP); ``decode`` turns it into messages,
``parse_message`` checks one (kind, values in the plausible range of their LOINC code,
timestamps, sequence number) and ``observations_for`` gives the health-record rows it
makes. Anything refused raises ``Refused`` with a code of the protocol; the ingestion
(``services.ingest.process``) turns it into a ``Rejection`` and a quarantine row. ``sign``
is the MQTT signature a device computes, ``device_key`` the key the platform checks it
with.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any

from yiyang.common import crypto
from yiyang.devices.models import DeviceKind
from yiyang.residents import loinc

MAX_MESSAGES = 500  # per body
MAX_PAYLOAD = 512 * 1024  # bytes per body
FUTURE_SKEW = datetime.timedelta(minutes=5)
MAX_AGE = datetime.timedelta(days=30)
PAYLOAD_KEPT = 4096  # bytes of a refused message kept in the quarantine
# ``seq`` is an integer 0 … MAX_SEQ (2^53 - 1: exact in every JSON parser, JavaScript's
# too), and at most MAX_SEQ_AHEAD above the device's highest stored one: a bogus huge seq
# would otherwise become the device's highest and make every later genuine message a
# replay (``stale_seq``) for good. 100,000 is more than a device sending every 30 s for
# the 30 days a message may be late (86,400).
MAX_SEQ = 2**53 - 1
MAX_SEQ_AHEAD = 100_000

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

# device kind → the message kinds it can send (docs/device-protocol.md); anything else
# is refused (``unsupported_kind``): a BP monitor has no SOS button, and an SOS it
# "sends" would open an emergency call.
SENDS: dict[str, frozenset[str]] = {
    DeviceKind.BP_MONITOR: frozenset({"bp", "hr", "battery"}),
    DeviceKind.GLUCOMETER: frozenset({"glucose", "battery"}),
    DeviceKind.PULSE_OXIMETER: frozenset({"spo2", "hr", "battery"}),
    DeviceKind.THERMOMETER: frozenset({"temp", "battery"}),
    DeviceKind.SCALE: frozenset({"weight", "battery"}),
    DeviceKind.SMART_WATCH: frozenset({"hr", "spo2", "bp", "temp", "sos", "fall", "battery"}),
    DeviceKind.SOS_BUTTON: frozenset({"sos", "fall", "battery"}),
    DeviceKind.FALL_SENSOR: frozenset({"fall", "battery"}),
    DeviceKind.BED_SENSOR: frozenset({"hr", "fall", "battery"}),
}


class Refusal(StrEnum):
    """Why a device message was refused: the ``code`` of a ``Rejection`` and of its
    quarantine row (docs/device-protocol.md lists them for device makers)."""

    #: Not JSON, nested too deeply, a key named twice, not an object, an empty or too long batch.
    MALFORMED = "malformed"
    #: An HTTP body over ``MAX_PAYLOAD``.
    TOO_LARGE = "too_large"
    #: A missing, unknown or wrongly typed field; ``seq`` outside 0 … ``MAX_SEQ``.
    BAD_FIELD = "bad_field"
    #: A ``kind`` the protocol does not know.
    UNKNOWN_KIND = "unknown_kind"
    #: A kind this type of device does not send (``SENDS``).
    UNSUPPORTED_KIND = "unsupported_kind"
    #: An implausible value (SpO2 130, systolic not above diastolic).
    OUT_OF_RANGE = "out_of_range"
    #: Measured more than ``FUTURE_SKEW`` in the future.
    FUTURE_TS = "future_ts"
    #: Measured more than ``MAX_AGE`` ago.
    OLD_TS = "old_ts"
    #: A replay: a ``seq`` below the device's highest stored one that was never stored.
    STALE_SEQ = "stale_seq"
    #: A ``seq`` more than ``MAX_SEQ_AHEAD`` above the device's highest stored one.
    SEQ_JUMP = "seq_jump"
    #: No device has this serial.
    UNKNOWN_DEVICE = "unknown_device"
    #: MQTT: the ``sig`` is missing or wrong; HTTP: the request was not authenticated.
    BAD_SIGNATURE = "bad_signature"
    #: The device is retired.
    DEVICE_RETIRED = "device_retired"
    #: The device is not bound to a resident, or her record is not active.
    UNBOUND = "unbound"
    #: The resident's consent to device monitoring is not active.
    NO_CONSENT = "no_consent"
    #: Processing failed on the platform's side (kept so that nothing is lost).
    INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True)
class Envelope:
    source: str  # Source.MQTT | Source.HTTP
    serial: str  # from the topic or the HTTP login
    payload: bytes
    signature: str | None = None  # MQTT 5 user property "sig"
    authenticated: bool = False  # HTTP: credentials already checked by the endpoint
    # MQTT: the broker sent it before (DUP flag): its first delivery may have been
    # processed, so a refusal already quarantined is not quarantined (or counted) again.
    redelivered: bool = False


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
    def __init__(self, code: Refusal, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def sign(secret: str, payload: bytes) -> str:
    """The MQTT ``sig``: hex HMAC-SHA256 of the payload keyed with the device secret."""
    return hmac.digest(secret.encode(), payload, hashlib.sha256).hex()


@lru_cache(maxsize=50_000)
def device_key(token: str) -> bytes:
    """The HMAC key of a device: its secret (decrypted from ``token``) as UTF-8."""
    return crypto.decrypt(token).encode()


# --- one message ------------------------------------------------------------------------


@dataclass(slots=True)
class Message:
    seq: int
    measured_at: datetime.datetime
    kind: str
    values: dict[str, Any]


def _number(kind: str, key: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refused(Refusal.BAD_FIELD, f"{kind}.{key} must be a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise Refused(Refusal.BAD_FIELD, f"{kind}.{key} must be a number") from None
    if not number.is_finite():
        raise Refused(Refusal.BAD_FIELD, f"{kind}.{key} must be a finite number")
    return number


# code → (low, high) as floats, where both range ends are exactly floats (all of them): a
# JSON number then needs no ``Decimal`` on the usual path (``_fast_number``).
_FLOAT_RANGES = {
    code: (float(spec.low), float(spec.high), spec.decimals)
    for code, spec in loinc.CODES.items()
    if Decimal(float(spec.low)) == spec.low and Decimal(float(spec.high)) == spec.high
}


def _fast_number(code: str, value: Any) -> float | None:
    """The stored value of a plausible int or float for ``code`` — exactly what the
    ``Decimal`` path (``_number``, ``in_range``, ``quantize``) gives — or None when that
    path must decide (not a plain number, outside the range, more decimals than stored,
    an exponent, not finite: refusals and roundings keep their one implementation).

    Exact: an int is compared exactly with a float; a finite float lies on the same side
    of a float range end as its shortest repr ``Decimal(str(value))``; and a float whose
    repr has no more decimals than the code stores is unchanged by ``quantize``."""
    bounds = _FLOAT_RANGES.get(code)
    if bounds is None:
        return None
    low, high, decimals = bounds
    kind = value.__class__
    if kind is int:
        return float(value) if low <= value <= high else None
    if kind is not float or not low <= value <= high:  # NaN fails the comparison
        return None
    text = repr(value)
    if "e" in text:
        return None
    fraction = text.partition(".")[2]
    return value if fraction == "0" or len(fraction) <= decimals else None


_FIELDS = frozenset(("seq", "ts", "kind", "values"))


def parse_message(raw: Any, now: datetime.datetime) -> Message:
    """Check one decoded message against the protocol; ``Refused`` says why not."""
    if not isinstance(raw, dict):
        raise Refused(Refusal.MALFORMED, "a message must be a JSON object")
    if raw.keys() != _FIELDS:
        unknown = set(raw) - _FIELDS
        if unknown:
            raise Refused(
                Refusal.BAD_FIELD, f"unknown field(s): {', '.join(sorted(map(str, unknown)))}"
            )
        for name in ("seq", "ts", "kind", "values"):
            if name not in raw:
                raise Refused(Refusal.BAD_FIELD, f"{name} is missing")
    seq = raw["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0 or seq > MAX_SEQ:
        raise Refused(Refusal.BAD_FIELD, f"seq must be an integer from 0 to {MAX_SEQ} (2^53 - 1)")
    kind = raw["kind"]
    if not isinstance(kind, str):
        raise Refused(Refusal.BAD_FIELD, "kind must be a string")
    if kind not in KINDS:
        raise Refused(Refusal.UNKNOWN_KIND, f"unknown kind {kind[:20]!r}")
    ts = raw["ts"]
    if not isinstance(ts, str):
        raise Refused(Refusal.BAD_FIELD, "ts must be an ISO 8601 string with an offset")
    try:
        measured_at = datetime.datetime.fromisoformat(ts)
    except ValueError:
        raise Refused(Refusal.BAD_FIELD, "ts must be an ISO 8601 string with an offset") from None
    if measured_at.tzinfo is None:
        raise Refused(Refusal.BAD_FIELD, "ts must carry a UTC offset (e.g. +08:00)")
    if measured_at > now + FUTURE_SKEW:
        raise Refused(Refusal.FUTURE_TS, f"ts {ts} is in the future")
    if measured_at < now - MAX_AGE:
        raise Refused(Refusal.OLD_TS, f"ts {ts} is more than {MAX_AGE.days} days old")
    values = raw["values"]
    if not isinstance(values, dict):
        raise Refused(Refusal.BAD_FIELD, "values must be an object")
    spec = KINDS[kind]
    if not values.keys() <= spec.keys():
        extra = set(values) - set(spec)
        raise Refused(Refusal.BAD_FIELD, f"{kind} takes no {', '.join(sorted(map(str, extra)))}")
    clean: dict[str, Any] = {}
    for key, (code, required) in spec.items():
        if key not in values:
            if required:
                raise Refused(Refusal.BAD_FIELD, f"{kind}.{key} is missing")
            continue
        value = values[key]
        if code is not None:
            fast = _fast_number(code, value)
            if fast is not None:
                clean[key] = fast
                continue
        elif value.__class__ is int and 0 <= value <= 100 and key != "context":
            # battery, the usual case (glucose.context is a word: checked below)
            clean[key] = value
            continue
        if kind == "glucose" and key == "context":
            if value not in GLUCOSE_CONTEXTS:
                raise Refused(
                    Refusal.BAD_FIELD, "glucose.context must be fasting, random or postprandial"
                )
            clean[key] = value
            continue
        number = _number(kind, key, value)
        if code is None:  # battery
            if number != number.to_integral_value() or not 0 <= number <= 100:
                raise Refused(Refusal.OUT_OF_RANGE, f"{kind}.{key} must be an integer 0–100")
            clean[key] = int(number)
            continue
        spec_code = loinc.CODES[code]
        if not spec_code.in_range(number):
            raise Refused(
                Refusal.OUT_OF_RANGE, f"{kind}.{key} {value} is outside {spec_code.range_text()}"
            )
        clean[key] = float(spec_code.quantize(number))
    if kind == "bp" and clean["sys"] <= clean["dia"]:
        raise Refused(Refusal.OUT_OF_RANGE, "bp.sys must be higher than bp.dia")
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


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``'s object hook: an object naming a key twice is refused (which of the
    two values counts differs between parsers: the device's meaning is unknown)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise Refused(Refusal.MALFORMED, f"duplicate key {key[:20]!r} in a JSON object")
            seen.add(key)
    return obj


def decode(payload: bytes) -> list[Any]:
    if len(payload) > MAX_PAYLOAD:
        raise Refused(Refusal.TOO_LARGE, f"body of {len(payload)} bytes, more than {MAX_PAYLOAD}")
    try:
        body = json.loads(payload.decode("utf-8"), object_pairs_hook=_unique_keys)
    except RecursionError:
        raise Refused(Refusal.MALFORMED, "JSON nested too deeply") from None
    except (UnicodeDecodeError, ValueError):
        raise Refused(Refusal.MALFORMED, "body is not UTF-8 JSON") from None
    if isinstance(body, list):
        if not body:
            raise Refused(Refusal.MALFORMED, "empty batch")
        if len(body) > MAX_MESSAGES:
            raise Refused(Refusal.MALFORMED, f"more than {MAX_MESSAGES} messages in one body")
        return body
    if isinstance(body, dict):
        return [body]
    raise Refused(Refusal.MALFORMED, "body must be a JSON object or an array of objects")


def seq_of(raw: Any) -> int | None:
    if isinstance(raw, dict):
        seq = raw.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq <= MAX_SEQ:
            return seq
    return None


def kept(payload: bytes) -> str:
    return payload[:PAYLOAD_KEPT].decode("utf-8", errors="replace")


def piece(raw: Any) -> bytes:
    """One message of a batch as JSON for its quarantine row (at most ``PAYLOAD_KEPT``
    bytes are kept)."""
    try:
        return json.dumps(raw, ensure_ascii=False).encode()
    except (RecursionError, ValueError, TypeError):
        return b"(not serialisable)"
