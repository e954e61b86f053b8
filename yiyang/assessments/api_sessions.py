"""``/api/v1/assessments/``: instruments, assessment sessions, standing and the schedule.

Sessions: ``POST /sessions`` opens a draft, ``PATCH /sessions/{id}/answers`` merges
answers (each checked on its own; 422 naming every refused item, nothing saved),
``POST /sessions/{id}/submit`` scores all or nothing (422 ``invalid_answers`` with
``errors``), ``/sign`` is the named second assessor's sign-off, ``/discard`` drops a
draft, ``/corrections`` opens a draft that supersedes a final session. Reads need the
resident in scope (audited) and the right to see her health record. Errors are
``{"code", "detail", "field"}`` (plus ``errors`` for bad answers).
"""

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from yiyang.accounts.actor import actor
from yiyang.assessments import progress
from yiyang.assessments.models import (
    Assessment,
    Due,
    EligibilityRule,
    InstrumentStatus,
    SessionStatus,
)
from yiyang.assessments.models import InstrumentVersion as IV
from yiyang.assessments.selectors import current_version, get_session_for
from yiyang.assessments.services import schedule
from yiyang.assessments.services.base import ABILITY_INSTRUMENT
from yiyang.assessments.services.sessions import (
    discard,
    history,
    save_answers,
    set_second_assessor,
    sign_off,
    start,
    submit,
)
from yiyang.assessments.services.standing import evaluate
from yiyang.common.errors import NotFound
from yiyang.common.params import Age, Id, Pagination
from yiyang.common.schemas import ErrorOut
from yiyang.network.models import Team
from yiyang.residents.access import require_health_view
from yiyang.residents.selectors.registry import get_resident_for

router = Router(tags=["assessments"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: dict[str, Any]}


def _require_score(request: HttpRequest) -> None:
    from yiyang.assessments.permissions import AssessmentPerm
    from yiyang.common.permissions import require_perm

    require_perm(actor(request), AssessmentPerm.SCORE)


# --- instruments ------------------------------------------------------------------------


class InstrumentOut(Schema):
    code: str
    version: str
    name_zh: str
    name_en: str
    source_document: str
    source_edition: str
    unverified: list[dict[str, Any]]


@router.get(
    "/instruments",
    response={200: list[InstrumentOut], **ERRORS},
    url_name="assessments_instruments",
    summary="The instruments (current versions)",
)
def instrument_list(request: HttpRequest) -> Any:
    _require_score(request)
    rows = IV.objects.filter(status=InstrumentStatus.ACTIVE).order_by("code", "-id")
    seen: dict[str, IV] = {}
    for row in rows:
        seen.setdefault(row.code, row)
    return list(seen.values())


@router.get(
    "/instruments/{code}",
    response={200: dict[str, Any], **ERRORS},
    url_name="assessments_instrument",
    summary="An instrument's current definition (items, options, anchors, tables)",
)
def instrument_detail(request: HttpRequest, code: str) -> Any:
    _require_score(request)
    row = current_version(code)
    if row is None:
        raise NotFound("instrument")
    return row.definition


# --- sessions ---------------------------------------------------------------------------


class SessionIn(Schema):
    resident: Id
    instrument: str
    reason: str
    place: str
    assessed_on: datetime.date | None = None
    place_note: str = ""
    reason_note: str = ""
    second_assessor: Id | None = None


class CorrectionIn(Schema):
    correction_reason: str
    reason: str = "dispute"
    place: str | None = None
    assessed_on: datetime.date | None = None
    place_note: str = ""
    second_assessor: Id | None = None


class AnswersIn(Schema):
    answers: dict[str, Any] | None = None
    context: dict[str, Any] | None = None


class SessionOut(Schema):
    id: int
    number: str
    resident: Id
    instrument: str
    version: str
    status: str
    reason: str
    reason_note: str
    place: str
    place_note: str
    assessed_on: datetime.date
    assessor: str
    second_assessor: str | None
    second_signed_at: datetime.datetime | None
    answers: dict[str, Any]
    context: dict[str, Any]
    context_source: dict[str, Any]  # pre-filled keys: {"from", "on", "value"}
    progress: dict[str, Any]
    result: dict[str, Any] | None
    total: int | None
    level: int | None
    eligibility_before: dict[str, bool]
    eligibility_after: dict[str, bool]
    supersedes: int | None
    superseded_by: int | None
    correction_reason: str
    submitted_at: datetime.datetime | None

    @staticmethod
    def resolve_resident(obj: Assessment) -> int:
        return obj.resident_id

    @staticmethod
    def resolve_instrument(obj: Assessment) -> str:
        return obj.instrument.code

    @staticmethod
    def resolve_version(obj: Assessment) -> str:
        return obj.instrument.version

    @staticmethod
    def resolve_assessor(obj: Assessment) -> str:
        return obj.assessor.get_username()

    @staticmethod
    def resolve_second_assessor(obj: Assessment) -> str | None:
        second = obj.second_assessor
        return second.get_username() if second is not None else None

    @staticmethod
    def resolve_progress(obj: Assessment) -> dict[str, Any]:
        return progress.running(obj.instrument.definition, obj.answers)

    @staticmethod
    def resolve_supersedes(obj: Assessment) -> int | None:
        return obj.supersedes_id

    @staticmethod
    def resolve_superseded_by(obj: Assessment) -> int | None:
        corrections = Assessment.objects.filter(supersedes_id=obj.pk).exclude(
            status=SessionStatus.DISCARDED
        )
        return corrections.values_list("pk", flat=True).first()


def _out(request: HttpRequest, session: Assessment) -> Assessment:
    return get_session_for(actor(request), session.pk)


@router.post(
    "/sessions",
    response={201: SessionOut, **ERRORS},
    url_name="assessments_session_create",
    summary="Open a draft assessment of a resident",
)
def session_create(request: HttpRequest, payload: SessionIn) -> Any:
    data = payload.dict()
    resident = data.pop("resident")
    if data["assessed_on"] is None:
        data["assessed_on"] = timezone.localdate()
    session = start(actor(request), resident, **data)
    return 201, _out(request, session)


@router.get(
    "/sessions/{int:pk}",
    response={200: SessionOut, **ERRORS},
    url_name="assessments_session",
    summary="One assessment session",
)
def session_detail(request: HttpRequest, pk: Id) -> Any:
    return get_session_for(actor(request), pk)


@router.patch(
    "/sessions/{int:pk}/answers",
    response={200: SessionOut, **ERRORS},
    url_name="assessments_session_answers",
    summary="Save answers into a draft (null clears one)",
)
def session_answers(request: HttpRequest, pk: Id, payload: AnswersIn) -> Any:
    session = save_answers(actor(request), pk, payload.answers, payload.context)
    return _out(request, session)


@router.post(
    "/sessions/{int:pk}/submit",
    response={200: SessionOut, **ERRORS},
    url_name="assessments_session_submit",
    summary="Score and submit a draft (all or nothing)",
)
def session_submit(request: HttpRequest, pk: Id) -> Any:
    return _out(request, submit(actor(request), pk))


class SecondAssessorIn(Schema):
    second_assessor: Id | None


@router.put(
    "/sessions/{int:pk}/second-assessor",
    response={200: SessionOut, **ERRORS},
    url_name="assessments_session_second",
    summary="Name (or clear, with null) the second assessor of a draft, or hand a session "
    "awaiting sign-off to another one",
)
def session_second(request: HttpRequest, pk: Id, payload: SecondAssessorIn) -> Any:
    session = set_second_assessor(actor(request), pk, payload.second_assessor)
    return _out(request, session)


@router.get(
    "/sessions/{int:pk}/report.pdf",
    response={200: None, **ERRORS},
    url_name="assessments_session_report",
    summary="The printable report (PDF, Chinese) of a submitted assessment",
)
def session_report(request: HttpRequest, pk: Id) -> Any:
    from django.http import HttpResponse

    from yiyang.assessments.report import render_report
    from yiyang.assessments.report_data import report_data

    session = get_session_for(actor(request), pk)
    if session.result is None:
        raise NotFound("report")
    response = HttpResponse(render_report(report_data(session)), content_type="application/pdf")
    name = f"{session.number}-{session.instrument.code}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@router.post(
    "/sessions/{int:pk}/sign",
    response={200: SessionOut, **ERRORS},
    url_name="assessments_session_sign",
    summary="The second assessor's sign-off",
)
def session_sign(request: HttpRequest, pk: Id) -> Any:
    return _out(request, sign_off(actor(request), pk))


