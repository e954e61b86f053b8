"""Registry pages: the resident list (search, filters, keyset paging), register, edit, the
overview tab and the audited reveal of the ID number and phone.

Access: the list needs ``residents.view`` (resident and family logins see their own
record(s) — the "self" scope); register and edit ``residents.manage``; reveal
``residents.reveal``. A resident outside the scope is a 404 like a missing one, and every
page showing one resident's record reads it through ``get_resident_for`` (an audit row).
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.common.crypto import mask_phone
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.pages import apply_error, page, refuses_control_characters
from yiyang.common.paging import keyset_page
from yiyang.common.permissions import PUBLIC_ROLES
from yiyang.network.models import Region, Team
from yiyang.residents.forms import ResidentFilterForm, ResidentForm
from yiyang.residents.models import (
    Consent,
    ConsentPurpose,
    Resident,
    ResidentStatus,
)
from yiyang.residents.pages.shell import Tab, render_tab, resident_page
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.search import ID_RE, NO_GRID, PHONE_RE
from yiyang.residents.selectors.registry import (
    can_view_residents,
    get_resident_for,
    residents_for,
)
from yiyang.residents.services.people import DuplicateUnconfirmed, register_with_consents
from yiyang.residents.services.registry import (
    reveal_identifiers,
    start_household,
    update_resident,
)

# A service error on these fields is shown next to the form field that holds it.
FIELD_ALIASES = {
    "guardian": "guardian_name",
    "guardian.name": "guardian_name",
    "guardian.relation": "guardian_relation",
    "guardian.phone": "guardian_phone",
    "purpose": "consents",
    "given_by": "consent_given_by",
}


def _cursor(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _is_identifier(q: str) -> bool:
    compact = re.sub(r"[\s\-]", "", q)
    return bool(ID_RE.fullmatch(compact) or PHONE_RE.fullmatch(compact))


def _filter_query(request: HttpRequest) -> str:
    """The current filters as a query string, without the paging cursor."""
    params = request.GET.copy()
    for name in ("after", "before"):
        params.pop(name, None)
    return params.urlencode()


# --- registration with its consents -----------------------------------------------------


def _decorate(resident: Resident) -> Resident:
    """What a list row shows beyond the model: the masked phone (no query)."""
    resident.phone_masked = mask_phone(resident.phone) if resident.phone else ""  # type: ignore[attr-defined]
    return resident


# --- list -------------------------------------------------------------------------------


@login_required
@refuses_control_characters
def resident_list(request: PageRequest) -> HttpResponse:
    user = request.user
    if not can_view_residents(user):
        raise DjangoPermissionDenied
    if user.role in PUBLIC_ROLES:  # her own record, or her family's, in plain words
        from yiyang.residents.pages.home import plain_home

        return plain_home(request)
    form = ResidentFilterForm(request.GET or None, user=user)
    if form.is_bound and not form.is_valid():
        results = keyset_page(Resident.objects.none())
    else:
        try:
            results = keyset_page(
                form.results().select_related(None).prefetch_related("region", "grid"),
                after=_cursor(request.GET.get("after")),
                before=_cursor(request.GET.get("before")),
            )
        except ValidationFailed as error:
            apply_error(form, error)
            results = keyset_page(Resident.objects.none())
    for row in results.items:
        _decorate(row)
    can_manage = user.has_perm_code(ResidentPerm.MANAGE)
    context = {
        "filter_form": form,
        "results": results,
        "query": _filter_query(request),
        # The work list of residents waiting for a grid, for whoever may assign one.
        "no_grid_waiting": can_manage
        and form.offers_no_grid
        and residents_for(user).filter(grid__isnull=True).exists(),
        "no_grid_value": NO_GRID,
        "can_manage": can_manage,
        "can_import": user.has_perm_code(ResidentPerm.IMPORT),
        "can_export": user.has_perm_code(ResidentPerm.EXPORT),
    }
    if request.htmx and not request.htmx.boosted:
        response = render(request, "residents/registry/_results.html", context)
        if _is_identifier(request.GET.get("q", "")):
            # Keep full ID numbers and phones out of the browser's history.
            response["HX-Push-Url"] = "false"
        return response
    return render(request, "residents/registry/list.html", context)


# --- register and edit ------------------------------------------------------------------


def _place_initial(request: HttpRequest) -> dict[str, Any]:
    """The township/village an htmx refresh of the place fields asks for."""
    return {
        name: request.GET[name]
        for name in ("township", "region")
        if request.method == "GET" and request.GET.get(name, "").isdigit()
    }


def _form_page(request: PageRequest, context: dict[str, Any]) -> HttpResponse:
    template = (
        "residents/registry/_form.html"
        if request.htmx and not request.htmx.boosted
        else "residents/registry/form.html"
    )
    return render(request, template, context)


def _done(request: PageRequest, url: str) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@page(ResidentPerm.MANAGE)
def resident_create(request: PageRequest) -> HttpResponse:
    user = request.user
    form = ResidentForm(request.POST or None, user=user, initial=_place_initial(request))
    candidates: list[Resident] = []
    if request.method == "POST" and form.is_valid():
        consent = form.consent_values()
        try:
            resident, _found = register_with_consents(
                user,
                form.service_values(),
                purposes=consent["purposes"],
                given_by=consent["given_by"],
                guardian=consent["guardian"],
                confirm=request.POST.get("confirm") == "1",
            )
        except DuplicateUnconfirmed as unconfirmed:
            candidates = unconfirmed.candidates
        except ValidationFailed as error:
            apply_error(form, error, FIELD_ALIASES)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": resident.name})
            return _done(request, reverse("residents:detail", args=[resident.pk]))
    context = {
        "form": form,
        "candidates": candidates,
        "heading": _("Register a resident"),
        "cancel_url": reverse("residents:list"),
    }
    return _form_page(request, context)


@page(ResidentPerm.MANAGE)
def resident_edit(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    resident = get_resident_for(user, pk)
    url = reverse("residents:detail", args=[resident.pk])
    form = ResidentForm(
        request.POST or None, instance=resident, user=user, initial=_place_initial(request)
    )
    if request.method == "POST" and form.is_valid():
        changes = form.service_values()
        if not changes:
            messages.info(request, _("Nothing changed."))
            return _done(request, url)
        try:
            update_resident(user, resident.pk, **changes)
        except ValidationFailed as error:
            apply_error(form, error, FIELD_ALIASES)
        else:
            messages.success(request, _("Saved."))
            return _done(request, url)
    context = {
        "form": form,
        "resident": resident,
        "heading": _("Edit %(name)s") % {"name": resident.name},
        "cancel_url": url,
    }
    return _form_page(request, context)


# --- one resident -----------------------------------------------------------------------


def _places(resident: Resident) -> list[Region]:
    """The resident's village, township and county (one query)."""
    village = Region.objects.select_related("parent__parent").get(pk=resident.region_id)
    chain = [village]
    while chain[-1].parent is not None and len(chain) < 3:
        chain.append(chain[-1].parent)
    return chain


