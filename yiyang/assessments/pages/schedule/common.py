"""What the schedule pages share: the instruments' names in the current language, the
state of a due (overdue, due this month, upcoming) and whether a request is htmx's."""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy

from yiyang.assessments.models import Due, InstrumentStatus, InstrumentVersion

STATE_LABELS: dict[str, str | Promise] = {
    "overdue": gettext_lazy("Overdue"),
    "month": gettext_lazy("Due this month"),
    "upcoming": gettext_lazy("Upcoming"),
}


def chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def instrument_names() -> dict[str, str]:
    """Code → name (current language) of the instruments with an active version (one
    small query: the newest active version of each code names it)."""
    rows = (
        InstrumentVersion.objects.filter(status=InstrumentStatus.ACTIVE)
        .order_by("code", "-id")
        .values_list("code", "name_zh", "name_en")
    )
    names: dict[str, str] = {}
    zh = chinese()
    for code, name_zh, name_en in rows:
        names.setdefault(code, (name_zh if zh else name_en) or name_zh or code)
    return names


def due_state(due_on: datetime.date, today: datetime.date) -> str:
    """``overdue`` (before today), ``month`` (due later this calendar month) or
    ``upcoming``."""
    if due_on < today:
        return "overdue"
    if (due_on.year, due_on.month) == (today.year, today.month):
        return "month"
    return "upcoming"


def decorate_dues(dues: list[Due], names: dict[str, str], today: datetime.date) -> list[Due]:
    for due in dues:
        state = due_state(due.due_on, today)
        due.state = state  # type: ignore[attr-defined]
        due.state_label = STATE_LABELS[state]  # type: ignore[attr-defined]
        due.instrument_name = names.get(due.instrument_code, due.instrument_code)  # type: ignore[attr-defined]
    return dues


def is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted  # type: ignore[union-attr]
