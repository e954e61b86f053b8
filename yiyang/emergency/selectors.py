"""Reads of emergency calls, always scoped (ADR 0022).

A call is visible to a holder of ``EmergencyPerm.CALL`` when its resident is in the
actor's scope (``yiyang.residents.selectors.scoped_residents``); a call not yet tied to a
resident only to whoever opened or took it, and to scope "all". Missing and out of scope
answer the same ``NotFound``.

``resident_card`` is what the dispatcher's screen "pops up": the resident's registry
facts, team, health record summary, latest device readings and contacts. Handing it out
is an audited read of the resident (``residents.resident.read``, reason "emergency call").
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.audit.services import record_read
from yiyang.common import crypto
from yiyang.common.errors import NotFound
from yiyang.common.permissions import require_perm
from yiyang.common.scope import ScopeKind, scope_of
from yiyang.devices.models import Device, Reading
from yiyang.emergency.models import CallStep, EmergencyCall
from yiyang.emergency.permissions import EmergencyPerm
from yiyang.network.models import Team
from yiyang.residents.models import (
    Allergy,
    Condition,
    ConditionStatus,
    Contact,
    Medication,
    Resident,
)
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.registry import scoped_residents

READINGS_SCANNED = 50


def call_q(actor: User) -> Q | None:
    """The filter on ``EmergencyCall`` for ``actor`` (see the module docstring); ``None``
    means every call."""
    if scope_of(actor).kind == ScopeKind.ALL:
        return None
    unknown = Q(resident__isnull=True) & (Q(opened_by=actor) | Q(taken_by=actor))
    return Q(resident_id__in=scoped_residents(actor).values("pk")) | unknown


def calls_for(actor: User) -> QuerySet[EmergencyCall]:
    """Calls ``actor`` may see (``EmergencyPerm.CALL``, else ``PermissionDenied``)."""
    require_perm(actor, EmergencyPerm.CALL)
    qs = EmergencyCall.objects.select_related(
        "resident", "resident__grid", "alert", "alert__rule", "opened_by", "taken_by", "closed_by"
    )
    q = call_q(actor)
    return qs if q is None else qs.filter(q)


def get_call_for(actor: User, pk: Any) -> EmergencyCall:
    """One call in scope; missing and out of scope answer the same ``NotFound``."""
    pk = pk.pk if isinstance(pk, EmergencyCall) else pk
    if pk is None or isinstance(pk, bool):
        raise NotFound("call")
    try:
        return calls_for(actor).get(pk=pk)
    except (EmergencyCall.DoesNotExist, ValueError, TypeError):
        raise NotFound("call") from None


def other_open_calls(actor: User, call: EmergencyCall) -> list[EmergencyCall]:
    """The resident's other open calls the actor may see, oldest first: a second call for
    her is never refused (it may be a new emergency) but is flagged (ADR 0022)."""
    if call.resident_id is None or call.state != "open":
        return []
    return list(
        calls_for(actor)
        .filter(resident_id=call.resident_id, state="open")
        .exclude(pk=call.pk)
        .order_by("opened_at", "pk")
    )


def steps_of(call: EmergencyCall) -> QuerySet[CallStep]:
    return call.steps.select_related("by")


def alert_device(call: EmergencyCall) -> Device | None:
    """The device whose reading raised the call's alert (the first one)."""
    if call.alert_id is None:
        return None
    reading = (
        Reading.objects.filter(alerts__pk=call.alert_id)
        .select_related("device")
        .order_by("measured_at", "pk")
        .first()
    )
    return reading.device if reading is not None else None


@dataclass
class ResidentCard:
    resident: Resident
    age: int
    address: str  # hers, else her household's
    phone_masked: str
    teams: list[Team]
    contacts: list[Contact]
    health_visible: bool
    conditions: list[Condition] = field(default_factory=list)
    medications: list[Medication] = field(default_factory=list)
    allergies: list[Allergy] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)  # the latest of each kind
    devices: list[Device] = field(default_factory=list)


def _current(medication: Medication, today: datetime.date) -> bool:
    return medication.end is None or medication.end >= today


def resident_card(actor: User, call: EmergencyCall) -> ResidentCard | None:
    """The resident of a visible call, for the dispatcher's screen (``None`` while the
    call has no resident). The health record and readings need ``ResidentPerm.HEALTH_VIEW``.
    Contacts' phones are masked, as on the resident's page."""
    if call.resident_id is None:
        return None
    resident = (
        scoped_residents(actor)
        .select_related("region", "grid", "household")
        .filter(pk=call.resident_id)
        .first()
    )
    if resident is None:  # the call is visible through its opener, the resident not
        raise NotFound("resident")
    today = timezone.localdate()
    teams = (
        list(Team.objects.filter(grids=resident.grid_id).order_by("pk")) if resident.grid_id else []
    )
    contacts = list(Contact.objects.filter(resident=resident))
    for contact in contacts:
        contact.phone_masked = crypto.mask_phone(contact.phone) if contact.phone else ""  # type: ignore[attr-defined]
    card = ResidentCard(
        resident=resident,
        age=resident.age_on(today),
        address=resident.address or (resident.household.address if resident.household else ""),
        phone_masked=crypto.mask_phone(resident.phone) if resident.phone else "",
        teams=teams,
        contacts=contacts,
        health_visible=bool(actor.has_perm_code(ResidentPerm.HEALTH_VIEW)),
        devices=list(Device.objects.filter(resident=resident).order_by("serial")),
    )
    if card.health_visible:
        card.conditions = list(
            Condition.objects.filter(resident=resident).exclude(status=ConditionStatus.RESOLVED)
        )
        card.medications = [
            m for m in Medication.objects.filter(resident=resident) if _current(m, today)
        ]
        card.allergies = list(Allergy.objects.filter(resident=resident))
        latest: dict[str, Reading] = {}
        for reading in Reading.objects.filter(resident=resident).order_by("-measured_at", "-id")[
            :READINGS_SCANNED
        ]:
            latest.setdefault(reading.kind, reading)
        card.readings = list(latest.values())
    record_read(
        actor,
        resident,
        "emergency call",
        details={"call": call.pk, "health": card.health_visible},
    )
    return card
