"""How the residents app plugs into the platform: its pages, API router and navigation
(imported for every installed app by ``CommonConfig.ready``; ADR 0024)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from yiyang.accounts.models import User
from yiyang.common import registry
from yiyang.common.permissions import Role
from yiyang.residents import plain
from yiyang.residents.access import can_view_health
from yiyang.residents.pages import registry as registry_pages
from yiyang.residents.pages import shell
from yiyang.residents.permissions import ResidentPerm


def _staff_residents(user: User) -> bool:
    return bool(user.has_perm_code(ResidentPerm.VIEW))


def _role(role: str) -> Any:
    return lambda user: user.role == role


registry.register_pages("residents/", "yiyang.residents.urls")
registry.register_api_router("/residents", "yiyang.residents.api.router")
# Resident and family logins hold no permission; their entries are predicates on the role
# (their pages show their "self" scope).
# A resident's own login and a family login land on her record in plain words.
registry.register_home(Role.RESIDENT, "yiyang.residents.pages.home.plain_home")
registry.register_home(Role.FAMILY, "yiyang.residents.pages.home.plain_home")
registry.register_nav(_("Residents"), "residents:list", _staff_residents, order=100)
registry.register_nav(_("My record"), "residents:list", _role(Role.RESIDENT), order=110)
registry.register_nav(_("My family"), "residents:list", _role(Role.FAMILY), order=120)

# The resident page's own tabs (other apps add theirs between and after these).
shell.register_tab("detail", _("Overview"), lambda user, resident: True, order=10)
shell.register_tab("conditions", _("Conditions"), can_view_health, order=20)
shell.register_tab("medications", _("Medications"), can_view_health, order=30)
shell.register_tab("allergies", _("Allergies"), can_view_health, order=40)
shell.register_tab("observations", _("Observations"), can_view_health, order=50)
shell.register_tab("encounters", _("Encounters"), can_view_health, order=60)
shell.register_tab("documents", _("Documents"), can_view_health, order=70)
shell.register_tab("contacts", _("Contacts"), shell.staff_or_self, order=100)
shell.register_tab("consents", _("Consent"), shell.staff_or_self, order=110)
# Her facts, team and consent state under her name on every tab.
shell.register_header_part(registry_pages.header_facts, order=10)
# Her "coming up" list on her own (and her family's) home page: the next planned encounter.
plain.register_coming_up(plain.next_visit, order=20)
