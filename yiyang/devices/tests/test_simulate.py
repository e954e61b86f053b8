"""The device simulator: every message it makes is valid per the protocol, abnormal values
come about as often as configured, and over HTTP (a live server) and MQTT (the real
Mosquitto) it sends correctly authenticated messages that are stored."""

from __future__ import annotations

import datetime
import json
import os
import random
import socket
import threading
import time
import uuid
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from yiyang.common.permissions import Role
from yiyang.devices import protocol
from yiyang.devices.models import Device, DeviceKind, Quarantine, Reading
from yiyang.devices.services import ingest, registry
from yiyang.devices.simulate import (
    KIND_MESSAGE,
    HttpTransport,
    MqttTransport,
    NoDevices,
    Rates,
    SimDevice,
    Simulator,
    encode,
    load_devices,
    next_message,
)
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import Consent
from yiyang.residents.services.people import give_consent
from yiyang.residents.services.registry import register_resident
from yiyang.testing.network import build_network, make_user

BROKER_HOST = "127.0.0.1"
BROKER_PORT = 1883
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
KINDS = [
    DeviceKind.BP_MONITOR,
    DeviceKind.GLUCOMETER,
    DeviceKind.PULSE_OXIMETER,
    DeviceKind.SOS_BUTTON,
    DeviceKind.FALL_SENSOR,
]


def _sim(kind: str, seed: int, last_seq: int | None = None) -> SimDevice:
    return SimDevice.create(f"SIM-{seed}", kind, "secret", last_seq, random.Random(seed))


# --- message generation (no database) ---------------------------------------------------


@pytest.mark.parametrize("kind", DeviceKind.values)
@pytest.mark.parametrize(
    "rates", [Rates(), Rates(abnormal=0.5, alarm=0.5, battery=0.3), Rates(1.0, 1.0, 0.0)]
)
def test_every_message_is_valid_per_the_protocol(kind, rates):
    now = timezone.now()
    seen: Counter[str] = Counter()
    for seed in range(150):
        device = _sim(kind, seed, last_seq=None if seed % 2 else seed * 10)
        first = device.seq
        for n in range(20):
            raw = next_message(device, now, rates)
            # What goes over the wire is what the ingestion core parses.
            message = protocol.parse_message(json.loads(encode(raw)), now)
            assert message.seq == first + n
            assert raw["ts"].endswith("+08:00")
            assert message.measured_at == now.replace(microsecond=0)
            assert message.kind in {KIND_MESSAGE[kind], "battery"}
            seen[message.kind] += 1
        assert device.seq == first + 20
    alarm_device = kind in {DeviceKind.SOS_BUTTON, DeviceKind.FALL_SENSOR}
    battery_share = (1 - rates.alarm) if alarm_device else rates.battery
    reading_share = rates.alarm if alarm_device else 1 - rates.battery
    assert (seen["battery"] > 0) == (battery_share > 0)
    assert (seen[KIND_MESSAGE[kind]] > 0) == (reading_share > 0)


def test_seq_continues_from_the_last_stored_one_and_starts_at_one():
    assert _sim(DeviceKind.BP_MONITOR, 1, last_seq=41).seq == 42
    assert _sim(DeviceKind.BP_MONITOR, 1).seq == 1


def test_the_same_stream_gives_the_same_messages():
    now = timezone.now()
    a, b = _sim(DeviceKind.GLUCOMETER, 5), _sim(DeviceKind.GLUCOMETER, 5)
    assert [next_message(a, now) for _ in range(50)] == [next_message(b, now) for _ in range(50)]


def test_a_naive_now_or_a_bad_rate_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_message(_sim(DeviceKind.BP_MONITOR, 1), datetime.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="abnormal"):
        Rates(abnormal=1.5)


