"""Reading instrument versions."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from yiyang.accounts.models import User
from yiyang.assessments.models import Assessment, InstrumentStatus, InstrumentVersion
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.common.errors import NotFound
from yiyang.common.permissions import Role, perms_for
from yiyang.common.scope import ScopeKind


def current_version(code: str) -> InstrumentVersion | None:
    """The newest active version of ``code`` (highest id), or None."""
    return (
        InstrumentVersion.objects.filter(code=code, status=InstrumentStatus.ACTIVE)
        .order_by("-id")
        .first()
    )


def get_session_for(user: User, pk: Any) -> Assessment:
    """A session whose resident ``user`` may see (scope, audited read) and whose health
    record ``user`` may view; otherwise ``NotFound`` / ``PermissionDenied``."""
    from yiyang.residents.access import require_health_view
    from yiyang.residents.selectors.registry import get_resident_for

    if pk is None or isinstance(pk, bool):
        raise NotFound("assessment")
    try:
        session = Assessment.objects.select_related(
            "instrument", "assessor", "second_assessor", "supersedes"
        ).get(pk=pk)
    except (Assessment.DoesNotExist, ValueError, TypeError):
        raise NotFound("assessment") from None
    try:
        resident = get_resident_for(user, session.resident_id)
    except NotFound:
        raise NotFound("assessment") from None
    require_health_view(user, resident)
    session.resident = resident
    return session


def assessor_candidates(actor: User) -> QuerySet[User]:
    """The assessors ``actor`` may name as second assessor (and so see by name): active
    users holding ``AssessmentPerm.RECORD`` who work where the actor works — the same
    team or institution (by data scope or by staff membership), the actor's region
    subtree for a region scope, anyone for scope "all". The actor is left out."""
    roles = [role for role in Role.values if AssessmentPerm.RECORD in perms_for(role)]
    qs = User.objects.filter(is_active=True, role__in=roles).exclude(pk=actor.pk)
    if actor.scope_kind == ScopeKind.ALL:
        return qs.order_by("display_name", "username")
    q = Q(pk__in=[])
    if actor.scope_team_id:
        team = actor.scope_team_id
        q |= Q(scope_team_id=team) | Q(staff__team_memberships__team_id=team)
    if actor.scope_institution_id:
        inst = actor.scope_institution_id
        q |= Q(scope_institution_id=inst) | Q(staff__memberships__institution_id=inst)
    region = actor.scope_region if actor.scope_region_id else None
    if actor.scope_kind == ScopeKind.REGION and region is not None:
        prefix = region.prefix
        q |= (
            Q(scope_region__code__startswith=prefix)
            | Q(scope_institution__region__code__startswith=prefix)
            | Q(scope_team__node__region__code__startswith=prefix)
        )
    staff = actor.staff if actor.staff_id else None
    if staff is not None:
        q |= Q(staff__memberships__institution__in=staff.institutions.all()) | Q(
            staff__team_memberships__team__in=staff.teams.all()
        )
    ids = qs.filter(q).values("pk")
    return User.objects.filter(pk__in=ids).order_by("display_name", "username")


def can_assess(user: User, resident: Any) -> bool:
    """Whether ``user`` could take part in an assessment of ``resident``: record
    assessments, see her health record, and have her in their data scope (the second
    assessor must be able to open and sign the session)."""
    from yiyang.residents.access import can_view_health
    from yiyang.residents.selectors.registry import scoped_residents

    pk = getattr(resident, "pk", resident)
    if not user.has_perm_code(AssessmentPerm.RECORD):
        return False
    found = scoped_residents(user).filter(pk=pk).first()
    return found is not None and can_view_health(user, found)
