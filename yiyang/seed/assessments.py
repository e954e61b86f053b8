"""Synthetic assessments for the demo team's residents (``yiyang.seed``).

For every active resident aged 65+ with health-data consent in the grids of the demo
family-doctor team: most have a final GB/T 42195 assessment from the last 1–17 months
(some also one a year before that, so the history chart has two points), scored by the
real engine from answers drawn around an age-dependent ability; the rest have never been
assessed and carry a "first assessment" due. Each assessed resident has her ``Standing``
(level, eligibility by the rules in force) and the next routine due (overdue when the
last assessment is more than a year old); a few have an immediate due after a fall.

The demo resident (陈秀英) is fixed: assessed 13 months ago (overdue), level 1 (mild) —
so re-assessing her at level 2 or worse makes her eligible for the high-age allowance.
Deterministic: ``random.Random`` streams derived from the seed and the resident's id.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from yiyang.assessments.models import (
    Assessment,
    Due,
    DueReason,
    EligibilityRule,
    InstrumentVersion,
    Place,
    Reason,
    SessionStatus,
    Standing,
)
from yiyang.assessments.scoring import score
from yiyang.assessments.selectors import current_version
from yiyang.assessments.services.base import ABILITY_INSTRUMENT
from yiyang.assessments.services.schedule import policy_for
from yiyang.assessments.services.standing import evaluate_rule
from yiyang.residents.models import ConsentPurpose, Resident, ResidentStatus, active_consent

CODE = ABILITY_INSTRUMENT
ASSESSED_SHARE = 0.7
HISTORY_SHARE = 0.5
FALL_SHARE = 0.05


def _answers(definition: dict[str, Any], ability: float, rng: random.Random) -> dict[str, int]:
    """Item scores around ``ability`` (0 = fully dependent, 1 = intact); never a coma."""
    answers = {}
    for item in definition["items"]:
        top = max(o["score"] for o in item["options"])
        p = min(1.0, max(0.0, ability + rng.gauss(0, 0.12)))
        value = round(p * top)
        if item["code"] == definition["changes"]["coma_item"]:
            value = max(1, value)
        answers[item["code"]] = value
    return answers


def _ability(age: int, rng: random.Random) -> float:
    base = 1.0 - max(0, age - 65) / 38
    return min(1.0, max(0.05, base + rng.gauss(0, 0.15)))


@dataclass(frozen=True)
class _Round:
    """What every seeded assessment shares: the instrument version, the day the seed is
    anchored to, the routine interval (days) and the assessors."""

    version: InstrumentVersion
    today: datetime.date
    interval: int
    assessor: Any
    second: Any


def write_assessments(
    grid_ids: list[int],
    today: datetime.date,
    seed: int,
    *,
    assessor: Any,
    second: Any = None,
    demo_resident_id: int | None = None,
) -> int:
    """Write the assessments, standings and dues; return how many assessments."""
    version = current_version(CODE)
    if version is None or not grid_ids:
        return 0
    rules = list(EligibilityRule.objects.filter(active=True))
    round_ = _Round(version, today, policy_for(CODE).interval_days, assessor, second)
    sessions: list[Assessment] = []
    dues: list[Due] = []
    latest: dict[int, Assessment] = {}
    for resident in _residents(grid_ids):
        age = resident.age_on(today)
        if age < 65:
            continue
        rng = random.Random(f"assessments:{seed}:{resident.pk}")  # noqa: S311 - synthetic
        demo = resident.pk == demo_resident_id
        if not demo and rng.random() > ASSESSED_SHARE:
            dues.append(_first_due(resident, today, rng))
            continue
        taken = _sessions(round_, resident, age, demo, rng)
        sessions.extend(taken)
        latest[resident.pk] = taken[-1]
        dues.extend(_dues_after(round_, taken[-1], demo, rng))
    Assessment.objects.bulk_create(sessions, batch_size=500)
    Due.objects.bulk_create(dues, batch_size=500)
    Standing.objects.bulk_create(_standings(latest, rules, today), batch_size=500)
    return len(sessions)


def _residents(grid_ids: list[int]) -> QuerySet[Resident]:
    """The active residents of the grids who consent to health data, in id order."""
    return (
        Resident.objects.filter(
            active_consent("consents__"),
            grid_id__in=grid_ids,
            status=ResidentStatus.ACTIVE,
            consents__purpose=ConsentPurpose.HEALTH_DATA,
        )
        .distinct()
        .order_by("pk")
    )


def _first_due(resident: Resident, today: datetime.date, rng: random.Random) -> Due:
    """A never-assessed resident's "first assessment" due, some of them overdue."""
    return Due(
        resident=resident,
        instrument_code=CODE,
        due_on=today + datetime.timedelta(days=rng.randint(-60, 45)),
        reason=DueReason.FIRST,
        created_on=today - datetime.timedelta(days=90),
    )


