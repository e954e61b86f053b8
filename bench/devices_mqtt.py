"""Device ingestion over MQTT (issue 5): the broker's ceiling, Yiyang's end-to-end rate and
the alert latency, in one run (``python -m bench --only devices``).

    run(database_url, seconds=60, consumers=2, …) -> markdown section

1. Starts its own Mosquitto (``/usr/sbin/mosquitto``) on a free loopback port with
   unlimited queues and in-flight windows and no persistence (the system broker's default
   ``max_queued_messages 1000`` drops messages under a backlog).
2. **Raw ceiling (a)**: publisher processes send the same signed messages as below (the
   simulator's ``next_message`` / ``encode`` / ``MqttTransport``: QoS 1, user property
   ``sig``) to a topic no consumer reads, and one paho subscriber (QoS 1, MQTT 5) only
   counts them; rate = messages received / time from the first to the last.
3. **End-to-end (b)**: on a fresh database (demo preset + ``--devices`` bench devices bound
   to its residents with consent), K ``yiyang consume_devices`` processes share the
   subscription; the publishers send as fast as they can (or ``--rate``) for
   ``--seconds``. Stored readings are sampled once a second (``sum(readings_count)`` of
   the devices, cheap); *sustained* = stored during the publishing window / its length,
   *drained* = all published / time until the last one was stored. Then every acknowledged
   (device, seq) is checked stored exactly once, observations and alerts are counted.
4. **Alert latency (c)**: with ~1,000 readings/s of background load from the same
   publishers, a glucose of 2.8 mmol/L is published for each of ``--probes`` residents that
   have no other traffic; the database is polled every 10 ms for that resident's alert;
   latency = first seen − publish time (p50/p99; resolution ~10 ms).

Worker steps run in their own processes (``python -m bench.devices_mqtt seed|publish|
count``) and print one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
MOSQUITTO = "/usr/sbin/mosquitto"
RAW_PREFIX = "bench/raw"  # the ceiling's topics: no consumer subscribes to them
TARGET_RATE = 8000  # readings/s sustained for 60 s (issue 5)
TARGET_RATIO = 0.8  # of the raw ceiling
TARGET_P99 = 1.0  # seconds, alert latency under BACKGROUND_RATE
BACKGROUND_RATE = 1000
# Device kinds of the bench devices (share of the fleet).
FLEET = (
    ("bp_monitor", 30),
    ("glucometer", 20),
    ("pulse_oximeter", 15),
    ("smart_watch", 15),
    ("thermometer", 10),
    ("scale", 5),
    ("sos_button", 3),
    ("fall_sensor", 2),
)


# --- worker steps (own processes) ---------------------------------------------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiyang.settings")
    import django

    django.setup()


def seed(count: int, probes: int, out: Path) -> dict[str, Any]:
    """``count`` bench devices bound round-robin to the active residents beyond the first
    ``probes`` (who get one glucometer each, for the latency probes); every resident gets
    an active device-monitoring consent. Secrets go to ``out`` (JSON), not stdout."""
    import secrets as pysecrets

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from yiyang.common import crypto
    from yiyang.devices.models import Binding, Device
    from yiyang.network.models import Institution
    from yiyang.residents.models import Consent, ConsentGiver, ConsentPurpose, Resident

    now = timezone.now()
    residents = list(
        Resident.objects.filter(status="active").order_by("pk").values_list("pk", flat=True)
    )
    if len(residents) < probes + 1:
        raise SystemExit(f"only {len(residents)} active residents; need more than {probes}")
    recorder = get_user_model().objects.order_by("pk").first()
    institution = Institution.objects.order_by("pk").first()
    consenting = set(
        Consent.objects.filter(
            purpose=ConsentPurpose.DEVICE_MONITORING, withdrawn_at__isnull=True
        ).values_list("resident_id", flat=True)
    )
    kinds = [kind for kind, share in FLEET for _ in range(share)]
    plan: list[tuple[str, str, int, str]] = []  # serial, kind, resident, role
    for k, rid in enumerate(residents[:probes]):
        plan.append((f"BENCH-LAT-{k:05d}", "glucometer", rid, "probe"))
    background = residents[probes:]
    for k in range(count):
        plan.append(
            (f"BENCH-{k:06d}", kinds[k % len(kinds)], background[k % len(background)], "load")
        )
    devices, out_rows = [], []
    for serial, kind, rid, role in plan:
        secret = pysecrets.token_urlsafe(24)
        devices.append(
            Device(
                serial=serial,
                kind=kind,
                institution=institution,
                secret=crypto.encrypt(secret),
                secret_issued_at=now,
                resident_id=rid,
            )
        )
        out_rows.append(
            {"serial": serial, "kind": kind, "secret": secret, "resident": rid, "role": role}
        )
    with transaction.atomic():
        Consent.objects.bulk_create(
            [
                Consent(
                    resident_id=rid,
                    purpose=ConsentPurpose.DEVICE_MONITORING,
                    given_by=ConsentGiver.SELF,
                    given_at=now,
                    recorded_by=recorder,
                )
                for rid in residents
                if rid not in consenting
            ]
        )
        Device.objects.bulk_create(devices, batch_size=2000)
        Binding.objects.bulk_create(
            [Binding(device=d, resident_id=d.resident_id, bound_at=now) for d in devices],
            batch_size=2000,
        )
    out.write_text(json.dumps(out_rows))
    return {"devices": count, "probes": probes, "residents": len(residents)}


def publish(
    devices_file: Path,
    part: int,
    parts: int,
    seconds: float,
    rate: float,
    url: str,
    prefix: str,
    after: int | None = None,
) -> dict[str, Any]:
    """Send the load devices' messages (every ``parts``-th device from ``part``) round-robin
    for ``seconds``, at ``rate`` messages/s (0: as fast as possible); report per device the
    seqs sent and whether every one was acknowledged by the broker."""
    import datetime
    import random

    from django.apps import apps

    if not apps.ready:  # the prober uses the simulator's signing and MQTT transport
        _django()
    from yiyang.devices import simulate

    rows = [r for r in json.loads(devices_file.read_text()) if r["role"] == "load"]
    mine = rows[part::parts]
    rng = random.Random(part)  # noqa: S311 - synthetic values
    devices = [
        simulate.SimDevice.create(
            r["serial"], r["kind"], r["secret"], after, random.Random(rng.random())
        )  # noqa: S311
        for r in mine
    ]
    transport = simulate.MqttTransport(url, topic_prefix=prefix)
    started = time.monotonic()
    deadline = started + seconds
    sent = 0
    utc = datetime.UTC
    now = datetime.datetime.now(utc)
    while True:
        t = time.monotonic()
        if t >= deadline:
            break
        if rate:
            due = int((t - started) * rate) - sent
            if due <= 0:
                time.sleep(0.005)
                continue
        else:
            due = len(devices)
        now = datetime.datetime.now(utc)
        for _ in range(min(due, len(devices))):
            device = devices[sent % len(devices)]
            transport.send(device, simulate.encode(simulate.next_message(device, now)))
            sent += 1
    ended = time.monotonic()
    transport.close(timeout=60)
    stats = transport.stats
    return {
        "sent": stats.sent,
        "acked": stats.accepted,
        "errors": stats.errors,
        "codes": dict(stats.codes),
        "seconds": ended - started,
        "wall_start": time.time() - (time.monotonic() - started),
        "last_seq": {d.serial: d.seq - 1 for d in devices},
    }


def count_messages(url: str, topic: str, idle: float, limit: float) -> dict[str, Any]:
    """A paho subscriber (MQTT 5, QoS 1, acknowledging) that only counts; stops after
    ``idle`` seconds without a message once messages came (or ``limit`` seconds)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from yiyang.devices.mqtt import parse_url

    address = parse_url(url)
    state = {"n": 0, "first": 0.0, "last": 0.0}
    ready = threading.Event()

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        now = time.monotonic()
        if not state["n"]:
            state["first"] = now
        state["n"] += 1
        state["last"] = now

    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"bench-counter-{os.getpid()}",
        protocol=mqtt.MQTTv5,
    )
    client.on_message = on_message
    client.on_subscribe = lambda *a: ready.set()
    client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
    client.connect(address.host, address.port, keepalive=30)
    client.loop_start()
    if not ready.wait(10):
        raise SystemExit("the counting subscriber could not subscribe")
    print("subscribed", file=sys.stderr, flush=True)
    started = time.monotonic()
    while time.monotonic() - started < limit:
        time.sleep(0.2)
        if state["n"] and time.monotonic() - state["last"] > idle:
            break
    client.disconnect()
    client.loop_stop()
    span = state["last"] - state["first"]
    return {"received": state["n"], "seconds": span, "rate": state["n"] / span if span else 0.0}


