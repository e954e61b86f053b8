"""Reads of the care network, always scoped to the acting user's data scope.

Every function checks the permission first (``NetworkPerm.VIEW``; ``NetworkPerm.STAFF_VIEW`` for
staff) and raises ``PermissionDenied`` without it. ``get_*_for`` raise ``NotFound`` for a
missing object and for one outside the scope alike.

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

The duty roster (``DutyShift``, at the end) is read with ``NetworkPerm.STAFF_VIEW``, its
shifts scoped by their institution. Three reads there take no actor: ``duty_doctors``,
``center_institutions`` and ``doctors_of`` answer the alert escalation (the system), which
notifies whoever they name.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import NotFound
from yiyang.common.permissions import Role, require_perm
from yiyang.common.scope import DataScope, ScopeKind, scope_of
from yiyang.network.models import (
    Agreement,
    Alliance,
    ChainNode,
    DutyShift,
    Grid,
    Institution,
    NodeLevel,
    Region,
    Staff,
    StaffMembership,
    Team,
    TeamMember,
)
from yiyang.network.permissions import NetworkPerm

# --- scope as Q objects -----------------------------------------------------------------
# Each ``_*_q`` returns a filter for the model's own queryset. ``None`` means "everything".
# Filters use subqueries (never Python lists) so every list is one SQL statement.

_NOTHING = Q(pk__in=[])


def _id(value: int | None) -> int:
    """A scope's target id (never None for its kind; 0 matches nothing just in case)."""
    return value if value is not None else 0


def _node_q(scope: DataScope) -> Q | None:
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
    q = _node_q(scope)
    qs = ChainNode.objects.all()
    return qs if q is None else qs.filter(q)


def _institution_q(scope: DataScope) -> Q | None:
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
    q = _institution_q(scope)
    qs = Institution.objects.all()
    return qs if q is None else qs.filter(q)


def _team_q(scope: DataScope) -> Q | None:
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
    q = _team_q(scope)
    qs = Team.objects.all()
    return qs if q is None else qs.filter(q)


def _staff_q(scope: DataScope) -> Q | None:
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


def _agreement_q(scope: DataScope) -> Q | None:
    if scope.kind == ScopeKind.ALL:
        return None
    if scope.kind == ScopeKind.SELF:
        return _NOTHING
    visible = _scoped_institutions(scope).values("pk")
    return Q(party_a__in=visible) | Q(party_b__in=visible)


def _grid_q(scope: DataScope) -> Q | None:
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


def _region_q(scope: DataScope) -> Q | None:
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
    q = _grid_q(scope)
    qs = Grid.objects.all()
    return qs if q is None else qs.filter(q)


def _alliance_q(scope: DataScope) -> Q | None:
    if scope.kind == ScopeKind.ALL:
        return None
    if scope.kind == ScopeKind.REGION:
        return Q(region__code__startswith=scope.region_prefix)
    if scope.kind in (ScopeKind.INSTITUTION, ScopeKind.TEAM):
        visible = _scoped_institutions(scope).values("pk")
        through = Alliance.members.through.objects.filter(institution_id__in=visible)
        return Q(lead_id__in=visible) | Q(pk__in=through.values("alliance_id"))
    return _NOTHING


def _apply(qs: QuerySet, q: Q | None) -> QuerySet:
    return qs if q is None else qs.filter(q)


# Which check applies to which model: used by services to test "is this target visible".
def in_scope(user: User, obj: Any) -> bool:
    """Whether ``obj`` (a network model instance) lies inside ``user``'s data scope."""
    scope = scope_of(user)
    q_for = {
        Region: _region_q,
        Grid: _grid_q,
        Institution: _institution_q,
        Alliance: _alliance_q,
        ChainNode: _node_q,
        Agreement: _agreement_q,
        Staff: _staff_q,
        Team: _team_q,
    }[type(obj)]
    q = q_for(scope)
    if q is None:
        return True
    return type(obj).objects.filter(q, pk=obj.pk).exists()


# --- public selectors -------------------------------------------------------------------


def regions_for(user: User) -> QuerySet[Region]:
    require_perm(user, NetworkPerm.VIEW)
    return _apply(Region.objects.all(), _region_q(scope_of(user)))


def get_region_for(user: User, pk: int) -> Region:
    try:
        return regions_for(user).get(pk=pk)
    except Region.DoesNotExist:
        raise NotFound("region") from None


def grids_for(user: User) -> QuerySet[Grid]:
    require_perm(user, NetworkPerm.VIEW)
    qs = Grid.objects.select_related("village")
    return _apply(qs, _grid_q(scope_of(user)))


