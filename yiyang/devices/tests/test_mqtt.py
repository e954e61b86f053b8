"""The MQTT consumer against the real broker (Mosquitto on 127.0.0.1:1883) and the real
ingestion core: each message stored once and acknowledged only after its commit; a failed
commit retried and never acknowledged; a persistent session that keeps what was published
while the consumer was down; bad input quarantined without stopping the loop.

Each test uses its own topic prefix, share group and client ids (a uuid), so parallel runs
(``-n 4``) and a consumer running on the development broker do not interfere. Without a
reachable broker these tests are skipped — or fail when ``CI=true``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import paho.mqtt.client as paho
import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connections
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from yiyang.common.permissions import Role
from yiyang.devices.models import Device, Quarantine, Reading
from yiyang.devices.mqtt import Consumer, parse_url, serial_from_topic
from yiyang.devices.protocol import Envelope, Outcome, sign
from yiyang.devices.services import ingest, registry
from yiyang.devices.tests.relay import Relay
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.services.people import give_consent
from yiyang.residents.services.registry import register_resident
from yiyang.testing.network import build_network, make_user

BROKER_HOST = "127.0.0.1"
BROKER_PORT = 1883
BROKER_URL = f"mqtt://{BROKER_HOST}:{BROKER_PORT}"
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
WAIT = 20.0  # seconds: the longest any test waits for the broker / the consumer


def _broker_reachable() -> bool:
    try:
        with socket.create_connection((BROKER_HOST, BROKER_PORT), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def broker() -> None:
    if _broker_reachable():
        return
    reason = f"no MQTT broker on {BROKER_HOST}:{BROKER_PORT} (apt install mosquitto)"
    if CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


# --- the broker side: a namespace per test, devices that publish ------------------------


@dataclass
class Site:
    """This test's topic prefix, share group and client ids on the shared broker."""

    run: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    client_ids: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"yiyang-test/{self.run}/devices"

    @property
    def group(self) -> str:
        return f"t{self.run}"

    def topic(self, serial: str) -> str:
        return f"{self.prefix}/{serial}/up"

    def client_id(self, name: str = "consumer") -> str:
        client_id = f"yiyang-test-{self.run}-{name}"
        if client_id not in self.client_ids:
            self.client_ids.append(client_id)
        return client_id

    def consumer(self, name: str = "consumer", **options) -> Consumer:
        options.setdefault("backoff", (0.05, 0.2))
        options.setdefault("url", BROKER_URL)
        return Consumer(
            client_id=self.client_id(name),
            share_group=self.group,
            topic_prefix=self.prefix,
            session_expiry=120,
            **options,
        )

    def forget_sessions(self) -> None:
        """End the persistent sessions this test left at the broker."""
        for client_id in self.client_ids:
            client = paho.Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=paho.MQTTv5,
            )
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 0
            try:
                client.connect(BROKER_HOST, BROKER_PORT, clean_start=True, properties=props)
                client.loop(timeout=1)
                client.disconnect()
            except OSError:
                pass


@pytest.fixture
def site(broker) -> Iterator[Site]:
    site = Site()
    yield site
    site.forget_sessions()


