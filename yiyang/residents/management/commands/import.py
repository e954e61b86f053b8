"""``yiyang import residents FILE [--as USERNAME] [--report PATH]``: import residents.

Runs the same import as the page's background job (``services.imports``), synchronously,
printing a progress line (rows processed of the total, rows per second) after each batch
and a summary at the end. The per-row report (.xlsx) is written next to the file
(``<name>.report.xlsx``) or to ``--report``.

Without ``--as`` the command acts as the system itself (scope "all", no user in the audit
rows), like ``import_regions``; with it, as that user, checked like the web page
(``residents.import`` and the user's data scope).

Exit status: 0 when every row was imported, updated, unchanged or skipped; 1 when the
import ran but some rows were rejected (they are in the report; the other rows were
imported); 2 when nothing could be imported (unreadable file, required columns missing,
unknown user, no permission).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiyang.accounts.models import User
from yiyang.common.errors import DomainError
from yiyang.residents.services.imports.importer import Progress
from yiyang.residents.services.imports.jobs import import_file


class Command(BaseCommand):
    help = "Import data. 'residents FILE' imports residents from an .xlsx or CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True, metavar="{residents}")
        residents = sub.add_parser(
            "residents", help="residents from an .xlsx or CSV file in the template's layout"
        )
        residents.add_argument("file", type=Path, help="the .xlsx or .csv file")
        residents.add_argument(
            "--as",
            dest="username",
            default="",
            help="act as this user (permission and data scope checked); default: the system",
        )
        residents.add_argument(
            "--report",
            type=Path,
            default=None,
            help="where to write the report (default: <file>.report.xlsx next to the file)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "residents":
            self.residents(options)

    def residents(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}", returncode=2)
        actor = self._actor(options["username"])
        started = time.perf_counter()
        tty = getattr(self.stdout, "isatty", lambda: False)()
        last = [0.0]

        def on_batch(progress: Progress) -> None:
            # On a terminal, one line rewritten in place; otherwise a line at most every
            # 5 seconds (and at the end).
            done = progress.processed >= progress.total
            if not tty and not done and progress.seconds - last[0] < 5 and progress.processed:
                return
            last[0] = progress.seconds
            pct = 100 * progress.processed / progress.total if progress.total else 100
            line = (
                f"{progress.processed}/{progress.total} rows ({pct:.0f}%), "
                f"{progress.rate:.0f} rows/s, {progress.seconds:.1f} s"
            )
            if tty:
                self.stdout.write("\r" + line, ending="\n" if done else "")
            else:
                self.stdout.write(line)
            self.stdout.flush()

        try:
            outcome, report = import_file(actor, path, report=options["report"], on_batch=on_batch)
        except DomainError as exc:
            raise CommandError(exc.detail, returncode=2) from exc
        counts = outcome.counts
        self.stdout.write(
            f"{path.name}: {counts['total']} rows — {counts['imported']} imported, "
            f"{counts['updated']} updated, {counts['unchanged']} unchanged, "
            f"{counts['rejected']} rejected"
            + (f", {counts['skipped']} example row(s) skipped" if counts["skipped"] else "")
            + f" in {time.perf_counter() - started:.1f} s"
        )
        if outcome.table.ignored:
            self.stdout.write("ignored columns: " + ", ".join(outcome.table.ignored))
        self.stdout.write(f"report: {report}")
        if counts["rejected"]:
            rejected = [r for r in outcome.results if r.status == "rejected"]
            for result in rejected[:10]:
                self.stderr.write(f"row {result.row}: {result.reason}")
            if len(rejected) > 10:
                self.stderr.write(f"… and {len(rejected) - 10} more rejected rows (see report)")
            sys.stdout.flush()
            raise CommandError(f"{counts['rejected']} row(s) rejected", returncode=1)

    def _actor(self, username: str) -> User | None:
        if not username:
            return None  # the operator at the server's shell: the system itself
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}", returncode=2)
        return user
