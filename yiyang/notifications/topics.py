"""The registry of notification topics: what a topic's subject and body say.

A sending app registers its topics once (at import or in ``AppConfig.ready``)::

    register(
        "devices.alert_raised",
        subject=gettext_lazy("Alert: %(resident)s"),
        body=gettext_lazy("%(rule)s at %(measured_at)s."),
    )

Templates are ``gettext_lazy`` strings with ``%(name)s`` parameters, so they are rendered
in the language active when the notification is shown (the reader's page language, the
API caller's ``Accept-Language``), not the sender's. Registering a topic again replaces it.

``render`` never raises: a notification stored under a topic that is no longer registered,
or whose parameters no longer fit the template, is still shown — the subject falls back to
the topic name and the body to the parameters shown plainly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topic:
    name: str
    subject: Any  # a (lazy) string with %(name)s parameters
    body: Any


_TOPICS: dict[str, Topic] = {}


def register(topic: str, *, subject: Any, body: Any) -> None:
    """Register (or replace) ``topic``'s subject and body templates."""
    if not isinstance(topic, str) or not topic.strip():
        raise ValueError("a notification topic needs a non-empty name")
    _TOPICS[topic] = Topic(topic, subject, body)


def registered(topic: str) -> bool:
    return topic in _TOPICS


def plain(params: Any) -> str:
    """The parameters as ``name: value`` pairs, sorted by name."""
    if not isinstance(params, dict):
        return "" if params is None else str(params)
    return "; ".join(f"{key}: {params[key]}" for key in sorted(params, key=str))


def _fill(template: Any, params: dict[str, Any]) -> str | None:
    text = str(template)
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        return None


def render(topic: str, params: dict[str, Any]) -> tuple[str, str]:
    """``(subject, body)`` of ``topic`` with ``params``, in the active language."""
    params = params if isinstance(params, dict) else {}
    entry = _TOPICS.get(topic)
    if entry is None:
        logger.warning("notification topic %r is not registered", topic)
        return topic, plain(params)
    subject = _fill(entry.subject, params)
    body = _fill(entry.body, params)
    if subject is None or body is None:
        logger.warning("notification topic %r: parameters %r do not fit", topic, sorted(params))
    return (subject if subject is not None else topic, body if body is not None else plain(params))
