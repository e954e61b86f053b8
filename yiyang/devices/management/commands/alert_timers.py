"""``yiyang alert_timers``: the durable alert timers (yiyang.devices.services.timers, ADR 0020).

    yiyang alert_timers [--interval 1] [--silence-every 60] [--once]

Every ``--interval`` seconds: escalate the open alerts whose next tier is due (the due
times are stored on the alerts, so nothing is lost across restarts) and deliver the
notifications left pending; every ``--silence-every`` seconds: raise alerts for devices
silent longer than their expected interval. SIGTERM or Ctrl-C stops it after the current
tick. ``yiyang serve`` and ``yiyang demo`` supervise one of these.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiyang.devices.services.timers import TimerLoop


class Command(BaseCommand):
    help = "Run the alert timers: escalation until acknowledged, and silent-device alerts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between two ticks (default 1)"
        )
        parser.add_argument(
            "--silence-every",
            type=float,
            default=60.0,
            help="seconds between two silent-device checks (default 60)",
        )
        parser.add_argument(
            "--once", action="store_true", help="run one tick (with the silence check), then exit"
        )

    def handle(self, *args, **options) -> None:
        interval, every = options["interval"], options["silence_every"]
        if not 0 < interval <= 60:
            raise CommandError(f"--interval must be more than 0 and at most 60 s (got {interval})")
        if every < interval:
            raise CommandError(f"--silence-every must be at least --interval (got {every})")
        loop = TimerLoop(interval=interval, silence_every=every, report=self._line)
        if options["once"]:
            loop.tick(silence=True)
            self._summary(loop)
            return
        stop = threading.Event()

        def ask_to_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        self._line(
            f"alert timers: escalation every {interval:g} s, silence check every {every:g} s"
        )
        try:
            loop.run(stop)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self._summary(loop)

    def _summary(self, loop: TimerLoop) -> None:
        self._line(
            f"alert timers stopped: {loop.escalated} escalation(s), {loop.silent} silent "
            f"device alert(s), {loop.delivered} notification(s) delivered, "
            f"{loop.errors} database error(s)"
        )

    def _line(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()
