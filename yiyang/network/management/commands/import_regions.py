"""``manage.py import_regions FILE [--year 2023] [--user NAME]``: import a region CSV.

Columns code,name (UTF-8, with or without BOM, header optional). Every row is checked
first; if any row is bad the command prints each bad row (line, code, reason), imports
nothing and exits with status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from yiyang.common.errors import DomainError
from yiyang.network.regions import import_regions


class Command(BaseCommand):
    help = "Import 12-digit statistical division codes from a CSV file (code,name)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path, help="CSV file: code,name")
        parser.add_argument("--year", type=int, default=2023, help="the code table's year")
        parser.add_argument(
            "--user",
            default="",
            help="act as this user (checked like the API); default: the system itself",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        actor = self._actor(options["user"])
        try:
            report = import_regions(actor, data, year=options["year"], source=path.name)
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        for line in report.lines():
            (self.stdout if report.ok else self.stderr).write(line)
        if not report.ok:
            raise CommandError("region import failed", returncode=1)

    def _actor(self, username: str) -> Any:
        if not username:
            return None  # the operator at the server's shell: the system itself
        # The user model by setting: the network app sits below the accounts app.
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}")
        return user
