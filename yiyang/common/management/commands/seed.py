"""``yiyang seed --preset demo|county|city --seed N``: deterministic synthetic data."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiyang.common.errors import ValidationFailed
from yiyang.seed import PRESETS, seed
from yiyang.seed.users import login_table


class Command(BaseCommand):
    help = (
        "Build a deterministic synthetic region (regions, grids, institutions, alliance, "
        "centers, stations, agreements, staff, teams; the demo preset also one login per "
        "role). Refuses to seed over a region that already exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--preset", choices=sorted(PRESETS), default="demo")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--today",
            type=datetime.date.fromisoformat,
            default=None,
            help="date the agreements' validity is anchored to (YYYY-MM-DD; default today)",
        )

    def handle(self, *args, **options) -> None:
        try:
            report = seed(options["preset"], options["seed"], options["today"])
        except ValidationFailed as exc:
            raise CommandError(exc.detail) from None
        counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
        self.stdout.write(
            f"Seeded preset {report.preset} (seed {report.seed}) in "
            f"{report.seconds['total']:.1f} s (network {report.seconds['network']:.1f} s): "
            f"{counts}"
        )
        if "users" in report.counts:
            self.stdout.write(login_table())
