"""The resident page's frame, shared by every area's tab.

A resident page is a header (name, age, flags, team, consent state) over a row of tabs.
Each tab is its own URL (``residents:<tab>``, kwargs ``pk``): an htmx request gets the
tab's fragment alone, a plain request gets the whole page with that tab open — so every
tab is linkable, and the back button works.

``resident_page`` is the access rule of every resident page: login (else the login page),
the resident fetched through ``get_resident_for`` (scope, audited read; missing or out of
scope → 404), then the view's own checks (``PermissionDenied`` → 403). Resident and family
logins pass through it too: their "self" scope decides what they find.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.functional import Promise

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.common.errors import NotFound, PermissionDenied
from yiyang.common.pages import refuse_control_characters
from yiyang.common.permissions import Role
from yiyang.residents.models import Resident
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.registry import get_resident_for


def staff_or_self(user: User, resident: Resident) -> bool:
    """Staff who see residents, or her own login."""
    if user.role == Role.RESIDENT:
        return resident.account_id == user.pk
    return bool(user.has_perm_code(ResidentPerm.VIEW))


@dataclass(frozen=True)
class Tab:
    # The URL name: in the ``residents`` namespace ("conditions"), or with its own
    # namespace for a tab another app serves ("assessments:resident").
    key: str
    label: str | Promise
    visible: Callable[[Any, Resident], bool]
    order: int = 0

    @property
    def url_name(self) -> str:
        return self.key if ":" in self.key else f"residents:{self.key}"


# --- the registries other apps extend (from their ``plugin`` module; ADR 0024) -----------

_TABS: dict[str, Tab] = {}
# A header part: (user, resident, the tabs the user sees) -> HTML shown under her name ("").
HeaderPart = Callable[[Any, Resident, list[Tab]], str]
_HEADER_PARTS: dict[HeaderPart, int] = {}


def register_tab(
    key: str, label: str | Promise, visible: Callable[[Any, Resident], bool], *, order: int
) -> Tab:
    """Add (or replace) a tab of the resident page: ``key`` is its URL name (a bare name in
    the ``residents`` namespace, else ``"<app>:<name>"`` taking the resident's ``pk``),
    shown to a user for whom ``visible(user, resident)`` is true, placed by ``order`` (the
    registry's own tabs: 10–70 the health record, 100–110 contacts and consent)."""
    tab = Tab(key, label, visible, order)
    _TABS[key] = tab
    return tab


def registered_tabs() -> list[Tab]:
    return sorted(_TABS.values(), key=lambda tab: tab.order)


def register_header_part(part: HeaderPart, *, order: int) -> HeaderPart:
    """Add a part of the resident page's header, placed by ``order`` (the registry's facts,
    team and consent: 10; the assessments app's ability level: 20); a part returns
    rendered HTML, or "" to show nothing."""
    _HEADER_PARTS[part] = order
    return part


def visible_tabs(user: User, resident: Resident) -> list[Tab]:
    return [tab for tab in registered_tabs() if tab.visible(user, resident)]


def header_context(user: User, resident: Resident) -> dict[str, Any]:
    """What the header shows: the tabs the user sees and the registered header parts."""
    tabs = visible_tabs(user, resident)
    ordered = sorted(_HEADER_PARTS, key=_HEADER_PARTS.__getitem__)
    parts = [html for part in ordered if (html := part(user, resident, tabs))]
    return {"resident": resident, "tabs": tabs, "header_parts": parts}


def render_tab(
    request: PageRequest,
    resident: Resident,
    tab: str,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    """The tab's fragment for htmx, else the whole resident page with the tab open."""
    ctx = {"resident": resident, "tab": tab, **(context or {})}
    fragment = render_to_string(template, ctx, request)
    if getattr(request, "htmx", False) and not request.htmx.boosted:  # type: ignore[attr-defined]
        return HttpResponse(fragment, status=status)
    page = {**header_context(request.user, resident), "tab": tab, "tab_content": fragment}
    return render(request, "residents/detail.html", page, status=status)


View = Callable[..., HttpResponseBase]


def resident_page(view: View) -> View:
    """Decorate ``view(request, resident, **kwargs)`` taking the URL's ``pk``."""

    @wraps(view)
    def wrapped(request: PageRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponseBase:
        refused = refuse_control_characters(request)
        if refused is not None:
            return refused
        try:
            resident = get_resident_for(request.user, pk)
            return view(request, resident, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.detail) from exc
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.detail) from exc

    return login_required(wrapped)


def require_tab(request: PageRequest, resident: Resident, key: str) -> None:
    """403 unless the tab ``key`` is visible to the user for this resident."""
    tab = _TABS.get(key)
    if tab is not None and tab.visible(request.user, resident):
        return
    raise PermissionDenied()
