"""The background worker that runs import jobs: ``yiyang serve``/``demo`` start it as a
supervised child (restarted if it dies, stopped with the server), and the task runs the
job in the uploader's language."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
from django.core.files.base import ContentFile

from yiyang.common.permissions import Role
from yiyang.ops.management.commands.serve import TaskWorker, task_workers
from yiyang.residents.models import ImportJob
from yiyang.residents.tasks import run_import
from yiyang.testing.network import make_user

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
# Ignores the first SIGTERM (like db_worker finishing its task), exits on the second.
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, sys, time\n"
    "hits = []\n"
    "def h(*a):\n"
    "    hits.append(1)\n"
    "    if len(hits) > 1: sys.exit(7)\n"
    "signal.signal(signal.SIGTERM, h)\n"
    "print('ready', flush=True)\n"
    "while True: time.sleep(0.05)\n",
]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_run_for_the_block_and_are_stopped_after_it():
    with task_workers(2, argv=SLEEPER, grace=5) as workers:
        pids = [w.pid for w in workers]
        assert len(set(pids)) == 2 and all(pid and alive(pid) for pid in pids)
    assert all(w._proc is not None and w._proc.returncode is not None for w in workers)


def test_a_worker_that_dies_is_restarted():
    logged: list[str] = []
    restarted = threading.Event()

    def log(line: str) -> None:
        logged.append(line)
        restarted.set()

    worker = TaskWorker(SLEEPER, restart_delay=0, grace=5, log=log)
    worker.start()
    try:
        first = worker.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        assert restarted.wait(10)
        for _ in range(100):
            if worker.spawned == 2:
                break
            threading.Event().wait(0.05)
        assert worker.spawned == 2 and worker.pid != first
        assert f"task worker (pid {first}) exited with status -9; restarting in 0 s" in logged[0]
    finally:
        worker.stop()
    assert worker._proc is not None and worker._proc.returncode is not None


def test_stop_asks_twice_before_killing():
    """The first SIGTERM lets the worker finish its task; after the grace period a second
    one interrupts it; only then would it be killed."""
    worker = TaskWorker(STUBBORN, grace=0.5, log=lambda line: None)
    worker._spawn = lambda: _spawn_piped(worker)  # type: ignore[method-assign]
    worker.start()
    assert worker._proc is not None and worker._proc.stdout is not None
    assert worker._proc.stdout.readline().strip() == b"ready"
    worker.stop()
    assert worker._proc.returncode == 7  # the second SIGTERM ended it, not a kill


def _spawn_piped(worker: TaskWorker) -> None:
    worker._proc = subprocess.Popen(worker.argv, stdout=subprocess.PIPE, start_new_session=True)
    worker.spawned += 1


@pytest.mark.django_db
def test_the_task_runs_the_job_in_the_uploaders_language(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    user = make_user(Role.NURSE, scope="all", username="worker-nurse")
    job = ImportJob(created_by=user, original_name="bad.csv")
    job.file.save("import.csv", ContentFile("姓名\n张三\n".encode()), save=True)
    run_import.call(job.pk, "en")
    job.refresh_from_db()
    assert job.state == "failed" and job.error.startswith("Required columns are missing")


def test_device_consumers_are_supervised_with_stable_client_ids(settings):
    from yiyang.ops.management.commands.serve import device_consumer_argv

    settings.MQTT_CLIENT_ID = "yiyang-node7"
    assert device_consumer_argv(0)[-3:] == ["consume_devices", "--client-id", "yiyang-node7-0"]
    assert device_consumer_argv(1)[-1] == "yiyang-node7-1"
    with task_workers(1, 1, argv=SLEEPER, grace=5) as workers:
        assert [w.name for w in workers] == ["task worker", "device consumer"]
        assert workers[0].argv == SLEEPER
        assert workers[1].argv[-1] == "yiyang-node7-0"
