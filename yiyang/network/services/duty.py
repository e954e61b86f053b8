"""Actions on the duty roster (值班表): put a doctor on duty at an institution, end or
cancel a shift.

Who may be on duty where: a shift counts only at the medical member of a care-service
center (the center tier of an alert's escalation asks that institution), and only for an
active doctor of it — the doctors ``selectors.duty.duty_doctors`` falls back to. The roster is
changed with ``NetworkPerm.STAFF_MANAGE``, always within the actor's data scope; its
reads are the ``duty_*`` selectors.

The audit trail keeps the names the roster had in the devices app (actions
``devices.duty.set``/``.end``/``.cancel``, object type ``devices.dutyshift``, the name of
its table): one shift's history reads under one name before and after the move.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, NotFound, ValidationFailed
from yiyang.common.permissions import Role, require_perm
from yiyang.network.errors import NetworkError
from yiyang.network.models import DutyShift
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.duty import doctors_of, duty_places
from yiyang.network.selectors.institutions import get_institution_for, institutions_for

DUTY_LONGEST = datetime.timedelta(days=31)
AUDIT_TYPE = "devices.dutyshift"


def _unknown(field: str, label: str, value: Any) -> ValidationFailed:
    return ValidationFailed(
        CommonError.UNKNOWN_REFERENCE,
        _("%(field)s: id %(value)s does not exist in your data scope.")
        % {"field": label, "value": value},
        field=field,
    )


@transaction.atomic
def set_duty(
    actor: User,
    *,
    institution: Any,
    user: User | int,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
) -> DutyShift:
    """Put a doctor on duty at an institution (a center's medical member) from
    ``starts_at`` to ``ends_at`` (``NetworkPerm.STAFF_MANAGE``, the institution in scope; audited).
    The doctor must be one of the institution's active doctors; the shift must end in the
    future, last at most ``DUTY_LONGEST`` and not overlap another of the same doctor's
    shifts there."""
    require_perm(actor, NetworkPerm.STAFF_MANAGE)
    inst = get_institution_for(actor, getattr(institution, "pk", institution))
    user_id = getattr(user, "pk", user)
    doctor = (
        get_user_model()
        .objects.filter(
            pk=user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else 0
        )
        .first()
    )
    if doctor is None:
        raise _unknown("user", _("Doctor"), user_id)
    if doctor.role != Role.DOCTOR or not doctor.is_active:
        raise ValidationFailed(
            CommonError.INVALID, _("Only an active doctor's account can be on duty."), field="user"
        )
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
            raise ValidationFailed(
                CommonError.INVALID, _("A time with its time zone is needed."), field=name
            )
    if ends_at <= starts_at:
        raise ValidationFailed(
            CommonError.INVALID, _("The shift must end after it starts."), field="ends_at"
        )
    if ends_at <= timezone.now():
        raise ValidationFailed(
            CommonError.INVALID, _("The shift must end in the future."), field="ends_at"
        )
    if ends_at - starts_at > DUTY_LONGEST:
        raise ValidationFailed(
            CommonError.INVALID,
            _("A shift lasts at most %(days)d days.") % {"days": DUTY_LONGEST.days},
            field="ends_at",
        )
    if not duty_places().filter(medical_member_id=inst.pk).exists():
        raise ValidationFailed(
            CommonError.INVALID,
            _(
                "%(inst)s is not the medical member of a care-service center: the center tier "
                "never asks its roster."
            )
            % {"inst": inst.name},
            field="institution",
        )
    if doctor.pk not in doctors_of([inst.pk], timezone.localdate()).get(inst.pk, set()):
        raise ValidationFailed(
            CommonError.INVALID,
            _("%(user)s is not a doctor of %(inst)s.") % {"user": doctor, "inst": inst.name},
            field="user",
        )
    if (
        DutyShift.objects.select_for_update()
        .filter(institution=inst, user=doctor, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .exists()
    ):
        raise ValidationFailed(
            NetworkError.OVERLAP,
            _("%(user)s already has a shift at %(inst)s during part of this time.")
            % {"user": doctor, "inst": inst.name},
            field="starts_at",
        )
    shift = DutyShift.objects.create(
        institution=inst, user=doctor, starts_at=starts_at, ends_at=ends_at, created_by=actor
    )
    record(
        actor=actor,
        action="devices.duty.set",
        obj=shift,
        object_type=AUDIT_TYPE,
        details={
            "user": doctor.pk,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
        },  # fmt: skip
    )
    return shift


def add_duty(
    actor: User,
    *,
    institution: Any,
    user: User | int,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
) -> DutyShift:
    """``set_duty`` for input from a form or the API: a referenced institution that is
    missing or outside the actor's scope is a ``ValidationFailed`` ``unknown_reference``
    naming the field (not a 404)."""
    require_perm(actor, NetworkPerm.STAFF_MANAGE)
    inst_id = getattr(institution, "pk", institution)
    try:
        inst = get_institution_for(actor, inst_id)
    except NotFound:
        raise _unknown("institution", _("Institution"), inst_id) from None
    return set_duty(actor, institution=inst, user=user, starts_at=starts_at, ends_at=ends_at)


@transaction.atomic
def end_duty(actor: User, shift: Any, *, now: datetime.datetime | None = None) -> str:
    """End a shift (``NetworkPerm.STAFF_MANAGE``, its institution in scope; audited): one not
    started yet is deleted (``"cancelled"``), a running one ends now (``"ended"``). A shift
    already over is a ``ValidationFailed`` ``ended``; nothing changes."""
    require_perm(actor, NetworkPerm.STAFF_MANAGE)
    pk = getattr(shift, "pk", shift)
    scoped = DutyShift.objects.filter(institution__in=institutions_for(actor).values("pk"))
    try:
        row = scoped.select_for_update().get(pk=pk)
    except (DutyShift.DoesNotExist, ValueError, TypeError):
        raise NotFound("duty shift") from None
    now = now or timezone.now()
    if row.ends_at <= now:
        raise ValidationFailed(NetworkError.ENDED, _("This shift is already over."))
    details = {
        "user": row.user_id,
        "institution": row.institution_id,
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
    }
    if row.starts_at >= now:
        record(
            actor=actor,
            action="devices.duty.cancel",
            obj=row,
            object_type=AUDIT_TYPE,
            details=details,
        )
        row.delete()
        return "cancelled"
    row.ends_at = now
    row.save(update_fields=["ends_at"])
    record(
        actor=actor,
        action="devices.duty.end",
        obj=row,
        object_type=AUDIT_TYPE,
        details={**details, "ended_at": now.isoformat()},
    )
    return "ended"
