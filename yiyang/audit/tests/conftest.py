"""Fixtures for the audit tests: users, and an attacker with raw SQL access."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection

from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.testing.network import make_user


@pytest.fixture
def auditor(db) -> User:
    """An audit administrator who has enrolled the second factor their role requires."""
    return make_user(Role.AUDIT_ADMIN, scope="all", username="auditor", totp_confirmed=True)


@pytest.fixture
def doctor(db) -> User:
    return make_user(Role.DOCTOR, scope="self", username="doctor")


@pytest.fixture
def attacker(db) -> Callable[..., None]:
    """Run raw SQL as someone with database access: the append-only triggers are dropped
    (SQLite) or disabled (PostgreSQL) first. Inside the test's transaction, so undone."""

    def run(*statements: str, params: list | None = None) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name IN ('audit_auditevent', 'audit_audithead')"
                )
                for (name,) in cursor.fetchall():
                    cursor.execute(f'DROP TRIGGER "{name}"')
            else:
                cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
                cursor.execute("ALTER TABLE audit_audithead DISABLE TRIGGER USER")
            for statement in statements:
                cursor.execute(statement, params)

    return run


@pytest.fixture
def client(client):
    """The test client with English chosen (the UI defaults to Simplified Chinese)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the API negotiates
    return client
