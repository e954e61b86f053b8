"""``yiyang serve [--bind HOST:PORT] [--workers N]``: the production web server.

Django runs under granian's WSGI interface (ADR 0005: on these machines it served about
twice what gunicorn's sync workers did, and sync Django under ASGI fell far behind).
Static files under ``STATIC_URL`` are served by granian itself from ``STATIC_ROOT`` when
``SERVE_STATIC`` is on (no separate web server needed on an intranet).

``yiyang serve`` starts in production mode (the ``yiyang`` command sets
``YIYANG_MODE=production`` unless it is set), which needs ``YIYANG_SECRET_KEY`` and
``YIYANG_FIELD_KEY``.

Background tasks (ADR 0002: ``django-tasks``, database queue) need a worker. The server
starts ``--task-workers`` (default 1) supervised ``yiyang db_worker`` child processes
(``TaskWorker``: restarted if they die, stopped with the server — ADR 0013); use
``--task-workers 0`` where the workers run as their own services. With ``MQTT_URL`` set it
also supervises ``--device-consumers`` (default 1) ``yiyang consume_devices`` children, each
with a stable client id (ADR 0018). It also supervises ``--alert-timers`` (default 1)
``yiyang alert_timers`` children: alert escalation and silent-device checks (ADR 0020; the
due times are in the database, so a restarted child resumes where the last one stopped).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

WSGI_TARGET = "yiyang.wsgi:application"
# Threads per worker: Django's views hold the GIL while they render, so on these machines
# 1 thread served most and 2 nearly as much with half the p99 of 4 (ADR 0005); the second
# keeps a worker answering while one request waits on the database or a slow export.
DEFAULT_THREADS = 2
# granian's backpressure counts open connections, idle keep-alive ones included (measured:
# with backpressure = threads = 2, two idle connections — a browser's pre-connects — left
# every other client waiting). Connections are cheap in granian's Rust side; Python work
# stays bounded by the blocking threads.
DEFAULT_BACKPRESSURE = 256


def parse_bind(bind: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``[::1]:PORT``) → (host, port)."""
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--bind must be HOST:PORT (e.g. 127.0.0.1:8000), not {bind!r}")
    return host.strip("[]"), int(port)


class TaskWorker:
    """One supervised background-task worker: a ``yiyang db_worker`` child process, started
    in its own session (a Ctrl+C at the terminal reaches the server, which then stops the
    worker in order), restarted after ``restart_delay`` seconds if it dies — twice as long
    after each death within a minute of its start (at most 60 s), so a worker that cannot
    start (say, an unmigrated database) does not spin.

    ``stop()`` asks the worker to finish its current task (SIGTERM) and waits
    ``grace`` seconds; then a second SIGTERM interrupts the task (an import job marks
    itself failed: the batches it committed stay, and importing the file again completes
    it), and after ``grace`` more seconds the process is killed.
    """

    def __init__(
        self,
        argv: list[str] | None = None,
        *,
        restart_delay: float = 2.0,
        grace: float = 10.0,
        log: Callable[[str], None] | None = None,
        name: str = "task worker",
    ):
        self.argv = argv or [
            sys.executable,
            "-m",
            "yiyang.cli",
            "db_worker",
            "--no-reload",
            "--interval",
            "1",
        ]
        self.name = name
        self.restart_delay = restart_delay
        self.grace = grace
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.spawned = 0
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self._proc = subprocess.Popen(self.argv, start_new_session=True)  # noqa: S603
            self.spawned += 1

    def start(self) -> None:
        self._spawn()
        self._watcher = threading.Thread(
            target=self._watch, name=self.name.replace(" ", "-"), daemon=True
        )
        self._watcher.start()

    def _watch(self) -> None:
        delay = self.restart_delay
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None:
                return
            started = time.monotonic()
            code = proc.wait()
            if self._stopping.is_set():
                return
            quick = time.monotonic() - started < 60
            delay = min(delay * 2, 60.0) if quick and self.spawned > 1 else self.restart_delay
            self.log(
                f"{self.name} (pid {proc.pid}) exited with status {code}; restarting in {delay:g} s"
            )
            if self._stopping.wait(delay):
                return
            self._spawn()

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            proc = self._proc
        if proc is not None and proc.poll() is None:
            for _attempt in range(2):
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=self.grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
            else:
                proc.kill()
                proc.wait()
        if self._watcher is not None:
            self._watcher.join(timeout=self.grace)


