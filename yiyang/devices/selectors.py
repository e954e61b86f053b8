"""Reads of the device registry, always scoped to the acting user's data scope.

Scope rules (``yiyang.accounts.scope.DataScope``):

* **Managed devices** (what a write may touch): devices whose owner institution lies in
  the actor's scope (the institutions ``yiyang.network.selectors`` shows: "all" every
  one, "region" those of the subtree, "institution" its own and its chain nodes' members,
  "team" the member institutions of the team's nodes).
* **Visible devices** (what a read shows): the managed ones, plus the devices bound now to
  a resident in the actor's scope (``yiyang.residents.selectors``) — so a family-doctor
  team sees the devices of the residents of its grids whoever owns them.
* **Quarantine**: the refused messages of visible devices. A message naming no known
  device (``unknown_device``: no device row) has no owner and no resident; it is shown to
  scope "all", and to a region scope of a county or wider when the serial it claims
  carries a county code in that region (``BP-411521-000123`` → 411521). Nobody else
  sees it (an institution or team cannot be tied to a serial nobody registered).

``get_*_for`` raise ``NotFound`` for a missing device and one outside the scope alike.
``latest_readings`` (health data) writes an audit row (``devices.device.read``) when it
hands out any reading.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from yiyang.accounts.models import ScopeKind
from yiyang.accounts.roles import Perm
from yiyang.accounts.scope import scope_of
from yiyang.audit.services import record_read
from yiyang.common.errors import NotFound
from yiyang.devices.models import Binding, Device, Quarantine, Reading
from yiyang.network.models import Institution

# The network app's institution filter: the one definition of "institution in scope".
from yiyang.network.selectors import _institution_q, require_perm
from yiyang.residents.selectors import scoped_residents

_NOTHING = Q(pk__in=[])
COUNTY_DIGITS = 6


def _owner_q(user: Any) -> Q | None:
    """The filter on ``Device`` for the devices ``user`` manages; ``None``: every one."""
    scope = scope_of(user)
    if scope.kind == ScopeKind.SELF:
        return _NOTHING
    q = _institution_q(scope)
    if q is None:
        return None
    return Q(institution_id__in=Institution.objects.filter(q).values("pk"))


def _visible_q(user: Any) -> Q | None:
    scope = scope_of(user)
    if scope.kind == ScopeKind.SELF:
        return _NOTHING
    owner = _owner_q(user)
    if owner is None:
        return None
    return owner | Q(resident_id__in=scoped_residents(user).values("pk"))


def managed_devices(user: Any) -> QuerySet[Device]:
    """Devices ``user`` may change (owner institution in scope), no permission check (for
    services, which check it themselves)."""
    q = _owner_q(user)
    qs = Device.objects.all()
    return qs if q is None else qs.filter(q)


def devices_for(user: Any) -> QuerySet[Device]:
    """Devices ``user`` may see (``Perm.DEVICE_VIEW``)."""
    require_perm(user, Perm.DEVICE_VIEW)
    q = _visible_q(user)
    qs = Device.objects.select_related("institution", "resident")
    return qs if q is None else qs.filter(q)


def get_device_for(user: Any, pk: Any) -> Device:
    try:
        return devices_for(user).get(pk=pk)
    except (Device.DoesNotExist, ValueError, TypeError):
        raise NotFound("device") from None


def can_manage(user: Any, device: Device) -> bool:
    """Whether ``user`` holds ``Perm.DEVICE_MANAGE`` and owns ``device`` by scope."""
    if not user.has_perm_code(Perm.DEVICE_MANAGE):
        return False
    return managed_devices(user).filter(pk=device.pk).exists()


def bindings_of(device: Device) -> QuerySet[Binding]:
    """A visible device's binding history, newest first."""
    return device.bindings.select_related("resident", "bound_by", "unbound_by")


def latest_readings(user: Any, device: Device, limit: int = 50) -> list[Reading]:
    """A visible device's latest readings (newest measurement first). Readings are health
    data: they need ``Perm.HEALTH_VIEW`` (else ``PermissionDenied``), and handing any out
    is an audited read of the device naming the residents they belong to."""
    require_perm(user, Perm.HEALTH_VIEW)
    readings = list(device.readings.select_related("resident")[:limit])
    if readings:
        residents = sorted({r.resident_id for r in readings})
        record_read(user, device, details={"readings": len(readings), "residents": residents})
    return readings


def _unknown_q(user: Any) -> Q:
    scope = scope_of(user)
    unknown = Q(device__isnull=True)
    if scope.kind == ScopeKind.ALL:
        return unknown
    prefix = scope.region_prefix
    if scope.kind == ScopeKind.REGION and prefix.isdigit() and len(prefix) <= COUNTY_DIGITS:
        return unknown & Q(serial__regex=rf"^[A-Z0-9]+-{prefix}[0-9]*-")
    return _NOTHING


def quarantine_for(user: Any) -> QuerySet[Quarantine]:
    """Refused messages ``user`` may see (``Perm.DEVICE_QUARANTINE``): see the module
    docstring for the rows that name no known device."""
    require_perm(user, Perm.DEVICE_QUARANTINE)
    qs = Quarantine.objects.select_related("device")
    visible = _visible_q(user)
    if visible is None:
        return qs
    devices = Device.objects.filter(visible).values("pk")
    return qs.filter(Q(device_id__in=devices) | _unknown_q(user))