# --- the orchestrator ---------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def mosquitto(var_dir: Path):
    """Our own broker: unlimited queues and in-flight windows, no persistence."""
    if not Path(MOSQUITTO).exists():
        raise SystemExit(f"{MOSQUITTO} not found (Debian package mosquitto)")
    port = free_port()
    conf = var_dir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 0\n"
        "log_dest stderr\nlog_type error\nlog_type warning\n"
    )
    log = open(var_dir / "mosquitto.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        import socket

        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"mosquitto did not start (see {var_dir / 'mosquitto.log'})"
                    ) from None
                time.sleep(0.1)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def step(argv: list[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    done = subprocess.run(
        [PY, "-m", "bench.devices_mqtt", *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench.devices_mqtt {argv[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def start_step(argv: list[str], env: dict[str, str], log: Any) -> subprocess.Popen:
    return subprocess.Popen(
        [PY, "-m", "bench.devices_mqtt", *argv],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"a bench step exited with {proc.returncode} (see the bench log)")
    return json.loads(out.strip().splitlines()[-1])


def publishers(
    env: dict[str, str], log: Any, devices_file: Path, n: int, seconds: float, rate: float,
    url: str, prefix: str,
) -> list[subprocess.Popen]:  # fmt: skip
    per = rate / n if rate else 0.0
    return [
        start_step(
            ["publish", str(devices_file), str(i), str(n), str(seconds), str(per), url, prefix],
            env,
            log,
        )
        for i in range(n)
    ]


def raw_ceiling(
    env: dict[str, str], log: Any, devices_file: Path, url: str, n: int, seconds: float
) -> dict[str, Any]:
    counter = subprocess.Popen(
        [
            PY,
            "-m",
            "bench.devices_mqtt",
            "count",
            url,
            f"{RAW_PREFIX}/+/up",
            "3",
            str(seconds + 120),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert counter.stderr is not None
    line = counter.stderr.readline()  # "subscribed"
    if "subscribed" not in line:
        raise SystemExit(f"the counting subscriber failed: {line}{counter.stderr.read()[-2000:]}")
    pubs = publishers(env, log, devices_file, n, seconds, 0, url, RAW_PREFIX)
    sent = [finish(p, seconds + 120) for p in pubs]
    out, err = counter.communicate(timeout=180)
    if counter.returncode != 0:
        raise SystemExit(f"the counting subscriber failed: {err[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["published"] = sum(s["sent"] for s in sent)
    result["publish_rate"] = result["published"] / max(s["seconds"] for s in sent)
    return result


class Database:
    """psycopg on the bench database (the orchestrator needs no Django)."""

    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)

    def one(self, sql: str, params: Any = None) -> Any:
        return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: Any = None) -> list[Any]:
        return self.conn.execute(sql, params).fetchall()

    def stored(self) -> int:
        return int(self.one("SELECT coalesce(sum(readings_count), 0) FROM devices_device")[0])


def consumers_start(
    env: dict[str, str], var_dir: Path, url: str, k: int, batch: int, timeout: float = 120
) -> list[subprocess.Popen]:
    """K ``yiyang consume_devices`` processes (stable client ids, one shared subscription);
    returns once each has subscribed (its log says so), so nothing published is missed."""
    procs, logs = [], []
    for i in range(k):
        path = var_dir / f"consumer-{i}.log"
        logs.append(path)
        with open(path, "w") as log:
            procs.append(
                subprocess.Popen(
                    [
                        PY,
                        "-m",
                        "yiyang.cli",
                        "consume_devices",
                        "--url",
                        url,
                        "--client-id",
                        f"bench-consumer-{i}",
                        "--batch",
                        str(batch),
                    ],  # fmt: skip
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    deadline = time.monotonic() + timeout
    for proc, path in zip(procs, logs, strict=True):
        while "subscribing to" not in path.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                for p in procs:
                    p.kill()
                raise SystemExit(f"a consumer did not start: {path.read_text()[-2000:]}")
            time.sleep(0.2)
    time.sleep(1)  # the SUBACK
    return procs


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def end_to_end(
    env: dict[str, str], log: Any, db: Database, devices_file: Path, url: str, n: int,
    seconds: float, rate: float, drain_limit: float = 300,
) -> dict[str, Any]:  # fmt: skip
    samples: list[tuple[float, int]] = []
    base = db.stored()
    pubs = publishers(env, log, devices_file, n, seconds, rate, url, "yiyang/v1/devices")
    t0 = time.monotonic()
    samples.append((0.0, base))
    while any(p.poll() is None for p in pubs):
        time.sleep(1)
        samples.append((time.monotonic() - t0, db.stored()))
    sent = [finish(p, 120) for p in pubs]
    published_window = max(s["seconds"] for s in sent)
    at_end = db.stored()
    t_end = time.monotonic() - t0
    acked = sum(s["acked"] for s in sent)
    # Drain: until everything acknowledged by the broker is stored (or nothing moves).
    last_change, last = time.monotonic(), at_end
    while last - base < acked and time.monotonic() - last_change < 30:
        time.sleep(0.5)
        now = db.stored()
        samples.append((time.monotonic() - t0, now))
        if now != last:
            last, last_change = now, time.monotonic()
        if time.monotonic() - t0 > seconds + drain_limit:
            break
    done_at = next((t for t, v in samples if v - base >= acked), samples[-1][0])
    total = db.stored() - base
    # The window: the first publisher's start to the publishers' end.
    window = [v for t, v in samples if t <= published_window]
    stored_in_window = (window[-1] if window else at_end) - base
    return {
        "published": sum(s["sent"] for s in sent),
        "acked": acked,
        "errors": sum(s["errors"] for s in sent),
        "publish_seconds": published_window,
        "publish_rate": sum(s["sent"] for s in sent) / published_window,
        "stored_in_window": stored_in_window,
        "sustained": stored_in_window / published_window,
        "backlog_at_end": acked - (at_end - base),
        "stored": total,
        "drain_seconds": done_at,
        "drained_rate": total / done_at if done_at else 0.0,
        "after_publishing": t_end,
        "last_seq": {k: v for s in sent for k, v in s["last_seq"].items()},
        "samples": samples,
    }


def check(db: Database, last_seq: dict[str, int]) -> dict[str, Any]:
    rows = db.all(
        "SELECT d.serial, count(r.id), count(DISTINCT r.seq), min(r.seq), max(r.seq) "
        "FROM devices_device d LEFT JOIN devices_reading r ON r.device_id = d.id "
        "WHERE d.serial LIKE 'BENCH-%%' AND d.serial NOT LIKE 'BENCH-LAT-%%' "
        "GROUP BY d.serial",
        [],
    )
    missing = duplicated = 0
    for serial, n, distinct, _low, _high in rows:
        want = last_seq.get(serial, 0)
        duplicated += n - distinct
        missing += max(0, want - distinct)
    quarantined = dict(db.all("SELECT code, count(*) FROM devices_quarantine GROUP BY code"))
    readings = db.one("SELECT count(*) FROM devices_reading")[0]
    observations = db.one("SELECT count(*) FROM residents_observation WHERE source = 'device'")[0]
    alerts = db.one("SELECT count(*), coalesce(sum(count), 0) FROM devices_alert")
    links = db.one("SELECT count(*) FROM devices_alert_readings")[0]
    return {
        "expected": sum(last_seq.values()),
        "missing": missing,
        "duplicated": duplicated,
        "quarantined": quarantined,
        "readings": readings,
        "observations": observations,
        "alerts": alerts[0],
        "alert_triggers": int(alerts[1]),
        "alert_links": links,
    }


def latency(
    env: dict[str, str], log: Any, db: Database, devices_file: Path, url: str, n: int,
    probes: int, seconds: float,
) -> dict[str, Any]:  # fmt: skip
    import datetime
    import random

    from django.apps import apps

    if not apps.ready:  # the prober uses the simulator's signing and MQTT transport
        _django()
    from yiyang.devices import simulate

    targets = [r for r in json.loads(devices_file.read_text()) if r["role"] == "probe"][:probes]
    pubs = publishers(env, log, devices_file, n, seconds, BACKGROUND_RATE, url, "yiyang/v1/devices")
    time.sleep(min(5.0, seconds / 4))  # the background load settles
    transport = simulate.MqttTransport(url)
    sent_at: dict[int, float] = {}
    seen_at: dict[int, float] = {}
    opened: dict[int, float] = {}
    stop = threading.Event()

    def watcher() -> None:
        while not stop.is_set() or len(seen_at) < len(sent_at):
            pending = [rid for rid in sent_at if rid not in seen_at]
            if pending:
                for rid, at in db.all(
                    "SELECT resident_id, min(opened_at) FROM devices_alert "
                    "WHERE resident_id = ANY(%s) GROUP BY resident_id",
                    [pending],
                ):
                    seen_at[rid] = time.time()
                    opened[rid] = at.timestamp()
            if stop.is_set() and time.monotonic() > give_up:
                return
            time.sleep(0.01)

    give_up = float("inf")
    thread = threading.Thread(target=watcher, daemon=True)
    thread.start()
    gap = max(0.05, (seconds - 10) / max(1, len(targets)))
    for row in targets:
        device = simulate.SimDevice.create(
            row["serial"],
            "glucometer",
            row["secret"],
            None,
            random.Random(1),  # noqa: S311
        )
        message = {
            "seq": 1,
            "ts": datetime.datetime.now(simulate.SHANGHAI).isoformat(timespec="seconds"),
            "kind": "glucose",
            "values": {"mmol": 2.8, "context": "fasting"},
        }
        sent_at[row["resident"]] = time.time()
        transport.send(device, simulate.encode(message))
        time.sleep(gap)
    transport.close()
    give_up = time.monotonic() + 30
    stop.set()
    thread.join()
    background = [finish(p, seconds + 120) for p in pubs]
    lat = sorted(seen_at[r] - sent_at[r] for r in seen_at)
    commit_lat = sorted(opened[r] - sent_at[r] for r in opened)
    return {
        "probes": len(sent_at),
        "seen": len(lat),
        "p50": percentile(lat, 50),
        "p99": percentile(lat, 99),
        "max": lat[-1] if lat else None,
        "opened_p50": percentile(commit_lat, 50),
        "background_rate": sum(b["sent"] for b in background)
        / max(b["seconds"] for b in background),
    }


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


# --- the run and its report ---------------------------------------------------------------


def run(
    database_url: str | None,
    *,
    seconds: float = 60,
    raw_seconds: float = 20,
    consumers: int = 2,
    publishers_n: int = 2,
    devices: int = 1000,
    probes: int = 100,
    latency_seconds: float = 40,
    rate: float = 0,
    batch: int = 500,
) -> dict[str, Any]:
    """The whole devices benchmark on a scratch PostgreSQL database beside
    ``database_url``; returns the figures (``markdown`` turns them into the section)."""
    from bench.db import scratch_database

    if not database_url or not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("the devices benchmark needs DATABASE_URL=postgres://… (PostgreSQL)")
    result: dict[str, Any] = {
        "consumers": consumers,
        "publishers": publishers_n,
        "devices": devices,
        "batch": batch,
        "seconds": seconds,
        "rate": rate,
    }
    with tempfile.TemporaryDirectory(prefix="yiyang-bench-devices-") as tmp:
        var_dir = Path(tmp)
        log = open(var_dir / "bench.log", "w")  # noqa: SIM115
        try:
            with (
                scratch_database(database_url, var_dir, "devices") as db_url,
                mosquitto(var_dir) as url,
            ):
                env = {
                    **os.environ,
                    "DATABASE_URL": db_url,
                    "YIYANG_VAR_DIR": str(var_dir),
                    "PYTHONPATH": str(ROOT),
                    "MQTT_URL": url,
                    "DJANGO_SETTINGS_MODULE": "yiyang.settings",
                }
                env.pop("REDIS_URL", None)
                manage = [PY, "-m", "yiyang.cli"]
                subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
                subprocess.run([*manage, "seed", "--preset", "demo"], env=env, cwd=ROOT,
                               check=True, stdout=subprocess.DEVNULL)  # fmt: skip
                devices_file = var_dir / "devices.json"
                result["seed"] = step(
                    ["seed", str(devices), str(probes), str(devices_file)], env, 600
                )
                print(f"Devices: {devices} bench devices, {probes} probe residents", flush=True)

                print(f"Devices (a): raw ceiling, {raw_seconds:g} s …", flush=True)
                result["raw"] = raw_ceiling(env, log, devices_file, url, publishers_n, raw_seconds)
                print(f"  {result['raw']['rate']:,.0f} msg/s received", flush=True)

                db = Database(db_url)
                procs = consumers_start(env, var_dir, url, consumers, batch)
                try:
                    print(
                        f"Devices (b): end to end, {consumers} consumer(s), {seconds:g} s …",
                        flush=True,
                    )
                    cpu_before = sum(cpu_seconds(p.pid) for p in procs)
                    e2e = end_to_end(env, log, db, devices_file, url, publishers_n, seconds, rate)
                    result["e2e"] = {
                        k: v for k, v in e2e.items() if k not in ("last_seq", "samples")
                    }
                    used = sum(cpu_seconds(p.pid) for p in procs) - cpu_before
                    result["e2e"]["consumer_cpu_us"] = used / max(1, e2e["stored"]) * 1e6
                    result["check"] = check(db, e2e["last_seq"])
                    chk = result["check"]
                    print(
                        f"  sustained {e2e['sustained']:,.0f}/s, drained "
                        f"{e2e['drained_rate']:,.0f}/s; missing {chk['missing']}, "
                        f"duplicated {chk['duplicated']}",
                        flush=True,
                    )
                    print(f"Devices (c): alert latency under {BACKGROUND_RATE}/s …", flush=True)
                    result["latency"] = latency(
                        env, log, db, devices_file, url, publishers_n, probes, latency_seconds
                    )
                    print(
                        f"  p50 {result['latency']['p50']} s, p99 {result['latency']['p99']} s",
                        flush=True,
                    )
                    result["database"] = "PostgreSQL " + db.one("SHOW server_version")[0].split()[0]
                finally:
                    for p in procs:
                        p.send_signal(signal.SIGTERM)
                    for p in procs:
                        try:
                            p.wait(30)
                        except subprocess.TimeoutExpired:
                            p.kill()
                            p.wait()
                    db.conn.close()
                result["mosquitto"] = subprocess.run(
                    [MOSQUITTO, "-h"], capture_output=True, text=True
                ).stdout.splitlines()[0]
        finally:
            log.close()
            if os.environ.get("BENCH_KEEP_LOG"):  # a directory for the logs of the run
                for path in var_dir.glob("*.log"):
                    shutil.copy(path, os.environ["BENCH_KEEP_LOG"])
    return result


def _verdict(ok: bool) -> str:
    return "**pass**" if ok else "**fail**"


def markdown(r: dict[str, Any], cores: str) -> str:
    raw, e2e, chk, lat = r["raw"], r["e2e"], r["check"], r["latency"]
    ratio = e2e["sustained"] / raw["rate"] if raw["rate"] else 0.0
    exact = chk["missing"] == 0 and chk["duplicated"] == 0
    p99 = lat["p99"]
    lines = [
        f"### Device ingestion over MQTT ({r['database']}, {r['mosquitto']})",
        "",
        f"One run on {cores} cores, everything on loopback: our own Mosquitto (unlimited queues, "
        f"no persistence), {r['publishers']} publisher process(es) sending the simulator's signed "
        f"QoS 1 messages (MQTT 5, `sig`) round-robin from {r['devices']:,} devices "
        f"({', '.join(k for k, _ in FLEET)}; 2 % abnormal values), "
        f"{r['consumers']} `yiyang consume_devices` process(es) sharing the subscription "
        f"(batches of up to {r['batch']}). The publishers, broker, consumers and PostgreSQL share "
        "the cores.",
        "",
        "| measure | result | target | |",
        "|---|---:|---:|---|",
        f"| (a) raw ceiling: publish → paho subscriber that only counts, QoS 1 | "
        f"{raw['rate']:,.0f} msg/s ({raw['received']:,} in {raw['seconds']:.1f} s) | – | |",
        f"| (b) end to end, sustained over the {e2e['publish_seconds']:.0f} s of publishing "
        "(stored as readings + observations, rules evaluated) | "
        f"{e2e['sustained']:,.0f} readings/s | ≥ {TARGET_RATE:,}/s | "
        f"{_verdict(e2e['sustained'] >= TARGET_RATE)} |",
        f"| (b) / (a) | {ratio:.0%} | ≥ {TARGET_RATIO:.0%} | {_verdict(ratio >= TARGET_RATIO)} |",
        f"| (b) drained: {e2e['stored']:,} of the {e2e['acked']:,} published stored after "
        f"{e2e['drain_seconds']:.1f} s | {e2e['drained_rate']:,.0f} readings/s | – | |",
        f"| every published (device, seq) stored exactly once | missing {chk['missing']}, "
        f"duplicated {chk['duplicated']} | 0 / 0 | {_verdict(exact)} |",
        f"| (c) alert latency, publish → alert visible, under {lat['background_rate']:,.0f} "
        f"readings/s | p50 {lat['p50'] or 0:.3f} s, p99 {p99 or 0:.3f} s, "
        f"max {lat['max'] or 0:.3f} s "
        f"({lat['seen']}/{lat['probes']} probes) | p99 < {TARGET_P99:g} s | "
        f"{_verdict(p99 is not None and p99 < TARGET_P99 and lat['seen'] == lat['probes'])} |",
        "",
        f"Publishers offered {e2e['publish_rate']:,.0f} msg/s during (b) ({e2e['published']:,} "
        f"messages, {e2e['errors']} errors); backlog when they stopped: "
        f"{e2e['backlog_at_end']:,}. The consumers used "
        f"{e2e['consumer_cpu_us']:,.0f} µs of CPU per reading (Python: MQTT, checks, "
        "alert rules; PostgreSQL's own work not included). "
        f"Stored: {chk['readings']:,} readings, "
        f"{chk['observations']:,} observations, {chk['alerts']:,} alerts "
        f"({chk['alert_triggers']:,} triggers, {chk['alert_links']:,} reading links); "
        f"quarantined: {chk['quarantined'] or 'none'}. Latency probes: a glucose of 2.8 mmol/L "
        "for residents with no other traffic, the database polled every 10 ms for their alert.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["seed"]:
        _django()
        print(json.dumps(seed(int(argv[1]), int(argv[2]), Path(argv[3]))))
        return 0
    if argv[:1] == ["publish"]:
        _django()
        file, part, parts, seconds, rate, url, prefix = argv[1:8]
        after = int(argv[8]) if len(argv) > 8 else None
        result = publish(
            Path(file), int(part), int(parts), float(seconds), float(rate), url, prefix, after
        )
        print(json.dumps(result))
        return 0
    if argv[:1] == ["count"]:
        _django()
        url, topic, idle, limit = argv[1:5]
        print(json.dumps(count_messages(url, topic, float(idle), float(limit))))
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m bench.devices_mqtt", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--raw-seconds", type=float, default=20)
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument(
        "--rate", type=float, default=0, help="messages/s in (b) (0: as fast as possible)"
    )
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args(argv)
    result = run(
        os.environ.get("DATABASE_URL"),
        seconds=args.seconds,
        raw_seconds=args.raw_seconds,
        consumers=args.consumers,
        publishers_n=args.publishers,
        devices=args.devices,
        rate=args.rate,
        batch=args.batch,
    )
    print(markdown(result, str(os.cpu_count())))
    print(json.dumps({k: v for k, v in result.items()}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
