"""Where an app plugs itself into the platform: navigation entries, page routes and API
routers (ground floor: the hosts read these registries and know no app by name).

An app registers from its own ``plugin`` module, which the platform imports for every
installed app once all models are loaded (``CommonConfig.ready``, ADR 0024)::

    # yiyang/<app>/plugin.py
    registry.register_pages("visits/", "yiyang.visits.urls")
    registry.register_api_router("/visits", "yiyang.visits.api.router")
    registry.register_nav(_("Visits"), "visits:list", VisitPerm.VIEW, order=250)

Routers and URL modules are named by their dotted path and imported when the host builds
the URLs, so that registering imports nothing heavy. Registering the same thing twice (a
``plugin`` module imported again by a test) changes nothing; two different registrations
of one prefix are a configuration error, found at start-up.

``register_home`` gives a role its own home page (the residents app: her record in plain
words for resident and family logins).

Other extension points belong to the app that hosts them: the resident page's tabs and
header parts to ``residents.pages.shell``, the resident's "coming up" list to
``residents.plain``, notification topics to ``notifications.topics``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from yiyang.common.actor import Actor

# --- navigation --------------------------------------------------------------------------


@dataclass(frozen=True)
class NavEntry:
    """A main-navigation link: shown to a user who holds ``visible`` (a permission) or for
    whom ``visible(user)`` is true. Entries are listed by ``order``: work pages first
    (residents 100s, assessments 200s, alerts and devices 300s), set-up pages last
    (network 700s, accounts 800s, audit 900s)."""

    label: Any  # a (lazy) translated string
    url_name: str
    visible: StrEnum | Callable[[Any], bool]
    order: int

    def shown_to(self, user: Actor) -> bool:
        if isinstance(self.visible, StrEnum):
            return bool(user.has_perm_code(self.visible))
        return bool(self.visible(user))


_NAV: dict[tuple[str, int], NavEntry] = {}


def register_nav(
    label: Any, url_name: str, visible: StrEnum | Callable[[Any], bool], *, order: int
) -> NavEntry:
    """Register (or, for the same page and order, replace) a navigation entry."""
    entry = NavEntry(label, url_name, visible, order)
    _NAV[(url_name, order)] = entry
    return entry


def nav_entries() -> list[NavEntry]:
    return sorted(_NAV.values(), key=lambda entry: entry.order)


# --- the home page per role --------------------------------------------------------------

_HOMES: dict[str, str] = {}


def register_home(role: str, view_path: str) -> None:
    """Serve ``/`` to users of ``role`` with the view at ``view_path`` (a dotted path)
    instead of the staff console's home (e.g. the resident's record in plain words)."""
    _register(_HOMES, "home page of role", role, view_path)


def home_for(role: str) -> str | None:
    """The dotted path of the home view registered for ``role``, if any."""
    return _HOMES.get(role)


# --- routes ------------------------------------------------------------------------------


def _register(table: dict[str, str], kind: str, prefix: str, target: str) -> None:
    known = table.get(prefix)
    if known is not None and known != target:
        raise ImproperlyConfigured(f"{kind} prefix {prefix!r} is taken by {known} ({target})")
    table[prefix] = target


_PAGES: dict[str, str] = {}
_API_ROUTERS: dict[str, str] = {}


def register_pages(prefix: str, urls_module: str) -> None:
    """Serve ``urls_module``'s patterns under ``prefix`` (e.g. ``"devices/"``)."""
    _register(_PAGES, "page", prefix, urls_module)


def page_routes() -> list[tuple[str, str]]:
    """``(prefix, urls module)`` in registration order (installed-app order)."""
    return list(_PAGES.items())


def register_api_router(prefix: str, router_path: str) -> None:
    """Mount the Ninja router at ``router_path`` (``"yiyang.devices.api.router"``) under
    ``/api/v1`` + ``prefix``."""
    _register(_API_ROUTERS, "API", prefix, router_path)


def api_routers() -> list[tuple[str, str]]:
    """``(prefix, router path)`` in registration order (installed-app order)."""
    return list(_API_ROUTERS.items())
