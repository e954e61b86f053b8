"""A device simulator: seeded devices sending readings over MQTT or HTTP, as real ones
would (docs/device-protocol.md). Used by ``manage.py simulate devices``.

    devices = load_devices(count=50, seed=1)          # active, bound, consenting; secrets
    transport = HttpTransport("http://127.0.0.1:8000")   # or MqttTransport("mqtt://…")
    Simulator(devices, transport, interval=5).run(stop_event, duration=60)

Every ``interval`` seconds each device sends the next message of its kind: a BP monitor a
BP reading, a glucometer a glucose reading, a pulse oximeter SpO2, …; SOS buttons and fall
sensors report their battery (a heartbeat) and, rarely, an SOS press or a fall. Values
are drawn around a per-device baseline and are occasionally abnormal, rarely past an
alert threshold (``Rates.per_hour``: events per device and hour, whatever the interval). Each
device's ``seq`` continues from ``Device.last_seq``; ``ts`` is now, with the +08:00 offset.

Message generation is pure (``next_message``) and deterministic for a given
``random.Random``, so it can be tested without a transport.
"""

from __future__ import annotations

import base64
import datetime
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from yiyang.devices.models import DeviceKind

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8), "Asia/Shanghai")
REPORT_EVERY = 10.0  # seconds between progress lines
HTTP_TIMEOUT = 10.0
MQTT_INFLIGHT = 1000  # unacknowledged QoS 1 publishes paho keeps in flight
DRAIN_TIMEOUT = 10.0  # seconds to wait for outstanding PUBACKs when stopping

# The message kind each device kind sends (besides battery reports).
KIND_MESSAGE: dict[str, str] = {
    DeviceKind.BP_MONITOR: "bp",
    DeviceKind.GLUCOMETER: "glucose",
    DeviceKind.PULSE_OXIMETER: "spo2",
    DeviceKind.THERMOMETER: "temp",
    DeviceKind.SCALE: "weight",
    DeviceKind.SMART_WATCH: "hr",
    DeviceKind.BED_SENSOR: "hr",
    DeviceKind.SOS_BUTTON: "sos",
    DeviceKind.FALL_SENSOR: "fall",
}
ALARM_KINDS = {DeviceKind.SOS_BUTTON, DeviceKind.FALL_SENSOR}


# What a fleet of home devices does in an hour, per device (issue 12: the first defaults,
# per message, made 20 devices sending every 5 s raise 15–16 urgent alerts in 25 minutes
# — a board that teaches a dispatcher to ignore it). Roughly what elderly people's home
# devices report: most readings normal; an abnormal one now and then, most of them only
# mildly so (no alert); a reading past an urgent-referral threshold a few times a day
# across a station's devices; an SOS press or a fall a few times a month per device; a
# battery report every half hour, some batteries already low. With 20 devices that is
# one to a few alerts an hour, most of them "battery low" (information), an urgent one
# about every hour and a half, an SOS or fall about once a day; ``test_simulate``
# measures it.
ABNORMAL_PER_HOUR = 0.2  # abnormal readings per measuring device and hour …
URGENT_SHARE = 0.3  # … of which this share crosses an urgent threshold (the rest: mild)
ALARM_PER_HOUR = 0.005  # SOS presses / falls per alarm device and hour (~ 3.6 a month)
BATTERY_PER_HOUR = 2.0  # battery reports per device and hour
DRAIN_PER_HOUR = 0.5  # times a battery drops (by 0–2 points) per device and hour


@dataclass(frozen=True)
class Rates:
    """How often, per message, a reading is abnormal (``urgent`` of those: past an
    urgent-referral threshold; the others mildly abnormal), an alarm device raises its
    alarm (an SOS press or a fall; otherwise it sends a battery heartbeat), and a
    measuring device sends a battery report instead of a reading. ``per_hour`` derives
    them from events per device and hour for a given message interval."""

    abnormal: float = 0.02
    alarm: float = 0.005
    battery: float = 0.05
    urgent: float = 1.0
    drain: float = 1.0  # the chance that a battery report finds the battery lower

    def __post_init__(self) -> None:
        for name in ("abnormal", "alarm", "battery", "urgent", "drain"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"rate {name} must be between 0 and 1, got {value}")

    @classmethod
    def per_hour(
        cls,
        interval: float,
        *,
        abnormal: float = ABNORMAL_PER_HOUR,
        alarm: float = ALARM_PER_HOUR,
        battery: float = BATTERY_PER_HOUR,
        urgent: float = URGENT_SHARE,
    ) -> Rates:
        """Per-message rates for devices sending every ``interval`` seconds from events per
        device and hour (``interval`` 0 — as fast as possible — counts as 1 s)."""
        if min(abnormal, alarm, battery) < 0:
            raise ValueError("events per hour must not be negative")
        messages = 3600.0 / max(interval, 1.0)  # per device and hour
        battery_share = min(1.0, battery / messages)
        readings = messages * (1 - battery_share)
        return cls(
            abnormal=min(1.0, abnormal / readings) if readings else 0.0,
            alarm=min(1.0, alarm / messages),
            battery=battery_share,
            urgent=urgent,
            # An alarm device reports its battery with nearly every message.
            drain=min(1.0, DRAIN_PER_HOUR / messages),
        )


