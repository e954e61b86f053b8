"""Reads of the device registry, always scoped to the acting user's data scope.

Scope rules (``yiyang.common.scope.DataScope``):

* **Managed devices** (what a write may touch): devices whose owner institution lies in
  the actor's scope (the institutions ``yiyang.network.selectors`` shows: "all" every
  one, "region" those of the subtree, "institution" its own and its chain nodes' members,
  "team" the member institutions of the team's nodes).
* **Visible devices** (what a read shows): the devices bound now to a resident in the
  actor's scope (``yiyang.residents.selectors.registry.scoped_residents``) whoever owns
  them — so a family-doctor team sees the devices of the residents of its grids — plus the managed
  devices bound to nobody. A device bound to a resident outside the scope is not visible
  even to its owner's staff: its readings, bindings and refused messages are her health
  data, scoped by the resident like her record (a team's home institution owns devices
  of other teams' residents). Readings and binding history are further held to the
  residents in scope (a device rebound from someone else shows only its current
  resident's).
* **Quarantine**: the refused messages of visible devices. A message naming no known
  device (``unknown_device``: no device row) has no owner and no resident; it is shown to
  scope "all", and to a region scope of a county or wider when the serial it claims
  carries a county code in that region (``BP-411521-000123`` → 411521). Nobody else
  sees it (an institution or team cannot be tied to a serial nobody registered).

* **Alerts**: those of the residents in the actor's scope (``scoped_residents``: a team
  sees its grids' residents, a region scope its region), with ``DevicePerm.VIEW``; their
  triggering readings need ``ResidentPerm.HEALTH_VIEW`` too.

``get_*_for`` raise ``NotFound`` for a missing device and one outside the scope alike.
``latest_readings`` (health data) writes an audit row (``devices.device.read``) when it
hands out any reading.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Sum, Value, When
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record_read
from yiyang.common.errors import NotFound, PermissionDenied
from yiyang.common.permissions import PUBLIC_ROLES, require_perm
from yiyang.common.scope import ScopeKind, scope_of
from yiyang.devices.models import (
    SEVERITY_RANK,
    Alert,
    AlertState,
    Binding,
    Device,
    Quarantine,
    Reading,
    Severity,
)
from yiyang.devices.permissions import DevicePerm
from yiyang.network.models import Institution

# The network app's institution filter: the one definition of "institution in scope".
from yiyang.network.selectors.scope import institution_q
from yiyang.residents.access import can_view_health, followed_for_alerts
from yiyang.residents.models import Resident
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.registry import scoped_residents

_NOTHING = Q(pk__in=[])
COUNTY_DIGITS = 6


def _owner_q(user: User) -> Q | None:
    """The filter on ``Device`` for the devices ``user`` manages; ``None``: every one."""
    scope = scope_of(user)
    if scope.kind == ScopeKind.SELF:
        return _NOTHING
    q = institution_q(scope)
    if q is None:
        return None
    return Q(institution_id__in=Institution.objects.filter(q).values("pk"))


def _visible_q(user: User) -> Q | None:
    scope = scope_of(user)
    if scope.kind == ScopeKind.SELF:
        return _NOTHING
    owner = _owner_q(user)
    residents = _resident_q(user)
    if residents is None:  # scope "all"
        return None
    unbound = Q(resident__isnull=True)
    return (unbound if owner is None else owner & unbound) | residents


def _resident_q(user: User, field: str = "resident_id") -> Q | None:
    """The filter on ``field`` for the residents in ``user``'s scope; ``None``: every one."""
    if scope_of(user).kind == ScopeKind.ALL and getattr(user, "role", None) not in PUBLIC_ROLES:
        return None
    return Q(**{f"{field}__in": scoped_residents(user).values("pk")})


def managed_devices(user: User) -> QuerySet[Device]:
    """Devices ``user`` may change (owner institution in scope), no permission check (for
    services, which check it themselves)."""
    q = _owner_q(user)
    qs = Device.objects.all()
    return qs if q is None else qs.filter(q)


def devices_for(user: User) -> QuerySet[Device]:
    """Devices ``user`` may see (``DevicePerm.VIEW``)."""
    require_perm(user, DevicePerm.VIEW)
    q = _visible_q(user)
    qs = Device.objects.select_related("institution", "resident")
    return qs if q is None else qs.filter(q)


def get_device_for(user: User, pk: Any) -> Device:
    try:
        return devices_for(user).get(pk=pk)
    except (Device.DoesNotExist, ValueError, TypeError):
        raise NotFound("device") from None


def can_manage(user: User, device: Device) -> bool:
    """Whether ``user`` holds ``DevicePerm.MANAGE`` and owns ``device`` by scope."""
    if not user.has_perm_code(DevicePerm.MANAGE):
        return False
    return managed_devices(user).filter(pk=device.pk).exists()


