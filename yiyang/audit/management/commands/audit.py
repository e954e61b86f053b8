"""``yiyang audit verify``: recompute the audit hash chain and report the first break."""

from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiyang.audit.services import VERIFY_BATCH, verify_chain

_ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # verification must run whatever else is wrong
    help = "Audit trail tools. 'verify' recomputes the hash chain (exit status 1 if broken)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{verify}")
        verify = sub.add_parser("verify", help="recompute the chain and check the head")
        verify.add_argument(
            "--batch-size",
            type=int,
            default=VERIFY_BATCH,
            help=f"rows read per query (default {VERIFY_BATCH})",
        )
        verify.add_argument(
            "--anchor",
            metavar="SEQ:HASH",
            help="a seq and hash kept from an earlier run: the chain must still hold it",
        )

    def handle(self, *args, **options) -> None:
        if options["subcommand"] == "verify":
            self.verify(options)

    def verify(self, options: dict) -> None:
        anchor = None
        if options.get("anchor"):
            match = _ANCHOR.match(options["anchor"])
            if not match:
                raise CommandError("--anchor must be SEQ:HASH (a number, a colon, 64 hex digits)")
            anchor = (int(match.group(1)), match.group(2))
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        report = verify_chain(batch_size=options["batch_size"], anchor=anchor)
        if not report.ok:
            raise CommandError(report.summary(), returncode=1)
        self.stdout.write(report.summary())
        self.stdout.write(f"head: {report.head_seq}:{report.head_hash}")
