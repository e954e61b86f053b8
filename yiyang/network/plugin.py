"""How the network app plugs into the platform: its pages, API router and navigation
(imported by ``CommonConfig.ready``; ADR 0024)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yiyang.common import registry
from yiyang.network.permissions import NetworkPerm

registry.register_pages("network/", "yiyang.network.urls")
registry.register_api_router("/network", "yiyang.network.api.router")
registry.register_nav(_("Network"), "network:tree", NetworkPerm.VIEW, order=700)
registry.register_nav(_("Institutions"), "network:institutions", NetworkPerm.VIEW, order=710)
registry.register_nav(_("Agreements"), "network:agreements", NetworkPerm.VIEW, order=720)
registry.register_nav(_("Staff"), "network:staff", NetworkPerm.STAFF_VIEW, order=730)
registry.register_nav(_("Teams"), "network:teams", NetworkPerm.VIEW, order=740)
registry.register_nav(_("Regions"), "network:regions", NetworkPerm.VIEW, order=750)
