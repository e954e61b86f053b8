"""The data scope of the care network as query filters: one ``*_q`` per model and
``in_scope``, the check services use to test "is this target visible".

Scope rules (``yiyang.common.scope.DataScope``):

* ``all`` — everything.
* ``region`` — objects whose region code starts with the scope's prefix: institutions,
  nodes, alliances and grids (via the village) by their region; staff via the region of an
  institution they are a member of; teams via their home node; agreements when either
  party is visible; regions of the subtree.
* ``institution`` — the institution; the chain nodes it is a member of (medical or care);
  if it leads centers, those centers and their stations; the member institutions of those
  nodes; staff with a membership there; the teams of those nodes; the grids those teams
  serve and the grids in the villages of its stations.
* ``team`` — the team, its home node and the stations in the villages of the grids it
  serves, those nodes' member institutions, the team's members and the grids it serves.
* ``self`` — nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from yiyang.accounts.models import User
from yiyang.common.scope import DataScope, ScopeKind, scope_of
from yiyang.network.models import (
    Agreement,
    Alliance,
    ChainNode,
    Grid,
    Institution,
    NodeLevel,
    Region,
    Staff,
    StaffMembership,
    Team,
    TeamMember,
)

# Each ``*_q`` returns a filter for the model's own queryset. ``None`` means "everything".
# Filters use subqueries (never Python lists) so every list is one SQL statement.

_NOTHING = Q(pk__in=[])


def _id(value: int | None) -> int:
    """A scope's target id (never None for its kind; 0 matches nothing just in case)."""
    return value if value is not None else 0


def node_q(scope: DataScope) -> Q | None:
    if scope.kind == ScopeKind.ALL:
        return None
    if scope.kind == ScopeKind.REGION:
        return Q(region__code__startswith=scope.region_prefix)
    if scope.kind == ScopeKind.INSTITUTION:
        inst = _id(scope.institution_id)
        return (
            Q(medical_member_id=inst)
            | Q(care_member_id=inst)
            | Q(lead_id=inst)
            | Q(center__lead_id=inst)
        )
    if scope.kind == ScopeKind.TEAM:
        # The home node, and the stations of the villages the team's grids lie in: the
        # places where the team actually works.
        served = Grid.objects.filter(teams__pk=_id(scope.team_id)).values("village_id")
        return Q(pk__in=Team.objects.filter(pk=_id(scope.team_id)).values("node_id")) | Q(
            level=NodeLevel.STATION, region_id__in=served
        )
    return _NOTHING


def _scoped_nodes(scope: DataScope) -> QuerySet[ChainNode]:
    q = node_q(scope)
    qs = ChainNode.objects.all()
    return qs if q is None else qs.filter(q)


def institution_q(scope: DataScope) -> Q | None:
    if scope.kind == ScopeKind.ALL:
        return None
    if scope.kind == ScopeKind.REGION:
        return Q(region__code__startswith=scope.region_prefix)
    if scope.kind in (ScopeKind.INSTITUTION, ScopeKind.TEAM):
        nodes = _scoped_nodes(scope)
        q = Q(pk__in=nodes.values("medical_member_id")) | Q(pk__in=nodes.values("care_member_id"))
        if scope.kind == ScopeKind.INSTITUTION:
            q |= Q(pk=_id(scope.institution_id))
        return q
    return _NOTHING


def _scoped_institutions(scope: DataScope) -> QuerySet[Institution]:
    q = institution_q(scope)
    qs = Institution.objects.all()
    return qs if q is None else qs.filter(q)


def team_q(scope: DataScope) -> Q | None:
    if scope.kind == ScopeKind.ALL:
        return None
    if scope.kind == ScopeKind.REGION:
        return Q(node__region__code__startswith=scope.region_prefix)
    if scope.kind == ScopeKind.INSTITUTION:
        return Q(node__in=_scoped_nodes(scope).values("pk"))
    if scope.kind == ScopeKind.TEAM:
        return Q(pk=_id(scope.team_id))
    return _NOTHING


def _scoped_teams(scope: DataScope) -> QuerySet[Team]:
    q = team_q(scope)
    qs = Team.objects.all()
    return qs if q is None else qs.filter(q)


