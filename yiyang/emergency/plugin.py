"""How the emergency app plugs into the platform: its pages, API router and navigation
(imported by ``CommonConfig.ready``; ADR 0024)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yiyang.common import registry
from yiyang.emergency.permissions import EmergencyPerm

registry.register_pages("emergency/", "yiyang.emergency.urls")
registry.register_api_router("/emergency", "yiyang.emergency.api.router")
registry.register_nav(_("Emergency calls"), "emergency:list", EmergencyPerm.CALL, order=350)
