"""A resident's record in plain words, for herself and her family (issue 12).

Staff read the health record as a clinical chart (ICD-10 codes, "qd", "tid"). The resident
and a family member with the readings right get a summary in everyday language instead,
shown in large text on their home page: her conditions by name (no codes), her medicines
with how and when to take them in words ("每日一次" for qd, "口服" for po), her next
assessment and visit, her latest readings, and the family-doctor team serving her grid.

Everything is read through the health record's own selectors (``selectors.health``), so
the access rules are theirs (``access.can_view_health``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiyang.accounts.models import User
from yiyang.residents import loinc
from yiyang.residents.access import can_view_health
from yiyang.residents.models import ConditionStatus, Resident
from yiyang.residents.prescription_words import frequency_words, route_words
from yiyang.residents.selectors.health import (
    allergies_for,
    conditions_for,
    encounters_for,
    latest_vitals,
    medications_for,
)

UNIT_WORDS: dict[str, Promise] = {"/min": _("per minute")}


@dataclass
class Medicine:
    name: str
    dose: str
    when: str
    how: str
    note: str


@dataclass
class Reading:
    label: str
    value: str
    at: datetime.datetime


@dataclass
class ComingUp:
    """One line of her "coming up" list: what (``label``: "Next visit"), which (``what``),
    when, and whether it is already due."""

    label: str
    what: str
    on: datetime.date
    overdue: bool = False


# A source of "coming up" lines: (viewer, resident, today) -> a line or None. Apps add
# theirs from their ``plugin`` module (the assessments app: the next assessment due).
ComingUpSource = Callable[[Any, Resident, datetime.date], ComingUp | None]
_COMING_UP: dict[ComingUpSource, int] = {}


def register_coming_up(source: ComingUpSource, *, order: int) -> ComingUpSource:
    """Add a source of her "coming up" list; lines are listed by ``order``."""
    _COMING_UP[source] = order
    return source


def next_visit(user: User, resident: Resident, today: datetime.date) -> ComingUp | None:
    """Her next planned encounter (a home round, a clinic visit)."""
    visit = encounters_for(user, resident).filter(date__gte=today).order_by("date").first()
    if visit is None:
        return None
    return ComingUp(str(_("Next visit")), visit.get_kind_display(), visit.date)


@dataclass
class Summary:
    resident: Resident
    health: bool  # whether the viewer may see her health record
    conditions: list[str] = field(default_factory=list)
    medicines: list[Medicine] = field(default_factory=list)
    allergies: list[str] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    coming_up: list[ComingUp] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)


def _number(value: Any, decimals: int) -> str:
    return f"{value:.{decimals}f}" if decimals else f"{value:.0f}"


def _readings(user: User, resident: Resident) -> list[Reading]:
    latest = {row.code.code: row for row in latest_vitals(user, resident)}
    found: list[Reading] = []
    systolic, diastolic = latest.pop(loinc.SYSTOLIC, None), latest.pop(loinc.DIASTOLIC, None)
    if systolic is not None and diastolic is not None:
        found.append(
            Reading(
                str(_("Blood pressure")),
                f"{systolic.value:.0f}/{diastolic.value:.0f} mmHg",
                max(systolic.at, diastolic.at),
            )
        )
    for item in latest.values():
        unit = str(UNIT_WORDS.get(item.code.unit, item.code.unit))
        unit = "" if unit in ("1", "") else f" {unit}"
        value = _number(item.value, item.code.decimals)
        found.append(Reading(str(item.code.label), f"{value}{unit}", item.at))
    return found


def summary_for(user: User, resident: Resident) -> Summary:
    """What the plain home page shows of ``resident`` to ``user`` (her own login or a
    family login; the resident already read through ``get_resident_for``)."""
    from yiyang.network.models import Team

    summary = Summary(resident=resident, health=can_view_health(user, resident))
    if resident.grid_id is not None:
        teams = Team.objects.filter(grids=resident.grid_id).order_by("name")
        summary.teams = [team.name for team in teams]
    if not summary.health:
        return summary
    today = timezone.localdate()
    summary.conditions = [
        c.name for c in conditions_for(user, resident).exclude(status=ConditionStatus.RESOLVED)
    ]
    current = medications_for(user, resident).filter(Q(end__isnull=True) | Q(end__gte=today))
    summary.medicines = [
        Medicine(m.name, m.dose, frequency_words(m.frequency), route_words(m.route), m.note)
        for m in current
    ]
    summary.allergies = [a.substance for a in allergies_for(user, resident)]
    summary.readings = _readings(user, resident)
    for source in sorted(_COMING_UP, key=_COMING_UP.__getitem__):
        line = source(user, resident, today)
        if line is not None:
            summary.coming_up.append(line)
    return summary
