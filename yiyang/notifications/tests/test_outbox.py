"""The outbox: rows written in the caller's transaction, delivered after it commits, nothing
when it rolls back; ``deliver_pending`` for what was missed; retries with backoff; a row is
never sent twice, even by two deliverers at once."""

from __future__ import annotations

import datetime
import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.common.errors import ValidationFailed
from yiyang.common.permissions import Role
from yiyang.notifications import channels, services
from yiyang.notifications.models import Channel, Notification, State
from yiyang.testing.accounts import make_account

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def _due_now() -> None:
    """Time passes: every pending row's next attempt is due."""
    Notification.objects.filter(state=State.PENDING).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


# --- notify -----------------------------------------------------------------------------


def test_delivered_after_commit(
    wang, li, topic, recording, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        rows = services.notify(
            [wang, li.pk],
            topic=topic,
            params={"serial": "BP-1", "name": "王"},
            link="/devices/1/",
            ref="devices.alert:7",
        )
        # Written but not delivered before the commit.
        assert [r.state for r in rows] == [State.PENDING, State.PENDING]
        assert recording.sent == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert sorted(recording.sent) == sorted(r.pk for r in rows)
    stored = list(Notification.objects.order_by("recipient_id"))
    assert [n.recipient_id for n in stored] == sorted([wang.pk, li.pk])
    for n in stored:
        assert n.state == State.SENT
        assert n.sent_at is not None
        assert n.attempts == 1
        assert n.lease is None
        assert n.channel == Channel.IN_APP
        assert n.params == {"serial": "BP-1", "name": "王"}
        assert n.link == "/devices/1/"
        assert n.ref == "devices.alert:7"
        assert n.read_at is None


def test_nothing_when_the_caller_rolls_back(
    wang, topic, recording, django_capture_on_commit_callbacks
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        services.notify([wang], topic=topic, params={"serial": "BP-1", "name": "王"})
        assert Notification.objects.count() == 1
        raise Boom
    assert callbacks == []
    assert Notification.objects.count() == 0
    assert recording.sent == []
    assert services.deliver_pending() == 0


def test_one_row_per_distinct_active_user(
    wang, li, topic, django_capture_on_commit_callbacks
) -> None:
    gone = make_account(Role.RESIDENT, None, username="gone")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        rows = services.notify(
            [wang, wang.pk, li, gone, 987654], topic=topic, params={"serial": "X", "name": "Y"}
        )
    assert [r.recipient_id for r in rows] == sorted([wang.pk, li.pk])
    assert Notification.objects.count() == 2
    assert set(Notification.objects.values_list("state", flat=True)) == {State.SENT}


def test_nobody_to_tell_writes_nothing(wang, topic, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.notify([], topic=topic, params={}) == []
    assert callbacks == []
    assert Notification.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"params": {"at": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)}}, "params"),
        ({"params": {"ids": {1, 2}}}, "params"),
        ({"params": {1: "one"}}, "params"),
        ({"params": ["not", "a", "mapping"]}, "params"),
        ({"params": {"x": float("nan")}}, "params"),
        ({"params": {"x": "y" * 5000}}, "params"),
        ({"topic": ""}, "topic"),
        ({"topic": "t" * 101}, "topic"),
        ({"link": "https://example.com/"}, "link"),
        ({"link": "//example.com/"}, "link"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"link": "/a b"}, "link"),
        ({"ref": "r" * 101}, "ref"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    wang, topic, django_capture_on_commit_callbacks, changes, field
) -> None:
    arguments = {"topic": topic, "params": {"serial": "X", "name": "Y"}, "link": "", "ref": ""}
    arguments.update(changes)
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(ValidationFailed) as error,
    ):
        services.notify([wang], **arguments)
    assert error.value.field == field
    assert error.value.code == "invalid"
    assert callbacks == []
    assert Notification.objects.count() == 0


@pytest.mark.parametrize("users", ["wang", ["wang"], [None], [True]])
def test_recipients_must_be_users_or_ids(wang, topic, users) -> None:
    if users == "wang":
        users = wang
    with pytest.raises(ValidationFailed) as error:
        services.notify(users, topic=topic, params={})
    assert error.value.field == "users"
    assert Notification.objects.count() == 0


# --- deliver_pending --------------------------------------------------------------------


def test_deliver_pending_picks_up_rows_missed_after_commit(wang, li, topic, recording) -> None:
    # The process died between the commit and the delivery: the callback never ran.
    rows = services.notify([wang, li], topic=topic, params={"serial": "X", "name": "Y"})
    assert Notification.objects.filter(state=State.PENDING).count() == 2
    assert services.deliver_pending() == 2
    assert sorted(recording.sent) == sorted(r.pk for r in rows)
    assert Notification.objects.filter(state=State.SENT).count() == 2
    # Delivered once: the next run finds nothing.
    assert services.deliver_pending() == 0
    assert len(recording.sent) == 2


def test_deliver_pending_is_bounded(wang, li, topic) -> None:
    services.notify([wang, li], topic=topic, params={})
    assert services.deliver_pending(limit=1) == 1
    assert Notification.objects.filter(state=State.PENDING).count() == 1
    assert services.deliver_pending(limit=1) == 1
    assert services.deliver_pending(limit=1) == 0
    with pytest.raises(ValueError):
        services.deliver_pending(limit=0)


