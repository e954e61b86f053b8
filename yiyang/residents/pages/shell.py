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
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiyang.common.errors import NotFound, PermissionDenied
from yiyang.common.pages import refuse_control_characters
from yiyang.common.permissions import Role
from yiyang.devices.permissions import DevicePerm
from yiyang.residents.access import can_view_health, followed_for_alerts
from yiyang.residents.models import Resident
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors import get_resident_for

# The assessments app's tab (``yiyang.assessments.pages.schedule``).
ASSESSMENTS_TAB = "assessments:resident"


def _staff_or_self(user: Any, resident: Resident) -> bool:
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

    @property
    def url_name(self) -> str:
        return self.key if ":" in self.key else f"residents:{self.key}"


def _follows_alerts(user: Any, resident: Resident) -> bool:
    """Staff who monitor devices, or a family login whose grant lets it follow her alerts
    (``access.followed_for_alerts``)."""
    if user.has_perm_code(DevicePerm.VIEW):
        return True
    followed = followed_for_alerts(user)
    return followed is not None and followed.filter(resident_id=resident.pk).exists()


TABS: tuple[Tab, ...] = (
    Tab("detail", _("Overview"), lambda user, resident: True),
    Tab("conditions", _("Conditions"), can_view_health),
    Tab("medications", _("Medications"), can_view_health),
    Tab("allergies", _("Allergies"), can_view_health),
    Tab("observations", _("Observations"), can_view_health),
    Tab("encounters", _("Encounters"), can_view_health),
    Tab("documents", _("Documents"), can_view_health),
    Tab(ASSESSMENTS_TAB, _("Assessments"), can_view_health),
    Tab(  # the devices app's tab (``yiyang.devices.pages_alerts.resident_alerts``)
        "devices:resident_alerts",
        _("Alerts & readings"),
        lambda user, resident: can_view_health(user, resident) and _follows_alerts(user, resident),
    ),
    Tab("contacts", _("Contacts"), _staff_or_self),
    Tab("consents", _("Consent"), _staff_or_self),
)


def visible_tabs(user: Any, resident: Resident) -> list[Tab]:
    return [tab for tab in TABS if tab.visible(user, resident)]


def header_context(user: Any, resident: Resident) -> dict[str, Any]:
    """What the header shows. Extended by the registry area (team, consent state …)."""
    from yiyang.residents.pages.registry import header_extra

    tabs = visible_tabs(user, resident)
    return {
        "resident": resident,
        "tabs": tabs,
        **header_extra(user, resident),
        **_ability_badge(resident, tabs),
    }


def _ability_badge(resident: Resident, tabs: list[Tab]) -> dict[str, Any]:
    """The current GB/T 42195 ability level for the header, to those who see the
    assessments tab (one query)."""
    if not any(tab.key == ASSESSMENTS_TAB for tab in tabs):
        return {}
    from yiyang.assessments.models import Standing
    from yiyang.assessments.pages.schedule import ability_level_name

    level = (
        Standing.objects.filter(resident_id=resident.pk)
        .values_list("ability_level", flat=True)
        .first()
    )
    if level is None:
        return {}
    return {"ability_level": level, "ability_level_name": ability_level_name(level)}


def render_tab(
    request: HttpRequest,
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
    def wrapped(request: HttpRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponseBase:
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


def require_tab(request: HttpRequest, resident: Resident, key: str) -> None:
    """403 unless the tab ``key`` is visible to the user for this resident."""
    for tab in TABS:
        if tab.key == key and tab.visible(request.user, resident):
            return
    raise PermissionDenied()
