"""What the assessment actions share: the instruments that feed a resident's standing,
the resident fetched (locked) through the actor's scope, and the checks of an assessment
date."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.assessments.models import SessionStatus
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.residents.models import Resident
from yiyang.residents.selectors.registry import locked_resident_for

# Which instrument feeds which part of the resident's standing.
ABILITY_INSTRUMENT = "gbt42195-2022"
DISABILITY_INSTRUMENT = "ltc-disability-2021"
OPEN_STATUSES = (SessionStatus.DRAFT, SessionStatus.PENDING_SIGNOFF)


def locked_resident(actor: User, resident: Any) -> Resident:
    """The resident (a ``Resident`` or a pk) in ``actor``'s scope, locked; ``NotFound``
    outside it."""
    return locked_resident_for(
        actor, resident, merged_detail=_("This record was merged into another one.")
    )


def checked_date(value: Any, resident: Resident) -> datetime.date:
    """``value`` (a date or ``YYYY-MM-DD``) as an assessment date of ``resident``: not in
    the future, not before her birth."""
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise ValidationFailed(
            CommonError.INVALID_DATE,
            _("The assessment date must be a date (YYYY-MM-DD)."),
            field="assessed_on",
        )
    if value > timezone.localdate():
        raise ValidationFailed(
            CommonError.FUTURE_DATE,
            _("The assessment date cannot be in the future."),
            field="assessed_on",
        )
    if value < resident.birth_date:
        raise ValidationFailed(
            CommonError.BEFORE_BIRTH,
            _("The assessment date is before the birth date."),
            field="assessed_on",
        )
    return value
