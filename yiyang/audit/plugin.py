"""How the audit app plugs into the platform: its pages, API router and navigation
(imported by ``CommonConfig.ready``; ADR 0024)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yiyang.audit.permissions import AuditPerm
from yiyang.common import registry

registry.register_pages("audit/", "yiyang.audit.urls")
registry.register_api_router("/audit", "yiyang.audit.api.router")
registry.register_nav(_("Audit trail"), "audit:events", AuditPerm.VIEW, order=900)
