"""The emergency-call API, mounted at ``/api/v1/emergency`` (ADR 0022). Everything needs
``emergency.call``; calls and residents are scoped (``selectors``).

* ``GET /calls`` — paged, ``?state=open`` (default) | ``closed`` | ``all``, newest first.
* ``GET /calls/{id}`` — the call with its steps, its alert and the resident summary the
  dispatcher's screen shows (an audited read of the resident).
* ``POST /calls`` ``{"caller_phone", "resident"?, "note"?}`` — log a phone call (201).
* ``POST /calls/{id}/take`` ``{"take_over"?}``, ``POST /calls/{id}/steps`` ``{"kind",
  "note"?}`` (201), ``POST /calls/{id}/identify`` ``{"resident"}``,
  ``POST /calls/{id}/close`` ``{"outcome", "note"?}``.
* ``GET /lookup?phone=…`` — the residents in scope the number belongs to, and how.

A call outside the scope answers 404 like a missing one; a resident outside it 400
``unknown_reference``; a closed call 400 ``closed``. Errors: ``{"code", "detail", "field"}``.
Phones are masked in every answer.
"""

import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.pagination import paginate
from pydantic import Field

from yiyang.accounts.actor import actor
from yiyang.accounts.models import User
from yiyang.common import crypto
from yiyang.common.params import Id, Pagination
from yiyang.common.schemas import ErrorOut
from yiyang.emergency import selectors, services
from yiyang.emergency.models import CallState, CallStep, EmergencyCall

router = Router(tags=["emergency"])

PAGE_SIZE = 50
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _username(user: User | None) -> str | None:
    return user.get_username() if user is not None else None


# --- schemas ----------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class AlertRef(Schema):
    id: int
    rule: str
    severity: str
    state: str
    summary: str
    opened_at: datetime.datetime


class CallStepOut(Schema):
    id: int
    kind: str
    at: datetime.datetime
    by: str | None = None
    note: str

    @staticmethod
    def resolve_by(obj: CallStep) -> str | None:
        return _username(obj.by)


class CallOut(Schema):
    id: int
    source: str
    state: str
    caller_phone: str = Field(description="masked")
    resident: Ref | None = None
    alert: AlertRef | None = None
    opened_at: datetime.datetime
    opened_by: str | None = None
    taken_at: datetime.datetime | None = None
    taken_by: str | None = None
    closed_at: datetime.datetime | None = None
    closed_by: str | None = None
    outcome: str
    outcome_note: str

    @staticmethod
    def resolve_caller_phone(obj: EmergencyCall) -> str:
        return crypto.mask_phone(obj.caller_phone) if obj.caller_phone else ""

    @staticmethod
    def resolve_resident(obj: EmergencyCall) -> dict[str, Any] | None:
        if obj.resident_id is None or obj.resident is None:
            return None
        return {"id": obj.resident_id, "name": obj.resident.name}

    @staticmethod
    def resolve_alert(obj: EmergencyCall) -> dict[str, Any] | None:
        alert = obj.alert
        if alert is None:
            return None
        return {
            "id": alert.pk,
            "rule": alert.rule.code,
            "severity": alert.severity,
            "state": alert.state,
            "summary": alert.summary_text,
            "opened_at": alert.opened_at,
        }

    @staticmethod
    def resolve_opened_by(obj: EmergencyCall) -> str | None:
        return _username(obj.opened_by)

    @staticmethod
    def resolve_taken_by(obj: EmergencyCall) -> str | None:
        return _username(obj.taken_by)

    @staticmethod
    def resolve_closed_by(obj: EmergencyCall) -> str | None:
        return _username(obj.closed_by)


class SummaryContactOut(Schema):
    name: str
    relation: str
    phone: str = Field(description="masked, as on the resident's page")
    is_guardian: bool
    is_emergency: bool


class SummaryConditionOut(Schema):
    icd10: str
    name: str
    status: str


class SummaryMedicationOut(Schema):
    name: str
    dose: str
    frequency: str
    route: str


class SummaryAllergyOut(Schema):
    substance: str
    reaction: str
    severity: str


class SummaryReadingOut(Schema):
    kind: str
    values: dict[str, Any]
    measured_at: datetime.datetime
    device: str


class ResidentSummaryOut(Schema):
    id: int
    name: str
    sex: str
    age: int
    address: str
    village: str
    grid: str | None = None
    teams: list[str]
    phone: str = Field(description="masked")
    status: str
    health_visible: bool = Field(description="false: the role does not show health data")
    conditions: list[SummaryConditionOut]
    medications: list[SummaryMedicationOut]
    allergies: list[SummaryAllergyOut]
    readings: list[SummaryReadingOut] = Field(description="the latest reading of each kind")
    contacts: list[SummaryContactOut]


class WarningOut(Schema):
    code: str = Field(description="open_call: the resident has another open call")
    detail: str
    calls: list[int] = Field(description="the other open calls' ids")


class CallDetailOut(CallOut):
    steps: list[CallStepOut]
    resident_summary: ResidentSummaryOut | None = None
    warnings: list[WarningOut] = Field(
        default_factory=list,
        description="not errors: the call was logged; e.g. her other open calls",
    )

    @staticmethod
    def resolve_steps(obj: EmergencyCall) -> list[CallStep]:
        return obj.steps_list  # type: ignore[attr-defined,no-any-return]


class LookupMatchOut(Schema):
    resident: Ref
    age: int
    address: str
    grid: str | None = None
    own_phone: bool
    reasons: list[str]


class CallFilter(Schema):
    state: Literal["open", "closed", "all"] = "open"


class LogIn(Schema):
    caller_phone: str
    resident: Id | None = None
    note: str = ""


class TakeIn(Schema):
    take_over: bool = False