def _shares(kind: str, n: int, rates: Rates) -> tuple[Counter[str], int, int]:
    """(kinds sent, abnormal readings, readings) over ``n`` messages of 100 devices."""
    now = timezone.now()
    kinds: Counter[str] = Counter()
    abnormal = readings = 0
    devices = [_sim(kind, seed) for seed in range(100)]
    for i in range(n):
        raw = next_message(devices[i % 100], now, rates)
        kinds[raw["kind"]] += 1
        v = raw["values"]
        if raw["kind"] == "bp":
            readings += 1
            abnormal += v["sys"] >= 180 or v["dia"] >= 110
        elif raw["kind"] == "glucose":
            readings += 1
            abnormal += v["mmol"] in (2.8, 17.5)
            assert 4.0 <= v["mmol"] <= 16.1 or v["mmol"] in (2.8, 17.5)
        elif raw["kind"] == "spo2":
            readings += 1
            abnormal += v["spo2"] <= 90
    return kinds, abnormal, readings


@pytest.mark.parametrize(
    "kind", [DeviceKind.BP_MONITOR, DeviceKind.GLUCOMETER, DeviceKind.PULSE_OXIMETER]
)
@pytest.mark.parametrize("rate", [0.02, 0.1])
def test_abnormal_readings_come_about_as_often_as_configured(kind, rate):
    n = 30_000
    kinds, abnormal, readings = _shares(kind, n, Rates(abnormal=rate, battery=0.05))
    assert abs(kinds["battery"] / n - 0.05) < 0.006
    assert readings == n - kinds["battery"]
    # Binomial: 4 standard deviations either side.
    sd = (rate * (1 - rate) / readings) ** 0.5
    assert abs(abnormal / readings - rate) < 4 * sd


@pytest.mark.parametrize(
    "kind, alarm", [(DeviceKind.SOS_BUTTON, "sos"), (DeviceKind.FALL_SENSOR, "fall")]
)
def test_alarms_are_rare_and_the_rest_are_battery_heartbeats(kind, alarm):
    n = 40_000
    kinds, _, _ = _shares(kind, n, Rates())
    assert set(kinds) == {alarm, "battery"}
    sd = (0.005 * 0.995 / n) ** 0.5
    assert abs(kinds[alarm] / n - 0.005) < 4 * sd


def test_batteries_drain_and_are_recharged():
    device = _sim(DeviceKind.SOS_BUTTON, 3)
    levels = [next_message(device)["values"].get("pct") for _ in range(400)]
    levels = [p for p in levels if p is not None]
    assert min(levels) <= 10 and 100 in levels[1:]
    assert all(0 <= p <= 100 for p in levels)


# --- devices from the database ----------------------------------------------------------


def _home() -> list[tuple[str, str]]:
    """Five residents, each with a device of one kind registered, bound and consented, and a
    sixth device whose resident withdrew her consent; (serial, secret) of the five."""
    net = build_network()
    admin = make_user(Role.INSTITUTION_ADMIN, scope="all", username="sim-admin")
    village = net.a.villages[0]
    suffix = uuid.uuid4().hex[:8].upper()  # serials no other test run uses (shared broker)
    devices = []
    for i, kind in enumerate([*KINDS, DeviceKind.BP_MONITOR]):
        resident, _ = register_resident(
            admin,
            name=f"居民{i}",
            id_number=make_id_number(village.code[:6], datetime.date(1944, 3, 1), 10 + i),
            region=village,
        )
        give_consent(admin, resident, "device_monitoring")
        device, secret = registry.register_device(
            admin, serial=f"SIM-{suffix}-{i}", kind=kind, institution=net.a.thc
        )
        registry.bind(admin, device, resident)
        if i == len(KINDS):
            Consent.objects.filter(resident=resident).update(withdrawn_at=timezone.now())
        else:
            devices.append((device.serial, secret))
    return devices


