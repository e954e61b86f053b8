"""Reads of accounts, always filtered by the acting user's permission and data scope.

A user account is visible to a system or security administrator when the account's own
scope lies inside the administrator's (see ``scope.contains``). Accounts outside it answer
exactly like missing ones.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from yiyang.accounts import lockout
from yiyang.accounts.models import User
from yiyang.accounts.permissions import AccountPerm
from yiyang.common.errors import NotFound
from yiyang.common.scope import DataScope, ScopeKind, scope_of


def _scope_filter(scope: DataScope) -> Q | None:
    """The accounts whose scope lies inside ``scope`` (None: every account)."""
    if scope.is_all:
        return None
    if scope.kind == ScopeKind.REGION:
        prefix = scope.region_prefix
        return (
            Q(scope_kind=ScopeKind.REGION, scope_region__code__startswith=prefix)
            | Q(
                scope_kind=ScopeKind.INSTITUTION, scope_institution__region__code__startswith=prefix
            )
            | Q(scope_kind=ScopeKind.TEAM, scope_team__node__region__code__startswith=prefix)
        )
    if scope.kind == ScopeKind.INSTITUTION:
        inst = scope.institution_id
        return (
            Q(scope_kind=ScopeKind.INSTITUTION, scope_institution_id=inst)
            | Q(scope_kind=ScopeKind.TEAM, scope_team__node__medical_member_id=inst)
            | Q(scope_kind=ScopeKind.TEAM, scope_team__node__care_member_id=inst)
        )
    if scope.kind == ScopeKind.TEAM:
        return Q(scope_kind=ScopeKind.TEAM, scope_team_id=scope.team_id)
    return Q(pk__in=[])


def can_see_accounts(actor) -> bool:
    return actor.has_perm_code(AccountPerm.MANAGE) or actor.has_perm_code(AccountPerm.SECURITY)


def users_for(actor) -> QuerySet[User]:
    """Accounts the actor may see: none unless they manage accounts or security."""
    if not getattr(actor, "is_authenticated", False) or not can_see_accounts(actor):
        return User.objects.none()
    rows = User.objects.select_related("scope_region", "scope_institution", "scope_team")
    condition = _scope_filter(scope_of(actor))
    if condition is not None:
        rows = rows.filter(condition)
    return rows.order_by("username")


def get_user_for(actor, pk: int) -> User:
    try:
        return users_for(actor).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound("user") from None


def is_visible(actor, user: User) -> bool:
    return users_for(actor).filter(pk=user.pk).exists()


def locks_for(actor) -> list[lockout.Lock]:
    """Locked (username, address) pairs the security administrator may see and unlock:
    those of visible accounts, and of unknown usernames for a deployment-wide scope."""
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm_code(
        AccountPerm.SECURITY
    ):
        return []
    locks = lockout.current_locks()
    if not locks:
        return []
    names = {lock.username for lock in locks}
    visible = set(users_for(actor).filter(username__in=names).values_list("username", flat=True))
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    see_unknown = scope_of(actor).is_all
    return [
        lock
        for lock in locks
        if lock.username in visible or (see_unknown and lock.username not in existing)
    ]
