"""``yiyang demo`` (``make demo``): migrate, seed the demo once, print the logins, serve.

The server is the production one (granian, WSGI, see ``serve``) with one worker and
supervised children: one background-task worker (``db_worker``: resident imports run
there), one alert-timer process (``alert_timers``: escalation and silent devices, ADR
0020), one MQTT device consumer when ``MQTT_URL`` is set, and a small device simulator
(``simulate devices``: 20 devices, a message each every 5 s, over MQTT when ``MQTT_URL``
is set, else HTTP to the demo server; occasional abnormal values, SOS presses and falls)
so the alert board is alive — ``--no-simulator`` leaves it out. In whatever mode the
environment says (development by default: keys generated into var/).
Running it again keeps the data: the demo preset is seeded only into a database without
regions.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from yiyang.network.models import Region
from yiyang.ops.management.commands.serve import parse_bind, run_server, task_workers
from yiyang.seed import seed
from yiyang.seed.users import login_table

DEMO_SEED = 2026
SIMULATED_DEVICES = 20
SIMULATOR_INTERVAL = 5  # seconds between two messages of a device
SIMULATOR_ABNORMAL = 0.05  # share of abnormal readings (the simulator's default is 0.02)


def simulator_argv(host: str, port: int) -> list[str]:
    """The demo's device simulator: over MQTT when ``MQTT_URL`` is set, else HTTP to the
    demo server (a wildcard bind is reached on the loopback address)."""
    target = (
        ["--mqtt", settings.MQTT_URL]
        if settings.MQTT_URL
        else ["--http", f"http://{loopback(host)}:{port}"]
    )
    return [
        sys.executable, "-m", "yiyang.cli", "simulate", "devices",
        "--count", str(SIMULATED_DEVICES), "--interval", str(SIMULATOR_INTERVAL),
        "--abnormal", str(SIMULATOR_ABNORMAL), *target,
    ]  # fmt: skip


def loopback(host: str) -> str:
    if host in ("0.0.0.0", ""):  # noqa: S104 - a wildcard bind, reached on loopback
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def setup_demo(*, collectstatic: bool = True) -> bool:
    """Migrate, collect static files, and seed the demo preset if the database has no
    regions. Returns whether it seeded."""
    call_command("migrate", interactive=False, verbosity=0)
    if collectstatic:
        call_command("collectstatic", interactive=False, verbosity=0)
    if Region.objects.exists():
        return False
    seed("demo", DEMO_SEED)
    return True


class Command(BaseCommand):
    help = "Set up the demo database (once) and run the web server on 127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT to listen on")
        parser.add_argument(
            "--no-serve", action="store_true", help="set up and print the logins, then exit"
        )
        parser.add_argument(
            "--no-simulator",
            action="store_true",
            help="do not run the device simulator (the alert board stays quiet)",
        )
        parser.add_argument(
            "--access-log",
            action="store_true",
            help="log every request (off by default: the simulator posts several a second)",
        )

    def handle(self, *args, **options) -> None:
        host, port = parse_bind(options["bind"])
        seeded = setup_demo()
        self.stdout.write(
            "Demo data loaded." if seeded else "Demo database already has data: kept as it is."
        )
        self.stdout.write(f"\nYiyang demo: http://{options['bind']}\n")
        self.stdout.write(login_table())
        self.stdout.write("")
        if options["no_serve"]:
            return
        extra = (
            [] if options["no_simulator"] else [("device simulator", simulator_argv(host, port))]
        )
        if extra:
            self.stdout.write(
                f"Simulating {SIMULATED_DEVICES} home devices "
                f"({'MQTT' if settings.MQTT_URL else 'HTTP'}); --no-simulator to stop that."
            )
        self.stdout.write("Press Ctrl+C to stop the server.")
        self.stdout.flush()
        with task_workers(1, 1 if settings.MQTT_URL else 0, 1, extra):
            run_server(host, port, workers=1, access_log=options["access_log"])