class Publisher:
    """A device side: publishes QoS 1 with the ``sig`` user property, waits for PUBACK."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"yiyang-test-{site.run}-device-{uuid.uuid4().hex[:6]}",
            protocol=paho.MQTTv5,
        )
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect(BROKER_HOST, BROKER_PORT)
        self.client.loop_start()

    def publish(self, serial: str, payload: bytes, sig: str | None) -> None:
        props = Properties(PacketTypes.PUBLISH)
        if sig is not None:
            props.UserProperty = [("sig", sig)]
        info = self.client.publish(self.site.topic(serial), payload, qos=1, properties=props)
        info.wait_for_publish(timeout=WAIT)
        assert info.is_published(), f"the broker did not acknowledge {payload[:40]!r}"

    def publish_many(self, serial: str, secret: str, payloads: list[bytes]) -> None:
        """Publish without waiting for each PUBACK, then wait for them all."""
        sent = []
        for payload in payloads:
            props = Properties(PacketTypes.PUBLISH)
            props.UserProperty = [("sig", sign(secret, payload))]
            sent.append(
                self.client.publish(self.site.topic(serial), payload, qos=1, properties=props)
            )
        for info in sent:
            info.wait_for_publish(timeout=WAIT)
            assert info.is_published()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(site: Site) -> Iterator[Publisher]:
    pub = Publisher(site)
    yield pub
    pub.close()


class Running:
    """A consumer's ``run()`` in a thread, for a ``with`` block: subscribed on entry,
    stopped (current batch finished, disconnected) on exit."""

    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.consumer.run()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)
        finally:
            connections.close_all()

    def __enter__(self) -> Consumer:
        self.thread.start()
        wait_for(self.consumer.connected.is_set, "the consumer to subscribe")
        return self.consumer

    def __exit__(self, *exc: object) -> None:
        self.consumer.stop()
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the consumer did not stop"
        assert self.errors == []


@pytest.fixture
def proxy(broker) -> Iterator[Relay]:
    """A relay to the broker whose connections the test can cut (a network failure)."""
    relay = Relay(BROKER_HOST, BROKER_PORT)
    yield relay
    relay.close()


# --- the database side: a resident with consent and two bound devices -------------------


@dataclass
class Home:
    serial: str
    secret: str
    other_serial: str  # another resident's device
    other_secret: str


@pytest.fixture
def home(transactional_db) -> Home:
    net = build_network()
    admin = make_user(Role.INSTITUTION_ADMIN, scope="all", username="device-admin")
    village = net.a.villages[0]
    devices = []
    for name, seq in (("陈秀英", 11), ("李四", 22)):
        resident, _ = register_resident(
            admin,
            name=name,
            id_number=make_id_number(village.code[:6], datetime.date(1944, 3, 1), seq),
            region=village,
        )
        give_consent(admin, resident, "device_monitoring")
        device, secret = registry.register_device(admin, kind="bp_monitor", institution=net.a.thc)
        registry.bind(admin, device, resident)
        devices.append((device.serial, secret))
    return Home(devices[0][0], devices[0][1], devices[1][0], devices[1][1])


def reading(seq: int, sys_: int = 152) -> bytes:
    when = timezone.now() - datetime.timedelta(minutes=1)
    ts = when.astimezone(datetime.timezone(datetime.timedelta(hours=8))).isoformat()
    body = {"seq": seq, "ts": ts, "kind": "bp", "values": {"sys": sys_, "dia": 94, "hr": 78}}
    return json.dumps(body).encode()


def send(publisher: Publisher, home: Home, payload: bytes) -> None:
    publisher.publish(home.serial, payload, sign(home.secret, payload))


def stored(serial: str) -> list[int]:
    return sorted(Reading.objects.filter(device__serial=serial).values_list("seq", flat=True))


def nothing_more_arrives(site: Site, seconds: float = 1.0) -> int:
    """Resume the session once more: the number of messages the broker still had for it."""
    with Running(site.consumer()) as again:
        time.sleep(seconds)
        return again.stats.messages


# --- tests --------------------------------------------------------------------------------


def test_a_signed_message_is_stored_once_and_acknowledged(site, publisher, home):
    with Running(site.consumer()) as consumer:
        send(publisher, home, reading(1))
        wait_for(lambda: consumer.stats.messages == 1, "the message")
    assert (consumer.stats.accepted, consumer.stats.acked, consumer.stats.not_acked) == (1, 1, 0)
    assert stored(home.serial) == [1]
    device = Device.objects.get(serial=home.serial)
    assert (device.last_seq, device.readings_count, device.rejected_count) == (1, 1, 0)
    # Acknowledged: the resumed session has nothing left for us.
    assert nothing_more_arrives(site) == 0
    assert Quarantine.objects.count() == 0


def test_the_same_message_published_twice_is_stored_once(site, publisher, home):
    payload = reading(7)
    with Running(site.consumer()) as consumer:
        send(publisher, home, payload)
        send(publisher, home, payload)
        wait_for(lambda: consumer.stats.messages == 2, "both copies")
    assert (consumer.stats.accepted, consumer.stats.duplicates, consumer.stats.acked) == (1, 1, 2)
    assert stored(home.serial) == [7]
    assert Quarantine.objects.count() == 0


def test_a_message_committed_but_not_acknowledged_is_redelivered_and_stored_once(
    site, publisher, home
):
    """The worst moment to die: after the commit, before the PUBACK."""
    first = site.consumer()

    def commit_then_die(envelopes: Sequence[Envelope]) -> list[Outcome]:
        ingest.process(envelopes)
        first.stop()
        raise OSError("killed between commit and acknowledgement")

    first.process = commit_then_die
    with Running(first):
        send(publisher, home, reading(3))
        wait_for(lambda: first.stats.failures == 1, "the committed batch")
    assert (first.stats.messages, first.stats.acked) == (0, 0)
    assert stored(home.serial) == [3]

    with Running(site.consumer()) as second:
        wait_for(lambda: second.stats.messages == 1, "the redelivery")
    assert (second.stats.accepted, second.stats.duplicates, second.stats.acked) == (0, 1, 1)
    assert stored(home.serial) == [3]
    assert nothing_more_arrives(site) == 0


def test_a_failing_commit_is_retried_and_acknowledged_only_after_it_succeeds(site, publisher, home):
    calls: list[tuple[list[Envelope], int]] = []
    consumer = site.consumer()

    def fails_once(envelopes: Sequence[Envelope]) -> list[Outcome]:
        calls.append((list(envelopes), consumer.stats.acked))
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return ingest.process(envelopes)

    consumer.process = fails_once
    payload = reading(5)
    with Running(consumer):
        send(publisher, home, payload)
        wait_for(lambda: consumer.stats.messages == 1, "the retried batch")
    assert consumer.stats.failures == 1
    # The same batch both times (the retry marked as a redelivery: the failed commit may
    # have gone through), and nothing acknowledged before the successful commit.
    assert [acked for _, acked in calls] == [0, 0]
    first = Envelope("mqtt", home.serial, payload, signature=sign(home.secret, payload))
    assert calls[0][0] == [first]
    assert calls[1][0] == [dataclasses.replace(first, redelivered=True)]
    assert consumer.stats.acked == 1
    assert stored(home.serial) == [5]
    assert nothing_more_arrives(site) == 0


def test_a_consumer_stopped_while_the_database_is_down_leaves_the_message_to_the_next(
    site, publisher, home
):
    down = site.consumer()
    attempts: list[int] = []

    def database_down(envelopes: Sequence[Envelope]) -> list[Outcome]:
        attempts.append(len(envelopes))
        raise OperationalError("could not connect to server")

    down.process = database_down
    with Running(down):
        send(publisher, home, reading(9))
        wait_for(lambda: len(attempts) >= 3, "three attempts")
    assert (down.stats.messages, down.stats.acked) == (0, 0)
    assert stored(home.serial) == []

    with Running(site.consumer()) as up:
        wait_for(lambda: up.stats.messages == 1, "the redelivery")
    assert (up.stats.accepted, up.stats.acked) == (1, 1)
    assert stored(home.serial) == [9]


def test_a_connection_lost_during_the_commit_is_resumed_and_nothing_is_lost(
    site, publisher, home, proxy
):
    """The network goes while the batch is being committed: its PUBACK must not be sent on
    the next connection (the packet id may name another message there); the consumer
    reconnects by itself, the broker redelivers, and the copy is a duplicate."""
    consumer = site.consumer(url=f"mqtt://127.0.0.1:{proxy.port}")

    def network_fails_meanwhile(envelopes: Sequence[Envelope]) -> list[Outcome]:
        if consumer.stats.connects == 1:
            proxy.cut()
            wait_for(lambda: not consumer.connected.is_set(), "the consumer to notice")
        return ingest.process(envelopes)

    consumer.process = network_fails_meanwhile
    with Running(consumer):
        send(publisher, home, reading(4))
        wait_for(lambda: consumer.stats.messages == 2, "the message and its redelivery")
        assert consumer.connected.is_set()
        send(publisher, home, reading(5))  # and the new connection carries on
        wait_for(lambda: consumer.stats.messages == 3, "the next message")
    assert consumer.stats.connects == 2
    assert (consumer.stats.accepted, consumer.stats.duplicates) == (2, 1)
    assert (consumer.stats.acked, consumer.stats.not_acked) == (2, 1)
    assert stored(home.serial) == [4, 5]
    assert nothing_more_arrives(site) == 0


def test_messages_published_while_the_consumer_is_down_wait_for_it(site, publisher, home):
    with Running(site.consumer()) as consumer:  # creates the persistent session
        send(publisher, home, reading(1))
        wait_for(lambda: consumer.stats.messages == 1, "the first message")
    for seq in range(2, 7):
        send(publisher, home, reading(seq))
    assert stored(home.serial) == [1]

    with Running(site.consumer()) as restarted:
        wait_for(lambda: restarted.stats.messages == 5, "the messages queued at the broker")
    assert (restarted.stats.accepted, restarted.stats.acked) == (5, 5)
    assert stored(home.serial) == [1, 2, 3, 4, 5, 6]


def test_bad_input_is_quarantined_and_the_loop_goes_on(site, publisher, home):
    garbage = b"\xff\xfe not json"
    valid = reading(2)
    theirs = reading(40)
    with Running(site.consumer()) as consumer:
        send(publisher, home, garbage)  # signed, but not JSON
        publisher.publish(home.serial, reading(1), None)  # no sig
        # Signed with our secret on the other device's topic.
        publisher.publish(home.other_serial, theirs, sign(home.secret, theirs))
        publisher.publish("X" * 100, valid, sign(home.secret, valid))  # no such device
        send(publisher, home, valid)
        wait_for(lambda: consumer.stats.messages == 5, "all five messages")
    assert (consumer.stats.accepted, consumer.stats.rejected, consumer.stats.acked) == (1, 4, 5)
    assert stored(home.serial) == [2]
    assert stored(home.other_serial) == []
    rows = {
        (q.serial, q.code, q.payload[:8])
        for q in Quarantine.objects.all().only("serial", "code", "payload")
    }
    assert rows == {
        (home.serial, "malformed", garbage.decode("utf-8", errors="replace")[:8]),
        (home.serial, "bad_signature", reading(1).decode()[:8]),
        (home.other_serial, "bad_signature", theirs.decode()[:8]),
        ("X" * 64, "unknown_device", valid.decode()[:8]),
    }
    assert nothing_more_arrives(site) == 0


def test_a_burst_is_taken_in_batches_and_none_is_dropped(site, publisher, home):
    """2500 messages at once: more than the broker queues per client by default
    (Mosquitto's max_queued_messages, 1000), so they must wait unacknowledged at the
    consumer (its Receive Maximum) instead of being dropped by the broker."""
    with Running(site.consumer(batch_size=500)) as consumer:
        publisher.publish_many(home.serial, home.secret, [reading(s) for s in range(1, 2501)])
        wait_for(lambda: consumer.stats.messages == 2500, "2500 messages", timeout=60)
    assert (consumer.stats.accepted, consumer.stats.acked) == (2500, 2500)
    assert consumer.stats.batches < 100  # many messages per transaction
    assert stored(home.serial) == list(range(1, 2501))


def test_the_command_consumes_until_sigterm(site, publisher, home, settings, capsys):
    settings.MQTT_URL = BROKER_URL
    settings.MQTT_SHARE_GROUP = site.group
    settings.MQTT_TOPIC_PREFIX = site.prefix
    settings.MQTT_SESSION_EXPIRY = 120
    client_id = site.client_id("command")
    found: list[int] = []
    problems: list[BaseException] = []

    def device_then_sigterm() -> None:
        # Until the command has subscribed, a message is lost (no session yet): send a new
        # one every 0.3 s until one is stored, then ask the command to stop.
        try:
            seq = 0
            deadline = time.monotonic() + WAIT
            while not found and time.monotonic() < deadline:
                seq += 1
                send(publisher, home, reading(seq))
                time.sleep(0.3)
                with contextlib.suppress(OperationalError):  # SQLite: the consumer's lock
                    found.extend(stored(home.serial))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            problems.append(exc)
        finally:
            connections.close_all()
            if signal.getsignal(signal.SIGTERM) is not before:  # the command's handler
                os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    helper = threading.Thread(target=device_then_sigterm)
    helper.start()
    call_command("consume_devices", "--client-id", client_id, "--batch", "10")
    helper.join(WAIT)
    assert problems == [] and found
    assert signal.getsignal(signal.SIGTERM) is before  # the command put it back
    out = capsys.readouterr().out
    assert f"consuming $share/{site.group}/{site.prefix}/+/up from 127.0.0.1:1883" in out
    assert "acknowledged" in out.splitlines()[-1]
    assert stored(home.serial)[0] == found[0]


def test_a_second_signal_stops_the_command_at_once_and_nothing_is_lost(
    site, publisher, home, settings, monkeypatch
):
    settings.MQTT_URL = BROKER_URL
    settings.MQTT_SHARE_GROUP = site.group
    settings.MQTT_TOPIC_PREFIX = site.prefix
    settings.MQTT_SESSION_EXPIRY = 120
    hung = threading.Event()

    def hangs(envelopes: Sequence[Envelope]) -> list[Outcome]:
        # The database hangs; the operator asks twice. Runs in the main thread, where the
        # signal handlers run.
        hung.set()
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(WAIT)
        pytest.fail("the second SIGTERM did not interrupt the batch")

    monkeypatch.setattr(ingest, "process", hangs)
    sent: list[int] = []

    def device() -> None:
        deadline = time.monotonic() + WAIT
        while not hung.is_set() and time.monotonic() < deadline:
            sent.append(len(sent) + 1)
            send(publisher, home, reading(sent[-1]))
            time.sleep(0.3)

    helper = threading.Thread(target=device)
    helper.start()
    with pytest.raises(CommandError, match="the broker redelivers it") as stopped:
        call_command("consume_devices", "--client-id", site.client_id("command"))
    helper.join(WAIT)
    assert stopped.value.returncode == 130
    assert stored(home.serial) == []
    monkeypatch.undo()
    # What the command had received but not committed comes again to its session.
    with Running(site.consumer("command")) as resumed:
        wait_for(lambda: resumed.stats.messages >= 1, "the redelivery")
        time.sleep(0.5)
    assert resumed.stats.acked == resumed.stats.messages
    # Everything sent once the command had subscribed: the last ones, none missing.
    got = stored(home.serial)
    assert got and got == sent[-len(got) :]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch", "0"], "--batch must be at least 1"),
        (["--wait-ms", "-1"], "--wait-ms must be 0 or more"),
        (["--url", "http://127.0.0.1:1883"], "must start with mqtt:// or mqtts://"),
        (["--url", "mqtt://127.0.0.1:99999"], "has an invalid port"),
    ],
)
def test_the_command_refuses_bad_options(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("consume_devices", *args)


def test_the_command_needs_a_broker(settings):
    settings.MQTT_URL = ""
    with pytest.raises(CommandError, match="set MQTT_URL or pass --url"):
        call_command("consume_devices")


# --- pure functions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1:1883", ("127.0.0.1", 1883, None, None, False)),
        ("mqtt://broker", ("broker", 1883, None, None, False)),
        ("mqtts://broker", ("broker", 8883, None, None, True)),
        ("mqtt://yiyang:p%40ss@mq.example:1884/", ("mq.example", 1884, "yiyang", "p@ss", False)),
    ],
)
def test_broker_urls(url, expected):
    a = parse_url(url)
    assert (a.host, a.port, a.username, a.password, a.tls) == expected


@pytest.mark.parametrize(
    ("topic", "serial"),
    [
        ("yiyang/v1/devices/BP-411521-000123/up", "BP-411521-000123"),
        ("yiyang/v1/devices//up", ""),
        ("yiyang/v1/devices/a/b/up", "a/b"),
        ("yiyang/v1/devices/BP-1/down", "BP-1/down"),
        ("elsewhere/BP-1/up", "elsewhere/BP-1"),
    ],
)
def test_the_serial_comes_from_the_topic(topic, serial):
    assert serial_from_topic(topic, "yiyang/v1/devices") == serial


def test_a_message_that_always_fails_is_quarantined_and_does_not_block(site, publisher, home):
    """A bug that makes one message fail every time (the database answering) must not hold
    up the others: after a few attempts the batch is split and that message quarantined."""
    consumer = site.consumer()

    def chokes_on_poison(envelopes: Sequence[Envelope]) -> list[Outcome]:
        if any(b"poison" in e.payload for e in envelopes):
            raise ValueError("cannot handle this one")
        return ingest.process(envelopes)

    consumer.process = chokes_on_poison
    poison = reading(2)[:-1] + b', "note": "poison"}'
    with Running(consumer):
        send(publisher, home, reading(1))
        send(publisher, home, poison)
        send(publisher, home, reading(3))
        wait_for(lambda: consumer.stats.messages == 3, "all three, past the poison")
    assert consumer.stats.poisoned == 1 and consumer.stats.acked == 3
    assert stored(home.serial) == [1, 3]
    row = Quarantine.objects.get()
    assert row.code == "internal_error" and "ValueError" in row.detail
    assert nothing_more_arrives(site) == 0