@pytest.mark.django_db
def test_load_devices_takes_bound_consenting_devices_with_their_secrets():
    home = dict(_home())
    loaded = load_devices(10)
    assert {d.serial: d.secret for d in loaded} == home
    assert {d.seq for d in loaded} == {1}
    Device.objects.filter(serial=loaded[0].serial).update(last_seq=99)
    picked = load_devices(3, seed=4)
    assert len(picked) == 3 and {d.serial for d in picked} <= set(home)
    assert [d.serial for d in load_devices(3, seed=4)] == [d.serial for d in picked]
    again = {d.serial: d.seq for d in load_devices(10)}
    assert again[loaded[0].serial] == 100
    with pytest.raises(ValueError):
        load_devices(0)


@pytest.mark.django_db
def test_no_device_is_a_clear_error():
    with pytest.raises(NoDevices, match="seed the demo"):
        load_devices(5)
    with pytest.raises(CommandError, match="no active device"):
        call_command("simulate", "devices", "--count", "2", "--http", "http://127.0.0.1:9")


def test_only_devices_are_simulated():
    with pytest.raises(CommandError, match="only thing this command simulates is 'devices'"):
        call_command("simulate", "cows", "--http", "http://127.0.0.1:9")


@pytest.mark.parametrize(
    "args, error",
    [
        (["--count", "0"], "--count must be at least 1"),
        (["--interval", "-1"], "--interval must be 0 or more"),
        (["--duration", "0"], "--duration must be more than 0"),
        (["--abnormal", "-1"], "--abnormal"),
    ],
)
def test_bad_options_are_clear_errors(args, error):
    with pytest.raises(CommandError, match=error):
        call_command("simulate", "devices", *args, "--http", "http://127.0.0.1:9")


# --- HTTP against a live server ---------------------------------------------------------


def _run(transport, devices, *, interval: float, duration: float, rates: Rates | None = None):
    lines: list[str] = []
    simulator = Simulator(
        devices, transport, interval=interval, rates=rates, report=lines.append, report_every=0.5
    )
    stats = simulator.run(threading.Event(), duration)
    return simulator, stats, lines


def _warm_up(url: str) -> None:
    """The live server's first request loads the URL configuration and the API (over a
    second here): make it before timing anything."""
    device = _sim(DeviceKind.BP_MONITOR, 0)
    HttpTransport(url).send(device, b"{}")


def test_http_mode_stores_readings(live_server, transactional_db):
    _home()
    _warm_up(live_server.url)
    devices = load_devices(10, seed=1)
    rates = Rates(abnormal=0.2, alarm=0.2, battery=0.2)
    simulator, stats, lines = _run(
        HttpTransport(live_server.url), devices, interval=0.3, duration=1.5, rates=rates
    )
    assert stats.errors == 0 and stats.rejected == 0, stats.codes
    assert stats.sent >= 5 * 3  # at least three rounds (five are due) of five devices
    assert stats.accepted == stats.sent == Reading.objects.count()
    assert Quarantine.objects.count() == 0
    assert lines[-1].startswith("done — HTTP: sent")
    assert any("msg/s" in line for line in lines[:-1])  # progress lines every report_every
    for device in devices:
        stored = Device.objects.get(serial=device.serial)
        assert stored.last_seq == device.seq - 1
        assert stored.readings_count == device.seq - 1
    # A second run continues each device's seq: nothing is a duplicate or a replay.
    before = Reading.objects.count()
    again = load_devices(10, seed=1)
    _, stats2, _ = _run(HttpTransport(live_server.url), again, interval=0, duration=0.5)
    assert stats2.rejected == stats2.duplicates == stats2.errors == 0
    assert Reading.objects.count() == before + stats2.sent


def test_http_mode_counts_wrong_credentials_as_rejected(live_server, transactional_db):
    _home()
    _warm_up(live_server.url)
    device = load_devices(1)[0]
    device.secret = "not-the-secret"
    _, stats, lines = _run(HttpTransport(live_server.url), [device], interval=0.1, duration=0.35)
    assert stats.sent >= 2 and stats.rejected == stats.sent and stats.accepted == 0
    assert stats.codes == Counter({"bad_device_credentials": stats.sent})
    assert "bad_device_credentials" in lines[-1]
    assert Reading.objects.count() == 0


