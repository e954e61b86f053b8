"""Actions on chain nodes: care-service centers (township; a lead institution) and their
stations (village; a center), each pairing a medical and an elderly-care institution."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.network.errors import NetworkError
from yiyang.network.models import (
    CARE_TYPES,
    MEDICAL_TYPES,
    ChainNode,
    Institution,
    InstitutionType,
    NodeLevel,
    Region,
    RegionLevel,
)
from yiyang.network.permissions import NetworkPerm
from yiyang.network.services.steps import (
    apply_changes,
    clean_model,
    created_details,
    diff_details,
    ensure_visible,
    level_prefix,
    reference,
    require_level,
    required_field,
    save,
    stripped_text,
    target,
)

NODE_FIELDS = [
    "level",
    "name",
    "region",
    "medical_member",
    "care_member",
    "integration_mode",
    "center",
    "lead",
]


def _valid_lead(inst: Institution) -> bool:
    """A center's lead: a lead hospital, or a medical institution of an alliance."""
    if inst.type == InstitutionType.LEAD_HOSPITAL:
        return True
    if inst.type not in MEDICAL_TYPES:
        return False
    return inst.led_alliances.exists() or inst.alliances.exists()


def _validate_node(node: ChainNode) -> None:
    clean_model(node, exclude=["region", "medical_member", "care_member", "center", "lead"])
    if node.medical_member.type not in MEDICAL_TYPES:
        raise ValidationFailed(
            NetworkError.WRONG_MEMBER_TYPE,
            _("%(inst)s (%(type)s) is not a medical institution.")
            % {
                "inst": node.medical_member.name,
                "type": InstitutionType(node.medical_member.type).label,
            },
            field="medical_member",
        )
    if node.care_member.type not in CARE_TYPES:
        raise ValidationFailed(
            NetworkError.WRONG_MEMBER_TYPE,
            _("%(inst)s (%(type)s) is not an elderly-care institution.")
            % {
                "inst": node.care_member.name,
                "type": InstitutionType(node.care_member.type).label,
            },
            field="care_member",
        )
    if node.level == NodeLevel.CENTER:
        require_level(node.region, {RegionLevel.TOWNSHIP}, "region")
        if node.center_id is not None:
            raise ValidationFailed(
                NetworkError.UNEXPECTED_CENTER,
                _("A center does not belong to another center."),
                field="center",
            )
        lead = node.lead
        if lead is None:
            raise ValidationFailed(
                CommonError.REQUIRED, _("A center needs its lead institution."), field="lead"
            )
        if not _valid_lead(lead):
            raise ValidationFailed(
                NetworkError.INVALID_LEAD,
                _(
                    "%(inst)s cannot lead a center: it must be a lead hospital or a medical "
                    "institution of an alliance."
                )
                % {"inst": lead.name},
                field="lead",
            )
        if node.pk is not None:
            prefix = level_prefix(node.region)
            outside = node.stations.exclude(region__code__startswith=prefix).first()
            if outside is not None:
                raise ValidationFailed(
                    NetworkError.OUTSIDE_REGION,
                    _("Station %(station)s would no longer be inside %(region)s.")
                    % {"station": outside.name, "region": node.region.name},
                    field="region",
                )
    else:
        require_level(node.region, {RegionLevel.VILLAGE}, "region")
        if node.lead_id is not None:
            raise ValidationFailed(
                NetworkError.UNEXPECTED_LEAD,
                _("A station has no lead of its own; it belongs to a center."),
                field="lead",
            )
        center = node.center
        if center is None:
            raise ValidationFailed(
                CommonError.REQUIRED, _("A station needs its center."), field="center"
            )
        if center.level != NodeLevel.CENTER:
            raise ValidationFailed(
                NetworkError.INVALID_CENTER,
                _("%(node)s is a station, not a center.") % {"node": center.name},
                field="center",
            )
        if not node.region.code.startswith(level_prefix(center.region)):
            raise ValidationFailed(
                NetworkError.OUTSIDE_REGION,
                _("%(village)s is not inside the center's township %(township)s.")
                % {"village": node.region.name, "township": center.region.name},
                field="region",
            )


def _prepare_node(actor: User, values: dict[str, Any]) -> dict[str, Any]:
    if "name" in values:
        values["name"] = stripped_text(values["name"], "name")
    if "region" in values:
        values["region"] = reference(actor, Region, values["region"], field="region")
    for name in ("medical_member", "care_member"):
        if name in values:
            values[name] = reference(actor, Institution, values[name], field=name)
    if values.get("lead") is not None:
        values["lead"] = reference(actor, Institution, values["lead"], field="lead")
    if values.get("center") is not None:
        values["center"] = reference(actor, ChainNode, values["center"], field="center")
    return values


def create_node(actor: User, **values: Any) -> ChainNode:
    """A center (township; lead institution) or a station (village; its center)."""
    require_perm(actor, NetworkPerm.MANAGE)
    unknown = set(values) - set(NODE_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(
            CommonError.UNKNOWN_FIELD, _("Unknown field %(f)s.") % {"f": name}, field=name
        )
    for name in ("level", "name", "region", "medical_member", "care_member", "integration_mode"):
        if values.get(name) in (None, ""):
            raise required_field(name)
    if values["level"] not in NodeLevel.values:
        raise ValidationFailed(
            CommonError.INVALID, _("level must be center or station."), field="level"
        )
    with transaction.atomic():
        values = _prepare_node(actor, dict(values))
        node = ChainNode(**values)
        _validate_node(node)
        save(node)
        ensure_visible(actor, node)
        record(
            actor=actor,
            action="network.node.create",
            obj=node,
            details=created_details(node, sorted(values)),
        )
    return node


def update_node(actor: User, node: Any, **changes: Any) -> ChainNode:
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        node = target(actor, ChainNode, node)
        if "level" in changes and changes["level"] != node.level:
            raise ValidationFailed(
                NetworkError.IMMUTABLE,
                _("A node's level cannot change; create a new node instead."),
                field="level",
            )
        changes = _prepare_node(actor, dict(changes))
        changed = apply_changes(node, changes, NODE_FIELDS)
        _validate_node(node)
        if changed:
            save(node, update_fields=list(changed))
            ensure_visible(actor, node)
            record(
                actor=actor,
                action="network.node.update",
                obj=node,
                details=diff_details(changed),
            )
    return node
