"""``yiyang demo`` (``make demo``): migrate, seed the demo once, print the logins, serve.

The server is the production one (granian, WSGI, see ``serve``) with one worker and one
supervised background-task worker (``db_worker``: resident imports run there), in
whatever mode the environment says (development by default: keys generated into var/).
Running it again keeps the data: the demo preset is seeded only into a database without
regions.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from yiyang.common.management.commands.serve import parse_bind, run_server, task_workers
from yiyang.network.models import Region
from yiyang.seed import seed
from yiyang.seed.users import login_table

DEMO_SEED = 2026


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
        self.stdout.write("Press Ctrl+C to stop the server.")
        self.stdout.flush()
        with task_workers(1, 1 if settings.MQTT_URL else 0):
            run_server(host, port, workers=1, access_log=True)
