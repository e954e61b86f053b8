"""``yiyang consume_devices``: the MQTT consumer of device messages (yiyang.devices.mqtt).

Runs until SIGTERM or SIGINT, then finishes the batch in hand, acknowledges it and
disconnects; what was received but not yet processed is redelivered by the broker to the
next consumer of the session. A second signal stops at once (the batch in hand is rolled
back and not acknowledged, so it is redelivered too). Run one per worker, each with its own
stable ``--client-id``.
"""

from __future__ import annotations

import gc
import logging
import signal
from types import FrameType

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiyang.devices import mqtt


class Command(BaseCommand):
    # No system checks: they import every URL module and API schema (seconds on a busy
    # 2-core machine), and a consumer restarted after a crash should be back at once.
    requires_system_checks: list[str] = []
    help = (
        "Consume device messages from the MQTT broker (shared subscription, persistent "
        "session, acknowledged after they are committed) until SIGTERM/SIGINT."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", help="broker, mqtt://[user:password@]host[:port] (default: MQTT_URL)"
        )
        parser.add_argument(
            "--client-id",
            help="stable MQTT client id of this worker (default: MQTT_CLIENT_ID or "
            "yiyang-<hostname>); each worker needs its own",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=mqtt.DEFAULT_BATCH,
            help=f"most messages per transaction (default {mqtt.DEFAULT_BATCH})",
        )
        parser.add_argument(
            "--wait-ms",
            type=int,
            default=mqtt.DEFAULT_WAIT_MS,
            help="longest wait for a batch to fill after its first message "
            f"(default {mqtt.DEFAULT_WAIT_MS})",
        )

    def handle(self, *args, **options) -> None:
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        if options["wait_ms"] < 0:
            raise CommandError("--wait-ms must be 0 or more")
        url = options["url"] if options["url"] is not None else settings.MQTT_URL
        if not url:
            raise CommandError("no broker: set MQTT_URL or pass --url mqtt://host:port")
        try:
            consumer = mqtt.Consumer(
                url=url,
                client_id=options["client_id"],
                batch_size=options["batch"],
                wait_ms=options["wait_ms"],
            )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        # Throughput lines are INFO; show them whatever the root level is.
        log = logging.getLogger(mqtt.__name__)
        if log.getEffectiveLevel() > logging.INFO:
            log.setLevel(logging.INFO)

        def ask_to_stop(signum: int, frame: FrameType | None) -> None:
            if consumer.stopping:
                # Asked twice (e.g. the batch hangs on the database): give up at once. The
                # open transaction rolls back and nothing of the batch was acknowledged.
                log.warning("%s again: stopping now", signal.strsignal(signum))
                raise KeyboardInterrupt
            log.info(
                "%s: finishing the current batch, then disconnecting", signal.strsignal(signum)
            )
            consumer.stop()

        previous = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        # Everything loaded so far lives as long as the process: keep it out of the
        # cyclic garbage collector's full passes, which otherwise rescan it under load.
        gc.collect()
        gc.freeze()
        self.stdout.write(
            f"consuming {consumer.subscription} from {consumer.address.host}:"
            f"{consumer.address.port} as {consumer.client_id} (Ctrl-C to stop)"
        )
        try:
            consumer.run()
        except KeyboardInterrupt:
            raise CommandError(
                "stopped without finishing the batch in hand; the broker redelivers it",
                returncode=130,
            ) from None
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(
            f"stopped: {consumer.stats.messages} message(s) processed, "
            f"{consumer.stats.acked} acknowledged"
        )