@dataclass
class SimDevice:
    """One simulated device: its credentials, next ``seq`` and baseline values."""

    serial: str
    kind: str
    secret: str
    seq: int
    rng: random.Random
    battery: int = 100
    sys: float = 135.0
    dia: float = 80.0
    hr: float = 72.0
    glucose: float = 7.0
    spo2: float = 96.5
    weight: float = 58.0

    @classmethod
    def create(
        cls, serial: str, kind: str, secret: str, last_seq: int | None, rng: random.Random
    ) -> SimDevice:
        if kind not in KIND_MESSAGE:
            raise ValueError(f"unknown device kind {kind!r}")
        return cls(
            serial=serial,
            kind=kind,
            secret=secret,
            seq=1 if last_seq is None else last_seq + 1,
            rng=rng,
            battery=rng.randint(10, 100),
            sys=rng.gauss(140, 10),
            dia=rng.gauss(82, 5),
            hr=rng.gauss(74, 6),
            glucose=rng.gauss(7.4, 0.9),
            spo2=rng.gauss(96.0, 1.0),
            weight=rng.gauss(58, 9),
        )


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _values(device: SimDevice, kind: str, abnormal: bool, urgent: bool = True) -> dict[str, Any]:
    """A reading's values: normal around the device's baseline; ``abnormal``: past an
    urgent-referral threshold when ``urgent``, else mildly abnormal (below every default
    alert threshold: a raised BP, a high glucose, an SpO2 of 92–93 …)."""
    rng = device.rng
    if abnormal and not urgent:
        return _mild(device, kind)
    if kind == "bp":
        if abnormal:  # hypertensive crisis
            sys_v = rng.randint(180, 215)
            dia_v = rng.randint(110, min(130, sys_v - 40))
        else:
            sys_v = round(_clamp(rng.gauss(device.sys, 8), 95, 178))
            dia_v = round(_clamp(rng.gauss(device.dia, 5), 55, min(108, sys_v - 25)))
        return {"sys": sys_v, "dia": dia_v, "hr": round(_clamp(rng.gauss(device.hr, 5), 45, 120))}
    if kind == "glucose":
        context = rng.choices(("fasting", "random", "postprandial"), (0.5, 0.2, 0.3))[0]
        if abnormal:
            return {"mmol": rng.choice((2.8, 17.5)), "context": context}
        extra = 0.0 if context == "fasting" else 2.2
        mmol = _clamp(rng.gauss(device.glucose + extra, 0.8), 4.0, 13.9)
        return {"mmol": round(mmol, 1), "context": context}
    if kind == "spo2":
        spo2 = 89 if abnormal else round(_clamp(rng.gauss(device.spo2, 1.0), 92, 100))
        return {"spo2": spo2, "hr": round(_clamp(rng.gauss(device.hr, 5), 45, 120))}
    if kind == "temp":
        c = rng.uniform(38.5, 39.6) if abnormal else _clamp(rng.gauss(36.5, 0.25), 35.8, 37.3)
        return {"c": round(c, 1)}
    if kind == "weight":
        return {"kg": round(_clamp(rng.gauss(device.weight, 0.4), 25, 200), 1)}
    if kind == "hr":
        hr = rng.choice((38, 135)) if abnormal else _clamp(rng.gauss(device.hr, 6), 48, 110)
        return {"hr": round(hr)}
    if kind == "battery":
        return {"pct": device.battery}
    return {}  # sos, fall