def bindings_of(user: User, device: Device) -> QuerySet[Binding]:
    """A visible device's binding history, newest first: the bindings to residents in
    ``user``'s scope only (a device rebound from someone else does not name her)."""
    qs = device.bindings.select_related("resident", "bound_by", "unbound_by")
    q = _resident_q(user)
    return qs if q is None else qs.filter(q)


def latest_readings(user: User, device: Device, limit: int = 50) -> list[Reading]:
    """A visible device's latest readings (newest measurement first). Readings are health
    data: they need ``ResidentPerm.HEALTH_VIEW`` (else ``PermissionDenied``), and handing any out
    is an audited read of the device naming the residents they belong to."""
    require_perm(user, ResidentPerm.HEALTH_VIEW)
    qs = device.readings.select_related("resident")
    q = _resident_q(user)
    if q is not None:  # a rebound device: only the readings of residents in scope
        qs = qs.filter(q)
    readings = list(qs[:limit])
    if readings:
        residents = sorted({r.resident_id for r in readings})
        record_read(user, device, details={"readings": len(readings), "residents": residents})
    return readings


def _unknown_q(user: User) -> Q:
    scope = scope_of(user)
    unknown = Q(device__isnull=True)
    if scope.kind == ScopeKind.ALL:
        return unknown
    prefix = scope.region_prefix
    if scope.kind == ScopeKind.REGION and prefix.isdigit() and len(prefix) <= COUNTY_DIGITS:
        return unknown & Q(serial__regex=rf"^[A-Z0-9]+-{prefix}[0-9]*-")
    return _NOTHING


def quarantine_for(user: User) -> QuerySet[Quarantine]:
    """Refused messages ``user`` may see (``DevicePerm.QUARANTINE``): see the module
    docstring for the rows that name no known device."""
    require_perm(user, DevicePerm.QUARANTINE)
    qs = Quarantine.objects.select_related("device")
    visible = _visible_q(user)
    if visible is None:
        return qs
    devices = Device.objects.filter(visible).values("pk")
    return qs.filter(Q(device_id__in=devices) | _unknown_q(user))


# --- alerts (ADR 0019) -----------------------------------------------------------------
#
# An alert is visible to ``DevicePerm.VIEW`` holders whose scope holds its resident
# (``scoped_residents``: a team sees its grids' residents, a dispatcher her region). The
# readings that triggered it are health data (``ResidentPerm.HEALTH_VIEW``, an audited read).

LIVE_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED)
# Severity as a sortable number, most urgent first (``SEVERITY_RANK``).
SEVERITY_ORDER = Case(
    *[When(severity=value, then=Value(rank)) for value, rank in SEVERITY_RANK.items()],
    default=Value(len(SEVERITY_RANK)),
    output_field=IntegerField(),
)


def alert_has(field: str) -> bool:
    """Whether ``Alert`` has ``field`` (escalation fields arrive with the escalation work)."""
    try:
        Alert._meta.get_field(field)
    except FieldDoesNotExist:
        return False
    return True


def scoped_alerts(user: User) -> QuerySet[Alert]:
    """Alerts of the residents in ``user``'s scope, no permission check (for services)."""
    return Alert.objects.filter(resident_id__in=scoped_residents(user).values("pk"))


def alerts_for(user: User) -> QuerySet[Alert]:
    """Alerts ``user`` may see: staff with ``DevicePerm.VIEW``, those of the residents
    in scope; a family login, read-only, those of the residents whose alerts its grants
    let it follow (``residents.access.followed_for_alerts``); else ``PermissionDenied``."""
    followed = followed_for_alerts(user)
    if followed is not None:
        if not followed.exists():
            raise PermissionDenied()
        qs = Alert.objects.filter(resident_id__in=followed)
    else:
        require_perm(user, DevicePerm.VIEW)
        qs = scoped_alerts(user)
    return qs.select_related("rule", "resident", "team")


def may_see_alerts(user: User) -> bool:
    """Whether ``user`` may open the alert board at all (see ``alerts_for``)."""
    followed = followed_for_alerts(user)
    if followed is not None:
        return followed.exists()
    return bool(user.has_perm_code(DevicePerm.VIEW))


def get_alert_for(user: User, pk: Any) -> Alert:
    """One visible alert; ``NotFound`` for a missing one and one outside the scope alike."""
    if pk is None or isinstance(pk, bool):
        raise NotFound("alert")
    qs = alerts_for(user)
    if alert_has("device"):
        qs = qs.select_related("device")
    try:
        return qs.get(pk=pk)
    except (Alert.DoesNotExist, ValueError, TypeError):
        raise NotFound("alert") from None


