"""The alerts API, mounted at ``/api/v1/alerts`` (ADR 0019).

* ``GET /alerts`` (``devices.view``) — the alerts of the residents in the caller's scope,
  paged (``?page=&page_size=``), filters ``state`` (``open``, ``acknowledged``,
  ``handled``, ``closed``, or ``live`` for open and acknowledged; default every state),
  ``severity``, ``team``, ``resident``. Live alerts (``state=live|open|acknowledged``)
  come critical first and then the oldest first, as on the board; otherwise the newest
  first.
* ``GET /alerts/{id}`` — one alert with its event log and its triggering readings (these
  are health data: ``null`` without ``residents.health_view``; handing them out is an
  audited read).
* ``POST /alerts/{id}/acknowledge``, ``POST /alerts/{id}/handle`` ``{"outcome", "note"}``,
  ``POST /alerts/{id}/close`` (``devices.alert_handle``) — the state machine of
  ``yiyang.devices.services.alerts``; the answer is the alert afterwards.

An alert outside the scope answers 404 like a missing one; a step the alert's state does
not allow answers 400 ``wrong_state``. Errors: ``{"code", "detail", "field"}``.
"""

import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Query, Router, Schema
from ninja.pagination import paginate
from pydantic import Field

from yiyang.accounts.actor import actor
from yiyang.accounts.models import User
from yiyang.common.params import Id, Pagination
from yiyang.common.schemas import ErrorOut
from yiyang.devices import selectors
from yiyang.devices.models import Alert, AlertState, Outcome, Reading, Severity
from yiyang.devices.services import alerts
from yiyang.residents.permissions import ResidentPerm

router = Router(tags=["alerts"])

PAGE_SIZE = 50
READINGS_SHOWN = 50
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
LIVE_OR_STATE = Literal["live", "open", "acknowledged", "handled", "closed"]


def _username(user: User | None) -> str | None:
    return user.username if user is not None else None


# --- schemas ----------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class RuleRef(Schema):
    id: int
    code: str
    name: str = Field(description="in the request's language")
    name_zh: str
    name_en: str
    event: str
    suggests_referral: bool


class AlertOut(Schema):
    id: int
    resident: Ref
    rule: RuleRef
    severity: Severity
    state: AlertState
    team: Ref | None = None
    summary: str = Field(description="in the request's language")
    facts: dict[str, Any] = Field(
        description="what the summary is made of: the triggering reading's kind and values, "
        "or (kind silent) the device's serial, kind, since and expected interval"
    )
    count: int
    opened_at: datetime.datetime
    last_triggered_at: datetime.datetime
    acknowledged_at: datetime.datetime | None = None
    acknowledged_by: str | None = None
    handled_at: datetime.datetime | None = None
    handled_by: str | None = None
    outcome: Outcome | None = None
    note: str
    closed_at: datetime.datetime | None = None
    closed_by: str | None = None
    escalation_level: int | None = Field(None, description="null until escalation exists")
    next_escalation_at: datetime.datetime | None = None

    @staticmethod
    def resolve_resident(obj: Alert) -> dict[str, Any]:
        return {"id": obj.resident_id, "name": obj.resident.name}

    @staticmethod
    def resolve_summary(obj: Alert) -> str:
        return obj.summary_text

    @staticmethod
    def resolve_rule(obj: Alert) -> dict[str, Any]:
        rule = obj.rule
        zh = (get_language() or "").lower().startswith("zh")
        return {
            "id": rule.pk,
            "code": rule.code,
            "name": (rule.name_zh or rule.name_en) if zh else (rule.name_en or rule.name_zh),
            "name_zh": rule.name_zh,
            "name_en": rule.name_en,
            "event": rule.event,
            "suggests_referral": rule.suggests_referral,
        }

    @staticmethod
    def resolve_team(obj: Alert) -> dict[str, Any] | None:
        if obj.team_id is None or obj.team is None:
            return None
        return {"id": obj.team_id, "name": obj.team.name}

    @staticmethod
    def resolve_outcome(obj: Alert) -> str | None:
        return obj.outcome or None

    @staticmethod
    def resolve_acknowledged_by(obj: Alert) -> str | None:
        return _username(obj.acknowledged_by)

    @staticmethod
    def resolve_handled_by(obj: Alert) -> str | None:
        return _username(obj.handled_by)

    @staticmethod
    def resolve_closed_by(obj: Alert) -> str | None:
        return _username(obj.closed_by)

    @staticmethod
    def resolve_escalation_level(obj: Alert) -> int | None:
        return getattr(obj, "escalation_level", None)

    @staticmethod
    def resolve_next_escalation_at(obj: Alert) -> datetime.datetime | None:
        return getattr(obj, "next_escalation_at", None)


