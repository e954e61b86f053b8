"""Template filters of the devices pages: readings and rule sources in the reader's
language (``{% load devices %}``)."""

from __future__ import annotations

from typing import Any

from django import template

from yiyang.accounts.models import User
from yiyang.devices import summaries
from yiyang.devices.defaults import source_text

register = template.Library()


@register.filter
def reading_text(reading: Any) -> str:
    """A reading (anything with ``kind`` and ``values``) as text in the active language —
    "血压 186/118 mmHg，心率 92 次/分" — or its raw values when the kind is unknown."""
    kind = getattr(reading, "kind", None)
    values = getattr(reading, "values", None)
    if kind is None and isinstance(reading, dict):
        kind, values = reading.get("kind"), reading.get("values")
    text = summaries.render(summaries.reading_facts(str(kind), values))
    if text:
        return text
    return ", ".join(f"{k} {v}" for k, v in (values or {}).items()) or "—"


@register.filter
def rule_source(rule: Any) -> str:
    """The rule's source citation in the active language (``defaults.source_text``)."""
    return source_text(rule)


@register.filter
def can(user: User, perm: str) -> bool:
    """Whether ``user`` holds the permission ``perm`` (a ``Perm`` value, e.g.
    ``"devices.view"``): a page shows a link only to those who may follow it."""
    has = getattr(user, "has_perm_code", None)
    return bool(getattr(user, "is_authenticated", False) and has is not None and has(perm))
