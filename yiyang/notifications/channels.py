"""Channel adapters: how a notification row reaches its recipient.

The outbox (``services``) claims a pending row, calls ``adapter_for(row.channel).send(row)``
outside any transaction, and then marks the row ``sent``. An adapter:

* ``name`` — the ``Channel`` value it serves;
* ``send(notification)`` — delivers the notification on its medium and returns. Raising
  any exception reports a failure: the row stays pending and is retried with backoff
  (``services.backoff``) until ``services.MAX_ATTEMPTS``, then it is ``failed`` and the
  error is kept in ``last_error``. The outbox gives at-least-once delivery: a deliverer
  that dies between ``send`` and marking the row sent leaves it to be sent again after
  the lease, so an external adapter should pass ``notification.pk`` to its gateway as a
  dedupe key where the gateway has one.

Only the in-app channel exists now. SMS and WeChat adapters (``Channel.SMS`` /
``Channel.WECHAT``) are to be written against this interface when the platform has a
gateway and the users' numbers/open ids; until then ``services.notify`` writes in-app
rows only and a row of an unregistered channel fails with a clear ``last_error``.
"""

from __future__ import annotations

from typing import Protocol

from django.utils import timezone

from yiyang.notifications.models import Channel, Notification, State


class ChannelAdapter(Protocol):
    name: str

    def send(self, notification: Notification) -> None: ...


class UnknownChannel(LookupError):
    pass


def mark_sent(notification: Notification) -> bool:
    """Mark the row sent, if it is still pending under the caller's lease. False when
    another deliverer already finished it (nothing changes then)."""
    now = timezone.now()
    done = Notification.objects.filter(
        pk=notification.pk, state=State.PENDING, lease=notification.lease
    ).update(state=State.SENT, sent_at=now, lease=None, last_error="")
    if done:
        notification.state = State.SENT
        notification.sent_at = now
        notification.lease = None
        notification.last_error = ""
    return bool(done)


class InAppChannel:
    """The in-app inbox. The row is the inbox entry: delivering it is marking it sent,
    which makes it appear on the recipient's ``/notifications/`` page and badge."""

    name = Channel.IN_APP.value

    def send(self, notification: Notification) -> None:
        mark_sent(notification)


_ADAPTERS: dict[str, ChannelAdapter] = {}


def register(adapter: ChannelAdapter) -> ChannelAdapter | None:
    """Install ``adapter`` for its channel; returns the adapter it replaces (if any)."""
    if adapter.name not in Channel.values:
        raise ValueError(f"unknown notification channel {adapter.name!r}")
    previous = _ADAPTERS.get(adapter.name)
    _ADAPTERS[adapter.name] = adapter
    return previous


def unregister(name: str) -> None:
    _ADAPTERS.pop(name, None)


def adapter_for(name: str) -> ChannelAdapter:
    try:
        return _ADAPTERS[name]
    except KeyError:
        raise UnknownChannel(f"no adapter is installed for channel {name!r}") from None


register(InAppChannel())
