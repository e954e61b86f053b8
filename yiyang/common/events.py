"""Domain events and hooks: how an app reacts to what happens in a lower one without the
lower app naming it (ground floor; ADR 0024).

The app where something happens declares the event in its own ``events`` module: a name,
the payload (a frozen dataclass it declares too), when the handlers run, and what it
means. It sends the event where the thing happens; an app above it subscribes from its
``plugin`` module (imported by ``CommonConfig.ready``)::

    # yiyang/devices/events.py
    @dataclass(frozen=True)
    class AlertsOpened:
        alerts: tuple[Alert, ...]

    ALERTS_OPENED = Event(
        "devices.alerts_opened", AlertsOpened, delivery=IN_TRANSACTION, doc="New SOS …"
    )

    # yiyang/devices/services/alerts.py, where the alerts are opened
    ALERTS_OPENED.send(AlertsOpened(tuple(new)))

    # yiyang/emergency/plugin.py
    ALERTS_OPENED.subscribe(open_calls)  # open_calls(payload: AlertsOpened) -> object

Two deliveries; the declaring app chooses one per event and says so in the declaration:

* ``AFTER_COMMIT`` — fired with ``send_on_commit(payload)``: the handlers run once the
  current transaction has committed (``transaction.on_commit``; at once outside any
  transaction; never if the transaction — or the savepoint the event was sent in — rolls
  back). For reactions that must neither hold up nor undo the sender's work. A handler's
  exception is logged with the event's name and the next handler runs.
* ``IN_TRANSACTION`` — a hook, fired with ``send(payload)``: the handlers run at once,
  inside the caller's transaction, each in its own savepoint (``transaction.atomic``), so
  that what they write commits with the sender's work or not at all. A failing handler is
  logged with the event's name and rolled back to its savepoint; the other handlers and
  the caller carry on. For reactions as durable as the event itself (an SOS alert opens
  its emergency call in the ingestion transaction).

Handlers run in subscription order (installed-app order: the order in which the ``plugin``
modules are imported). A handler is known by its module and qualified name: subscribing
it again (a ``plugin`` module imported twice by a test) keeps one subscription, in its
first place. A lambda has no name to be known by and is refused. The log line of a failing
handler shows the payload's ``repr``: a payload holding personal data hides it there.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Generic, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)

P = TypeVar("P")


class Delivery(StrEnum):
    AFTER_COMMIT = "after_commit"  # send_on_commit(): after the transaction commits
    IN_TRANSACTION = "in_transaction"  # send(): now, each handler in a savepoint


AFTER_COMMIT = Delivery.AFTER_COMMIT
IN_TRANSACTION = Delivery.IN_TRANSACTION


def _name_of(handler: Callable[..., object]) -> str:
    qualname = getattr(handler, "__qualname__", None)
    if not qualname or "<lambda>" in qualname:
        raise TypeError(f"an event handler needs a name (a def), not {handler!r}")
    return f"{handler.__module__}.{qualname}"


class Event(Generic[P]):
    """An event of the app that declares it, carrying a ``payload`` instance (see the
    module docstring)."""

    def __init__(self, name: str, payload: type[P], *, delivery: Delivery, doc: str) -> None:
        params = getattr(payload, "__dataclass_params__", None)
        if not dataclasses.is_dataclass(payload) or params is None or not params.frozen:
            raise TypeError(f"the payload of event {name!r} must be a frozen dataclass")
        self.name = name
        self.payload = payload
        self.delivery = Delivery(delivery)
        self.__doc__ = doc
        self._handlers: dict[str, Callable[[P], object]] = {}

    def __repr__(self) -> str:
        return f"<Event {self.name} ({self.delivery})>"

    def subscribe(self, handler: Callable[[P], object]) -> Callable[[P], object]:
        """Have ``handler(payload)`` run each time the event is sent (returns it, so that
        it can decorate). The same handler subscribed again keeps its place."""
        self._handlers[_name_of(handler)] = handler
        return handler

    def handlers(self) -> list[Callable[[P], object]]:
        """The subscribed handlers, in the order they run."""
        return list(self._handlers.values())

    def send_on_commit(self, payload: P) -> None:
        """Run the handlers subscribed now once the current transaction commits
        (``AFTER_COMMIT``), each on its own: a failing one is logged."""
        self._check(payload, AFTER_COMMIT)
        handlers = list(self._handlers.items())
        if not handlers:
            return

        def run() -> None:
            for name, handler in handlers:
                try:
                    handler(payload)
                except Exception:
                    self._log(name, payload)

        transaction.on_commit(run)

    def send(self, payload: P) -> None:
        """Run the handlers now, each in its own savepoint (``IN_TRANSACTION``): a failing
        handler's writes are rolled back, it is logged, and the rest goes on."""
        self._check(payload, IN_TRANSACTION)
        for name, handler in list(self._handlers.items()):
            try:
                with transaction.atomic():
                    handler(payload)
            except Exception:
                self._log(name, payload)

    def _check(self, payload: P, delivery: Delivery) -> None:
        if self.delivery != delivery:
            how = "send_on_commit()" if self.delivery == AFTER_COMMIT else "send()"
            raise TypeError(f"event {self.name!r} is delivered {self.delivery}: use {how}")
        if not isinstance(payload, self.payload):
            raise TypeError(
                f"event {self.name!r} carries {self.payload.__qualname__}, "
                f"not {type(payload).__qualname__}"
            )

    def _log(self, handler: str, payload: P) -> None:
        logger.exception("event %s: handler %s failed (%r)", self.name, handler, payload)
