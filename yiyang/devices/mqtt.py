"""The MQTT consumer: device messages from the broker into ``ingest.process`` (ADR 0018,
docs/device-protocol.md).

    consumer = Consumer(url="mqtt://127.0.0.1:1883", client_id="yiyang-host1-0")
    consumer.run()          # blocks; consumer.stop() (or SIGTERM in the command) ends it

Delivery guarantee (at least once, stored once): the consumer connects with MQTT 5,
``clean_start=False`` and a session expiry interval, so the broker keeps its subscription
and queues messages while it is down; it subscribes with QoS 1 to the shared subscription
``$share/{group}/{prefix}/+/up`` and acknowledges by hand (``manual_ack``). The network
thread only puts received messages into an in-memory queue. The main loop takes a batch
(up to ``batch_size`` messages, waiting at most ``wait_ms`` after the first), calls
``process`` — one database transaction — and only after it returned sends the PUBACKs. If
``process`` raises (the database is away), nothing is acknowledged: the database
connection is closed and the same batch is retried with a bounded back-off until it goes through. A
message whose PUBACK never reached the broker is delivered again and is then a harmless
duplicate (the store keeps each (device, seq) once).

A PUBACK is only sent on the connection the message came in on: after a reconnect the
broker redelivers what was not acknowledged (same session), and a packet id from the old
connection may by then name another message (e.g. when the session was lost).

Settings (each optional; the constructor's arguments win): ``MQTT_URL``, ``MQTT_CLIENT_ID``
(default ``yiyang-<hostname>``), ``MQTT_SHARE_GROUP`` ("yiyang"), ``MQTT_TOPIC_PREFIX``
("yiyang/v1/devices"), ``MQTT_SESSION_EXPIRY`` (seconds, 7 days), ``MQTT_RECEIVE_MAXIMUM``
(10000). The broker must keep enough for a consumer that is down: Mosquitto drops QoS 1
messages beyond ``max_queued_messages`` (1000 by default) per session.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connection, connections
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from yiyang.devices.models import Source
from yiyang.devices.mqtt_fast import install_fast_properties
from yiyang.devices.protocol import Envelope, Outcome
from yiyang.devices.services.ingest import quarantine_failure

logger = logging.getLogger(__name__)

DEFAULT_SHARE_GROUP = "yiyang"
DEFAULT_TOPIC_PREFIX = "yiyang/v1/devices"
DEFAULT_BATCH = 500
DEFAULT_WAIT_MS = 50
DEFAULT_SESSION_EXPIRY = 7 * 24 * 3600  # seconds the broker keeps our session while down
BACKOFF_MIN = 0.5
BACKOFF_MAX = 5.0
# After this many failed attempts of a batch with the database answering, its messages are
# processed one by one and one that still fails is quarantined (``internal_error``).
SPLIT_AFTER = 3
LOG_EVERY = 10.0  # seconds between throughput lines
# MQTT 5 Receive Maximum: how many unacknowledged messages the broker may push to us.
# Large, so a burst waits (unacknowledged, hence safe) in our memory rather than in the
# broker's per-client queue, which drops messages when full (Mosquitto:
# max_queued_messages, 1000 by default).
DEFAULT_RECEIVE_MAXIMUM = 10_000

ProcessFn = Callable[[Sequence[Envelope]], list[Outcome]]


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False


def parse_url(url: str) -> BrokerAddress:
    """``mqtt://[user[:password]@]host[:port]`` (1883) or ``mqtts://…`` (TLS, 8883)."""
    if not url:
        raise ImproperlyConfigured("MQTT_URL is not set (e.g. mqtt://127.0.0.1:1883)")
    parts = urlsplit(url)
    if parts.scheme not in {"mqtt", "mqtts"}:
        raise ImproperlyConfigured(
            f"MQTT URL {url!r} must start with mqtt:// or mqtts:// (got {parts.scheme!r})"
        )
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"MQTT URL {url!r} has an invalid port") from None
    if not parts.hostname:
        raise ImproperlyConfigured(f"MQTT URL {url!r} has no host")
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"MQTT URL {url!r} must have no path, query or fragment")
    tls = parts.scheme == "mqtts"
    return BrokerAddress(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        tls=tls,
    )