def staff_q(scope: DataScope) -> Q | None:
    if scope.kind == ScopeKind.ALL:
        return None
    if scope.kind == ScopeKind.REGION:
        members = StaffMembership.objects.filter(
            institution__region__code__startswith=scope.region_prefix
        )
        return Q(pk__in=members.values("staff_id"))
    if scope.kind == ScopeKind.INSTITUTION:
        members = StaffMembership.objects.filter(institution_id=_id(scope.institution_id))
        return Q(pk__in=members.values("staff_id"))
    if scope.kind == ScopeKind.TEAM:
        team_members = TeamMember.objects.filter(team_id=_id(scope.team_id))
        leaders = Team.objects.filter(pk=_id(scope.team_id))
        return Q(pk__in=team_members.values("staff_id")) | Q(pk__in=leaders.values("leader_id"))
    return _NOTHING


def agreement_q(scope: DataScope) -> Q | None:
    if scope.kind == ScopeKind.ALL:
        return None
    if scope.kind == ScopeKind.SELF:
        return _NOTHING
    visible = _scoped_institutions(scope).values("pk")
    return Q(party_a__in=visible) | Q(party_b__in=visible)


def grid_q(scope: DataScope) -> Q | None:
    if scope.kind == ScopeKind.ALL:
        return None
    if scope.kind == ScopeKind.REGION:
        return Q(village__code__startswith=scope.region_prefix)
    if scope.kind == ScopeKind.INSTITUTION:
        served = Team.grids.through.objects.filter(team__in=_scoped_teams(scope).values("pk"))
        stations = _scoped_nodes(scope).filter(level=NodeLevel.STATION)
        return Q(pk__in=served.values("grid_id")) | Q(village__in=stations.values("region_id"))
    if scope.kind == ScopeKind.TEAM:
        served = Team.grids.through.objects.filter(team_id=_id(scope.team_id))
        return Q(pk__in=served.values("grid_id"))
    return _NOTHING


def region_q(scope: DataScope) -> Q | None:
    if scope.kind == ScopeKind.ALL:
        return None
    if scope.kind == ScopeKind.REGION:
        return Q(code__startswith=scope.region_prefix)
    if scope.kind in (ScopeKind.INSTITUTION, ScopeKind.TEAM):
        return (
            Q(pk__in=_scoped_institutions(scope).values("region_id"))
            | Q(pk__in=_scoped_nodes(scope).values("region_id"))
            | Q(pk__in=_scoped_grids(scope).values("village_id"))
        )
    return _NOTHING


def _scoped_grids(scope: DataScope) -> QuerySet[Grid]:
    q = grid_q(scope)
    qs = Grid.objects.all()
    return qs if q is None else qs.filter(q)


def alliance_q(scope: DataScope) -> Q | None:
    if scope.kind == ScopeKind.ALL:
        return None
    if scope.kind == ScopeKind.REGION:
        return Q(region__code__startswith=scope.region_prefix)
    if scope.kind in (ScopeKind.INSTITUTION, ScopeKind.TEAM):
        visible = _scoped_institutions(scope).values("pk")
        through = Alliance.members.through.objects.filter(institution_id__in=visible)
        return Q(lead_id__in=visible) | Q(pk__in=through.values("alliance_id"))
    return _NOTHING


def apply_scope(qs: QuerySet, q: Q | None) -> QuerySet:
    """``qs`` filtered by a scope filter (``None``: unfiltered)."""
    return qs if q is None else qs.filter(q)


# Which check applies to which model: used by services to test "is this target visible".
def in_scope(user: User, obj: Any) -> bool:
    """Whether ``obj`` (a network model instance) lies inside ``user``'s data scope."""
    scope = scope_of(user)
    q_for = {
        Region: region_q,
        Grid: grid_q,
        Institution: institution_q,
        Alliance: alliance_q,
        ChainNode: node_q,
        Agreement: agreement_q,
        Staff: staff_q,
        Team: team_q,
    }[type(obj)]
    q = q_for(scope)
    if q is None:
        return True
    return type(obj).objects.filter(q, pk=obj.pk).exists()
