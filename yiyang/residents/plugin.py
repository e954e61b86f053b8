"""How the residents app plugs into the platform: its pages, API router and navigation
(imported for every installed app by ``CommonConfig.ready``; ADR 0024)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from yiyang.common import registry
from yiyang.common.permissions import Role
from yiyang.residents.permissions import ResidentPerm


def _staff_residents(user: Any) -> bool:
    return bool(user.has_perm_code(ResidentPerm.VIEW))


def _role(role: str) -> Any:
    return lambda user: user.role == role


registry.register_pages("residents/", "yiyang.residents.urls")
registry.register_api_router("/residents", "yiyang.residents.api.router")
# Resident and family logins hold no permission; their entries are predicates on the role
# (their pages show their "self" scope).
registry.register_nav(_("Residents"), "residents:list", _staff_residents, order=100)
registry.register_nav(_("My record"), "residents:list", _role(Role.RESIDENT), order=110)
registry.register_nav(_("My family"), "residents:list", _role(Role.FAMILY), order=120)