def test_a_failing_adapter_is_retried_with_backoff(
    wang, topic, failing, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = services.notify([wang], topic=topic, params={})
    row.refresh_from_db()
    assert failing.calls == 1
    assert row.state == State.PENDING
    assert row.attempts == 1
    assert row.lease is None
    assert row.last_error == "ConnectionError: gateway unreachable"
    wait = row.next_attempt_at - timezone.now()
    assert datetime.timedelta(seconds=8) < wait <= services.backoff(1)
    # Not due yet: nothing is tried.
    assert services.deliver_pending() == 0
    assert failing.calls == 1
    # Due: tried again, fails again, waits twice as long.
    _due_now()
    assert services.deliver_pending() == 0
    row.refresh_from_db()
    assert (failing.calls, row.attempts) == (2, 2)
    wait = row.next_attempt_at - timezone.now()
    assert datetime.timedelta(seconds=18) < wait <= services.backoff(2)
    # The gateway is back.
    channels.register(channels.InAppChannel())
    _due_now()
    assert services.deliver_pending() == 1
    row.refresh_from_db()
    assert row.state == State.SENT
    assert row.attempts == 3
    assert row.last_error == ""


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert services.backoff(30) == datetime.timedelta(hours=1)


def test_retries_are_bounded(wang, topic, failing) -> None:
    services.notify([wang], topic=topic, params={})
    for _ in range(services.MAX_ATTEMPTS + 2):
        _due_now()
        services.deliver_pending()
    row = Notification.objects.get()
    assert failing.calls == services.MAX_ATTEMPTS
    assert row.state == State.FAILED
    assert row.attempts == services.MAX_ATTEMPTS
    assert row.last_error == "ConnectionError: gateway unreachable"


def test_a_channel_without_adapter_fails_with_a_clear_error(wang) -> None:
    row = Notification.objects.create(recipient=wang, topic="t", channel=Channel.SMS)
    assert services.deliver_pending() == 0
    row.refresh_from_db()
    assert row.state == State.PENDING
    assert row.last_error == "UnknownChannel: no adapter is installed for channel 'sms'"


def test_a_row_held_by_a_deliverer_waits_for_its_lease(wang, topic, recording) -> None:
    (row,) = services.notify([wang], topic=topic, params={})
    # Another deliverer claimed it and died before sending.
    claimed = services._claim(10)
    assert [c.pk for c in claimed] == [row.pk]
    assert services.deliver_pending() == 0
    assert recording.sent == []
    # The lease ran out: the next deliverer sends it.
    _due_now()
    assert services.deliver_pending() == 1
    assert recording.sent == [row.pk]
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.SENT, 2)
    # The dead deliverer's late "sent" changes nothing (its lease is gone).
    assert channels.mark_sent(claimed[0]) is False


def test_failed_and_sent_rows_are_left_alone(wang, topic, recording) -> None:
    Notification.objects.create(recipient=wang, topic=topic, state=State.FAILED)
    Notification.objects.create(recipient=wang, topic=topic, state=State.SENT)
    assert services.deliver_pending() == 0
    assert recording.sent == []


# --- with real commits ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_real_commit_and_rollback(topic, recording) -> None:
    wang = make_account(Role.RESIDENT, None, username="wang-tx")
    with transaction.atomic():
        (row,) = services.notify([wang], topic=topic, params={"serial": "A", "name": "B"})
        assert recording.sent == []
    assert recording.sent == [row.pk]
    assert Notification.objects.get().state == State.SENT

    with pytest.raises(Boom), transaction.atomic():
        services.notify([wang], topic=topic, params={"serial": "C", "name": "D"})
        raise Boom
    assert recording.sent == [row.pk]
    assert Notification.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_deliverers_never_send_a_row_twice(topic, recording) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent deliverers need PostgreSQL (SQLite serialises all writers)")
    users = [make_account(Role.RESIDENT, None, username=f"r{i}") for i in range(20)]
    # 200 rows left pending (a transactional test commits at once, so notify() would
    # deliver them right away).
    Notification.objects.bulk_create(
        [Notification(recipient=u, topic=topic) for u in users for _ in range(10)]
    )
    assert Notification.objects.filter(state=State.PENDING).count() == 200
    start = threading.Barrier(2)
    totals: list[int] = []
    errors: list[BaseException] = []

    def deliverer() -> None:
        try:
            start.wait()
            total = 0
            while count := services.deliver_pending(limit=15):
                total += count
            totals.append(total)
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sum(totals) == 200
    assert len(recording.sent) == 200
    assert len(set(recording.sent)) == 200
    assert Notification.objects.filter(state=State.SENT).count() == 200
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


# --- the worker command -----------------------------------------------------------------


def test_worker_once_delivers_what_is_pending(wang, topic, recording) -> None:
    (row,) = services.notify([wang], topic=topic, params={})
    out = io.StringIO()
    call_command("deliver_notifications", "--once", stdout=out)
    assert out.getvalue().strip() == "1 notification(s) delivered"
    assert recording.sent == [row.pk]


@pytest.mark.parametrize("argv", [["--interval", "0"], ["--batch", "0"]])
def test_worker_refuses_bad_options(argv) -> None:
    with pytest.raises(CommandError):
        call_command("deliver_notifications", *argv)
