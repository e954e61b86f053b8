"""Actions on medical alliances: create and update (a county community or a city group led
by a medical institution; lead and members inside the alliance's region)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.network.errors import NetworkError
from yiyang.network.models import (
    MEDICAL_TYPES,
    Alliance,
    AllianceKind,
    Institution,
    Region,
    RegionLevel,
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
    require_level,
    save,
    stripped_text,
    target,
)


def _validate_alliance(alliance: Alliance, members: list[Institution]) -> None:
    clean_model(alliance, exclude=["region", "lead", "members"])
    wanted = {
        AllianceKind.COUNTY_COMMUNITY: RegionLevel.COUNTY,
        AllianceKind.CITY_GROUP: RegionLevel.CITY,
    }[AllianceKind(alliance.kind)]
    require_level(alliance.region, {wanted}, "region")
    if alliance.lead.type not in MEDICAL_TYPES:
        raise ValidationFailed(
            NetworkError.INVALID_LEAD,
            _("%(inst)s is not a medical institution and cannot lead an alliance.")
            % {"inst": alliance.lead.name},
            field="lead",
        )
    prefix = level_prefix(alliance.region)
    for inst, field in [(alliance.lead, "lead")] + [(m, "members") for m in members]:
        if not inst.region.code.startswith(prefix):
            raise ValidationFailed(
                NetworkError.OUTSIDE_REGION,
                _("%(inst)s is not inside %(region)s.")
                % {"inst": inst.name, "region": alliance.region.name},
                field=field,
            )


def create_alliance(
    actor: User,
    *,
    name: str,
    kind: str,
    region: Any,
    lead: Any,
    members: Iterable[Any] = (),
) -> Alliance:
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        alliance = Alliance(
            name=stripped_text(name, "name"),
            kind=kind,
            region=reference(actor, Region, region, field="region"),
            lead=reference(actor, Institution, lead, field="lead"),
        )
        member_objs = distinct([reference(actor, Institution, m, field="members") for m in members])
        _validate_alliance(alliance, member_objs)
        save(alliance)
        alliance.members.set(member_objs)
        ensure_visible(actor, alliance)
        record(
            actor=actor,
            action="network.alliance.create",
            obj=alliance,
            details=created_details(
                alliance, ["name", "kind", "region", "lead"], members=member_objs
            ),
        )
    return alliance


def update_alliance(actor: User, alliance: Any, **changes: Any) -> Alliance:
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        alliance = target(actor, Alliance, alliance)
        members_in = changes.pop("members", None)
        if "region" in changes:
            changes["region"] = reference(actor, Region, changes["region"], field="region")
        if "lead" in changes:
            changes["lead"] = reference(actor, Institution, changes["lead"], field="lead")
        if "name" in changes:
            changes["name"] = stripped_text(changes["name"], "name")
        changed = apply_changes(alliance, changes, ["name", "kind", "region", "lead"])
        old_members = sorted(alliance.members.values_list("pk", flat=True))
        if members_in is not None:
            members = distinct(
                [reference(actor, Institution, m, field="members") for m in members_in]
            )
        else:
            members = list(alliance.members.select_related("region"))
        _validate_alliance(alliance, members)
        if changed:
            save(alliance, update_fields=list(changed))
        new_members = sorted(m.pk for m in members)
        if new_members != old_members:
            alliance.members.set(members)
            changed["members"] = (old_members, new_members)
        if changed:
            ensure_visible(actor, alliance)
            record(
                actor=actor,
                action="network.alliance.update",
                obj=alliance,
                details=diff_details(changed),
            )
    return alliance
