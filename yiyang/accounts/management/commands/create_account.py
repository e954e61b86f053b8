"""``yiyang create_account``: create an account from the command line (e.g. the first
system administrator of a deployment), through ``services.users.bootstrap_user``.

    yiyang create_account --username admin --role system_admin --scope all
    yiyang create_account --username li --role doctor --scope institution --institution 12

The password is asked for twice (or read from ``YIYANG_NEW_PASSWORD`` for scripts) and must
satisfy the password policy. Administrators enrol TOTP at their first login.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiyang.accounts.services.users import bootstrap_user
from yiyang.common.errors import DomainError
from yiyang.common.permissions import Role
from yiyang.common.scope import ScopeKind


class Command(BaseCommand):
    help = "Create an account with a role and a data scope (audited as via=cli)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--scope", choices=ScopeKind.values, default=None)
        parser.add_argument("--region", help="region code (12 digits) for --scope region")
        parser.add_argument("--institution", type=int, help="institution id")
        parser.add_argument("--team", type=int, help="team id")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("YIYANG_NEW_PASSWORD")
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ.")
        try:
            user = bootstrap_user(
                username=options["username"],
                password=password,
                role=options["role"],
                scope_kind=options["scope"],
                region_code=options["region"],
                institution_id=options["institution"],
                team_id=options["team"],
                display_name=options["display_name"],
                email=options["email"],
                via="cli",
            )
        except DomainError as exc:
            field = f" ({exc.field})" if exc.field else ""
            raise CommandError(f"{exc.detail}{field}") from None
        self.stdout.write(f"Created {user.username} ({user.role}, scope {user.scope_kind}).")
