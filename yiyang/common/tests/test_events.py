"""Domain events and hooks (``yiyang.common.events``): declaration checks, subscription
order and idempotence, the in-transaction hook (each handler in a savepoint, a failing one
rolled back and logged) and the after-commit event (run on commit only, each handler
isolated)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from yiyang.common.events import AFTER_COMMIT, IN_TRANSACTION, Event

HERE = __name__


@dataclass(frozen=True)
class Thing:
    n: int


@dataclass(frozen=True)
class Other:
    n: int


def hook() -> Event[Thing]:
    return Event("test.hook", Thing, delivery=IN_TRANSACTION, doc="A test hook.")


def after_commit() -> Event[Thing]:
    return Event("test.committed", Thing, delivery=AFTER_COMMIT, doc="A test event.")


def depth() -> int:
    """How many savepoints are open."""
    return len(transaction.get_connection().savepoint_ids)


def failures(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [
        (r.levelname, r.getMessage()) for r in caplog.records if r.name == "yiyang.common.events"
    ]


# --- declaring and subscribing ---------------------------------------------------------


def test_an_event_is_declared_with_a_frozen_dataclass_payload():
    event = hook()
    assert (event.name, event.payload, event.delivery) == ("test.hook", Thing, "in_transaction")
    assert event.__doc__ == "A test hook."
    assert repr(event) == "<Event test.hook (in_transaction)>"

    @dataclass
    class Mutable:
        n: int

    for bad in (Mutable, int, dict):
        with pytest.raises(TypeError, match="must be a frozen dataclass"):
            Event("test.bad", bad, delivery=IN_TRANSACTION, doc="")
    with pytest.raises(ValueError):
        Event("test.bad", Thing, delivery="later", doc="")  # type: ignore[arg-type]


def _reloaded():
    """A fresh function object with the same module and name each call, like a handler of a
    ``plugin`` module imported twice."""

    def handler(payload: Thing) -> None:
        pass

    return handler


def test_handlers_keep_their_subscription_order_and_subscribe_once():
    event = hook()

    def first(payload: Thing) -> None:
        pass

    def second(payload: Thing) -> None:
        pass

    assert event.subscribe(first) is first
    event.subscribe(_reloaded())
    event.subscribe(second)
    event.subscribe(first)  # again: no second subscription, same place
    again = _reloaded()
    event.subscribe(again)  # the same handler re-imported: replaces it in its place
    assert event.handlers() == [first, again, second]
    with pytest.raises(TypeError, match="needs a name"):
        event.subscribe(lambda payload: None)


def test_the_declared_delivery_and_payload_are_enforced(db):
    now, later = hook(), after_commit()
    with pytest.raises(TypeError) as error:
        now.send_on_commit(Thing(1))
    assert str(error.value) == "event 'test.hook' is delivered in_transaction: use send()"
    with pytest.raises(TypeError) as error:
        later.send(Thing(1))
    assert str(error.value) == (
        "event 'test.committed' is delivered after_commit: use send_on_commit()"
    )
    with pytest.raises(TypeError) as error:
        now.send(Other(1))  # type: ignore[arg-type]
    assert str(error.value) == "event 'test.hook' carries Thing, not Other"


# --- the in-transaction hook --------------------------------------------------------------


def test_a_hook_runs_its_handlers_now_in_order_each_in_a_savepoint(db, caplog):
    event = hook()
    seen: list[tuple[str, int, int]] = []

    def first(payload: Thing) -> None:
        seen.append(("first", payload.n, depth()))
        Group.objects.create(name="first")

    def fails(payload: Thing) -> None:
        seen.append(("fails", payload.n, depth()))
        Group.objects.create(name="written by the failing handler")
        Group.objects.create(name="first")  # unique name: IntegrityError

    def last(payload: Thing) -> None:
        seen.append(("last", payload.n, depth()))
        Group.objects.create(name="last")

    for handler in (first, fails, last):
        event.subscribe(handler)
    caplog.set_level(logging.ERROR, logger="yiyang.common.events")
    with transaction.atomic():
        Group.objects.create(name="the sender's")
        sender = depth()
        event.send(Thing(7))
        # The failing handler rolled back to its savepoint: the transaction goes on.
        Group.objects.create(name="the sender's, after")
    assert seen == [("first", 7, sender + 1), ("fails", 7, sender + 1), ("last", 7, sender + 1)]
    assert sorted(Group.objects.values_list("name", flat=True)) == [
        "first",
        "last",
        "the sender's",
        "the sender's, after",
    ]
    handler = f"{HERE}.test_a_hook_runs_its_handlers_now_in_order_each_in_a_savepoint"
    assert failures(caplog) == [
        ("ERROR", f"event test.hook: handler {handler}.<locals>.fails failed (Thing(n=7))")
    ]
    assert isinstance(caplog.records[-1].exc_info[1], IntegrityError)


def test_a_hook_handler_s_writes_roll_back_with_the_sender(db):
    event = hook()

    def writes(payload: Thing) -> None:
        Group.objects.create(name=f"group {payload.n}")

    event.subscribe(writes)
    with pytest.raises(RuntimeError), transaction.atomic():
        event.send(Thing(1))
        assert Group.objects.filter(name="group 1").exists()
        raise RuntimeError("the sender fails after the hook")
    assert not Group.objects.exists()


def test_a_hook_without_handlers_does_nothing(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        hook().send(Thing(1))


# --- the after-commit event ---------------------------------------------------------------


def test_an_event_runs_its_handlers_after_commit_in_order_isolated(
    db, caplog, django_capture_on_commit_callbacks
):
    event = after_commit()
    seen: list[tuple[str, int]] = []

    def first(payload: Thing) -> None:
        seen.append(("first", payload.n))

    def fails(payload: Thing) -> None:
        seen.append(("fails", payload.n))
        raise ValueError("broken handler")

    def last(payload: Thing) -> None:
        seen.append(("last", payload.n))

    for handler in (first, fails, last):
        event.subscribe(handler)
    caplog.set_level(logging.ERROR, logger="yiyang.common.events")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        event.send_on_commit(Thing(3))
        assert seen == []  # not before the commit
    assert len(callbacks) == 1
    assert seen == [("first", 3), ("fails", 3), ("last", 3)]
    handler = f"{HERE}.test_an_event_runs_its_handlers_after_commit_in_order_isolated"
    assert failures(caplog) == [
        ("ERROR", f"event test.committed: handler {handler}.<locals>.fails failed (Thing(n=3))")
    ]
    assert str(caplog.records[-1].exc_info[1]) == "broken handler"


def test_an_event_sent_in_a_rolled_back_savepoint_never_runs(
    db, django_capture_on_commit_callbacks
):
    event = after_commit()
    seen: list[int] = []

    def handler(payload: Thing) -> None:
        seen.append(payload.n)

    event.subscribe(handler)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            event.send_on_commit(Thing(1))
            raise RuntimeError("rolled back")
        event.send_on_commit(Thing(2))
    assert len(callbacks) == 1
    assert seen == [2]


def test_an_event_without_handlers_registers_nothing(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        after_commit().send_on_commit(Thing(1))
    assert callbacks == []


def test_handlers_subscribed_after_sending_wait_for_the_next_event(
    db, django_capture_on_commit_callbacks
):
    event = after_commit()
    seen: list[tuple[str, int]] = []

    def early(payload: Thing) -> None:
        seen.append(("early", payload.n))

    def late(payload: Thing) -> None:
        seen.append(("late", payload.n))

    event.subscribe(early)
    with django_capture_on_commit_callbacks(execute=True):
        event.send_on_commit(Thing(1))
        event.subscribe(late)
    assert seen == [("early", 1)]
