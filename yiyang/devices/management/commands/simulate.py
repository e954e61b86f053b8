"""``manage.py simulate devices``: seeded devices send readings over MQTT or HTTP
(yiyang.devices.simulate).

    manage.py simulate devices --count 50 --interval 5 --mqtt mqtt://127.0.0.1:1883
    manage.py simulate devices --count 10 --interval 2 --http http://127.0.0.1:8000 \\
        --duration 60 --seed 1

Runs until Ctrl-C / SIGTERM or ``--duration`` seconds, printing a line every ~10 s.
The devices' secrets are read from the database (they must be the seeded or registered
devices of this deployment).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiyang.devices import simulate
from yiyang.devices.mqtt import parse_url

THINGS = ("devices",)


class Command(BaseCommand):
    help = (
        "Simulate home devices: N seeded, bound devices send realistic readings every S "
        "seconds over MQTT or HTTP (docs/device-protocol.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("thing", help="what to simulate: devices")
        parser.add_argument("--count", type=int, default=10, help="how many devices (default 10)")
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            help="seconds between two messages of a device (default 5; 0: as fast as possible)",
        )
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--mqtt", metavar="URL", help="broker, mqtt://[user:pw@]host[:port]")
        target.add_argument("--http", metavar="URL", help="Yiyang's base URL, http://host:port")
        parser.add_argument(
            "--duration",
            type=float,
            help="stop after this many seconds (default: run until stopped)",
        )
        parser.add_argument(
            "--seed", type=int, help="pick the devices and draw the values with this seed"
        )
        parser.add_argument(
            "--topic-prefix",
            help="MQTT topics {prefix}/{serial}/up (default: MQTT_TOPIC_PREFIX or "
            "yiyang/v1/devices)",
        )
        parser.add_argument(
            "--abnormal",
            type=float,
            default=simulate.ABNORMAL_PER_HOUR,
            help="abnormal readings per measuring device and hour, "
            f"{simulate.URGENT_SHARE:.0%} of them past an alert threshold "
            f"(default {simulate.ABNORMAL_PER_HOUR})",
        )

    def _line(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()  # progress shows at once, also when piped

    def handle(self, *args, **options) -> None:
        thing = options["thing"]
        if thing not in THINGS:
            raise CommandError(
                f"cannot simulate {thing!r}: the only thing this command simulates is "
                f"'devices' (manage.py simulate devices …)"
            )
        count, interval, duration = options["count"], options["interval"], options["duration"]
        if count < 1:
            raise CommandError(f"--count must be at least 1 (got {count})")
        if interval < 0:
            raise CommandError(f"--interval must be 0 or more seconds (got {interval})")
        if duration is not None and duration <= 0:
            raise CommandError(f"--duration must be more than 0 seconds (got {duration})")
        try:
            rates = simulate.Rates.per_hour(interval, abnormal=options["abnormal"])
        except ValueError as exc:
            raise CommandError(f"--abnormal: {exc}") from None
        http: simulate.HttpTransport | None = None
        try:
            if options["mqtt"]:
                parse_url(options["mqtt"])  # a bad URL is an error before anything else
            else:
                http = simulate.HttpTransport(options["http"])
        except (ImproperlyConfigured, ValueError) as exc:
            raise CommandError(str(exc)) from None
        try:
            devices = simulate.load_devices(count, options["seed"])
        except simulate.NoDevices as exc:
            raise CommandError(str(exc)) from None
        transport: simulate.Transport
        if http is not None:
            transport = http
        else:
            try:
                transport = simulate.MqttTransport(
                    options["mqtt"], topic_prefix=options["topic_prefix"]
                )
            except (ImproperlyConfigured, ConnectionError) as exc:
                raise CommandError(str(exc)) from None

        kinds = sorted({d.kind for d in devices})
        self.stdout.write(
            f"simulating {len(devices)} device(s) ({', '.join(kinds)}) over "
            f"{transport.name}, one message each every {interval:g} s"
            + (f" for {duration:g} s" if duration else "; Ctrl-C to stop")
        )
        if len(devices) < count:
            self.stdout.write(f"(only {len(devices)} suitable devices in the database)")

        stop = threading.Event()

        def ask_to_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            simulator = simulate.Simulator(
                devices,
                transport,
                interval=interval,
                rates=rates,
                report=self._line,
            )
            simulator.run(stop, duration)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        shown = ", ".join(f"{k} {n}" for k, n in sorted(simulator.kinds.items()))
        self.stdout.write(f"messages by kind: {shown or 'none'}")