def _mild(device: SimDevice, kind: str) -> dict[str, Any]:
    rng = device.rng
    hr = round(_clamp(rng.gauss(device.hr, 5), 45, 120))
    if kind == "bp":
        sys_v = rng.randint(160, 178)
        return {"sys": sys_v, "dia": rng.randint(95, 108), "hr": hr}
    if kind == "glucose":
        context = rng.choice(("random", "postprandial"))
        return {"mmol": round(rng.uniform(11.1, 15.5), 1), "context": context}
    if kind == "spo2":
        return {"spo2": rng.choice((92, 93)), "hr": hr}
    if kind == "temp":
        return {"c": round(rng.uniform(37.5, 38.9), 1)}
    if kind == "hr":
        return {"hr": rng.choice((rng.randint(42, 48), rng.randint(110, 125)))}
    return _values(device, kind, False)


def next_message(
    device: SimDevice, now: datetime.datetime | None = None, rates: Rates | None = None
) -> dict[str, Any]:
    """The device's next message (a dict ready for ``json.dumps``); advances its ``seq``
    and drains its battery. ``now`` must be timezone-aware (default: the clock)."""
    rates = rates or Rates()
    rng = device.rng
    now = now or datetime.datetime.now(datetime.UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if device.kind in ALARM_KINDS:
        kind = KIND_MESSAGE[device.kind] if rng.random() < rates.alarm else "battery"
        abnormal = False
    elif rng.random() < rates.battery:
        kind, abnormal = "battery", False
    else:
        kind = KIND_MESSAGE[device.kind]
        abnormal = rng.random() < rates.abnormal
    urgent = abnormal and rng.random() < rates.urgent
    if kind == "battery":
        # Drains slowly; recharged (or its cells replaced) when low.
        if device.battery <= 10:
            device.battery = 100
        elif rng.random() < rates.drain:
            device.battery -= rng.randint(0, 2)
    message = {
        "seq": device.seq,
        "ts": now.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "kind": kind,
        "values": _values(device, kind, abnormal, urgent),
    }
    device.seq += 1
    return message


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


# --- devices from the database ----------------------------------------------------------


class NoDevices(Exception):
    pass


def load_devices(count: int, seed: int | None = None) -> list[SimDevice]:
    """``count`` active devices bound to an active resident whose device-monitoring consent
    is active (picked at random with ``seed``, else the first by serial), with their
    secrets decrypted. Fewer when the database has fewer; ``NoDevices`` when it has none."""
    from yiyang.common import crypto
    from yiyang.devices.models import Device, DeviceStatus
    from yiyang.residents.models import Consent, ConsentPurpose, ResidentStatus

    if count < 1:
        raise ValueError("count must be at least 1")
    consenting = (
        Consent.objects.active()
        .filter(purpose=ConsentPurpose.DEVICE_MONITORING)
        .values("resident_id")
    )
    candidates = list(
        Device.objects.filter(
            status=DeviceStatus.ACTIVE,
            resident__isnull=False,
            resident__status=ResidentStatus.ACTIVE,
            resident_id__in=consenting,
        )
        .order_by("serial")
        .values_list("serial", "kind", "secret", "last_seq")
    )
    if not candidates:
        raise NoDevices(
            "no active device bound to a consenting resident: seed the demo first "
            "(manage.py seed --preset demo) or register and bind devices"
        )
    rng = random.Random(seed)  # noqa: S311 - synthetic values
    picked = (
        rng.sample(candidates, min(count, len(candidates)))
        if seed is not None
        else (candidates[:count])
    )
    streams = [random.Random(rng.random()) for _ in picked]  # noqa: S311 - synthetic
    return [
        SimDevice.create(serial, kind, crypto.decrypt(secret), last_seq, stream)
        for (serial, kind, secret, last_seq), stream in zip(picked, streams, strict=True)
    ]


# --- transports -------------------------------------------------------------------------


@dataclass
class Stats:
    sent: int = 0
    accepted: int = 0  # HTTP: stored; MQTT: acknowledged by the broker (PUBACK)
    duplicates: int = 0
    rejected: int = 0
    errors: int = 0  # transport failures (connection refused, timeouts, HTTP 5xx)
    codes: Counter[str] = field(default_factory=Counter)  # rejection / error codes
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> tuple[int, int, int, int, int]:
        with self.lock:
            return self.sent, self.accepted, self.duplicates, self.rejected, self.errors


class Transport(Protocol):
    name: str
    stats: Stats

    def send(self, device: SimDevice, payload: bytes) -> None: ...

    def close(self) -> None: ...


class HttpTransport:
    """``POST {base}/api/v1/ingest`` with HTTP Basic ``serial:secret`` (urllib)."""

    name = "HTTP"

    def __init__(self, base_url: str, timeout: float = HTTP_TIMEOUT):
        base = base_url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ValueError(f"HTTP URL {base_url!r} must start with http:// or https://")
        self.url = f"{base}/api/v1/ingest"
        self.timeout = timeout
        self.stats = Stats()

    def send(self, device: SimDevice, payload: bytes) -> None:
        login = base64.b64encode(f"{device.serial}:{device.secret}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - the URL is checked to be http(s)
            self.url,
            data=payload,
            method="POST",
            headers={"Authorization": f"Basic {login}", "Content-Type": "application/json"},
        )
        stats = self.stats
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = json.loads(response.read() or b"{}")
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            try:
                body = json.loads(exc.read() or b"{}")
            except ValueError:
                body = {}
        except (OSError, ValueError) as exc:
            with stats.lock:
                stats.sent += 1
                stats.errors += 1
                stats.codes[type(exc).__name__] += 1
            return
        with stats.lock:
            stats.sent += 1
            if status == 200:
                stats.accepted += int(body.get("accepted", 0))
                stats.duplicates += int(body.get("duplicates", 0))
            if status in (200, 422):
                for rejection in body.get("rejected", []):
                    stats.rejected += 1
                    stats.codes[str(rejection.get("code"))] += 1
            elif status in (400, 401):
                stats.rejected += 1
                stats.codes[str(body.get("code", status))] += 1
            else:
                stats.errors += 1
                stats.codes[f"http_{status}"] += 1

    def close(self) -> None:
        pass


class MqttTransport:
    """One MQTT 5 connection publishing every device's messages with QoS 1 on
    ``{prefix}/{serial}/up`` (prefix ``yiyang/v1/devices`` unless ``topic_prefix`` or the
    ``MQTT_TOPIC_PREFIX`` setting says otherwise, as for the consumer) with the user
    property ``sig``. ``accepted`` counts PUBACKs (the broker took the message; whether
    Yiyang stored it is the consumer's business)."""

    name = "MQTT"

    def __init__(
        self,
        url: str,
        *,
        client_id: str | None = None,
        topic_prefix: str | None = None,
        connect_timeout: float = 10.0,
    ):
        import paho.mqtt.client as mqtt
        from django.conf import settings
        from paho.mqtt.enums import CallbackAPIVersion

        from yiyang.devices.mqtt import DEFAULT_TOPIC_PREFIX, parse_url

        address = parse_url(url)  # ImproperlyConfigured on a bad URL
        prefix = topic_prefix or getattr(settings, "MQTT_TOPIC_PREFIX", "") or DEFAULT_TOPIC_PREFIX
        self.topic = str(prefix).rstrip("/") + "/{serial}/up"
        self.stats = Stats()
        self._connected = threading.Event()
        self._refused: str | None = None
        self._published = 0  # publishes handed to paho …
        self._acked = 0  # … and PUBACKs (or refusals) received for them
        self._acks = threading.Condition()
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id or f"yiyang-simulator-{random.getrandbits(32):08x}",
            protocol=mqtt.MQTTv5,
        )
        if address.username is not None:
            client.username_pw_set(address.username, address.password)
        if address.tls:
            client.tls_set()
        client.max_inflight_messages_set(MQTT_INFLIGHT)
        client.on_connect = self._on_connect
        client.on_publish = self._on_publish
        self._client = client
        try:
            client.connect(address.host, address.port, keepalive=30, clean_start=True)
        except OSError as exc:
            raise ConnectionError(
                f"cannot reach the MQTT broker at {address.host}:{address.port}: {exc}"
            ) from None
        client.loop_start()
        if not self._connected.wait(connect_timeout) or self._refused:
            client.loop_stop()
            raise ConnectionError(
                f"the MQTT broker at {address.host}:{address.port} did not accept the "
                f"connection: {self._refused or 'timed out'}"
            )

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self._refused = str(reason)
        self._connected.set()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        # Runs in paho's network thread while it holds its own locks: take only ours here,
        # and never call paho while holding ours (``send``), or the two threads deadlock.
        with self._acks:
            self._acked += 1
            self._acks.notify_all()
        with self.stats.lock:
            if getattr(reason, "is_failure", False):
                self.stats.rejected += 1
                self.stats.codes[str(reason)] += 1
            else:
                self.stats.accepted += 1

    def _wait_for_acks(self, most_pending: int, timeout: float) -> int:
        """Wait until at most ``most_pending`` publishes await their PUBACK (or ``timeout``
        seconds); return how many still do."""
        deadline = time.monotonic() + timeout
        with self._acks:
            while self._published - self._acked > most_pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._acks.wait(min(0.2, left))
            return self._published - self._acked

    def send(self, device: SimDevice, payload: bytes) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        from yiyang.devices.protocol import sign

        # Back-pressure: never more than MQTT_INFLIGHT messages without a PUBACK.
        if self._wait_for_acks(MQTT_INFLIGHT - 1, DRAIN_TIMEOUT) >= MQTT_INFLIGHT:
            with self.stats.lock:
                self.stats.sent += 1
                self.stats.errors += 1
                self.stats.codes["broker_not_acknowledging"] += 1
            return
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = ("sig", sign(device.secret, payload))
        with self._acks:
            self._published += 1
        info = self._client.publish(
            self.topic.format(serial=device.serial), payload, qos=1, properties=props
        )
        # Not connected (paho reconnects by itself): a QoS 1 message is queued and sent
        # after the reconnect, so it still awaits its PUBACK. Any other failure drops it.
        queued = info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN)
        with self.stats.lock:
            self.stats.sent += 1
            if info.rc == mqtt.MQTT_ERR_NO_CONN:
                self.stats.codes["queued_while_disconnected"] += 1
            elif not queued:
                self.stats.errors += 1
                self.stats.codes[mqtt.error_string(info.rc)] += 1
        if not queued:
            with self._acks:
                self._published -= 1

    def close(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """Wait (bounded) for outstanding PUBACKs, then disconnect."""
        unacked = self._wait_for_acks(0, timeout)
        if unacked > 0:
            with self.stats.lock:
                self.stats.errors += unacked
                self.stats.codes["no_puback"] += unacked
        self._client.disconnect()
        self._client.loop_stop()


# --- the loop ---------------------------------------------------------------------------


class Simulator:
    def __init__(
        self,
        devices: Sequence[SimDevice],
        transport: Transport,
        *,
        interval: float,
        rates: Rates | None = None,
        report: Callable[[str], None] = print,
        report_every: float = REPORT_EVERY,
        clock: Callable[[], datetime.datetime] | None = None,
    ):
        if interval < 0:
            raise ValueError("interval must not be negative")
        self.devices = list(devices)
        self.transport = transport
        self.interval = interval
        self.rates = rates or Rates.per_hour(interval)
        self.report = report
        self.report_every = report_every
        self.clock = clock or (lambda: datetime.datetime.now(datetime.UTC))
        self.kinds: Counter[str] = Counter()

    def line(self, seconds: float, label: str = "") -> str:
        sent, accepted, duplicates, rejected, errors = self.transport.stats.snapshot()
        rate = sent / seconds if seconds > 0 else 0.0
        text = (
            f"{label}{self.transport.name}: sent {sent}, accepted {accepted}, "
            f"duplicates {duplicates}, rejected {rejected}, errors {errors} "
            f"({rate:.1f} msg/s over {seconds:.1f} s)"
        )
        codes = self.transport.stats.codes
        if codes:
            text += " — " + ", ".join(f"{c} {n}" for c, n in codes.most_common(5))
        return text

    def run(self, stop: threading.Event, duration: float | None = None) -> Stats:
        """Send rounds (one message per device) every ``interval`` seconds until ``stop``
        is set or ``duration`` seconds have passed; then close the transport (waiting for
        outstanding acknowledgements) and return the counts."""
        started = time.monotonic()
        deadline = None if duration is None else started + duration
        next_report = started + self.report_every
        next_round = started
        try:
            while not stop.is_set():
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                if now >= next_round:
                    for device in self.devices:
                        if stop.is_set():
                            break
                        message = next_message(device, self.clock(), self.rates)
                        self.kinds[message["kind"]] += 1
                        self.transport.send(device, encode(message))
                    # A round that took longer than the interval starts the next at once.
                    next_round = max(next_round + self.interval, time.monotonic())
                now = time.monotonic()
                if now >= next_report:
                    self.report(self.line(now - started))
                    next_report += self.report_every
                until = min(next_round, next_report, deadline or next_round)
                if until > now:
                    stop.wait(until - now)
        finally:
            self.transport.close()
        self.report(self.line(time.monotonic() - started, "done — "))
        return self.transport.stats
