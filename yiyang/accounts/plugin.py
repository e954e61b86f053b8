"""How the accounts app plugs into the platform: its pages, API router and navigation
(imported by ``CommonConfig.ready``; ADR 0024)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yiyang.accounts.permissions import AccountPerm
from yiyang.common import registry

registry.register_pages("account/", "yiyang.accounts.urls")
registry.register_api_router("/auth", "yiyang.accounts.api.router")
registry.register_nav(_("Users"), "accounts:users", AccountPerm.MANAGE, order=800)
registry.register_nav(_("Locked accounts"), "accounts:locked", AccountPerm.SECURITY, order=810)
registry.register_nav(_("Two-step login resets"), "accounts:mfa", AccountPerm.SECURITY, order=820)
