"""The web app's own pages: the home page, login and logout, served at the root (imported
by ``CommonConfig.ready`` after every other app's plugin, so its catch-nothing prefix ""
comes last; ADR 0024)."""

from __future__ import annotations

from yiyang.common import registry

registry.register_pages("", "yiyang.web.urls")
