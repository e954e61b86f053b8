"""How the assessments app plugs into the platform: its pages, API router, navigation and
the resident page's tab (imported by ``CommonConfig.ready``; ADR 0024)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yiyang.accounts.models import User
from yiyang.assessments.pages.schedule.resident import RESIDENT_TAB, ability_badge, next_assessment
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.common import registry
from yiyang.residents import plain
from yiyang.residents.access import can_view_health
from yiyang.residents.pages import shell
from yiyang.residents.permissions import ResidentPerm


def _assessment_dues(user: User) -> bool:
    return bool(
        user.has_perm_code(AssessmentPerm.RECORD) or user.has_perm_code(ResidentPerm.HEALTH_VIEW)
    )


registry.register_pages("assessments/", "yiyang.assessments.urls")
registry.register_api_router("/assessments", "yiyang.assessments.api.router")
registry.register_nav(_("Assessments due"), "assessments:due", _assessment_dues, order=200)
registry.register_nav(
    _("Assessment policy"), "assessments:policy", AssessmentPerm.POLICY, order=210
)

# The resident page: this app's tab (between the health record and the devices' tab) and
# her ability level under her name.
shell.register_tab(RESIDENT_TAB, _("Assessments"), can_view_health, order=80)
shell.register_header_part(ability_badge, order=20)
# Her "coming up" list: the next assessment due (before the next visit).
plain.register_coming_up(next_assessment, order=10)
