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
        "centers, stations, agreements, staff, teams; residents with households, contacts, "
        "consents and a health record; the demo preset also one login per role). Refuses "
        "to seed over a region that already exists."
    )

    def progress(self, message: str) -> None:
        self.stdout.write(f"  {message}")
        self.stdout.flush()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--preset", choices=sorted(PRESETS), default="demo")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--today",
            type=datetime.date.fromisoformat,
            default=None,
            help="date the agreements' validity, ages and readings are anchored to "
            "(YYYY-MM-DD; default today)",
        )
        parser.add_argument(
            "--residents",
            type=int,
            default=None,
            help="residents in all, spread over the counties (default: the preset's size, "
            "demo 300, county 100,000, city 1,000,000; 0 for none)",
        )

    def handle(self, *args, **options) -> None:
        try:
            report = seed(
                options["preset"],
                options["seed"],
                options["today"],
                residents=options["residents"],
                progress=self.progress if options["verbosity"] >= 2 else None,
            )
        except ValidationFailed as exc:
            raise CommandError(exc.detail) from None
        counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
        phases = ", ".join(
            f"{k.replace('_', ' ')} {v:.1f} s"
            for k, v in report.seconds.items()
            if k not in {"total", "plan"} and v >= 0.05
        )
        self.stdout.write(
            f"Seeded preset {report.preset} (seed {report.seed}) in "
            f"{report.seconds['total']:.1f} s ({phases}): {counts}"
        )
        if "users" in report.counts:
            self.stdout.write(login_table())