class AlertReadingOut(Schema):
    id: int
    device: str
    seq: int
    kind: str
    measured_at: datetime.datetime
    values: dict[str, Any]
    source: str
    received_at: datetime.datetime

    @staticmethod
    def resolve_device(obj: Reading) -> str:
        return obj.device.serial


class AlertEventOut(Schema):
    at: datetime.datetime
    kind: str
    tier: int | None = None
    tier_name: str | None = None
    detail: str | None = None
    actor: str | None = None

    @staticmethod
    def resolve_tier(obj: Any) -> int | None:
        tier = getattr(obj, "tier", None)
        return None if tier is None or tier == "" else int(tier)

    @staticmethod
    def resolve_tier_name(obj: Any) -> str | None:
        label = getattr(obj, "get_tier_display", None)
        return str(label()) if label is not None and obj.tier is not None else None

    @staticmethod
    def resolve_detail(obj: Any) -> str | None:
        detail = getattr(obj, "text", getattr(obj, "detail", None))  # the reader's language
        return None if detail is None else str(detail)

    @staticmethod
    def resolve_actor(obj: Any) -> str | None:
        return _username(getattr(obj, "actor", None))


class AlertDetailOut(AlertOut):
    readings: list[AlertReadingOut] | None = Field(
        None, description="null without residents.health_view"
    )
    events: list[AlertEventOut] | None = Field(None, description="null before escalation")

    @staticmethod
    def resolve_readings(obj: Alert) -> list[Reading] | None:
        return getattr(obj, "readings_out", None)

    @staticmethod
    def resolve_events(obj: Alert) -> list[Any] | None:
        return getattr(obj, "events_out", None)


class AlertFilter(Schema):
    state: LIVE_OR_STATE | None = None
    severity: Severity | None = None
    team: Id | None = None
    resident: Id | None = None


class HandleIn(Schema):
    outcome: Outcome
    note: str = Field("", max_length=2000)


def _detail(user: User, pk: Id) -> Alert:
    """The alert (in scope, else 404) with what the detail schema shows."""
    alert = selectors.get_alert_for(user, pk)
    alert.readings_out = (  # type: ignore[attr-defined]
        selectors.alert_readings(user, alert, READINGS_SHOWN)
        if user.has_perm_code(ResidentPerm.HEALTH_VIEW)
        else None
    )
    alert.events_out = selectors.alert_events(alert)  # type: ignore[attr-defined]
    return alert


# --- endpoints --------------------------------------------------------------------------


@router.get("", response=list[AlertOut], url_name="alerts_list", summary="List alerts")
@paginate(Pagination, page_size=PAGE_SIZE)
def alert_list(request: HttpRequest, filters: Query[AlertFilter]) -> QuerySet:
    qs = selectors.alerts_for(actor(request)).select_related(
        "acknowledged_by", "handled_by", "closed_by"
    )
    state = filters.state
    if state == "live":
        qs = qs.filter(state__in=selectors.LIVE_STATES)
    elif state:
        qs = qs.filter(state=state)
    if filters.severity:
        qs = qs.filter(severity=filters.severity)
    if filters.team is not None:
        qs = qs.filter(team_id=filters.team)
    if filters.resident is not None:
        qs = qs.filter(resident_id=filters.resident)
    return selectors.in_board_order(qs, state in ("live", "open", "acknowledged"))


@router.get(
    "/{int:pk}",
    response={200: AlertDetailOut, **ERRORS},
    url_name="alerts_detail",
    summary="One alert with its readings and event log",
)
def alert_detail(request: HttpRequest, pk: Id) -> Any:
    return _detail(actor(request), pk)


@router.post(
    "/{int:pk}/acknowledge",
    response={200: AlertDetailOut, **ERRORS},
    url_name="alerts_acknowledge",
    summary="Acknowledge an open alert (stops escalation)",
)
def alert_acknowledge(request: HttpRequest, pk: Id) -> Any:
    user = actor(request)
    alerts.acknowledge(user, pk)
    return _detail(user, pk)


@router.post(
    "/{int:pk}/handle",
    response={200: AlertDetailOut, **ERRORS},
    url_name="alerts_handle",
    summary="Record the outcome of an open or acknowledged alert",
)
def alert_handle(request: HttpRequest, pk: Id, payload: HandleIn) -> Any:
    user = actor(request)
    alerts.handle(user, pk, outcome=payload.outcome, note=payload.note)
    return _detail(user, pk)


@router.post(
    "/{int:pk}/close",
    response={200: AlertDetailOut, **ERRORS},
    url_name="alerts_close",
    summary="Close a handled alert",
)
def alert_close(request: HttpRequest, pk: Id) -> Any:
    user = actor(request)
    alerts.close(user, pk)
    return _detail(user, pk)