@resident_page
def resident_detail(request: PageRequest, resident: Resident) -> HttpResponse:
    user = request.user
    housemates: list[Resident] = []
    if resident.household_id is not None:
        housemates = list(
            residents_for(user).filter(household_id=resident.household_id).exclude(pk=resident.pk)
        )
    context = {
        "places": _places(resident),
        "housemates": housemates,
        "phone_masked": mask_phone(resident.phone) if resident.phone else "",
        "can_manage": user.has_perm_code(ResidentPerm.MANAGE),
        "can_reveal": user.has_perm_code(ResidentPerm.REVEAL),
    }
    return render_tab(request, resident, "detail", "residents/registry/_overview.html", context)


@require_POST
@resident_page
def resident_household(request: PageRequest, resident: Resident) -> HttpResponse:
    """Start a household at her address with her as its first member."""
    try:
        start_household(request.user, resident, address=request.POST.get("address", ""))
    except ValidationFailed as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Household started at her address."))
    return redirect("residents:detail", resident.pk)


@require_POST
@login_required
@refuses_control_characters
def resident_reveal(request: PageRequest, pk: int) -> HttpResponse:
    """The full ID number and phone, in place of the masked ones (audited)."""
    user = request.user
    try:
        id_number, phone = reveal_identifiers(user, pk)
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.detail) from exc
    return render(
        request, "residents/registry/_revealed.html", {"id_number": id_number, "phone": phone}
    )


# --- the header (a header part of every tab, registered in ``residents.plugin``) -------

HEADER_PURPOSES = [
    ConsentPurpose.HEALTH_DATA,
    ConsentPurpose.DEVICE_MONITORING,
    ConsentPurpose.FAMILY_SHARING,
    ConsentPurpose.PLATFORM_EXCHANGE,
]


def consent_state(resident: Resident) -> list[dict[str, Any]]:
    """For each registration purpose: ``given`` (with who and when), ``withdrawn`` (the
    latest consent was withdrawn) or ``none`` — from the Consent rows (one query)."""
    latest: dict[str, Consent] = {}
    rows = Consent.objects.filter(resident_id=resident.pk, purpose__in=HEADER_PURPOSES)
    for consent in rows.order_by("purpose", "-given_at", "-pk"):
        latest.setdefault(consent.purpose, consent)
    state = []
    for purpose in HEADER_PURPOSES:
        found = latest.get(purpose)
        if found is None:
            status = "none"
        elif found.withdrawn_at is None:
            status = "given"
        else:
            status = "withdrawn"
        state.append(
            {
                "purpose": purpose,
                "label": ConsentPurpose(purpose).label,
                "status": status,
                "consent": found,
            }
        )
    return state


def header_facts(user: User, resident: Resident, tabs: list[Tab]) -> str:
    """The header part of the registry (``shell.register_header_part``): age, sex, flags,
    status, care setting, the family-doctor team(s) serving her grid, the consent state
    and where a merged record went (two queries)."""
    teams: list[Team] = []
    if resident.grid_id is not None:
        teams = list(Team.objects.filter(grids=resident.grid_id).order_by("name"))
    context = {
        "resident": resident,
        "teams": teams,
        "consent_state": consent_state(resident),
        "is_merged": resident.status == ResidentStatus.MERGED,
    }
    return render_to_string("residents/registry/_header.html", context)


urlpatterns: list[URLPattern] = [
    path("", resident_list, name="list"),
    path("new/", resident_create, name="create"),
    path("<int:pk>/", resident_detail, name="detail"),
    path("<int:pk>/edit/", resident_edit, name="edit"),
    path("<int:pk>/reveal/", resident_reveal, name="reveal"),
    path("<int:pk>/household/", resident_household, name="household"),
]
