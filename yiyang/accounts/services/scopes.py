"""Role and data scope of an account: the scope a system administrator chooses, checked
against the role's rules and the actor's own scope, and applied to the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from yiyang.accounts.errors import AccountError
from yiyang.accounts.models import User
from yiyang.common.errors import ValidationFailed
from yiyang.common.permissions import ADMIN_ROLES, PUBLIC_ROLES, STAFF_ROLES, Role
from yiyang.common.scope import ScopeKind, contains, scope_of


@dataclass(frozen=True)
class ScopeChoice:
    kind: str
    region: Any = None
    institution: Any = None
    team: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "region": self.region.code if self.region else None,
            "institution": self.institution.pk if self.institution else None,
            "team": self.team.pk if self.team else None,
        }


def scope_of_user(user: User) -> ScopeChoice:
    """The user's current role scope as a ``ScopeChoice``."""
    return ScopeChoice(
        kind=user.scope_kind,
        region=user.scope_region,
        institution=user.scope_institution,
        team=user.scope_team,
    )


def scope_models() -> tuple[Any, Any, Any]:
    """The models a data scope names (institution, region, team), read off ``User``'s
    foreign keys."""
    field = User._meta.get_field
    return (
        field("scope_institution").related_model,
        field("scope_region").related_model,
        field("scope_team").related_model,
    )


def resolve_scope(
    actor: User | None,
    role: str,
    kind: str | None,
    region_code: str | None,
    institution_id: int | None,
    team_id: int | None,
) -> ScopeChoice:
    """Check role and scope against the rules and the actor's own scope.

    A target outside the actor's scope is reported exactly like a missing one.
    """
    # The network's models through the user's own foreign keys: accounts sits below the
    # network app and imports none of it (ADR 0024).
    Institution, Region, Team = scope_models()

    if role not in Role.values:
        raise ValidationFailed(
            AccountError.INVALID_ROLE, _("Unknown role %(role)s.") % {"role": role}, field="role"
        )
    kind = kind or ""
    if role in PUBLIC_ROLES:
        if kind not in ("", ScopeKind.SELF):
            raise ValidationFailed(
                AccountError.SCOPE_NOT_ALLOWED,
                _("Residents and family members can only have the scope 'own records only'."),
                field="scope_kind",
            )
        kind = ScopeKind.SELF
    elif role in STAFF_ROLES:
        if kind not in (ScopeKind.REGION, ScopeKind.INSTITUTION, ScopeKind.TEAM):
            raise ValidationFailed(
                AccountError.SCOPE_REQUIRED,
                _("Staff roles need a region, institution or team as data scope."),
                field="scope_kind",
            )
    elif role in ADMIN_ROLES and kind not in (ScopeKind.ALL, ScopeKind.REGION):
        raise ValidationFailed(
            AccountError.SCOPE_NOT_ALLOWED,
            _("Administrators have the whole deployment or a region as data scope."),
            field="scope_kind",
        )
    outer = scope_of(actor) if actor is not None else None
    choice = ScopeChoice(kind=kind)
    if kind == ScopeKind.REGION:
        code = (region_code or "").strip()
        if not code:
            raise ValidationFailed(
                AccountError.SCOPE_REGION_MISSING,
                _("Enter the region code of the scope."),
                field="scope_region",
            )
        region = Region.objects.filter(code=code).first()
        if region is None or (outer is not None and not contains(outer, kind, region=region)):
            raise ValidationFailed(
                AccountError.UNKNOWN_REGION,
                _("There is no region with code %(code)s.") % {"code": code},
                field="scope_region",
            )
        choice = ScopeChoice(kind=kind, region=region)
    elif kind == ScopeKind.INSTITUTION:
        if not institution_id:
            raise ValidationFailed(
                AccountError.SCOPE_INSTITUTION_MISSING,
                _("Choose the institution of the scope."),
                field="scope_institution",
            )
        institution = Institution.objects.select_related("region").filter(pk=institution_id).first()
        if institution is None or (
            outer is not None and not contains(outer, kind, institution=institution)
        ):
            raise ValidationFailed(
                AccountError.UNKNOWN_INSTITUTION,
                _("There is no institution with id %(id)s.") % {"id": institution_id},
                field="scope_institution",
            )
        choice = ScopeChoice(kind=kind, institution=institution)
    elif kind == ScopeKind.TEAM:
        if not team_id:
            raise ValidationFailed(
                AccountError.SCOPE_TEAM_MISSING,
                _("Choose the team of the scope."),
                field="scope_team",
            )
        team = Team.objects.select_related("node__region").filter(pk=team_id).first()
        if team is None or (outer is not None and not contains(outer, kind, team=team)):
            raise ValidationFailed(
                AccountError.UNKNOWN_TEAM,
                _("There is no team with id %(id)s.") % {"id": team_id},
                field="scope_team",
            )
        choice = ScopeChoice(kind=kind, team=team)
    elif kind in (ScopeKind.ALL, ScopeKind.SELF):
        if outer is not None and not contains(outer, kind):
            raise ValidationFailed(
                AccountError.SCOPE_OUTSIDE,
                _("This scope is wider than your own data scope."),
                field="scope_kind",
            )
    else:
        raise ValidationFailed(
            AccountError.INVALID_SCOPE,
            _("Unknown data scope %(kind)s.") % {"kind": kind},
            field="scope_kind",
        )
    return choice


def apply_scope(user: User, role: str, choice: ScopeChoice) -> None:
    """Set role and scope on the user (not saved)."""
    user.role = role
    user.scope_kind = choice.kind
    user.scope_region = choice.region
    user.scope_institution = choice.institution
    user.scope_team = choice.team
