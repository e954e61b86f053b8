"""Reads of regions and of the grids inside a village (``NetworkPerm.VIEW``), scoped to the
actor's data scope."""

from __future__ import annotations

from django.db.models import QuerySet

from yiyang.accounts.models import User
from yiyang.common.errors import NotFound
from yiyang.common.permissions import require_perm
from yiyang.common.scope import scope_of
from yiyang.network.models import Grid, Region
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.scope import apply_scope, grid_q, region_q


def regions_for(user: User) -> QuerySet[Region]:
    require_perm(user, NetworkPerm.VIEW)
    return apply_scope(Region.objects.all(), region_q(scope_of(user)))


def get_region_for(user: User, pk: int) -> Region:
    try:
        return regions_for(user).get(pk=pk)
    except Region.DoesNotExist:
        raise NotFound("region") from None


def grids_for(user: User) -> QuerySet[Grid]:
    require_perm(user, NetworkPerm.VIEW)
    qs = Grid.objects.select_related("village")
    return apply_scope(qs, grid_q(scope_of(user)))


def get_grid_for(user: User, pk: int) -> Grid:
    try:
        return grids_for(user).get(pk=pk)
    except Grid.DoesNotExist:
        raise NotFound("grid") from None
