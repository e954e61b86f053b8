"""The assessment schedule: the local schedule policy of an instrument, re-assessments
asked for (a condition change, a fall, a dispute) and the open dues of the residents in
the actor's scope."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.assessments.errors import AssessmentError
from yiyang.assessments.models import Due, DueReason, SchedulePolicy
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.assessments.selectors import current_version
from yiyang.assessments.services.base import ABILITY_INSTRUMENT, checked_date, locked_resident
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.residents.models import ResidentStatus
from yiyang.residents.selectors.registry import scoped_residents


def policy_for(code: str) -> SchedulePolicy:
    """The local schedule policy of ``code`` (an unsaved default when none is stored)."""
    return SchedulePolicy.objects.filter(instrument_code=code).first() or SchedulePolicy(
        instrument_code=code
    )


@transaction.atomic
def report_change(
    actor: User,
    resident: Any,
    *,
    reason: str,
    note: str = "",
    instrument: str = ABILITY_INSTRUMENT,
    due_on: Any = None,
) -> Due:
    """Ask for an immediate re-assessment (a condition change, a fall, a dispute): an open
    ``Due`` today (or on ``due_on``) for ``instrument``."""
    require_perm(actor, AssessmentPerm.RECORD)
    found = locked_resident(actor, resident)
    if reason not in (DueReason.CONDITION_CHANGE, DueReason.FALL, DueReason.DISPUTE):
        raise ValidationFailed(
            CommonError.INVALID_CHOICE,
            _("Reason must be condition_change, fall or dispute."),
            field="reason",
        )
    if current_version(instrument) is None:
        raise ValidationFailed(
            AssessmentError.UNKNOWN_INSTRUMENT,
            _("Unknown instrument: %(code)s") % {"code": instrument},
            field="instrument",
        )
    today = timezone.localdate()
    day = today if due_on in (None, "") else checked_date(due_on, found)
    due = Due.objects.create(
        resident=found,
        instrument_code=instrument,
        due_on=day,
        reason=reason,
        note=(note or "").strip()[:255],
        created_on=today,
        created_by=actor,
    )
    record(
        actor=actor,
        action="assessments.due.create",
        obj=found,
        details={"due": due.pk, "instrument": instrument, "reason": reason},
    )
    return due


def open_dues(actor: User, *, team: Any = None) -> QuerySet[Due]:
    """Open dues of the residents in ``actor``'s scope (and served by ``team`` when
    given), earliest first; for each resident and instrument only the earliest open one
    matters, but all are listed so an immediate one is never hidden by a routine one."""
    qs = Due.objects.filter(
        done_by__isnull=True,
        resident__in=scoped_residents(actor).values("pk"),
        resident__status=ResidentStatus.ACTIVE,
    ).select_related("resident", "resident__grid")
    if team is not None:
        qs = qs.filter(resident__grid__teams=team)
    return qs.order_by("due_on", "id")
