"""``yiyang deliver_notifications [--interval 1] [--once]``: the outbox worker.

Calls ``services.deliver_pending`` every ``--interval`` seconds (at once again while a
batch came back full) until SIGTERM/SIGINT, then finishes the batch in hand. Notifications
are normally delivered right after the transaction that wrote them commits; this worker
delivers what that missed (a process that died in between) and retries failed adapters
after their backoff. Several workers may run at once: a row is claimed by one of them.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from yiyang.notifications import services

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Deliver pending notifications (the outbox worker) until SIGTERM/SIGINT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between polls (default 1)"
        )
        parser.add_argument(
            "--batch", type=int, default=500, help="most rows per poll (default 500)"
        )
        parser.add_argument("--once", action="store_true", help="one poll, then exit")

    def handle(self, *args, **options) -> None:
        interval, batch = options["interval"], options["batch"]
        if interval <= 0:
            raise CommandError("--interval must be more than 0")
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        if options["once"]:
            count = services.deliver_pending(batch)
            self.stdout.write(f"{count} notification(s) delivered")
            return
        stop = threading.Event()

        def ask_to_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, ask_to_stop)
        signal.signal(signal.SIGINT, ask_to_stop)
        while not stop.is_set():
            close_old_connections()
            try:
                count = services.deliver_pending(batch)
            except Exception:
                # The database went away or the like: log it, try again at the next poll.
                logger.exception("delivering notifications failed")
                count = 0
            if count < batch:
                stop.wait(interval)
