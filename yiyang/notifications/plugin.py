"""How the notifications app plugs into the platform: its pages and API router (imported
by ``CommonConfig.ready``; ADR 0024)."""

from __future__ import annotations

from yiyang.common import registry

registry.register_pages("notifications/", "yiyang.notifications.urls")
registry.register_api_router("/notifications", "yiyang.notifications.api.router")
