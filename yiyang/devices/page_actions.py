"""Buttons that apps above devices add to an alert's page (``devices:alert_detail``), next
to its title — an extension point of devices (ADR 0024): devices names none of them.

An app registers, from its ``plugin`` module, a function of the user and the alert that
returns the button that user gets on that alert's page, or ``None`` for none::

    # yiyang/emergency/plugin.py
    page_actions.register_alert_action("emergency.call", emergency_call_button)

Buttons are shown in registration order (installed-app order). Registering a name again
(a ``plugin`` module imported twice by a test) replaces its function, in its place. The
function decides who sees the button (it checks the permission of the page it leads to)
and runs on each view of the page: no query beyond the alert and its rule, loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yiyang.accounts.models import User
from yiyang.devices.models import Alert


@dataclass(frozen=True)
class PageAction:
    """A link styled as a button: ``<a class="{css}" id="{dom_id}" href="{url}">``."""

    label: Any  # a (lazy) translated string
    url: str
    css: str = "button"
    dom_id: str = ""


AlertAction = Callable[[Any, Alert], PageAction | None]

_ALERT_ACTIONS: dict[str, AlertAction] = {}


def register_alert_action(name: str, action: AlertAction) -> None:
    """Add ``action(user, alert)`` (→ a ``PageAction`` or ``None``) to the alert page."""
    _ALERT_ACTIONS[name] = action


def alert_actions(user: User, alert: Alert) -> list[PageAction]:
    """The buttons ``user`` gets on ``alert``'s page, in registration order."""
    found = (action(user, alert) for action in _ALERT_ACTIONS.values())
    return [button for button in found if button is not None]
