"""How the devices app plugs into the platform: its pages, API routers, navigation and the
resident page's tab (imported by ``CommonConfig.ready``; ADR 0024)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from yiyang.common import registry
from yiyang.devices.permissions import DevicePerm
from yiyang.network.permissions import NetworkPerm
from yiyang.residents.access import followed_for_alerts


def _family_follows_alerts(user: Any) -> bool:
    followed = followed_for_alerts(user)
    return followed is not None and followed.exists()


registry.register_pages("devices/", "yiyang.devices.urls")
registry.register_api_router("/devices", "yiyang.devices.api.router")
registry.register_api_router("/alerts", "yiyang.devices.api_alerts.router")
registry.register_api_router("/alerts/residents", "yiyang.devices.api_thresholds.router")
registry.register_api_router("/alerts/rules", "yiyang.devices.api_rules.router")
registry.register_api_router("/escalation", "yiyang.devices.api_duty.router")
registry.register_api_router("/ingest", "yiyang.devices.api_ingest.router")

registry.register_nav(_("Alerts"), "devices:alerts", DevicePerm.VIEW, order=300)
registry.register_nav(_("Her alerts"), "devices:alerts", _family_follows_alerts, order=310)
registry.register_nav(_("Duty roster"), "devices:duty", NetworkPerm.STAFF_VIEW, order=320)
registry.register_nav(_("Escalation schedule"), "devices:escalation", DevicePerm.VIEW, order=330)
registry.register_nav(_("Alert rules"), "devices:rules", DevicePerm.VIEW, order=340)
registry.register_nav(_("Devices"), "devices:list", DevicePerm.VIEW, order=360)
registry.register_nav(_("Quarantine"), "devices:quarantine", DevicePerm.QUARANTINE, order=370)
