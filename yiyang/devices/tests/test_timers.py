"""The durable timers: the loop escalates within a tick, survives a database error,
stops on request; a real ``alert_timers`` process killed and restarted resumes the
overdue escalations from the database and notifies each tier once (PostgreSQL: a child
process needs a database it can share)."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection

from yiyang.devices.models import Alert
from yiyang.devices.services import timers
from yiyang.devices.tests.conftest import msg, notified, send_ticked
from yiyang.notifications.models import Notification

MIN = datetime.timedelta(minutes=1)
ROOT = Path(__file__).resolve().parents[3]


def overdue_sos(w) -> Alert:
    """An SOS whose center and dispatcher tiers fell due while no timer ran."""
    send_ticked(w.home.device, msg(1, "sos", {}))
    alert = Alert.objects.get()
    Alert.objects.filter(pk=alert.pk).update(
        opened_at=alert.opened_at - 10 * MIN, next_escalation_at=alert.opened_at - 8 * MIN
    )
    return alert


def run_loop(loop: timers.TimerLoop, seconds: float) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.mark.django_db(transaction=True)
def test_the_loop_escalates_and_stops_when_asked(world):
    alert = overdue_sos(world)
    loop = timers.TimerLoop(interval=0.05, silence_every=60)
    run_loop(loop, 0.5)
    alert.refresh_from_db()
    assert alert.escalation_level == 3 and loop.escalated == 1
    assert notified(alert, 3) == {"dispatch-a"}
    # The outbox rows were delivered (after commit, or by deliver_pending).
    assert not Notification.objects.filter(state="pending").exists()


@pytest.mark.django_db(transaction=True)
def test_a_database_error_is_retried_on_the_next_tick(world, monkeypatch):
    alert = overdue_sos(world)
    real = timers.run_due
    calls = []

    def flaky(now=None):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(now)

    monkeypatch.setattr(timers, "run_due", flaky)
    lines: list[str] = []
    loop = timers.TimerLoop(interval=0.05, report=lines.append)
    run_loop(loop, 0.5)
    assert loop.errors == 1 and "database error" in lines[0]
    alert.refresh_from_db()
    assert alert.escalation_level == 3


def test_the_command_checks_its_options(db):
    with pytest.raises(CommandError, match="--interval"):
        call_command("alert_timers", "--interval", "0")
    with pytest.raises(CommandError, match="--silence-every"):
        call_command("alert_timers", "--interval", "5", "--silence-every", "1")


def _start(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "alert_timers", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(check, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_killed_timer_process_resumes_from_the_database(world):
    if connection.vendor != "postgresql":
        pytest.skip("the child process needs a shared database (PostgreSQL)")
    w = world
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}:{settings.get('PASSWORD') or ''}@{settings['HOST']}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": url, "YIYANG_MODE": "test"}
    send_ticked(w.home.device, msg(1, "sos", {}))
    alert = Alert.objects.get()
    # The first process is killed (-9) before anything is due.
    first = _start(env)
    time.sleep(1.5)
    first.kill()
    first.wait(timeout=10)
    assert Alert.objects.get(pk=alert.pk).escalation_level == 1
    # While no timer runs, both later tiers fall due.
    Alert.objects.filter(pk=alert.pk).update(
        opened_at=alert.opened_at - 10 * MIN, next_escalation_at=alert.opened_at - 8 * MIN
    )
    second = _start(env)
    assert _wait(lambda: Alert.objects.get(pk=alert.pk).escalation_level == 3)
    second.send_signal(signal.SIGTERM)
    out, _ = second.communicate(timeout=20)
    assert second.returncode == 0, out
    assert "alert timers stopped: 1 escalation(s)" in out
    # A third start finds nothing left to do: each tier was notified once.
    count = Notification.objects.filter(ref=f"devices.alert:{alert.pk}").count()
    third = _start(env)
    assert third.stdout is not None
    first_line = third.stdout.readline()  # printed once its signal handlers are in place
    assert first_line.startswith("alert timers:"), first_line
    time.sleep(1.0)  # a few ticks
    third.send_signal(signal.SIGTERM)
    out, _ = third.communicate(timeout=20)
    assert third.returncode == 0 and "0 escalation(s)" in out, out
    assert Notification.objects.filter(ref=f"devices.alert:{alert.pk}").count() == count
    assert notified(alert, 2) == {"team-leader", "duty-doctor", "daughter"}
    assert notified(alert, 3) == {"dispatch-a"}


def test_serve_and_demo_supervise_the_timers_and_the_simulator(monkeypatch, settings):
    from yiyang.ops.management.commands import demo, serve

    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    monkeypatch.setattr(serve, "ALERT_TIMERS_ARGV", sleeper)
    with serve.task_workers(0, 0, 1, [("device simulator", sleeper)], grace=5) as workers:
        assert [w.name for w in workers] == ["alert timers", "device simulator"]
        assert all(w.pid for w in workers)
    assert all(w._proc.poll() is not None for w in workers)
    settings.MQTT_URL = ""
    argv = demo.simulator_argv("0.0.0.0", 8000)
    assert argv[3:] == [
        "simulate", "devices", "--count", "20", "--interval", "5", "--abnormal", "0.05",
        "--http", "http://127.0.0.1:8000",
    ]  # fmt: skip
    settings.MQTT_URL = "mqtt://127.0.0.1:1883"
    assert demo.simulator_argv("127.0.0.1", 8000)[-2:] == ["--mqtt", "mqtt://127.0.0.1:1883"]


@pytest.mark.django_db(transaction=True)
def test_an_alert_locked_elsewhere_is_skipped_not_waited_for(world):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite has one writer)")
    from django.db import connections, transaction

    alert = overdue_sos(world)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Alert.objects.select_for_update().get(pk=alert.pk)  # e.g. being acknowledged
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(10)
    started = time.monotonic()
    assert timers.run_due() == 0  # skipped at once, not blocked
    assert time.monotonic() - started < 2
    release.set()
    thread.join(10)
    assert timers.run_due() == 1
    assert Alert.objects.get(pk=alert.pk).escalation_level == 3