def get_grid_for(user: User, pk: int) -> Grid:
    try:
        return grids_for(user).get(pk=pk)
    except Grid.DoesNotExist:
        raise NotFound("grid") from None


def institutions_for(user: User) -> QuerySet[Institution]:
    require_perm(user, NetworkPerm.VIEW)
    qs = Institution.objects.select_related("region")
    return _apply(qs, _institution_q(scope_of(user)))


def get_institution_for(user: User, pk: int) -> Institution:
    try:
        return institutions_for(user).get(pk=pk)
    except (Institution.DoesNotExist, ValueError, TypeError):
        raise NotFound("institution") from None


def alliances_for(user: User) -> QuerySet[Alliance]:
    require_perm(user, NetworkPerm.VIEW)
    qs = Alliance.objects.select_related("region", "lead").prefetch_related("members")
    return _apply(qs, _alliance_q(scope_of(user)))


def get_alliance_for(user: User, pk: int) -> Alliance:
    try:
        return alliances_for(user).get(pk=pk)
    except Alliance.DoesNotExist:
        raise NotFound("alliance") from None


def nodes_for(user: User) -> QuerySet[ChainNode]:
    require_perm(user, NetworkPerm.VIEW)
    qs = ChainNode.objects.select_related(
        "region", "medical_member", "care_member", "center", "lead"
    )
    return _apply(qs, _node_q(scope_of(user)))


def get_node_for(user: User, pk: int) -> ChainNode:
    try:
        return nodes_for(user).get(pk=pk)
    except ChainNode.DoesNotExist:
        raise NotFound("chain node") from None


def agreements_for(user: User) -> QuerySet[Agreement]:
    require_perm(user, NetworkPerm.VIEW)
    qs = Agreement.objects.select_related("party_a", "party_b")
    return _apply(qs, _agreement_q(scope_of(user)))


def get_agreement_for(user: User, pk: int) -> Agreement:
    try:
        return agreements_for(user).get(pk=pk)
    except Agreement.DoesNotExist:
        raise NotFound("agreement") from None


def staff_for(user: User) -> QuerySet[Staff]:
    require_perm(user, NetworkPerm.STAFF_VIEW)
    qs = Staff.objects.prefetch_related(
        "skills",
        Prefetch(
            "memberships",
            queryset=StaffMembership.objects.select_related("institution").order_by(
                "-primary", "institution__name"
            ),
        ),
    )
    return _apply(qs, _staff_q(scope_of(user)))


def get_staff_for(user: User, pk: int) -> Staff:
    """One staff member's record; the read is audited ("network.staff.read")."""
    try:
        staff = staff_for(user).get(pk=pk)
    except Staff.DoesNotExist:
        raise NotFound("staff member") from None
    record(actor=user, action="network.staff.read", obj=staff)
    return staff


def teams_for(user: User) -> QuerySet[Team]:
    require_perm(user, NetworkPerm.VIEW)
    qs = Team.objects.select_related("node", "node__region", "leader").prefetch_related(
        "grids",
        Prefetch(
            "memberships",
            queryset=TeamMember.objects.select_related("staff").order_by("staff__name"),
        ),
    )
    return _apply(qs, _team_q(scope_of(user)))


def get_team_for(user: User, pk: int) -> Team:
    try:
        return teams_for(user).get(pk=pk)
    except Team.DoesNotExist:
        raise NotFound("team") from None


# --- the network tree -------------------------------------------------------------------


@dataclass
class TreeTeam:
    team: Team
    grids: list[Grid] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.team.pk,
            "name": self.team.name,
            "leader": self.team.leader.name if self.team.leader_id else None,
            "grids": [{"id": g.pk, "code": g.code, "name": g.name} for g in self.grids],
        }


@dataclass
class TreeNode:
    """A center or station. ``in_scope`` is False for a center shown only as the context
    of a visible station (its name and members, no teams)."""

    node: ChainNode
    in_scope: bool = True
    teams: list[TreeTeam] = field(default_factory=list)
    stations: list[TreeNode] = field(default_factory=list)

    @property
    def medical_member(self) -> Institution:
        return self.node.medical_member

    @property
    def care_member(self) -> Institution:
        return self.node.care_member

    def as_dict(self) -> dict[str, Any]:
        node = self.node
        return {
            "id": node.pk,
            "level": node.level,
            "name": node.name,
            "in_scope": self.in_scope,
            "region": {"code": node.region.code, "name": node.region.name},
            "integration_mode": node.integration_mode,
            "medical_member": _inst_dict(node.medical_member),
            "care_member": _inst_dict(node.care_member),
            "teams": [t.as_dict() for t in self.teams],
            "stations": [s.as_dict() for s in self.stations],
        }


