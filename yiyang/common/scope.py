"""A user's data scope, resolved once per request.

Apps turn it into querysets in their own selectors (``network.selectors`` for
institutions and staff; later residents, visits …). Out-of-scope objects answer exactly
like missing ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScopeKind(models.TextChoices):
    ALL = "all", _("Whole deployment")
    REGION = "region", _("Region subtree")
    INSTITUTION = "institution", _("Institution")
    TEAM = "team", _("Team")
    SELF = "self", _("Own records only")


@dataclass(frozen=True)
class DataScope:
    kind: str
    region_prefix: str = ""
    institution_id: int | None = None
    team_id: int | None = None
    user_id: int | None = None

    @property
    def is_all(self) -> bool:
        return self.kind == ScopeKind.ALL

    @property
    def is_nothing(self) -> bool:
        return self.kind == ScopeKind.SELF


NOTHING = DataScope(kind=ScopeKind.SELF)


def scope_of(user) -> DataScope:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    cached = getattr(user, "_data_scope", None)
    if cached is not None:
        return cached
    kind = user.scope_kind
    if kind == ScopeKind.ALL:
        scope = DataScope(kind=kind, user_id=user.pk)
    elif kind == ScopeKind.REGION and user.scope_region_id:
        scope = DataScope(kind=kind, region_prefix=user.scope_region.prefix, user_id=user.pk)
    elif kind == ScopeKind.INSTITUTION and user.scope_institution_id:
        scope = DataScope(kind=kind, institution_id=user.scope_institution_id, user_id=user.pk)
    elif kind == ScopeKind.TEAM and user.scope_team_id:
        scope = DataScope(kind=kind, team_id=user.scope_team_id, user_id=user.pk)
    else:
        scope = DataScope(kind=ScopeKind.SELF, user_id=user.pk)
    user._data_scope = scope
    return scope


def contains(
    outer: DataScope,
    kind: str,
    *,
    region=None,
    institution=None,
    team=None,
) -> bool:
    """Whether a scope of ``kind`` on the given target lies inside ``outer``.

    "all" is inside "all" only; "self" (residents, family) is not tied to a place yet and
    so is inside "all" only, too.
    """
    if outer.is_all:
        return True
    if kind in (ScopeKind.ALL, ScopeKind.SELF):
        return False
    if outer.kind == ScopeKind.REGION:
        if kind == ScopeKind.REGION:
            code = region.code
        elif kind == ScopeKind.INSTITUTION:
            code = institution.region.code
        else:
            code = team.node.region.code
        return code.startswith(outer.region_prefix)
    if outer.kind == ScopeKind.INSTITUTION:
        if kind == ScopeKind.INSTITUTION:
            return institution.pk == outer.institution_id
        if kind == ScopeKind.TEAM:
            node = team.node
            return outer.institution_id in (node.medical_member_id, node.care_member_id)
        return False
    if outer.kind == ScopeKind.TEAM:
        return kind == ScopeKind.TEAM and team.pk == outer.team_id
    return False