@router.post(
    "/sessions/{int:pk}/discard",
    response={200: SessionOut, **ERRORS},
    url_name="assessments_session_discard",
    summary="Discard a draft",
)
def session_discard(request: HttpRequest, pk: Id) -> Any:
    return _out(request, discard(actor(request), pk))


@router.post(
    "/sessions/{int:pk}/corrections",
    response={201: SessionOut, **ERRORS},
    url_name="assessments_session_correct",
    summary="Open a correction (a draft superseding a submitted session)",
)
def session_correct(request: HttpRequest, pk: Id, payload: CorrectionIn) -> Any:
    old = get_session_for(actor(request), pk)
    session = start(
        actor(request),
        old.resident_id,
        instrument=old.instrument.code,
        reason=payload.reason,
        assessed_on=payload.assessed_on or timezone.localdate(),
        place=payload.place or old.place,
        place_note=payload.place_note,
        second_assessor=payload.second_assessor,
        supersedes=old.pk,
        correction_reason=payload.correction_reason,
    )
    return 201, _out(request, session)


# --- a resident's assessments, standing, dues ----------------------------------------


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
    summary="A resident's assessments (newest first; discarded drafts left out)",
)
def resident_sessions(request: HttpRequest, pk: Id, instrument: str = "") -> Any:
    return list(history(_resident_health(request, pk), instrument or None))


@router.get(
    "/residents/{int:pk}/standing",
    response={200: StandingOut, **ERRORS},
    url_name="assessments_resident_standing",
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


class EligibilityRuleOut(Schema):
    code: str
    name_zh: str
    name_en: str
    min_age: Age | None
    min_ability_level: int | None
    min_disability_grade: int | None
    requires_ltc_insured: bool
    source: str
    unverified: bool
    active: bool


@router.get(
    "/rules",
    response={200: list[EligibilityRuleOut], **ERRORS},
    url_name="assessments_rules",
    summary="The eligibility rules in force (local policy)",
)
def rule_list(request: HttpRequest) -> Any:
    _require_score(request)
    return list(EligibilityRule.objects.all())