@dataclass
class TreeLead:
    """A lead institution and its centers. ``in_scope`` False: shown as context only."""

    institution: Institution
    in_scope: bool = True
    centers: list[TreeNode] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "institution": _inst_dict(self.institution),
            "in_scope": self.in_scope,
            "centers": [c.as_dict() for c in self.centers],
        }


def _inst_dict(inst: Institution) -> dict[str, Any]:
    return {"id": inst.pk, "name": inst.name, "type": inst.type}


def network_tree(user: User) -> list[TreeLead]:
    """Lead institutions → centers → stations, each node with its medical and care member
    institutions, its teams and the grids they serve.

    Only nodes in the user's scope carry teams; the ancestors of a visible node (its center,
    the center's lead) appear as context (``in_scope=False``) so the tree stays a tree.
    A fixed number of queries whatever the size of the network.
    """
    require_perm(user, NetworkPerm.VIEW)
    scope = scope_of(user)
    related = ("region", "medical_member", "care_member", "lead")
    nodes = list(
        _apply(ChainNode.objects.select_related(*related), _node_q(scope)).order_by(
            "region__code", "name"
        )
    )
    node_ids = {n.pk for n in nodes}
    # Centers of visible stations that are not visible themselves: context only.
    missing_centers = {n.center_id for n in nodes if n.center_id and n.center_id not in node_ids}
    context = list(ChainNode.objects.select_related(*related).filter(pk__in=missing_centers))

    teams = (
        _apply(Team.objects.select_related("leader"), _team_q(scope))
        .filter(node_id__in=node_ids)
        .prefetch_related(Prefetch("grids", queryset=Grid.objects.order_by("code")))
        .order_by("name")
    )
    teams_by_node: dict[int, list[TreeTeam]] = {}
    for team in teams:
        teams_by_node.setdefault(team.node_id, []).append(TreeTeam(team, list(team.grids.all())))

    tree_nodes: dict[int, TreeNode] = {}
    for n in nodes:
        tree_nodes[n.pk] = TreeNode(n, True, teams_by_node.get(n.pk, []))
    for n in context:
        tree_nodes[n.pk] = TreeNode(n, False)

    visible_insts = _institution_q(scope)
    lead_ids = {t.node.lead_id for t in tree_nodes.values() if t.node.level == NodeLevel.CENTER}
    leads_in_scope = set(
        _apply(Institution.objects.filter(pk__in=lead_ids), visible_insts).values_list(
            "pk", flat=True
        )
    )
    leads: dict[int, TreeLead] = {}
    for t in sorted(tree_nodes.values(), key=lambda t: (t.node.region.code, t.node.name)):
        node = t.node
        if node.level == NodeLevel.STATION:
            assert node.center_id is not None  # the check constraint guarantees it
            tree_nodes[node.center_id].stations.append(t)
        else:
            assert node.lead_id is not None and node.lead is not None
            lead = leads.get(node.lead_id)
            if lead is None:
                lead = leads[node.lead_id] = TreeLead(node.lead, node.lead_id in leads_in_scope)
            lead.centers.append(t)
    return sorted(leads.values(), key=lambda lead: (lead.institution.name, lead.institution.pk))


# --- the duty roster --------------------------------------------------------------------
# A shift counts only at the medical member of a care-service center (the institution the
# center tier of an alert's escalation asks), and only for an active doctor of it: active
# staff with a current membership there, or doctors whose data scope is it — the doctors
# ``duty_doctors`` falls back to when nobody is on duty.


def doctors_of(institution_ids: Iterable[int], today: datetime.date) -> dict[int, set[int]]:
    """Institution → the ids of its active doctors (no actor: ``duty_doctors``' fallback and
    the roster's check of who may be on duty)."""
    wanted = set(institution_ids)
    out: dict[int, set[int]] = defaultdict(set)
    if not wanted:
        return {}
    doctors = get_user_model().objects.filter(is_active=True, role=Role.DOCTOR)
    current = Q(staff__memberships__end_on__isnull=True) | Q(staff__memberships__end_on__gte=today)
    for inst, user_id in doctors.filter(
        current, staff__active=True, staff__memberships__institution_id__in=wanted
    ).values_list("staff__memberships__institution_id", "pk"):
        if inst in wanted:
            out[inst].add(user_id)
    for inst, user_id in doctors.filter(
        scope_kind="institution", scope_institution_id__in=wanted
    ).values_list("scope_institution_id", "pk"):
        out[inst].add(user_id)
    return dict(out)


