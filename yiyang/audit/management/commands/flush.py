"""``flush`` that also empties the audit trail, whose triggers would refuse it otherwise.

Django's test framework calls ``flush`` after every transactional test; an operator may
call it on a development database. Production mode refuses: there the trail is kept.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from yiyang.audit import guard


class Command(DjangoFlush):
    help = DjangoFlush.help + " This erases the audit trail too; refused in production mode."

    def handle(self, **options):
        if settings.PRODUCTION:
            raise CommandError("flush would erase the audit trail: refused in production mode")
        connection = connections[options["database"]]
        if options["interactive"]:
            confirm = input(
                "You have requested a flush of the database, audit trail included.\n"
                f'This will IRREVERSIBLY DESTROY all data in "{connection.settings_dict["NAME"]}".'
                "\n    Type 'yes' to continue, or 'no' to cancel: "
            )
            if confirm != "yes":
                self.stdout.write("Flush cancelled.")
                return
        with guard.lifted(connection):
            super().handle(**{**options, "interactive": False})
