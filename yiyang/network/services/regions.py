"""Actions on regions: create one from its 12-digit code (its level and parent follow from
the code), rename it or change its code year."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.network.models import (
    Region,
)
from yiyang.network.permissions import NetworkPerm
from yiyang.network.regions import RegionCodeError, validate_new_code
from yiyang.network.services.steps import (
    apply_changes,
    clean_model,
    created_details,
    diff_details,
    ensure_visible,
    save,
    stripped_text,
    target,
)


def _region_conflict(code: str) -> None:
    holder = Region.objects.filter(code=code).first()
    if holder is not None:
        raise ValidationFailed(
            CommonError.DUPLICATE_CODE,
            _("Region code %(code)s already exists (%(name)s).")
            % {"code": code, "name": holder.name},
            field="code",
        )


def create_region(actor: User, *, code: str, name: str, code_year: int = 2023) -> Region:
    require_perm(actor, NetworkPerm.REGION_IMPORT)
    code = str(code).strip()
    name = stripped_text(name, "name")
    try:
        level, parent = validate_new_code(code)
    except RegionCodeError as exc:
        raise exc.as_validation() from None
    with transaction.atomic():
        _region_conflict(code)
        region = Region(code=code, name=name, level=level, parent=parent, code_year=code_year)
        clean_model(region, exclude=["parent"])
        save(region, on_conflict=lambda: _region_conflict(code))
        ensure_visible(actor, region)
        record(
            actor=actor,
            action="network.region.create",
            obj=region,
            details=created_details(region, ["code", "name", "level", "parent", "code_year"]),
        )
    return region


def update_region(actor: User, region: Any, **changes: Any) -> Region:
    """Rename a region or change its code year (the code itself never changes)."""
    require_perm(actor, NetworkPerm.REGION_IMPORT)
    if "name" in changes:
        changes["name"] = stripped_text(changes["name"], "name")
    with transaction.atomic():
        region = target(actor, Region, region)
        changed = apply_changes(region, changes, ["name", "code_year"])
        clean_model(region, exclude=["parent"])
        if changed:
            save(region, update_fields=list(changed))
            record(
                actor=actor,
                action="network.region.update",
                obj=region,
                details=diff_details(changed),
            )
    return region