def duty_places() -> QuerySet:
    """The institutions a roster counts at: the medical members of care-service centers
    (a subquery of ``medical_member_id``)."""
    return ChainNode.objects.filter(level=NodeLevel.CENTER).values("medical_member_id")


def duty_institutions(user: User) -> QuerySet[Institution]:
    """The institutions in ``user``'s scope that keep a duty roster (``NetworkPerm.STAFF_VIEW``),
    by name."""
    require_perm(user, NetworkPerm.STAFF_VIEW)
    return institutions_for(user).filter(pk__in=duty_places()).order_by("name", "pk")


def duty_candidates(user: User, institution_ids: Iterable[int]) -> dict[int, list[Any]]:
    """Institution → the doctors who may be put on duty there (by name), for the
    institutions among ``institution_ids`` that keep a roster in ``user``'s scope."""
    ids = set(
        duty_institutions(user).filter(pk__in=set(institution_ids)).values_list("pk", flat=True)
    )
    by_inst = doctors_of(ids, timezone.localdate())
    users = {
        u.pk: u
        for u in get_user_model().objects.filter(pk__in=set().union(*by_inst.values(), set()))
    }
    return {
        inst: sorted((users[i] for i in ids_), key=lambda u: (str(u), u.pk))
        for inst, ids_ in by_inst.items()
    }


def duty_shifts_for(user: User) -> QuerySet[DutyShift]:
    """The duty shifts of the institutions in ``user``'s scope (``NetworkPerm.STAFF_VIEW``)."""
    require_perm(user, NetworkPerm.STAFF_VIEW)
    scoped = DutyShift.objects.filter(institution__in=institutions_for(user).values("pk"))
    return scoped.select_related("institution", "user", "created_by")


def get_duty_shift_for(user: User, pk: Any) -> DutyShift:
    """One shift in ``user``'s scope; ``NotFound`` for a missing one and one outside alike."""
    try:
        return duty_shifts_for(user).get(pk=pk)
    except (DutyShift.DoesNotExist, ValueError, TypeError):
        raise NotFound("duty shift") from None


def on_duty(
    user: User, now: datetime.datetime, institution_ids: Iterable[int] | None = None
) -> list[dict[str, Any]]:
    """Who the center tier would notify now, per institution in ``user``'s scope that keeps
    a roster (``duty_doctors``): ``{"institution", "doctors", "by_roster"}`` — ``by_roster``
    False means nobody is on duty and the doctors listed are the institution's doctors,
    notified instead."""
    insts = duty_institutions(user)
    if institution_ids is not None:
        insts = insts.filter(pk__in=set(institution_ids))
    rows = list(insts)
    ids = [i.pk for i in rows]
    notified = duty_doctors(ids, now)
    rostered = set(
        DutyShift.objects.filter(
            institution_id__in=ids, starts_at__lte=now, ends_at__gt=now, user__is_active=True
        ).values_list("institution_id", flat=True)
    )
    users = {
        u.pk: u
        for u in get_user_model().objects.filter(pk__in=set().union(*notified.values(), set()))
    }
    return [
        {
            "institution": inst,
            "doctors": sorted(
                (users[i] for i in notified.get(inst.pk, ())), key=lambda u: (str(u), u.pk)
            ),
            "by_roster": inst.pk in rostered,
        }
        for inst in rows
    ]


def center_institutions(team_ids: Iterable[int]) -> dict[int, int]:
    """Team → the medical member of its care-service center (its home node when that is a
    center, else the center of its station): whose roster the team's center tier asks. No
    actor (the escalation)."""
    out: dict[int, int] = {}
    for team_id, level, own, parent in Team.objects.filter(pk__in=set(team_ids)).values_list(
        "pk", "node__level", "node__medical_member_id", "node__center__medical_member_id"
    ):
        inst = own if level == NodeLevel.CENTER else parent
        if inst:
            out[team_id] = inst
    return out


def duty_doctors(institution_ids: Iterable[int], now: datetime.datetime) -> dict[int, set[int]]:
    """Institution → the doctors on duty now; an institution with nobody on duty falls back
    to its doctors (active staff members of it, or doctors whose scope is it). No actor
    (the escalation)."""
    wanted = set(institution_ids)
    out: dict[int, set[int]] = defaultdict(set)
    for inst, user_id in DutyShift.objects.filter(
        institution_id__in=wanted, starts_at__lte=now, ends_at__gt=now, user__is_active=True
    ).values_list("institution_id", "user_id"):
        out[inst].add(user_id)
    rest = wanted - set(out)
    if rest:
        out.update(doctors_of(rest, timezone.localdate(now)))
    return dict(out)
