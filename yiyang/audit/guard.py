"""The database-level append-only guard of the audit tables (migration 0002).

``installed(connection)`` tells whether the guard is in place; ``lifted(connection)`` takes
it off for the length of one transaction and puts it back exactly as it was. Only the
``flush`` command uses ``lifted`` (tests empty the database between transactional tests);
nothing in the application may.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

TABLES = ("audit_auditevent", "audit_audithead")


def trigger_names(connection: BaseDatabaseWrapper) -> list[str]:
    """The names of the user triggers on the audit tables, sorted."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s)",
                list(TABLES),
            )
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relname IN (%s, %s) AND NOT t.tgisinternal AND t.tgenabled <> 'D'",
                list(TABLES),
            )
        else:
            return []
        return sorted(row[0] for row in cursor.fetchall())


def _execute(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@contextmanager
def lifted(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Remove the guard inside one transaction and restore it before that transaction ends."""
    with transaction.atomic(using=connection.alias):
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'trigger' AND tbl_name IN (%s, %s)",
                    list(TABLES),
                )
                saved = cursor.fetchall()
            _execute(connection, [f'DROP TRIGGER "{name}"' for name, _sql in saved])
            yield
            _execute(connection, [sql for _name, sql in saved])
        elif connection.vendor == "postgresql":
            _execute(connection, [f'ALTER TABLE "{t}" DISABLE TRIGGER USER' for t in TABLES])
            yield
            _execute(connection, [f'ALTER TABLE "{t}" ENABLE TRIGGER USER' for t in TABLES])
        else:
            yield
