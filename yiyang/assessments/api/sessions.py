"""``/api/v1/assessments/``: assessment sessions.

``POST /sessions`` opens a draft, ``PATCH /sessions/{id}/answers`` merges answers (each
checked on its own; 422 naming every refused item, nothing saved),
``POST /sessions/{id}/submit`` scores all or nothing (422 ``invalid_answers`` with
``errors``), ``/sign`` is the named second assessor's sign-off, ``/discard`` drops a
draft, ``/corrections`` opens a draft that supersedes a final session,
``/report.pdf`` is the printable report. Reads need the resident in scope (audited) and
the right to see her health record. Errors are ``{"code", "detail", "field"}`` (plus
``errors`` for bad answers).
"""

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from yiyang.accounts.actor import actor
from yiyang.assessments import progress
from yiyang.assessments.api.common import ERRORS
from yiyang.assessments.models import Assessment, SessionStatus
from yiyang.assessments.selectors import get_session_for
from yiyang.assessments.services.sessions import (
    discard,
    save_answers,
    set_second_assessor,
    sign_off,
    start,
    submit,
)
from yiyang.common.errors import NotFound
from yiyang.common.params import Id

router = Router(tags=["assessments"])


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
    operation_id="yiyang_assessments_api_sessions_session_create",
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
    operation_id="yiyang_assessments_api_sessions_session_detail",
    summary="One assessment session",
)
def session_detail(request: HttpRequest, pk: Id) -> Any:
    return get_session_for(actor(request), pk)


@router.patch(
    "/sessions/{int:pk}/answers",
    response={200: SessionOut, **ERRORS},
    url_name="assessments_session_answers",
    operation_id="yiyang_assessments_api_sessions_session_answers",
    summary="Save answers into a draft (null clears one)",
)
def session_answers(request: HttpRequest, pk: Id, payload: AnswersIn) -> Any:
    session = save_answers(actor(request), pk, payload.answers, payload.context)
    return _out(request, session)


@router.post(
    "/sessions/{int:pk}/submit",
    response={200: SessionOut, **ERRORS},
    url_name="assessments_session_submit",
    operation_id="yiyang_assessments_api_sessions_session_submit",
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
    operation_id="yiyang_assessments_api_sessions_session_second",
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
    operation_id="yiyang_assessments_api_sessions_session_report",
    summary="The printable report (PDF, Chinese) of a submitted assessment",
)
def session_report(request: HttpRequest, pk: Id) -> Any:
    from django.http import HttpResponse

    from yiyang.assessments.report.render import render_report
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
    operation_id="yiyang_assessments_api_sessions_session_sign",
    summary="The second assessor's sign-off",
)
def session_sign(request: HttpRequest, pk: Id) -> Any:
    return _out(request, sign_off(actor(request), pk))


@router.post(
    "/sessions/{int:pk}/discard",
    response={200: SessionOut, **ERRORS},
    url_name="assessments_session_discard",
    operation_id="yiyang_assessments_api_sessions_session_discard",
    summary="Discard a draft",
)
def session_discard(request: HttpRequest, pk: Id) -> Any:
    return _out(request, discard(actor(request), pk))


@router.post(
    "/sessions/{int:pk}/corrections",
    response={201: SessionOut, **ERRORS},
    url_name="assessments_session_correct",
    operation_id="yiyang_assessments_api_sessions_session_correct",
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
