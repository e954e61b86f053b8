"""The network tree (``NetworkPerm.VIEW``): lead institutions → care-service centers →
stations, each node with its member institutions, its teams and the grids they serve;
ancestors outside the actor's scope appear as context only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch

from yiyang.accounts.models import User
from yiyang.common.permissions import require_perm
from yiyang.common.scope import scope_of
from yiyang.network.models import ChainNode, Grid, Institution, NodeLevel, Team
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.scope import apply_scope, institution_q, node_q, team_q


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
        apply_scope(ChainNode.objects.select_related(*related), node_q(scope)).order_by(
            "region__code", "name"
        )
    )
    node_ids = {n.pk for n in nodes}
    # Centers of visible stations that are not visible themselves: context only.
    missing_centers = {n.center_id for n in nodes if n.center_id and n.center_id not in node_ids}
    context = list(ChainNode.objects.select_related(*related).filter(pk__in=missing_centers))

    teams = (
        apply_scope(Team.objects.select_related("leader"), team_q(scope))
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

    visible_insts = institution_q(scope)
    lead_ids = {t.node.lead_id for t in tree_nodes.values() if t.node.level == NodeLevel.CENTER}
    leads_in_scope = set(
        apply_scope(Institution.objects.filter(pk__in=lead_ids), visible_insts).values_list(
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