def in_board_order(qs: QuerySet[Alert], live: bool) -> QuerySet[Alert]:
    """Live alerts: critical first, then the oldest first (the one waiting longest); the
    others (handled, closed): the newest first."""
    if live:
        return qs.annotate(severity_rank=SEVERITY_ORDER).order_by(
            "severity_rank", "opened_at", "id"
        )
    return qs.order_by("-opened_at", "-id")


def board_state(qs: QuerySet[Alert]) -> dict[str, Any]:
    """One aggregate query over ``qs`` (the board's filtered, scoped alerts): how many, how
    many critical or urgent alerts wait for someone (open), and ``version``, a token that
    changes whenever an alert of ``qs`` appears, leaves it, folds a new trigger in, changes
    state or (once escalation exists) escalates."""
    aggregates: dict[str, Any] = {
        "n": Count("id"),
        "max_id": Max("id"),
        "triggers": Sum("count"),
        "last": Max("last_triggered_at"),
        "ack": Max("acknowledged_at"),
        "handled": Max("handled_at"),
        "closed": Max("closed_at"),
        "open_critical": Count("id", filter=Q(state=AlertState.OPEN, severity=Severity.CRITICAL)),
        "open_urgent": Count("id", filter=Q(state=AlertState.OPEN, severity=Severity.URGENT)),
    }
    if alert_has("escalation_level"):
        aggregates["escalation"] = Sum("escalation_level")
    found = qs.order_by().aggregate(**aggregates)
    parts = [
        found["n"],
        found["max_id"] or 0,
        found["triggers"] or 0,
        *(
            int(found[key].timestamp() * 1000) if found[key] else 0
            for key in ("last", "ack", "handled", "closed")
        ),
        found.get("escalation") or 0,
    ]
    return {
        "count": found["n"],
        "max_id": found["max_id"] or 0,
        "open_critical": found["open_critical"],
        "open_urgent": found["open_urgent"],
        "version": "-".join(str(p) for p in parts),
    }


def alert_readings(user: User, alert: Alert, limit: int = 50) -> list[Reading]:
    """The readings that triggered a visible alert, newest first. Health data:
    ``ResidentPerm.HEALTH_VIEW`` (else ``PermissionDenied``); handing any out is an audited read
    of the alert."""
    require_perm(user, ResidentPerm.HEALTH_VIEW)
    readings = list(alert.readings.select_related("device").order_by("-measured_at", "-id")[:limit])
    if readings:
        record_read(user, alert, details={"readings": len(readings)})
    return readings


def resident_readings(user: User, resident: Resident, limit: int = 20) -> list[Reading]:
    """A resident's latest device readings (whatever device sent them), newest first.
    ``resident`` comes from ``get_resident_for`` (in scope). Health data: staff with
    ``ResidentPerm.HEALTH_VIEW``, she herself, a family login with the readings right
    (``residents.access.can_view_health``); handing any out is an audited read of the
    resident."""
    if not can_view_health(user, resident):
        raise PermissionDenied()
    readings = list(
        Reading.objects.filter(resident_id=resident.pk)
        .select_related("device")
        .order_by("-measured_at", "-id")[:limit]
    )
    if readings:
        record_read(user, resident, details={"device_readings": len(readings)})
    return readings


def alert_events(alert: Alert) -> list[Any] | None:
    """The alert's event log (``AlertEvent``: escalation steps, notifications, actions),
    oldest first; ``None`` before the escalation work adds the model."""
    from yiyang.devices import models

    model = getattr(models, "AlertEvent", None)
    if model is None:
        return None
    qs = model.objects.filter(alert_id=alert.pk)
    if any(f.name == "actor" for f in model._meta.get_fields()):
        qs = qs.select_related("actor")
    events = list(qs.order_by("at", "pk"))
    for event in events:
        event.text = event_text(alert, event)
    return events


def event_text(alert: Alert, event: Any) -> str:
    """An event's detail in the reader's language: "opened" shows the alert's summary
    (rendered from its facts), "notified" the people notified or that nobody was, and
    "handled" the outcome chosen (stored as its code; older rows as the label they were
    written with)."""
    from yiyang.devices.models import EventKind, Outcome
    from yiyang.devices.summaries import render

    detail = str(event.detail or "")
    if event.kind == EventKind.OPENED:
        return render(alert.facts) or detail
    if event.kind == EventKind.NOTIFIED and not event.recipients:
        return _("nobody to notify at this tier: the next tier is due now")
    if event.kind == EventKind.HANDLED and detail in Outcome.values:
        return str(Outcome(detail).label)
    return detail
