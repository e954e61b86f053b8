"""How the emergency app plugs into the platform: its pages, API router and navigation,
and its reaction to new SOS and fall alerts (imported by ``CommonConfig.ready``; ADR 0024)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yiyang.common import registry
from yiyang.devices.events import ALARM_ALERTS_OPENED, AlarmAlertsOpened
from yiyang.emergency import services
from yiyang.emergency.permissions import EmergencyPerm

registry.register_pages("emergency/", "yiyang.emergency.urls")
registry.register_api_router("/emergency", "yiyang.emergency.api.router")
registry.register_nav(_("Emergency calls"), "emergency:list", EmergencyPerm.CALL, order=350)


def open_calls(opened: AlarmAlertsOpened) -> None:
    """New SOS and fall alerts open their emergency calls, inside the ingestion transaction
    (the devices hook runs this in a savepoint: a failure is logged, the alerts stay)."""
    services.open_from_alerts(opened.alerts)


ALARM_ALERTS_OPENED.subscribe(open_calls)
