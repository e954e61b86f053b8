"""A resident's standing: the eligibility rules evaluated against it, and what a final
assessment changes — the ability level or disability grade (when it is the newest of its
instrument), the eligibility flags before and after, the superseded session, the open
``Due`` rows of that instrument (closed) and the next routine one (scheduled)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.assessments.models import (
    Assessment,
    Due,
    DueReason,
    EligibilityRule,
    SessionStatus,
    Standing,
)
from yiyang.assessments.services.base import ABILITY_INSTRUMENT, DISABILITY_INSTRUMENT
from yiyang.assessments.services.schedule import policy_for
from yiyang.audit.services import record
from yiyang.residents.models import Resident


def evaluate_rule(
    rule: EligibilityRule, resident: Resident, standing: Standing, on: datetime.date
) -> bool:
    """All the rule's set conditions hold (an unknown level or grade never qualifies)."""
    if rule.min_age is not None and resident.age_on(on) < rule.min_age:
        return False
    if rule.min_ability_level is not None and (
        standing.ability_level is None or standing.ability_level < rule.min_ability_level
    ):
        return False
    if rule.min_disability_grade is not None and (
        standing.disability_grade is None or standing.disability_grade < rule.min_disability_grade
    ):
        return False
    return not (rule.requires_ltc_insured and not resident.ltc_insured)


def evaluate(resident: Resident, standing: Standing, on: datetime.date) -> dict[str, bool]:
    return {
        rule.code: evaluate_rule(rule, resident, standing, on)
        for rule in EligibilityRule.objects.filter(active=True)
    }


def apply_final(actor: User, session: Assessment) -> None:
    """Apply ``session``, just become final, to its resident (see the module's docstring)."""
    resident = Resident.objects.select_for_update(no_key=True).get(pk=session.resident_id)
    standing, _created = Standing.objects.select_for_update().get_or_create(resident=resident)
    today = timezone.localdate()
    before = evaluate(resident, standing, today)
    old = session.supersedes
    if old is not None:
        Assessment.objects.filter(pk=old.pk).update(status=SessionStatus.SUPERSEDED)
    code = session.instrument.code
    latest = (
        Assessment.objects.filter(
            resident=resident, instrument__code=code, status=SessionStatus.FINAL
        )
        .exclude(pk=session.pk)
        .order_by("-assessed_on", "-id")
        .first()
    )
    newest = latest is None or session.assessed_on >= latest.assessed_on
    if newest and code == ABILITY_INSTRUMENT:
        standing.ability_level = session.level
        standing.ability_assessment = session
    elif newest and code == DISABILITY_INSTRUMENT:
        standing.disability_grade = session.level
        standing.disability_assessment = session
    after = evaluate(resident, standing, today)
    standing.eligibility = after
    standing.save()
    session.eligibility_before = before
    session.eligibility_after = after
    session.save(update_fields=["eligibility_before", "eligibility_after", "updated_at"])
    if newest:
        closed = Due.objects.filter(
            resident=resident, instrument_code=code, done_by__isnull=True
        ).update(done_by=session)
        interval = policy_for(code).interval_days
        Due.objects.create(
            resident=resident,
            instrument_code=code,
            due_on=session.assessed_on + datetime.timedelta(days=interval),
            reason=DueReason.ROUTINE,
            created_on=today,
            created_by=actor,
        )
    else:
        closed = 0
    record(
        actor=actor,
        action="assessments.standing.update",
        obj=resident,
        details={
            "assessment": session.pk,
            "instrument": code,
            "level": session.level,
            "newest": newest,
            "dues_closed": closed,
            "eligibility": {k: v for k, v in after.items() if before.get(k) != v},
        },
    )