def test_http_mode_counts_an_unreachable_server_as_errors():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    device = _sim(DeviceKind.BP_MONITOR, 1)
    _, stats, _ = _run(
        HttpTransport(f"http://127.0.0.1:{port}"), [device], interval=0.1, duration=0.25
    )
    assert stats.sent >= 1 and stats.errors == stats.sent and stats.accepted == 0


def test_the_command_runs_for_its_duration(live_server, transactional_db):
    _home()
    _warm_up(live_server.url)
    out = StringIO()
    call_command(
        "simulate",
        "devices",
        "--count",
        "3",
        "--interval",
        "0.2",
        "--http",
        live_server.url,
        "--duration",
        "1",
        "--seed",
        "2",
        stdout=out,
    )
    text = out.getvalue()
    assert text.startswith("simulating 3 device(s)")
    assert "done — HTTP: sent" in text and "messages by kind:" in text
    assert Reading.objects.count() >= 3 * 3  # five rounds are due, three suffice


# --- MQTT against the real Mosquitto ----------------------------------------------------


@pytest.fixture
def broker() -> None:
    try:
        with socket.create_connection((BROKER_HOST, BROKER_PORT), timeout=2):
            return
    except OSError:
        reason = f"no MQTT broker on {BROKER_HOST}:{BROKER_PORT} (apt install mosquitto)"
        if CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)


@pytest.mark.django_db
def test_mqtt_mode_publishes_signed_messages(broker):
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    secrets = dict(_home())
    # A prefix of its own: nothing for a consumer of the real topics to pick up.
    prefix = f"yiyang-test-{uuid.uuid4().hex[:8]}/v1/devices"
    received: list[mqtt.MQTTMessage] = []
    subscribed = threading.Event()
    listener = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"sim-test-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    listener.on_message = lambda c, u, message: received.append(message)
    listener.on_subscribe = lambda *args: subscribed.set()
    listener.connect(BROKER_HOST, BROKER_PORT)
    listener.loop_start()
    try:
        for serial in secrets:
            listener.subscribe(f"{prefix}/{serial}/up", qos=1)
        assert subscribed.wait(10)
        time.sleep(0.2)  # every SUBACK in
        devices = load_devices(10, seed=3)
        transport = MqttTransport(f"mqtt://{BROKER_HOST}:{BROKER_PORT}", topic_prefix=prefix)
        _, stats, lines = _run(
            transport, devices, interval=0.2, duration=1.0, rates=Rates(0.2, 0.2, 0.2)
        )
        assert stats.errors == 0 and stats.rejected == 0
        assert stats.sent >= 5 * 3 and stats.accepted == stats.sent  # every PUBACK
        deadline = time.monotonic() + 10
        while len(received) < stats.sent and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        listener.disconnect()
        listener.loop_stop()
    assert lines[-1].startswith("done — MQTT: sent")
    assert len(received) == stats.sent
    now = timezone.now()
    seqs: dict[str, list[int]] = defaultdict(list)
    for message in received:
        serial = message.topic.split("/")[3]
        assert message.topic == f"{prefix}/{serial}/up"
        assert message.qos == 1 and not message.retain
        sig = dict(message.properties.UserProperty)["sig"]
        assert sig == protocol.sign(secrets[serial], message.payload)
        seqs[serial].append(protocol.parse_message(json.loads(message.payload), now).seq)
    assert set(seqs) == set(secrets)
    for serial, got in seqs.items():
        assert sorted(got) == list(range(1, len(got) + 1)), serial
    # And the ingestion core accepts them as they came (the consumer's work).
    outcomes = ingest.process(
        [
            protocol.Envelope(
                "mqtt", m.topic.split("/")[3], m.payload, dict(m.properties.UserProperty)["sig"]
            )
            for m in received
        ]
    )
    assert sum(o.accepted for o in outcomes) == len(received)
    assert not [r for o in outcomes for r in o.rejected]