def default_client_id() -> str:
    """``MQTT_CLIENT_ID`` or ``yiyang-<hostname>``: stable across restarts of this worker,
    so that it resumes its session. Two workers on one host need distinct ids."""
    configured = getattr(settings, "MQTT_CLIENT_ID", "")
    return configured or f"yiyang-{socket.gethostname()}"


def serial_from_topic(topic: str, prefix: str) -> str:
    """The ``{serial}`` of ``{prefix}/{serial}/up``. A topic of another shape gives its raw
    segment after the prefix (or the whole topic), which ``process`` then quarantines as
    an unknown device — bad input never stops the consumer."""
    head = prefix.rstrip("/") + "/"
    rest = topic[len(head) :] if topic.startswith(head) else topic
    if rest.endswith("/up"):
        rest = rest[: -len("/up")]
    return rest


def signature_of(message: mqtt.MQTTMessage) -> str | None:
    """The MQTT 5 user property ``sig`` (the first one), or None."""
    props = getattr(message, "properties", None)
    for key, value in getattr(props, "UserProperty", None) or []:
        if key == "sig":
            return str(value)
    return None


@dataclass(frozen=True)
class Received:
    generation: int  # the connection it arrived on (see Consumer._generation)
    mid: int
    qos: int
    topic: str
    payload: bytes
    signature: str | None
    dup: bool = False  # the broker sent it before (MQTT DUP flag)


@dataclass
class Stats:
    messages: int = 0  # processed and committed (acknowledged or left to redelivery)
    acked: int = 0
    not_acked: int = 0  # committed, but the connection it came on was gone: redelivered
    batches: int = 0
    failures: int = 0  # process() raised
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    connects: int = 0
    poisoned: int = 0  # quarantined because processing them kept failing


