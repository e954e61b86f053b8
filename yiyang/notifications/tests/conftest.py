"""Fixtures of the notification tests: accounts, a recording in-app adapter, a failing
one, and test topics that are removed again afterwards."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils.translation import gettext_lazy

from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.notifications import channels, topics
from yiyang.notifications.models import Channel, Notification
from yiyang.testing.accounts import make_account


class Recording(channels.InAppChannel):
    """The in-app adapter, recording which rows it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        with self._lock:
            self.sent.append(notification.pk)
        super().send(notification)


class Failing:
    """An adapter whose gateway is down."""

    name = Channel.IN_APP.value

    def __init__(self) -> None:
        self.calls = 0

    def send(self, notification: Notification) -> None:
        self.calls += 1
        raise ConnectionError("gateway unreachable")


def _install(adapter: Any) -> Iterator[Any]:
    previous = channels.register(adapter)
    try:
        yield adapter
    finally:
        if previous is not None:
            channels.register(previous)


@pytest.fixture
def recording() -> Iterator[Recording]:
    yield from _install(Recording())


@pytest.fixture
def failing() -> Iterator[Failing]:
    yield from _install(Failing())


@pytest.fixture
def topic() -> Iterator[str]:
    """A registered topic whose templates have Chinese in the catalogue."""
    name = "tests.device_bound"
    topics.register(
        name,
        subject=gettext_lazy("%(serial)s is bound to %(name)s."),
        body=gettext_lazy("%(serial)s is unbound."),
    )
    yield name
    topics._TOPICS.pop(name, None)


@pytest.fixture
def wang(db: None) -> User:
    return make_account(Role.RESIDENT, None, username="wang")


@pytest.fixture
def li(db: None) -> User:
    return make_account(Role.FAMILY, None, username="li")
