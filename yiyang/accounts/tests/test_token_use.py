"""A bearer token's ``last_used_at`` is written at most once per ``TOKEN_TOUCH_INTERVAL``:
writing it on every request serialised API calls behind the writers of a large import on
SQLite (p99 0.6 s → 6 s)."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiyang.accounts.api_auth import TOKEN_TOUCH_INTERVAL
from yiyang.accounts.models import ApiToken
from yiyang.accounts.tests.test_api_auth import ME, bearer, get_token


def token_updates(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith("UPDATE") and "accounts_apitoken" in q["sql"]
    ]


def test_ten_calls_write_last_used_at_once(client, doctor, password):
    key = get_token(client, "doctor", password).json()["token"]
    assert ApiToken.objects.get().last_used_at is None

    with CaptureQueriesContext(connection) as queries:
        for _ in range(10):
            assert client.get(ME, **bearer(key)).status_code == 200

    assert len(token_updates(queries.captured_queries)) == 1
    used = ApiToken.objects.get().last_used_at
    assert used is not None and timezone.now() - used < datetime.timedelta(seconds=5)


def test_last_used_at_is_refreshed_when_older_than_the_interval(client, doctor, password):
    key = get_token(client, "doctor", password).json()["token"]
    recent = timezone.now() - TOKEN_TOUCH_INTERVAL + datetime.timedelta(seconds=30)
    ApiToken.objects.update(last_used_at=recent)

    with CaptureQueriesContext(connection) as queries:
        client.get(ME, **bearer(key))
    assert token_updates(queries.captured_queries) == []
    assert ApiToken.objects.get().last_used_at == recent

    stale = timezone.now() - TOKEN_TOUCH_INTERVAL - datetime.timedelta(seconds=1)
    ApiToken.objects.update(last_used_at=stale)
    with CaptureQueriesContext(connection) as queries:
        client.get(ME, **bearer(key))
    assert len(token_updates(queries.captured_queries)) == 1
    assert timezone.now() - ApiToken.objects.get().last_used_at < datetime.timedelta(seconds=5)


def test_the_update_is_conditional_so_concurrent_requests_write_once(client, doctor, password):
    """Two requests that both read a stale value: only the first UPDATE changes the row
    (its WHERE repeats the age condition)."""
    from yiyang.accounts.api_auth import touch

    get_token(client, "doctor", password)
    stale = timezone.now() - TOKEN_TOUCH_INTERVAL - datetime.timedelta(minutes=1)
    ApiToken.objects.update(last_used_at=stale)
    first, second = ApiToken.objects.get(), ApiToken.objects.get()

    assert touch(first) == 1
    assert touch(second) == 0