class StepIn(Schema):
    kind: str = ""
    note: str = ""


class IdentifyIn(Schema):
    resident: Id | None = None


class CloseIn(Schema):
    outcome: str = ""
    note: str = ""


class LookupFilter(Schema):
    phone: str = ""


# --- helpers ----------------------------------------------------------------------------


def _summary(user: User, call: EmergencyCall) -> dict[str, Any] | None:
    card = selectors.resident_card(user, call)
    if card is None:
        return None
    r = card.resident
    return {
        "id": r.pk,
        "name": r.name,
        "sex": r.sex,
        "age": card.age,
        "address": card.address,
        "village": r.region.name,
        "grid": r.grid.name if r.grid else None,
        "teams": [t.name for t in card.teams],
        "phone": card.phone_masked,
        "status": r.status,
        "health_visible": card.health_visible,
        "conditions": card.conditions,
        "medications": card.medications,
        "allergies": card.allergies,
        "readings": [
            {
                "kind": x.kind,
                "values": x.values,
                "measured_at": x.measured_at,
                "device": x.device.serial,
            }
            for x in card.readings
        ],
        "contacts": [
            {
                "name": c.name,
                "relation": c.relation,
                "phone": c.phone_masked,  # type: ignore[attr-defined]
                "is_guardian": c.is_guardian,
                "is_emergency": c.is_emergency,
            }
            for c in card.contacts
        ],
    }


def _detail(user: User, pk: Id) -> EmergencyCall:
    call = selectors.get_call_for(user, pk)
    call.steps_list = list(selectors.steps_of(call))  # type: ignore[attr-defined]
    call.resident_summary = _summary(user, call)  # type: ignore[attr-defined]
    call.warnings = _warnings(user, call)  # type: ignore[attr-defined]
    return call


def _warnings(user: User, call: EmergencyCall) -> list[dict[str, Any]]:
    others = selectors.other_open_calls(user, call)
    if not others:
        return []
    numbers = ", ".join(f"#{c.pk}" for c in others)
    detail = _("%(name)s already has an open call (%(calls)s): check it is not the same event.")
    name = call.resident.name if call.resident else ""
    return [
        {
            "code": "open_call",
            "detail": detail % {"name": name, "calls": numbers},
            "calls": [c.pk for c in others],
        }
    ]


# --- endpoints --------------------------------------------------------------------------


@router.get("/calls", response=list[CallOut], url_name="emergency_calls", summary="Emergency calls")
@paginate(Pagination, page_size=PAGE_SIZE)
def call_list(request: HttpRequest, filters: Query[CallFilter]) -> QuerySet:
    qs = selectors.calls_for(actor(request))
    if filters.state != "all":
        qs = qs.filter(state=CallState(filters.state))
    return qs.order_by("-opened_at", "-id")


@router.post(
    "/calls",
    response={201: CallDetailOut, **ERRORS},
    url_name="emergency_call_log",
    summary="Log an incoming phone call",
)
def call_log(request: HttpRequest, payload: LogIn) -> Any:
    user = actor(request)
    call = services.log_call(
        user, caller_phone=payload.caller_phone, resident=payload.resident, note=payload.note
    )
    return 201, _detail(user, call.pk)


@router.get(
    "/calls/{int:pk}",
    response={200: CallDetailOut, **ERRORS},
    url_name="emergency_call_detail",
    summary="One call with its steps and the resident summary",
)
def call_detail(request: HttpRequest, pk: Id) -> Any:
    return _detail(actor(request), pk)


@router.post(
    "/calls/{int:pk}/take",
    response={200: CallDetailOut, **ERRORS},
    url_name="emergency_call_take",
    summary="Take the call (take_over: from whoever holds it)",
)
def call_take(request: HttpRequest, pk: Id, payload: TakeIn) -> Any:
    user = actor(request)
    services.take(user, pk, take_over=payload.take_over)
    return _detail(user, pk)


@router.post(
    "/calls/{int:pk}/steps",
    response={201: CallDetailOut, **ERRORS},
    url_name="emergency_call_step",
    summary="Record a step (called back, team sent, 120 called, family informed, note)",
)
def call_step(request: HttpRequest, pk: Id, payload: StepIn) -> Any:
    user = actor(request)
    services.add_step(user, pk, payload.kind, payload.note)
    return 201, _detail(user, pk)


@router.post(
    "/calls/{int:pk}/identify",
    response={200: CallDetailOut, **ERRORS},
    url_name="emergency_call_identify",
    summary="Tie the call to a resident",
)
def call_identify(request: HttpRequest, pk: Id, payload: IdentifyIn) -> Any:
    user = actor(request)
    services.identify(user, pk, payload.resident)
    return _detail(user, pk)


@router.post(
    "/calls/{int:pk}/close",
    response={200: CallDetailOut, **ERRORS},
    url_name="emergency_call_close",
    summary="Close the call with its outcome (handles and closes its alert)",
)
def call_close(request: HttpRequest, pk: Id, payload: CloseIn) -> Any:
    user = actor(request)
    services.close(user, pk, payload.outcome, payload.note)
    return _detail(user, pk)


@router.get(
    "/lookup",
    response={200: list[LookupMatchOut], **ERRORS},
    url_name="emergency_lookup",
    summary="The residents in scope a phone number belongs to",
)
def phone_lookup(request: HttpRequest, filters: Query[LookupFilter]) -> Any:
    matches = services.lookup_phone(actor(request), filters.phone)
    return [
        {
            "resident": {"id": m.resident.pk, "name": m.resident.name},
            "age": m.resident.age,
            "address": m.resident.address,
            "grid": m.resident.grid.name if m.resident.grid else None,
            "own_phone": m.own,
            "reasons": m.reasons,
        }
        for m in matches
    ]