def _sessions(
    round_: _Round, resident: Resident, age: int, demo: bool, rng: random.Random
) -> list[Assessment]:
    """The resident's final assessments, oldest first: one 1–17 months ago and, for some
    (and the demo resident), one a year before it; answers drawn around her ability
    (fixed for the demo resident) and scored by the engine."""
    today, definition = round_.today, round_.version.definition
    ago = 395 if demo else rng.randint(30, 520)
    ability = 0.86 if demo else _ability(age, rng)
    dates = [today - datetime.timedelta(days=ago)]
    if demo or rng.random() < HISTORY_SHARE:
        dates.insert(0, dates[0] - datetime.timedelta(days=365 + rng.randint(-20, 20)))
    sessions = []
    for i, day in enumerate(dates):
        # The earlier one a little better: ability declines with time.
        answers = _answers(definition, min(1.0, ability + 0.08 * (len(dates) - 1 - i)), rng)
        if demo:
            answers = demo_answers(definition, i)
        result = score(definition, answers, {})
        sessions.append(
            Assessment(
                resident=resident,
                instrument=round_.version,
                reason=Reason.FIRST if i == 0 else Reason.ROUTINE,
                status=SessionStatus.FINAL,
                assessed_on=day,
                place=Place.HOME,
                assessor=round_.assessor,
                second_assessor=round_.second,
                second_signed_at=_at(day) if round_.second is not None else None,
                answers=answers,
                context={},
                result=result,
                total=result["total"],
                level=result["level"],
                submitted_at=_at(day),
            )
        )
    return sessions


def _dues_after(round_: _Round, last: Assessment, demo: bool, rng: random.Random) -> list[Due]:
    """The dues after an assessed resident's ``last`` assessment: the next routine one
    and, for a few (never the demo resident), an immediate one after a fall."""
    dues = [
        Due(
            resident=last.resident,
            instrument_code=CODE,
            due_on=last.assessed_on + datetime.timedelta(days=round_.interval),
            reason=DueReason.ROUTINE,
            created_on=last.assessed_on,
        )
    ]
    if not demo and rng.random() < FALL_SHARE:
        dues.append(
            Due(
                resident=last.resident,
                instrument_code=CODE,
                due_on=round_.today - datetime.timedelta(days=rng.randint(0, 10)),
                reason=DueReason.FALL,
                note="家属报告跌倒",
                created_on=round_.today - datetime.timedelta(days=10),
            )
        )
    return dues


def _standings(
    latest: dict[int, Assessment], rules: list[EligibilityRule], today: datetime.date
) -> list[Standing]:
    """Each assessed resident's standing: the level of her latest assessment and her
    eligibility under the rules in force."""
    standings = []
    for resident_id, session in latest.items():
        standing = Standing(
            resident_id=resident_id,
            ability_level=session.level,
            ability_assessment=session,
        )
        standing.eligibility = {
            rule.code: evaluate_rule(rule, session.resident, standing, today) for rule in rules
        }
        standings.append(standing)
    return standings


def _at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(10, 0), tzinfo=datetime.UTC)


def demo_answers(definition: dict[str, Any], i: int) -> dict[str, int]:
    """陈秀英: mild disability both times (total 80, then 72 — level 1)."""
    answers = {
        item["code"]: max(o["score"] for o in item["options"]) for item in definition["items"]
    }
    # From 90 down: stairs, bathing, transport, memory, vision … a little worse each year.
    losses = [("B.2.4", 1), ("B.1.3", 2), ("B.4.4", 1), ("B.3.4", 2), ("B.4.1", 1),
              ("B.2.3", 1), ("B.4.3", 2)]  # fmt: skip
    if i == 1:
        losses += [("B.1.5", 2), ("B.3.1", 2), ("B.4.5", 2), ("B.2.2", 1), ("B.4.2", 1)]
    for code, loss in losses:
        answers[code] -= loss
    return answers
