"""``/api/v1/assessments/``: a resident's assessments (``/residents/{id}/sessions``), her
standing (``/residents/{id}/standing``: ability level, disability grade, eligibility
evaluated today), "report a change" (``POST /residents/{id}/due``: an immediate
re-assessment) and the open dues of the caller's scope (``/due``). Reads need the
resident in scope (audited) and the right to see her health record.
"""

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from yiyang.accounts.actor import actor
from yiyang.assessments.api.common import ERRORS
from yiyang.assessments.api.sessions import SessionOut
from yiyang.assessments.models import Due
from yiyang.assessments.services import schedule
from yiyang.assessments.services.base import ABILITY_INSTRUMENT
from yiyang.assessments.services.sessions import history
from yiyang.assessments.services.standing import evaluate
from yiyang.common.errors import NotFound
from yiyang.common.params import Id, Pagination
from yiyang.network.models import Team
from yiyang.residents.access import require_health_view
from yiyang.residents.selectors.registry import get_resident_for

router = Router(tags=["assessments"])


class StandingOut(Schema):
    resident: Id
    ability_level: int | None
    ability_assessment: int | None
    disability_grade: int | None
    disability_assessment: int | None
    eligibility: dict[str, bool]  # evaluated today (age-based rules change with time)


class DueIn(Schema):
    reason: str
    note: str = ""
    instrument: str = ABILITY_INSTRUMENT
    due_on: datetime.date | None = None


class DueOut(Schema):
    id: int
    resident: Id
    resident_name: str
    instrument: str
    due_on: datetime.date
    reason: str
    note: str
    overdue: bool

    @staticmethod
    def resolve_resident(obj: Due) -> int:
        return obj.resident_id

    @staticmethod
    def resolve_resident_name(obj: Due) -> str:
        return obj.resident.name

    @staticmethod
    def resolve_instrument(obj: Due) -> str:
        return obj.instrument_code

    @staticmethod
    def resolve_overdue(obj: Due) -> bool:
        return obj.due_on < timezone.localdate()


def _resident_health(request: HttpRequest, pk: Id) -> Any:
    resident = get_resident_for(actor(request), pk)
    require_health_view(actor(request), resident)
    return resident


@router.get(
    "/residents/{int:pk}/sessions",
    response={200: list[SessionOut], **ERRORS},
    url_name="assessments_resident_sessions",
    operation_id="yiyang_assessments_api_sessions_resident_sessions",
    summary="A resident's assessments (newest first; discarded drafts left out)",
)
def resident_sessions(request: HttpRequest, pk: Id, instrument: str = "") -> Any:
    return list(history(_resident_health(request, pk), instrument or None))


@router.get(
    "/residents/{int:pk}/standing",
    response={200: StandingOut, **ERRORS},
    url_name="assessments_resident_standing",
    operation_id="yiyang_assessments_api_sessions_resident_standing",
    summary="A resident's current ability level, disability grade and eligibility",
)
def resident_standing(request: HttpRequest, pk: Id) -> Any:
    from yiyang.assessments.models import Standing

    resident = _resident_health(request, pk)
    standing = Standing.objects.filter(resident=resident).first() or Standing(resident=resident)
    return {
        "resident": resident.pk,
        "ability_level": standing.ability_level,
        "ability_assessment": standing.ability_assessment_id,
        "disability_grade": standing.disability_grade,
        "disability_assessment": standing.disability_assessment_id,
        "eligibility": evaluate(resident, standing, timezone.localdate()),
    }


@router.post(
    "/residents/{int:pk}/due",
    response={201: DueOut, **ERRORS},
    url_name="assessments_report_change",
    operation_id="yiyang_assessments_api_sessions_report_change",
    summary="Report a condition change, fall or dispute: an immediate re-assessment",
)
def report_change(request: HttpRequest, pk: Id, payload: DueIn) -> Any:
    due = schedule.report_change(actor(request), pk, **payload.dict())
    return 201, due


class DueFilter(Schema):
    team: Id | None = None
    instrument: str = ""
    overdue: bool = False


@router.get(
    "/due",
    response={200: list[DueOut], **ERRORS},
    url_name="assessments_due",
    operation_id="yiyang_assessments_api_sessions_due_list",
    summary="Open re-assessments due in the caller's scope (earliest first)",
)
@paginate(Pagination, page_size=50)
def due_list(request: HttpRequest, filters: Query[DueFilter]) -> Any:
    from yiyang.assessments.permissions import AssessmentPerm
    from yiyang.common.errors import PermissionDenied
    from yiyang.residents.permissions import ResidentPerm

    user = actor(request)
    if not (
        user.has_perm_code(AssessmentPerm.RECORD) or user.has_perm_code(ResidentPerm.HEALTH_VIEW)
    ):
        raise PermissionDenied()
    team = None
    if filters.team is not None:
        team = Team.objects.filter(pk=filters.team).first()
        if team is None:
            raise NotFound("team")
    qs = schedule.open_dues(user, team=team)
    if filters.instrument:
        qs = qs.filter(instrument_code=filters.instrument)
    if filters.overdue:
        qs = qs.filter(due_on__lt=timezone.localdate())
    return qs