class Consumer:
    def __init__(
        self,
        *,
        url: str | None = None,
        client_id: str | None = None,
        batch_size: int = DEFAULT_BATCH,
        wait_ms: int = DEFAULT_WAIT_MS,
        share_group: str | None = None,
        topic_prefix: str | None = None,
        session_expiry: int | None = None,
        keepalive: int = 30,
        receive_maximum: int | None = None,
        process: ProcessFn | None = None,
        backoff: tuple[float, float] = (BACKOFF_MIN, BACKOFF_MAX),
        log_every: float = LOG_EVERY,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if wait_ms < 0:
            raise ValueError("wait_ms must be 0 or more")
        self.address = parse_url(url if url is not None else getattr(settings, "MQTT_URL", ""))
        self.client_id = client_id or default_client_id()
        self.batch_size = batch_size
        self.wait = wait_ms / 1000
        group = share_group or getattr(settings, "MQTT_SHARE_GROUP", "") or DEFAULT_SHARE_GROUP
        prefix = topic_prefix or getattr(settings, "MQTT_TOPIC_PREFIX", "") or DEFAULT_TOPIC_PREFIX
        self.share_group: str = str(group)
        self.topic_prefix: str = str(prefix).rstrip("/")
        for name, value in (
            ("share group", self.share_group),
            ("topic prefix", self.topic_prefix),
        ):
            if not value or any(c in value for c in "+#\0"):
                raise ImproperlyConfigured(f"MQTT {name} {value!r} is empty or has +, # or NUL")
        if "/" in self.share_group:
            raise ImproperlyConfigured(f"MQTT share group {self.share_group!r} contains '/'")
        self.session_expiry = (
            session_expiry
            if session_expiry is not None
            else int(getattr(settings, "MQTT_SESSION_EXPIRY", DEFAULT_SESSION_EXPIRY))
        )
        self.keepalive = keepalive
        self.receive_maximum = (
            receive_maximum
            if receive_maximum is not None
            else int(getattr(settings, "MQTT_RECEIVE_MAXIMUM", DEFAULT_RECEIVE_MAXIMUM))
        )
        if not 1 <= self.receive_maximum <= 65535:
            raise ImproperlyConfigured("MQTT receive maximum must be between 1 and 65535")
        if process is None:
            from yiyang.devices.services.ingest import process as ingest_process

            process = ingest_process
        self.process = process
        self.backoff = backoff
        self.log_every = log_every
        self.stats = Stats()
        self.connected = threading.Event()  # set while connected and subscribed
        self._inbox: queue.SimpleQueue[Received] = queue.SimpleQueue()
        self._stopping = threading.Event()
        # Bumped on every connect and disconnect; guarded with the acks by _ack_lock.
        self._generation = 0
        self._ack_lock = threading.Lock()
        install_fast_properties()
        self._client = self._make_client()

    @property
    def subscription(self) -> str:
        return f"$share/{self.share_group}/{self.topic_prefix}/+/up"

    # --- the network thread ---------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if self.address.username is not None:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any):
        if reason.is_failure:
            logger.error("MQTT connection to %s refused: %s", self._where(), reason)
            return
        with self._ack_lock:
            self._generation += 1
        self.stats.connects += 1
        logger.info(
            "MQTT connected to %s as %s (session present: %s); subscribing to %s",
            self._where(),
            self.client_id,
            getattr(flags, "session_present", None),
            self.subscription,
        )
        # Subscribing again to a resumed session is harmless and covers an expired one.
        client.subscribe(self.subscription, options=SubscribeOptions(qos=1))

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any):
        failed = [r for r in reasons if r.is_failure]
        if failed:
            logger.error("MQTT subscription to %s refused: %s", self.subscription, failed)
            return
        self.connected.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ):
        with self._ack_lock:
            self._generation += 1
        self.connected.clear()
        if not self._stopping.is_set():
            logger.warning("MQTT connection to %s lost (%s); reconnecting", self._where(), reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage):
        # Runs in paho's thread: never raise (it would end the network loop), never block.
        try:
            self._inbox.put(
                Received(
                    generation=self._generation,
                    mid=message.mid,
                    qos=message.qos,
                    topic=message.topic,
                    payload=bytes(message.payload),
                    signature=signature_of(message),
                    dup=bool(message.dup),
                )
            )
        except Exception:  # noqa: BLE001 - not acknowledged: the broker redelivers it
            logger.exception("could not queue an MQTT message (mid %s)", message.mid)

    def _where(self) -> str:
        return f"{self.address.host}:{self.address.port}"

    # --- the main loop --------------------------------------------------------------

    def start(self) -> None:
        """Start the network thread (connects and reconnects by itself)."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry
        props.ReceiveMaximum = min(65535, max(self.receive_maximum, self.batch_size))
        self._client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=self.keepalive,
            clean_start=False,
            properties=props,
        )
        self._client.loop_start()

    def stop(self) -> None:
        """Ask the loop to finish the current batch and disconnect (thread/signal-safe)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        """Connect, consume until ``stop()``, then disconnect cleanly."""
        self.start()
        last_log = time.monotonic()
        logged = Stats()
        try:
            while not self._stopping.is_set():
                batch = self._take_batch()
                if batch:
                    self._handle(batch)
                now = time.monotonic()
                if now - last_log >= self.log_every:
                    self._log_throughput(now - last_log, logged)
                    last_log = now
                    logged = Stats(**vars(self.stats))
        finally:
            self._shutdown()

    def _take_batch(self) -> list[Received]:
        """Up to ``batch_size`` messages; after the first, wait at most ``wait_ms``."""
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.wait
        while len(batch) < self.batch_size:
            try:
                batch.append(self._inbox.get_nowait())
                continue
            except queue.Empty:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self._inbox.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def envelopes(self, batch: Sequence[Received]) -> list[Envelope]:
        return [
            Envelope(
                source=Source.MQTT,
                serial=serial_from_topic(r.topic, self.topic_prefix),
                payload=r.payload,
                signature=r.signature,
                redelivered=r.dup,
            )
            for r in batch
        ]

    def _handle(self, batch: list[Received]) -> bool:
        """Process the batch (retrying while ``process`` raises), then acknowledge it.
        False when stopped before it could be committed (nothing acknowledged)."""
        envelopes = self.envelopes(batch)
        delay = self.backoff[0]
        attempt = 0
        while True:
            close_old_connections()
            try:
                if attempt >= SPLIT_AFTER and self._database_up():
                    outcomes = self._one_by_one(envelopes)
                else:
                    outcomes = self.process(envelopes)
                break
            except Exception as exc:
                self.stats.failures += 1
                attempt += 1
                logger.error(
                    "processing %d MQTT message(s) failed (attempt %d): %s; not acknowledged, "
                    "retrying in %.1f s",
                    len(batch),
                    attempt,
                    exc,
                    delay,
                    # The whole traceback on the first attempt and now and then after.
                    exc_info=attempt % 20 == 1,
                )
                self._drop_connection()
                # The commit may have gone through with only its answer lost: from now on
                # the batch counts as redelivered (a refusal is not quarantined twice).
                envelopes = [dataclasses.replace(e, redelivered=True) for e in envelopes]
                if self._stopping.wait(delay):
                    logger.warning(
                        "stopping with %d unprocessed message(s): the broker redelivers them",
                        len(batch),
                    )
                    return False
                delay = min(delay * 2, self.backoff[1])
        if attempt:
            logger.warning("%d MQTT message(s) processed after %d failure(s)", len(batch), attempt)
        self.stats.batches += 1
        self.stats.messages += len(batch)
        for outcome in outcomes:
            self.stats.accepted += outcome.accepted
            self.stats.duplicates += outcome.duplicates
            self.stats.rejected += len(outcome.rejected)
        self._ack(batch)
        return True

    def _one_by_one(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        """After ``SPLIT_AFTER`` failures with the database reachable: each message on its
        own; one that still fails while the database answers is quarantined as
        ``internal_error`` (logged with its traceback) instead of blocking the consumer.
        Raises (the whole batch is retried) when the database stops answering."""
        outcomes: list[Outcome] = []
        for envelope in envelopes:
            try:
                outcomes.extend(self.process([envelope]))
            except Exception as exc:
                self._drop_connection()
                if not self._database_up():
                    raise
                logger.exception("message from %s quarantined: processing fails", envelope.serial)
                outcomes.append(quarantine_failure(envelope, f"{type(exc).__name__}: {exc}"))
                self.stats.poisoned += 1
        return outcomes

    @staticmethod
    def _database_up() -> bool:
        try:
            close_old_connections()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except Exception:
            return False

    def _ack(self, batch: Sequence[Received]) -> None:
        with self._ack_lock:
            for r in batch:
                if r.qos == 0:
                    continue
                if r.generation != self._generation:
                    # Came on a connection since lost: the broker delivers it again and
                    # it is then a duplicate, acknowledged on the connection it came on.
                    self.stats.not_acked += 1
                    continue
                rc = self._client.ack(r.mid, r.qos)
                if rc == mqtt.MQTT_ERR_SUCCESS:
                    self.stats.acked += 1
                else:
                    self.stats.not_acked += 1
                    logger.warning("PUBACK for mid %s not sent (%s)", r.mid, rc)

    @staticmethod
    def _drop_connection() -> None:
        """Close this thread's database connections so the retry opens a fresh one."""
        for conn in connections.all(initialized_only=True):
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close
                logger.debug("closing database connection %s failed", conn.alias, exc_info=True)

    def _log_throughput(self, seconds: float, before: Stats) -> None:
        n = self.stats.messages - before.messages
        logger.info(
            "mqtt consumer %s: %d message(s) in %.0f s (%.1f/s); accepted %d, duplicates %d, "
            "rejected %d, failed attempts %d; %d waiting",
            self.client_id,
            n,
            seconds,
            n / seconds if seconds else 0.0,
            self.stats.accepted - before.accepted,
            self.stats.duplicates - before.duplicates,
            self.stats.rejected - before.rejected,
            self.stats.failures - before.failures,
            self._inbox.qsize(),
        )

    def _shutdown(self) -> None:
        left = self._inbox.qsize()
        if left:
            logger.info("stopping: %d received message(s) left to redelivery", left)
        self._stopping.set()
        try:
            # PUBACKs already queued are flushed before the DISCONNECT packet is sent.
            self._client.disconnect()
        finally:
            self._client.loop_stop()
            self.connected.clear()
            connections.close_all()
        logger.info(
            "mqtt consumer %s stopped: %d message(s), %d acknowledged",
            self.client_id,
            self.stats.messages,
            self.stats.acked,
        )