def device_consumer_argv(index: int) -> list[str]:
    """A ``yiyang consume_devices`` child with a stable client id (its broker session)."""
    import socket

    base = settings.MQTT_CLIENT_ID or f"yiyang-{socket.gethostname()}"
    return [
        sys.executable,
        "-m",
        "yiyang.cli",
        "consume_devices",
        "--client-id",
        f"{base}-{index}",
    ]


ALERT_TIMERS_ARGV = [sys.executable, "-m", "yiyang.cli", "alert_timers"]


@contextmanager
def task_workers(
    count: int,
    device_consumers: int = 0,
    alert_timers: int = 0,
    extra: list[tuple[str, list[str]]] | None = None,
    **options,
) -> Iterator[list[TaskWorker]]:
    """``count`` supervised task workers, ``device_consumers`` supervised MQTT device
    consumers (ADR 0018), ``alert_timers`` supervised alert timers (ADR 0020) and the
    ``extra`` (name, argv) children for the duration of the block."""
    workers = [TaskWorker(**options) for _ in range(count)]
    child_options = {k: v for k, v in options.items() if k != "argv"}
    workers += [
        TaskWorker(device_consumer_argv(i), name="device consumer", **child_options)
        for i in range(device_consumers)
    ]
    workers += [
        TaskWorker(list(ALERT_TIMERS_ARGV), name="alert timers", **child_options)
        for _ in range(alert_timers)
    ]
    workers += [TaskWorker(argv, name=name, **child_options) for name, argv in extra or []]
    try:
        for worker in workers:
            worker.start()
        yield workers
    finally:
        for worker in workers:
            worker.stop()


def run_server(
    host: str, port: int, workers: int, *, threads: int = DEFAULT_THREADS, access_log: bool = False
) -> None:
    """Serve the Django app with granian (WSGI) in the foreground until interrupted."""
    from granian import Granian
    from granian.constants import Interfaces

    static: dict = {}
    static_root = Path(settings.STATIC_ROOT)
    if settings.SERVE_STATIC and static_root.is_dir():
        static = {
            "static_path_route": [settings.STATIC_URL.rstrip("/")],
            "static_path_mount": [static_root],
        }
    Granian(
        WSGI_TARGET,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        backpressure=max(DEFAULT_BACKPRESSURE, threads),
        log_access=access_log,
        **static,
    ).serve()


class Command(BaseCommand):
    help = "Run the production web server (granian, WSGI) in the foreground."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT to listen on")
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="worker processes (default: the number of CPUs)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=DEFAULT_THREADS,
            help=f"threads per worker (default {DEFAULT_THREADS})",
        )
        parser.add_argument("--access-log", action="store_true", help="log every request")
        parser.add_argument(
            "--device-consumers",
            type=int,
            default=None,
            help="supervised MQTT device consumers (yiyang consume_devices; default 1 when "
            "MQTT_URL is set, else 0)",
        )
        parser.add_argument(
            "--task-workers",
            type=int,
            default=1,
            help="supervised background-task workers (yiyang db_worker) to run with the "
            "server (default 1; 0 when they run as their own services)",
        )
        parser.add_argument(
            "--alert-timers",
            type=int,
            default=1,
            help="supervised alert-timer processes (yiyang alert_timers: escalation and "
            "silent devices; default 1; 0 when they run as their own services)",
        )

    def handle(self, *args, **options) -> None:
        host, port = parse_bind(options["bind"])
        if options["workers"] < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1")
        if options["task_workers"] < 0:
            raise CommandError("--task-workers must be 0 or more")
        if options["alert_timers"] < 0:
            raise CommandError("--alert-timers must be 0 or more")
        consumers = options["device_consumers"]
        if consumers is None:
            consumers = 1 if settings.MQTT_URL else 0
        if consumers < 0 or (consumers and not settings.MQTT_URL):
            raise CommandError("--device-consumers needs MQTT_URL and must be 0 or more")
        if not settings.PRODUCTION:
            self.stderr.write(
                f"warning: YIYANG_MODE is {settings.MODE!r}, not 'production' "
                "(debug pages and generated keys may be on)"
            )
        self.stdout.write(
            f"Yiyang ({settings.MODE}) on http://{options['bind']} — "
            f"granian WSGI, {options['workers']} worker(s) x {options['threads']} thread(s), "
            f"{options['task_workers']} task worker(s), {consumers} device consumer(s), "
            f"{options['alert_timers']} alert timer(s)"
        )
        self.stdout.flush()
        with task_workers(options["task_workers"], consumers, options["alert_timers"]):
            run_server(
                host,
                port,
                options["workers"],
                threads=options["threads"],
                access_log=options["access_log"],
            )