def test_mqtt_mode_refuses_a_bad_url():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        MqttTransport("http://127.0.0.1:1883")
    with pytest.raises(CommandError, match="mqtt://"):
        call_command("simulate", "devices", "--mqtt", "tcp://x")


# --- the alert rate of a simulated hour (issue 12) ---------------------------------------

DEMO_FLEET = (
    [DeviceKind.BP_MONITOR] * 8
    + [DeviceKind.GLUCOMETER] * 5
    + [DeviceKind.PULSE_OXIMETER] * 2
    + [DeviceKind.SOS_BUTTON] * 3
    + [DeviceKind.FALL_SENSOR] * 2
)


def _fires(message: dict) -> set[tuple[str, str]]:
    """The default rules (``defaults.RULES``) a message fires, as (code, severity)."""
    import operator

    from yiyang.devices.defaults import RULES

    ops = {"ge": operator.ge, "gt": operator.gt, "le": operator.le, "lt": operator.lt}
    kind, values = message["kind"], message["values"]
    fired = set()
    for rule in RULES:
        if rule.get("event") == kind:
            fired.add((rule["code"], rule["severity"]))
        for cond in rule.get("conditions", []):
            metric = cond["metric"]
            if metric == "hr":
                value = values.get("hr")
            else:
                mkind, _, key = metric.partition(".")
                value = values.get(key) if mkind == kind else None
            if value is not None and ops[cond["op"]](value, cond["value"]):
                fired.add((rule["code"], rule["severity"]))
    return fired


def simulated_hour(seed: int, interval: float = 5.0) -> Counter[str]:
    """Alerts (by severity) that 20 devices like the demo's raise in one hour of messages
    every ``interval`` seconds with the default rates: one per device and rule, as alerts
    fold into the live one until someone handles them (nobody does here)."""
    rng = random.Random(seed)
    devices = [
        SimDevice.create(f"SIM-{i:03d}", kind, "s", None, random.Random(rng.random()))
        for i, kind in enumerate(DEMO_FLEET)
    ]
    rates = Rates.per_hour(interval)
    start = datetime.datetime(2026, 12, 7, 8, tzinfo=datetime.UTC)
    opened: set[tuple[str, str, str]] = set()
    for round_no in range(int(3600 / interval)):
        now = start + datetime.timedelta(seconds=round_no * interval)
        for device in devices:
            for code, severity in _fires(next_message(device, now, rates)):
                opened.add((device.serial, code, severity))
    return Counter(severity for _, _, severity in opened)


@pytest.mark.parametrize("seed", range(1, 9))
def test_twenty_devices_raise_a_handful_of_alerts_an_hour(seed):
    alerts = simulated_hour(seed)
    total = sum(alerts.values())
    assert total <= 6, alerts
    assert alerts["critical"] <= 1, alerts  # an SOS or a fall is rare
    assert alerts["critical"] + alerts["urgent"] <= 3, alerts


def test_over_many_hours_most_alerts_are_not_urgent_and_sos_is_rare():
    totals: Counter[str] = Counter()
    hours = 24
    for seed in range(100, 100 + hours):
        totals += simulated_hour(seed)
    per_hour = {severity: n / hours for severity, n in totals.items()}
    assert 1 <= sum(per_hour.values()) <= 5, per_hour
    assert per_hour.get("info", 0) > per_hour.get("urgent", 0), per_hour
    assert per_hour.get("critical", 0) <= 0.2, per_hour


def test_the_hourly_rates_do_not_depend_on_the_interval():
    fast, slow = Rates.per_hour(1), Rates.per_hour(60)
    # Abnormal readings per device and hour are the same whether it sends every 1 or 60 s.
    assert fast.abnormal * 3600 * (1 - fast.battery) == pytest.approx(0.2)
    assert slow.abnormal * 60 * (1 - slow.battery) == pytest.approx(0.2)
    assert fast.battery * 3600 == pytest.approx(2.0) and slow.battery * 60 == pytest.approx(2.0)
