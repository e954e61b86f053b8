"""Reads of family-doctor teams with their grids and members (``NetworkPerm.VIEW``), scoped
to the actor's data scope."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from yiyang.accounts.models import User
from yiyang.common.errors import NotFound
from yiyang.common.permissions import require_perm
from yiyang.common.scope import scope_of
from yiyang.network.models import Team, TeamMember
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.scope import apply_scope, team_q


def teams_for(user: User) -> QuerySet[Team]:
    require_perm(user, NetworkPerm.VIEW)
    qs = Team.objects.select_related("node", "node__region", "leader").prefetch_related(
        "grids",
        Prefetch(
            "memberships",
            queryset=TeamMember.objects.select_related("staff").order_by("staff__name"),
        ),
    )
    return apply_scope(qs, team_q(scope_of(user)))


def get_team_for(user: User, pk: int) -> Team:
    try:
        return teams_for(user).get(pk=pk)
    except Team.DoesNotExist:
        raise NotFound("team") from None
