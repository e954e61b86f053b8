"""How the devices app plugs into the platform: its pages, API routers, navigation, the
resident page's tab, its notification topic (imported by ``CommonConfig.ready``; ADR 0024)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from yiyang.accounts.models import User
from yiyang.common import registry
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.services import escalation
from yiyang.network.permissions import NetworkPerm
from yiyang.residents.access import can_view_health, followed_for_alerts
from yiyang.residents.pages import shell


def _family_follows_alerts(user: User) -> bool:
    followed = followed_for_alerts(user)
    return followed is not None and followed.exists()


# The outbox topic of alerts (ADR 0020), in the notifications app's topic registry.
escalation.register_topic()

registry.register_pages("devices/", "yiyang.devices.urls")
registry.register_api_router("/devices", "yiyang.devices.api.router")
registry.register_api_router("/alerts", "yiyang.devices.api.alerts.router")
registry.register_api_router("/alerts/residents", "yiyang.devices.api.thresholds.router")
registry.register_api_router("/alerts/rules", "yiyang.devices.api.rules.router")
registry.register_api_router("/escalation", "yiyang.devices.api.duty.router")
registry.register_api_router("/ingest", "yiyang.devices.api.ingest.router")

registry.register_nav(_("Alerts"), "devices:alerts", DevicePerm.VIEW, order=300)
registry.register_nav(_("Her alerts"), "devices:alerts", _family_follows_alerts, order=310)
registry.register_nav(_("Duty roster"), "devices:duty", NetworkPerm.STAFF_VIEW, order=320)
registry.register_nav(_("Escalation schedule"), "devices:escalation", DevicePerm.VIEW, order=330)
registry.register_nav(_("Alert rules"), "devices:rules", DevicePerm.VIEW, order=340)
registry.register_nav(_("Devices"), "devices:list", DevicePerm.VIEW, order=360)
registry.register_nav(_("Quarantine"), "devices:quarantine", DevicePerm.QUARANTINE, order=370)


def _follows_alerts(user: User, resident: Any) -> bool:
    """Staff who see her health record and monitor devices, or a family login whose grant
    lets it follow her alerts (``residents.access.followed_for_alerts``)."""
    if not can_view_health(user, resident):
        return False
    if user.has_perm_code(DevicePerm.VIEW):
        return True
    followed = followed_for_alerts(user)
    return followed is not None and followed.filter(resident_id=resident.pk).exists()


# The resident page's tab (``pages_alerts.resident_alerts``), after the assessments' tab.
shell.register_tab("devices:resident_alerts", _("Alerts & readings"), _follows_alerts, order=90)
