"""``yiyang serve [--bind HOST:PORT] [--workers N]``: the production web server.

Django runs under granian's WSGI interface (ADR 0005: on these machines it served about
twice what gunicorn's sync workers did, and sync Django under ASGI fell far behind).
Static files under ``STATIC_URL`` are served by granian itself from ``STATIC_ROOT`` when
``SERVE_STATIC`` is on (no separate web server needed on an intranet).

``yiyang serve`` starts in production mode (the ``yiyang`` command sets
``YIYANG_MODE=production`` unless it is set), which needs ``YIYANG_SECRET_KEY`` and
``YIYANG_FIELD_KEY``.
"""

from __future__ import annotations

import os
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

    def handle(self, *args, **options) -> None:
        host, port = parse_bind(options["bind"])
        if options["workers"] < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1")
        if not settings.PRODUCTION:
            self.stderr.write(
                f"warning: YIYANG_MODE is {settings.MODE!r}, not 'production' "
                "(debug pages and generated keys may be on)"
            )
        self.stdout.write(
            f"Yiyang ({settings.MODE}) on http://{options['bind']} — "
            f"granian WSGI, {options['workers']} worker(s) x {options['threads']} thread(s)"
        )
        self.stdout.flush()
        run_server(
            host,
            port,
            options["workers"],
            threads=options["threads"],
            access_log=options["access_log"],
        )
