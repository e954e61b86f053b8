"""Actions on grids, the service areas inside a village: create and update (code unique)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.network.models import (
    Grid,
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
    reference,
    require_level,
    save,
    stripped_text,
    target,
)


def _grid_conflict(code: str, exclude_pk: Any = None) -> None:
    if Grid.objects.filter(code=code).exclude(pk=exclude_pk).exists():
        raise ValidationFailed(
            CommonError.DUPLICATE_CODE,
            _("Grid code %(code)s already exists.") % {"code": code},
            field="code",
        )


def create_grid(actor: User, *, village: Any, code: str, name: str, description: str = "") -> Grid:
    require_perm(actor, NetworkPerm.MANAGE)
    code = stripped_text(code, "code")
    name = stripped_text(name, "name")
    with transaction.atomic():
        village = reference(actor, Region, village, field="village")
        require_level(village, {RegionLevel.VILLAGE}, "village")
        _grid_conflict(code)
        grid = Grid(village=village, code=code, name=name, description=description or "")
        clean_model(grid, exclude=["village"])
        save(grid, on_conflict=lambda: _grid_conflict(code))
        ensure_visible(actor, grid)
        record(
            actor=actor,
            action="network.grid.create",
            obj=grid,
            details=created_details(grid, ["village", "code", "name"]),
        )
    return grid


def update_grid(actor: User, grid: Any, **changes: Any) -> Grid:
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        grid = target(actor, Grid, grid)
        if "village" in changes:
            changes["village"] = reference(actor, Region, changes["village"], field="village")
            require_level(changes["village"], {RegionLevel.VILLAGE}, "village")
        for key in ("code", "name"):
            if key in changes:
                changes[key] = stripped_text(changes[key], key)
        changed = apply_changes(grid, changes, ["village", "code", "name", "description"])
        clean_model(grid, exclude=["village"])
        if "code" in changed:
            _grid_conflict(grid.code, grid.pk)
        if changed:
            save(
                grid,
                update_fields=list(changed),
                on_conflict=lambda: _grid_conflict(grid.code, grid.pk),
            )
            ensure_visible(actor, grid)
            record(
                actor=actor,
                action="network.grid.update",
                obj=grid,
                details=diff_details(changed),
            )
    return grid
