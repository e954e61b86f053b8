"""Actions on family-doctor teams: home node, leader (a member), members with their roles
and the grids they serve (inside the node's region)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.network.errors import NetworkError
from yiyang.network.models import (
    ChainNode,
    Grid,
    Staff,
    Team,
    TeamMember,
    TeamRole,
)
from yiyang.network.permissions import NetworkPerm
from yiyang.network.services.steps import (
    apply_changes,
    clean_model,
    created_details,
    diff_details,
    distinct,
    ensure_visible,
    level_prefix,
    reference,
    save,
    stripped_text,
    target,
)


def _member_rows(actor: User, members: Iterable[Any]) -> list[tuple[Staff, str]]:
    rows: list[tuple[Staff, str]] = []
    seen: set[Any] = set()
    for item in members:
        if isinstance(item, Mapping):
            staff_value, role = item.get("staff"), item.get("role") or TeamRole.OTHER
        else:
            staff_value, role = item, TeamRole.OTHER
        staff = reference(actor, Staff, staff_value, field="members")
        if role not in TeamRole.values:
            raise ValidationFailed(
                CommonError.INVALID,
                _("%(role)s is not a team role.") % {"role": role},
                field="members",
            )
        if staff.pk in seen:
            raise ValidationFailed(
                NetworkError.DUPLICATE_MEMBER,
                _("%(name)s is listed twice.") % {"name": staff.name},
                field="members",
            )
        seen.add(staff.pk)
        rows.append((staff, str(role)))
    return rows


def _validate_team(team: Team, members: list[tuple[Staff, str]], grids: list[Grid]) -> None:
    clean_model(team, exclude=["node", "leader"])
    if team.leader_id not in {s.pk for s, _role in members}:
        raise ValidationFailed(
            NetworkError.LEADER_NOT_MEMBER,
            _("The leader %(name)s must also be a member of the team.")
            % {"name": team.leader.name},
            field="leader",
        )
    prefix = level_prefix(team.node.region)
    for grid in grids:
        if not grid.village.code.startswith(prefix):
            raise ValidationFailed(
                NetworkError.OUTSIDE_REGION,
                _("Grid %(grid)s is not inside %(region)s, the region of the team's node.")
                % {"grid": grid.name, "region": team.node.region.name},
                field="grids",
            )


def _grid_objs(actor: User, grids: Iterable[Any]) -> list[Grid]:
    return distinct([reference(actor, Grid, g, field="grids") for g in grids])


def create_team(
    actor: User,
    *,
    name: str,
    node: Any,
    leader: Any,
    members: Iterable[Any] = (),
    grids: Iterable[Any] = (),
) -> Team:
    """A family-doctor team: home node, leader (who must be a member), members with their
    roles (dicts {"staff", "role"}) and the grids it serves (inside its node's region)."""
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        team = Team(
            name=stripped_text(name, "name"),
            node=reference(actor, ChainNode, node, field="node"),
            leader=reference(actor, Staff, leader, field="leader"),
        )
        member_rows = _member_rows(actor, members)
        grid_objs = _grid_objs(actor, grids)
        _validate_team(team, member_rows, grid_objs)
        save(team)
        TeamMember.objects.bulk_create(
            [TeamMember(team=team, staff=s, role=role) for s, role in member_rows]
        )
        team.grids.set(grid_objs)
        ensure_visible(actor, team)
        record(
            actor=actor,
            action="network.team.create",
            obj=team,
            details=created_details(
                team,
                ["name", "node", "leader"],
                members=[{"staff": s.pk, "role": role} for s, role in member_rows],
                grids=[g.pk for g in grid_objs],
            ),
        )
    return team


def update_team(actor: User, team: Any, **changes: Any) -> Team:
    """Change name, node or leader; ``members`` and ``grids``, when given, replace them."""
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        team = target(actor, Team, team)
        members_in = changes.pop("members", None)
        grids_in = changes.pop("grids", None)
        if "name" in changes:
            changes["name"] = stripped_text(changes["name"], "name")
        if "node" in changes:
            changes["node"] = reference(actor, ChainNode, changes["node"], field="node")
        if "leader" in changes:
            changes["leader"] = reference(actor, Staff, changes["leader"], field="leader")
        changed = apply_changes(team, changes, ["name", "node", "leader"])
        old_members = [
            (m.staff, m.role) for m in team.memberships.select_related("staff").order_by("pk")
        ]
        members = _member_rows(actor, members_in) if members_in is not None else old_members
        old_grids = list(team.grids.select_related("village").order_by("pk"))
        grids = _grid_objs(actor, grids_in) if grids_in is not None else old_grids
        _validate_team(team, members, grids)
        if changed:
            save(team, update_fields=list(changed))
        before = sorted((s.pk, r) for s, r in old_members)
        after = sorted((s.pk, r) for s, r in members)
        if before != after:
            team.memberships.all().delete()
            TeamMember.objects.bulk_create(
                [TeamMember(team=team, staff=s, role=role) for s, role in members]
            )
            changed["members"] = (
                [{"staff": pk, "role": r} for pk, r in before],
                [{"staff": pk, "role": r} for pk, r in after],
            )
        old_grid_ids = sorted(g.pk for g in old_grids)
        new_grid_ids = sorted(g.pk for g in grids)
        if old_grid_ids != new_grid_ids:
            team.grids.set(grids)
            changed["grids"] = (old_grid_ids, new_grid_ids)
        if changed:
            ensure_visible(actor, team)
            record(
                actor=actor,
                action="network.team.update",
                obj=team,
                details=diff_details(changed),
            )
    return team
