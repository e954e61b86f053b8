"""The escalation API, mounted at ``/api/v1/escalation`` (ADR 0020).

* ``GET /escalation/schedule`` (``devices.view``) — every severity's schedule: the
  minutes after an alert opened at which each tier is notified (a severity without a
  tier skips it).
* ``PUT /escalation/schedule`` (``devices.alert_policy``) ``{"severity", "steps": {"1": 0,
  "2": 2.5, …}}`` — replaces one severity's schedule (``escalation.set_schedule``); the
  answer is the whole schedule afterwards.
* ``GET /escalation/duty`` (``network.staff_view``) — the duty shifts of the institutions
  in the caller's scope, newest start first, paged; filters ``institution`` and
  ``current`` (``true``: running now; ``false``: not running now).
* ``POST /escalation/duty`` (``network.staff_manage``) ``{"institution", "user",
  "starts_at", "ends_at"}`` (times with their zone) — puts a doctor of the institution on
  duty (``network.services.duty.add_duty``); 201 with the shift. A missing or out-of-scope
  institution or user is 400 ``unknown_reference``.
* ``POST /escalation/duty/{id}/end`` (``network.staff_manage``) — a shift not started is
  cancelled (deleted), a running one ends now; ``{"outcome": "cancelled"|"ended",
  "shift": … | null}``. A shift already over is 400 ``ended``.

A shift outside the scope answers 404 like a missing one. Errors: ``{"code", "detail",
"field"}``.
"""

import datetime
from decimal import Decimal
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from yiyang.accounts.actor import actor
from yiyang.common.params import Id, Pagination
from yiyang.common.permissions import require_perm
from yiyang.common.schemas import ErrorOut
from yiyang.devices.models import Severity, Tier
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.services import escalation
from yiyang.network.models import DutyShift
from yiyang.network.selectors.duty import duty_shifts_for, get_duty_shift_for
from yiyang.network.services.duty import add_duty, end_duty

router = Router(tags=["escalation"])

PAGE_SIZE = 50
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


# --- schemas ----------------------------------------------------------------------------


class EscalationStepOut(Schema):
    tier: int
    tier_name: str
    after_minutes: Decimal


class SeverityScheduleOut(Schema):
    severity: Severity
    steps: list[EscalationStepOut]


class ScheduleIn(Schema):
    severity: str
    steps: dict[str, Any]


class Ref(Schema):
    id: int
    name: str


class ShiftOut(Schema):
    id: int
    institution: Ref
    user: Ref
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    running: bool
    created_by: str | None = None

    @staticmethod
    def resolve_institution(obj: DutyShift) -> dict[str, Any]:
        return {"id": obj.institution_id, "name": obj.institution.name}

    @staticmethod
    def resolve_user(obj: DutyShift) -> dict[str, Any]:
        return {"id": obj.user_id, "name": str(obj.user)}

    @staticmethod
    def resolve_running(obj: DutyShift) -> bool:
        now = timezone.now()
        return obj.starts_at <= now < obj.ends_at

    @staticmethod
    def resolve_created_by(obj: DutyShift) -> str | None:
        return obj.created_by.username if obj.created_by is not None else None


class ShiftFilter(Schema):
    institution: Id | None = None
    current: bool | None = None


class ShiftIn(Schema):
    institution: Id
    user: Id
    starts_at: datetime.datetime
    ends_at: datetime.datetime


class EndOut(Schema):
    outcome: Literal["cancelled", "ended"]
    shift: ShiftOut | None = None


def _schedule() -> list[dict[str, Any]]:
    plan = escalation.schedule()
    return [
        {
            "severity": severity,
            "steps": [
                {"tier": t, "tier_name": str(Tier(t).label), "after_minutes": m}
                for t, m in plan.get(severity, [])
            ],
        }
        for severity in Severity.values
    ]


# --- endpoints --------------------------------------------------------------------------


@router.get(
    "/schedule",
    response={200: list[SeverityScheduleOut], **ERRORS},
    url_name="escalation_schedule",
    summary="The escalation schedule of every severity",
)
def schedule_get(request: HttpRequest) -> Any:
    require_perm(actor(request), DevicePerm.VIEW)
    return _schedule()


@router.put(
    "/schedule",
    response={200: list[SeverityScheduleOut], **ERRORS},
    url_name="escalation_schedule_set",
    summary="Replace one severity's escalation schedule",
)
def schedule_set(request: HttpRequest, payload: ScheduleIn) -> Any:
    escalation.set_schedule(actor(request), payload.severity, payload.steps)
    return _schedule()


@router.get("/duty", response=list[ShiftOut], url_name="escalation_duty", summary="Duty shifts")
@paginate(Pagination, page_size=PAGE_SIZE)
def duty_list(request: HttpRequest, filters: Query[ShiftFilter]) -> QuerySet:
    qs = duty_shifts_for(actor(request))
    if filters.institution is not None:
        qs = qs.filter(institution_id=filters.institution)
    if filters.current is not None:
        now = timezone.now()
        running = qs.filter(starts_at__lte=now, ends_at__gt=now)
        qs = running if filters.current else qs.exclude(pk__in=running.values("pk"))
    return qs.order_by("-starts_at", "-pk")


@router.post(
    "/duty",
    response={201: ShiftOut, **ERRORS},
    url_name="escalation_duty_create",
    summary="Put a doctor on duty",
)
def duty_create(request: HttpRequest, payload: ShiftIn) -> Any:
    user = actor(request)
    shift = add_duty(
        user,
        institution=payload.institution,
        user=payload.user,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
    )
    return 201, get_duty_shift_for(user, shift.pk)


@router.post(
    "/duty/{int:pk}/end",
    response={200: EndOut, **ERRORS},
    url_name="escalation_duty_end",
    summary="End a running shift now, or cancel one not started",
)
def duty_end(request: HttpRequest, pk: Id) -> Any:
    user = actor(request)
    outcome = end_duty(user, pk)
    shift = duty_shifts_for(user).filter(pk=pk).first()
    return {"outcome": outcome, "shift": shift}
