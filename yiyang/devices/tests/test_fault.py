"""The no-loss fault test of issue 5 (PostgreSQL + Mosquitto): while signed readings flow
through a broker of our own into two real ``yiyang consume_devices`` processes, one is
killed with SIGKILL and restarted, and PostgreSQL becomes unreachable for a few seconds
(a TCP relay between the consumers and the server is cut and refused — the shared server
other tests use is never stopped). Afterwards every published (device, seq) is stored
exactly once or quarantined with its reason: none lost, none duplicated, and the devices'
counters agree with the rows.

Runs only on PostgreSQL with ``MQTT_URL`` set (the PostgreSQL + Mosquitto run of
``.ci/run``) and the ``mosquitto`` binary at hand: the test starts its own broker with
unlimited queues, because the system broker's ``max_queued_messages 1000`` drops what
waits for a killed consumer (ADR 0018).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from yiyang.common.permissions import Role
from yiyang.devices import simulate
from yiyang.devices.models import Device, Quarantine, Reading
from yiyang.devices.protocol import observations_for, parse_message, sign
from yiyang.devices.services import registry
from yiyang.devices.tests.relay import Relay, free_port
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import Observation, ObservationSource
from yiyang.residents.services.people import give_consent
from yiyang.residents.services.registry import register_resident
from yiyang.testing.network import build_network, make_user

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
ROOT = Path(__file__).resolve().parents[3]
DEVICES = 4
PER_DEVICE = 750  # 3,000 good readings
RATE = 250.0  # messages/s: about 12 s of publishing
SETTLE = 90.0  # seconds to wait for the consumers to catch up at the end


def _why_skip() -> str | None:
    if connection.vendor != "postgresql":
        return "the fault test needs PostgreSQL (set DATABASE_URL=postgres://…)"
    if not getattr(settings, "MQTT_URL", ""):
        return "the fault test needs Mosquitto (set MQTT_URL, as .ci/run does)"
    if not Path(MOSQUITTO).exists():
        return f"the fault test starts its own broker and needs {MOSQUITTO}"
    return None


def _wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port}") from None
            time.sleep(0.05)


@contextlib.contextmanager
def _broker(tmp: Path) -> Iterator[str]:
    port = free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 0\n"
    )
    with open(tmp / "mosquitto.log", "w") as log:
        proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
    try:
        _wait_for_port(port, proc)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


class Consumers:
    """``python -m yiyang.cli consume_devices`` processes with stable client ids, talking to
    the database through the relay."""

    def __init__(self, url: str, relay: Relay, tmp: Path):
        db = connection.settings_dict
        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{user}{password}@127.0.0.1:{relay.port}/{db['NAME']}",
            "YIYANG_FIELD_KEY": settings.FIELD_ENCRYPTION_KEY,
            "PYTHONPATH": str(ROOT),
        }
        self.env.pop("REDIS_URL", None)
        self.url = url
        self.tmp = tmp
        self.procs: dict[int, subprocess.Popen] = {}
        self.starts: Counter[int] = Counter()

    def log(self, i: int) -> Path:
        return self.tmp / f"consumer-{i}-{self.starts[i]}.log"

    def start(self, i: int) -> None:
        self.starts[i] += 1
        with open(self.log(i), "w") as log:
            self.procs[i] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "yiyang.cli",
                    "consume_devices",
                    "--url",
                    self.url,
                    "--client-id",
                    f"fault-consumer-{i}",
                    "--batch",
                    "200",
                ],  # fmt: skip
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_subscribed(self, i: int, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while "subscribing to" not in self.log(i).read_text():
            if self.procs[i].poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"consumer {i} did not start:\n{self.log(i).read_text()}")
            time.sleep(0.1)

    def kill(self, i: int) -> None:
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def logs(self, tail: int | None = 3000) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-tail if tail else 0 :]}"
            for path in sorted(self.tmp.glob("consumer-*.log"))
        )


def _devices() -> list[tuple[str, str]]:
    net = build_network()
    admin = make_user(Role.INSTITUTION_ADMIN, scope="all", username="fault-admin")
    village = net.a.villages[0]
    devices = []
    for k in range(DEVICES):
        resident, _ = register_resident(
            admin,
            name=f"测试{k}",
            id_number=make_id_number(village.code[:6], datetime.date(1944, 3, 1), 100 + k),
            region=village,
        )
        give_consent(admin, resident, "device_monitoring")
        kind = ("bp_monitor", "glucometer", "pulse_oximeter", "thermometer")[k % 4]
        device, secret = registry.register_device(admin, kind=kind, institution=net.a.thc)
        registry.bind(admin, device, resident)
        devices.append((device.serial, secret))
    return devices


class Publisher:
    """Signed readings of every device, round-robin, at ``RATE``, plus bad messages
    (recorded with the reason they must be quarantined for)."""

    def __init__(self, url: str, devices: list[tuple[str, str]]):
        self.transport = simulate.MqttTransport(url)
        self.sims = [
            simulate.SimDevice.create(
                serial,
                Device.objects.get(serial=serial).kind,
                secret,
                None,
                random.Random(k),  # noqa: S311 - synthetic values
            )
            for k, (serial, secret) in enumerate(devices)
        ]
        self.good: dict[tuple[str, int], bytes] = {}
        self.bad: Counter[str] = Counter()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.failure: BaseException | None = None
        self.done = threading.Event()

    def _raw(self, topic_serial: str, payload: bytes, sig: str | None) -> None:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.PUBLISH)
        if sig is not None:
            props.UserProperty = ("sig", sig)
        info = self.transport._client.publish(  # noqa: SLF001 - bad input on purpose
            f"yiyang/v1/devices/{topic_serial}/up", payload, qos=1, properties=props
        )
        assert info.rc == 0

    def _bad(self, n: int) -> None:
        sim = self.sims[n % len(self.sims)]
        other = self.sims[(n + 1) % len(self.sims)]
        when = datetime.datetime.now(simulate.SHANGHAI).isoformat(timespec="seconds")
        which = n % 4
        if which == 0:  # malformed JSON, correctly signed (each one different, as real
            # messages are: identical refused bytes redelivered count once)
            payload = b'{"seq": %d, "ts": ' % n
            self._raw(sim.serial, payload, sign(sim.secret, payload))
            self.bad["malformed"] += 1
        elif which == 1:  # signed with another device's secret (its topic)
            payload = simulate.encode(
                {"seq": 10**9 + n, "ts": when, "kind": "hr", "values": {"hr": 70}}
            )
            self._raw(sim.serial, payload, sign(other.secret, payload))
            self.bad["bad_signature"] += 1
        elif which == 2:  # impossible value
            payload = simulate.encode(
                {"seq": 10**9 + n, "ts": when, "kind": "spo2", "values": {"spo2": 130}}
            )
            self._raw(sim.serial, payload, sign(sim.secret, payload))
            self.bad["out_of_range"] += 1
        else:  # an unknown device
            payload = simulate.encode({"seq": 1, "ts": when, "kind": "sos", "values": {}})
            self._raw(f"NOPE-{n}", payload, "00")
            self.bad["unknown_device"] += 1

    def _run(self) -> None:
        try:
            started = time.monotonic()
            total = DEVICES * PER_DEVICE
            for n in range(total):
                sim = self.sims[n % DEVICES]
                message = simulate.next_message(sim)
                payload = simulate.encode(message)
                self.good[(sim.serial, message["seq"])] = payload
                self.transport.send(sim, payload)
                if n % 50 == 25:
                    self._bad(n // 50)
                pause = started + (n + 1) / RATE - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            self.transport.close(timeout=30)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.failure = exc
        finally:
            self.done.set()


@pytest.mark.django_db(transaction=True)
def test_no_reading_is_lost_or_duplicated_across_a_killed_consumer_and_a_database_outage(
    tmp_path,
):
    reason = _why_skip()
    if reason:
        pytest.skip(reason)
    devices = _devices()
    db = connection.settings_dict
    relay = Relay(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432))
    with _broker(tmp_path) as url:
        consumers = Consumers(url, relay, tmp_path)
        try:
            for i in (0, 1):
                consumers.start(i)
            for i in (0, 1):
                consumers.wait_subscribed(i)
            publisher = Publisher(url, devices)
            publisher.thread.start()

            time.sleep(3)  # readings flow …
            consumers.kill(0)  # … kill -9 one consumer mid-stream
            time.sleep(1)
            consumers.start(0)  # restart it: same client id, same session
            consumers.wait_subscribed(0)
            time.sleep(1)
            relay.down()  # PostgreSQL unreachable for 4 s
            time.sleep(4)
            relay.up()

            assert publisher.done.wait(120), "the publisher did not finish"
            assert publisher.failure is None, publisher.failure
            stats = publisher.transport.stats
            assert stats.errors == 0, stats.codes  # the broker took every message

            expected_good = len(publisher.good)
            expected_bad = sum(publisher.bad.values())
            deadline = time.monotonic() + SETTLE
            while time.monotonic() < deadline:
                if (
                    Reading.objects.count() >= expected_good
                    and Quarantine.objects.count() >= expected_bad
                ):
                    break
                time.sleep(0.5)
            time.sleep(1.5)  # anything beyond would be a duplicate: let it show
        finally:
            consumers.stop_all()
            relay.close()

    logs = consumers.logs()
    # The faults happened: a consumer was restarted and batches failed while the
    # database was away (and were retried).
    assert consumers.starts[0] == 2
    assert "failed (attempt" in consumers.logs(tail=None), logs

    stored = Counter(
        (serial, seq) for serial, seq in Reading.objects.values_list("device__serial", "seq")
    )
    duplicated = {key: n for key, n in stored.items() if n > 1}
    assert not duplicated
    missing = set(publisher.good) - set(stored)
    unexpected = set(stored) - set(publisher.good)
    quarantined = Counter(Quarantine.objects.values_list("code", flat=True))
    assert not missing, f"{len(missing)} lost, e.g. {sorted(missing)[:5]}; quarantine {quarantined}"
    assert not unexpected
    # Every bad message quarantined once with its reason; no good one among them.
    assert quarantined == publisher.bad, logs

    # The readings are in the health record, and the devices' counters match the rows
    # (a retried batch did not count twice).
    now = datetime.datetime.now(datetime.UTC)
    expected_observations = sum(
        len(observations_for(parse_message(json.loads(payload), now)))
        for payload in publisher.good.values()
    )
    assert (
        Observation.objects.filter(source=ObservationSource.DEVICE).count() == expected_observations
    )
    for serial, _secret in devices:
        device = Device.objects.get(serial=serial)
        assert device.readings_count == sum(1 for s, _ in stored if s == serial)
        assert device.last_seq == PER_DEVICE
    rejected = sum(n for code, n in publisher.bad.items() if code != "unknown_device")
    assert sum(Device.objects.values_list("rejected_count", flat=True)) == rejected
