"""How the emergency app plugs into the platform: its pages, API router and navigation,
its reaction to new SOS and fall alerts, and its button on their alert pages (imported by
``CommonConfig.ready``; ADR 0024)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yiyang.accounts.models import User
from yiyang.common import registry
from yiyang.devices import page_actions
from yiyang.devices.events import ALARM_ALERTS_OPENED, AlarmAlertsOpened
from yiyang.devices.models import Alert
from yiyang.emergency import services
from yiyang.emergency.permissions import EmergencyPerm

registry.register_pages("emergency/", "yiyang.emergency.urls")
registry.register_api_router("/emergency", "yiyang.emergency.api.router")
registry.register_nav(_("Emergency calls"), "emergency:list", EmergencyPerm.CALL, order=350)


def open_calls(opened: AlarmAlertsOpened) -> None:
    """New SOS and fall alerts open their emergency calls, inside the ingestion transaction
    (the devices hook runs this in a savepoint: a failure is logged, the alerts stay)."""
    services.open_from_alerts(opened.alerts)


def emergency_call_button(user: User, alert: Alert) -> page_actions.PageAction | None:
    """On an SOS or fall alert's page, to those who take calls: the alert's emergency call
    (opened for it if it has none, ``emergency:from_alert``)."""
    if alert.rule.event not in services.CALL_EVENTS or not user.has_perm_code(EmergencyPerm.CALL):
        return None
    return page_actions.PageAction(
        _("Emergency call"),
        reverse("emergency:from_alert", args=[alert.pk]),
        css="button danger",
        dom_id="emergency-call",
    )


ALARM_ALERTS_OPENED.subscribe(open_calls)
page_actions.register_alert_action("emergency.call", emergency_call_button)
