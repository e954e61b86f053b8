"""Repository-wide pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def english() -> Iterator[None]:
    """Messages in English (the UI's default language is Simplified Chinese); tests assert
    on the English msgids. Use it as a fixture or with ``pytest.mark.usefixtures``."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(scope="session", autouse=True)
def _end_stray_database_sessions(django_db_setup, django_db_blocker) -> Iterator[None]:
    """On PostgreSQL, end any session still connected to the test database when the run
    finishes (a live-server thread's or a child process's connection), so that the test
    database can be dropped instead of the run ending with "database is being accessed by
    other users"."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """A test that flushes the database (transactional, live server) deletes the rows the
    data migrations loaded — the assessment instruments, default eligibility rules and
    schedule policies, the default alert rules. Before each test that uses the database, put
    them back when they are missing (one cheap query when they are there)."""
    uses_db = "_django_db_helper" in request.fixturenames or request.node.get_closest_marker(
        "django_db"
    )
    if not uses_db:
        return
    request.getfixturevalue("_django_db_helper")
    from yiyang.assessments.defaults import restore_reference_data
    from yiyang.devices.defaults import restore_reference_data as restore_alert_rules

    restore_reference_data()
    restore_alert_rules()
