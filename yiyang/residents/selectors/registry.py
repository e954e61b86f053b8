"""Reads of residents, always scoped to the acting user's data scope.

Scope rules (``yiyang.common.scope.DataScope``):

* ``all`` — every resident.
* ``region`` — residents whose village code starts with the scope's prefix.
* ``institution`` — residents whose village code starts with the significant prefix of the
  institution's region (a township hospital sees its township, a village clinic its
  village, a county hospital its county), plus the residents in its institutional care.
* ``team`` — residents whose grid is served by the team.
* ``self`` — the resident whose own login it is, and the residents a family login holds
  an active proxy grant for (its consent not withdrawn, and the resident's consent to
  sharing with family active). Withdrawal takes effect on the next query.

Merged records (``status = merged``) are left out of lists; ``get_resident_for`` still
finds them so that an old link can say where the record went.

``get_resident_for`` answers ``NotFound`` for a missing and an out-of-scope resident alike,
and records the read in the audit trail.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from yiyang.accounts.models import User
from yiyang.audit.services import record_read
from yiyang.common.errors import NotFound, ValidationFailed
from yiyang.common.permissions import PUBLIC_ROLES, require_perm
from yiyang.common.scope import DataScope, ScopeKind, scope_of
from yiyang.network.models import Grid, Institution, Region
from yiyang.residents.access import proxied_resident_ids
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import CareSetting, Resident, ResidentStatus
from yiyang.residents.permissions import ResidentPerm

_NOTHING = Q(pk__in=[])


def _institution_prefix(institution_id: int | None) -> str | None:
    inst = Institution.objects.select_related("region").filter(pk=institution_id or 0).first()
    return inst.region.prefix if inst is not None else None


def resident_q(scope: DataScope) -> Q | None:
    """The filter on ``Resident`` for ``scope``; ``None`` means everything."""
    if scope.kind == ScopeKind.ALL:
        return None
    if scope.kind == ScopeKind.REGION:
        return Q(region_code__startswith=scope.region_prefix)
    if scope.kind == ScopeKind.INSTITUTION:
        prefix = _institution_prefix(scope.institution_id)
        if prefix is None:
            return _NOTHING
        return Q(region_code__startswith=prefix) | Q(
            care_setting=CareSetting.INSTITUTION, institution_id=scope.institution_id
        )
    if scope.kind == ScopeKind.TEAM:
        served = Grid.objects.filter(teams__pk=scope.team_id or 0).values("pk")
        return Q(grid_id__in=served)
    if scope.user_id is not None:
        return Q(account_id=scope.user_id) | Q(pk__in=proxied_resident_ids(scope.user_id))
    return _NOTHING


def village_q(scope: DataScope) -> Q | None:
    """The filter on ``Region`` for the villages a resident of ``scope`` may live in."""
    if scope.kind == ScopeKind.ALL:
        return None
    if scope.kind == ScopeKind.REGION:
        return Q(code__startswith=scope.region_prefix)
    if scope.kind == ScopeKind.INSTITUTION:
        prefix = _institution_prefix(scope.institution_id)
        return _NOTHING if prefix is None else Q(code__startswith=prefix)
    if scope.kind == ScopeKind.TEAM:
        served = Grid.objects.filter(teams__pk=scope.team_id or 0).values("village_id")
        return Q(pk__in=served)
    return _NOTHING


def village_in_scope(user: User, region: Region) -> bool:
    q = village_q(scope_of(user))
    return q is None or Region.objects.filter(q, pk=region.pk).exists()


def scoped_residents(user: User) -> QuerySet[Resident]:
    """Residents in ``user``'s scope, without the permission check (for services). A
    resident or family login is held to "self" whatever scope its account says."""
    scope = scope_of(user)
    if getattr(user, "role", None) in PUBLIC_ROLES:
        scope = DataScope(kind=ScopeKind.SELF, user_id=user.pk)
    q = resident_q(scope)
    qs = Resident.objects.all()
    return qs if q is None else qs.filter(q)


def can_view_residents(user: User) -> bool:
    """Staff with ``ResidentPerm.VIEW``, and resident/family logins (scope "self")."""
    return bool(
        getattr(user, "is_authenticated", False)
        and (user.has_perm_code(ResidentPerm.VIEW) or user.role in PUBLIC_ROLES)
    )


def residents_for(user: User, *, include_merged: bool = False) -> QuerySet[Resident]:
    """Residents ``user`` may see (``ResidentPerm.VIEW`` or a resident/family login whose
    "self" scope applies, else ``PermissionDenied``); merged records left out unless
    ``include_merged``."""
    if not can_view_residents(user):
        require_perm(user, ResidentPerm.VIEW)
    qs = scoped_residents(user).select_related("region", "grid")
    if not include_merged:
        qs = qs.exclude(status=ResidentStatus.MERGED)
    return qs


def get_resident_for(user: User, pk: Any) -> Resident:
    """One resident in scope (``NotFound`` otherwise); the read is audited."""
    qs = residents_for(user, include_merged=True).select_related("household", "institution")
    try:
        resident = qs.get(pk=pk)
    except (Resident.DoesNotExist, ValueError, TypeError):
        raise NotFound("resident") from None
    record_read(user, resident)
    return resident


def locked_resident_for(actor: User, resident: Any, *, merged_detail: str) -> Resident:
    """For a write: the resident (an instance or a pk) in ``actor``'s scope, locked for
    the rest of the transaction; missing or out of scope → ``NotFound``; a merged record
    takes no new entries (``ValidationFailed`` with ``merged_detail``)."""
    pk = resident.pk if isinstance(resident, Resident) else resident
    if pk is None or isinstance(pk, bool):
        raise NotFound("resident")
    try:
        found = scoped_residents(actor).select_for_update(no_key=True).get(pk=pk)
    except (Resident.DoesNotExist, ValueError, TypeError):
        raise NotFound("resident") from None
    if found.status == ResidentStatus.MERGED:
        raise ValidationFailed(ResidentError.MERGED, merged_detail, field="resident")
    return found
