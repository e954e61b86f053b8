"""Pages of the care network: the tree, institutions, alliances, nodes, agreements, staff,
teams.

Views stay thin: they read through ``selectors`` (scoped to the user; ``NotFound`` is the
404 page) and write through ``services`` (whose ``ValidationFailed`` is shown next to the
form field). Access: login, then the permission (``common.pages.page``), then the scope.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from yiyang.common.crypto import mask_phone
from yiyang.common.errors import ValidationFailed
from yiyang.common.pages import PageRequest, apply_error, page, paginate, query_without_page
from yiyang.network import selectors
from yiyang.network.forms import (
    AgreementFilterForm,
    AgreementForm,
    AllianceFilterForm,
    AllianceForm,
    GridFilterForm,
    GridForm,
    InstitutionFilterForm,
    InstitutionForm,
    NodeForm,
    RegionFilterForm,
    RegionImportForm,
    StaffFilterForm,
    StaffForm,
    TeamFilterForm,
    TeamForm,
)
from yiyang.network.models import NodeLevel, TeamMember, expiry_q
from yiyang.network.permissions import NetworkPerm
from yiyang.network.regions import import_regions
from yiyang.network.services.agreements import create_agreement, update_agreement
from yiyang.network.services.alliances import create_alliance, update_alliance
from yiyang.network.services.grids import create_grid, update_grid
from yiyang.network.services.institutions import create_institution, update_institution
from yiyang.network.services.nodes import create_node, update_node
from yiyang.network.services.staff import create_staff, update_staff
from yiyang.network.services.teams import create_team, update_team

# Above this many centers and stations the tree starts with the stations folded.
TREE_EXPAND_LIMIT = 60


# --- tree and nodes ---------------------------------------------------------------------


@page(NetworkPerm.VIEW)
def tree(request: PageRequest) -> HttpResponse:
    user = request.user
    leads = selectors.network_tree(user)
    size = sum(1 + len(center.stations) for lead in leads for center in lead.centers)
    context = {
        "tree": leads,
        "expand": size <= TREE_EXPAND_LIMIT,
        "can_manage": user.has_perm_code(NetworkPerm.MANAGE),
        "can_import": user.has_perm_code(NetworkPerm.REGION_IMPORT),
    }
    return render(request, "network/tree.html", context)


@page(NetworkPerm.VIEW)
def node_detail(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    node = selectors.get_node_for(user, pk)
    stations = []
    if node.level == NodeLevel.CENTER:
        stations = list(selectors.nodes_for(user).filter(center=node).order_by("region__code"))
    lead_visible = center_visible = False
    if node.lead_id is not None:
        lead_visible = selectors.institutions_for(user).filter(pk=node.lead_id).exists()
    if node.center_id is not None:
        center_visible = selectors.nodes_for(user).filter(pk=node.center_id).exists()
    context = {
        "node": node,
        "stations": stations,
        "teams": selectors.teams_for(user).filter(node=node),
        "lead_visible": lead_visible,
        "center_visible": center_visible,
        "can_manage": user.has_perm_code(NetworkPerm.MANAGE),
    }
    return render(request, "network/node_detail.html", context)


@page(NetworkPerm.MANAGE)
def node_create(request: PageRequest) -> HttpResponse:
    user = request.user
    form = NodeForm(request.POST or None, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: create_node(user, **form.cleaned_data),
        heading=_("New care-service center or station"),
        back=(reverse("network:tree"), _("Care network")),
        done=lambda node: reverse("network:node", args=[node.pk]),
    )


@page(NetworkPerm.MANAGE)
def node_edit(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    node = selectors.get_node_for(user, pk)
    url = reverse("network:node", args=[node.pk])
    form = NodeForm(request.POST or None, instance=node, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: update_node(user, node, **form.changed_data_values()),
        heading=_("Edit %(name)s") % {"name": node.name},
        back=(url, node.name),
        done=lambda _obj: url,
    )


# --- regions and grids ------------------------------------------------------------------


@page(NetworkPerm.VIEW)
def region_list(request: PageRequest) -> HttpResponse:
    user = request.user
    filters = RegionFilterForm(request.GET or None)
    regions = filters.filter(selectors.regions_for(user)).select_related("parent")
    context = {
        "filter_form": filters,
        "page_obj": paginate(request, regions.order_by("code")),
        "query": query_without_page(request),
        "can_import": user.has_perm_code(NetworkPerm.REGION_IMPORT),
    }
    return render(request, "network/region_list.html", context)


@page(NetworkPerm.REGION_IMPORT)
def region_import(request: PageRequest) -> HttpResponse:
    """Upload a region CSV (code,name): all rows are imported or none; the report shows
    the counts, or every bad row with its line, code and reason."""
    form = RegionImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = import_regions(
                request.user,
                upload.read(),
                year=form.cleaned_data["year"],
                source=upload.name or "",
            )
        except ValidationFailed as error:
            apply_error(form, error)
    context = {"form": form, "report": report}
    if request.htmx:
        return render(request, "network/_region_import.html", context)
    return render(request, "network/region_import.html", context)


@page(NetworkPerm.VIEW)
def grid_list(request: PageRequest) -> HttpResponse:
    user = request.user
    filters = GridFilterForm(request.GET or None)
    grids = filters.filter(selectors.grids_for(user)).order_by("village__code", "code")
    context = {
        "filter_form": filters,
        "page_obj": paginate(request, grids),
        "query": query_without_page(request),
        "can_manage": user.has_perm_code(NetworkPerm.MANAGE),
    }
    return render(request, "network/grid_list.html", context)


@page(NetworkPerm.MANAGE)
def grid_create(request: PageRequest) -> HttpResponse:
    user = request.user
    form = GridForm(request.POST or None, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: create_grid(user, **form.cleaned_data),
        heading=_("New grid"),
        back=(reverse("network:grids"), _("Grids")),
        done=lambda _grid: reverse("network:grids"),
    )


@page(NetworkPerm.MANAGE)
def grid_edit(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    grid = selectors.get_grid_for(user, pk)
    url = reverse("network:grids")
    form = GridForm(request.POST or None, instance=grid, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: update_grid(user, grid, **form.changed_data_values()),
        heading=_("Edit %(name)s") % {"name": grid.name},
        back=(url, _("Grids")),
        done=lambda _obj: url,
    )


# --- institutions -----------------------------------------------------------------------


@page(NetworkPerm.VIEW)
def institution_list(request: PageRequest) -> HttpResponse:
    user = request.user
    filters = InstitutionFilterForm(request.GET or None, user=user)
    institutions = filters.filter(selectors.institutions_for(user))
    context = {
        "filter_form": filters,
        "page_obj": paginate(request, institutions),
        "query": query_without_page(request),
        "can_manage": user.has_perm_code(NetworkPerm.MANAGE),
    }
    return render(request, "network/institution_list.html", context)


@page(NetworkPerm.VIEW)
def institution_detail(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    inst = selectors.get_institution_for(user, pk)
    nodes = selectors.nodes_for(user).filter(
        Q(medical_member=inst) | Q(care_member=inst) | Q(lead=inst)
    )
    agreements = list(selectors.agreements_for(user).filter(Q(party_a=inst) | Q(party_b=inst)))
    _mark_expiry(agreements)
    context = {
        "inst": inst,
        "nodes": nodes,
        "agreements": agreements,
        "staff_count": inst.memberships.count(),
        "can_manage": user.has_perm_code(NetworkPerm.MANAGE),
    }
    return render(request, "network/institution_detail.html", context)


@page(NetworkPerm.MANAGE)
def institution_create(request: PageRequest) -> HttpResponse:
    user = request.user
    form = InstitutionForm(request.POST or None, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: create_institution(user, **form.cleaned_data),
        heading=_("New institution"),
        back=(reverse("network:institutions"), _("Institutions")),
        done=lambda inst: reverse("network:institution", args=[inst.pk]),
    )


@page(NetworkPerm.MANAGE)
def institution_edit(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    inst = selectors.get_institution_for(user, pk)
    url = reverse("network:institution", args=[inst.pk])
    form = InstitutionForm(request.POST or None, instance=inst, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: update_institution(user, inst, **form.changed_data_values()),
        heading=_("Edit %(name)s") % {"name": inst.name},
        back=(url, inst.name),
        done=lambda _obj: url,
    )


# --- alliances --------------------------------------------------------------------------


@page(NetworkPerm.VIEW)
def alliance_list(request: PageRequest) -> HttpResponse:
    user = request.user
    filters = AllianceFilterForm(request.GET or None)
    alliances = filters.filter(selectors.alliances_for(user)).order_by("name", "pk")
    context = {
        "filter_form": filters,
        "page_obj": paginate(request, alliances),
        "query": query_without_page(request),
        "can_manage": user.has_perm_code(NetworkPerm.MANAGE),
    }
    return render(request, "network/alliance_list.html", context)


@page(NetworkPerm.VIEW)
def alliance_detail(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    alliance = selectors.get_alliance_for(user, pk)
    members = list(alliance.members.select_related("region").order_by("region__code", "name"))
    # An alliance seen through one member may name institutions outside the scope: they
    # are listed, but only those in the scope link to their page.
    visible = set(
        selectors.institutions_for(user)
        .filter(pk__in=[alliance.lead_id, *(m.pk for m in members)])
        .values_list("pk", flat=True)
    )
    centers = (
        selectors.nodes_for(user)
        .filter(level=NodeLevel.CENTER, lead_id=alliance.lead_id)
        .order_by("region__code", "name")
    )
    context = {
        "alliance": alliance,
        "members": [{"inst": m, "visible": m.pk in visible} for m in members],
        "lead_visible": alliance.lead_id in visible,
        "centers": centers,
        "can_manage": user.has_perm_code(NetworkPerm.MANAGE),
    }
    return render(request, "network/alliance_detail.html", context)


@page(NetworkPerm.MANAGE)
def alliance_create(request: PageRequest) -> HttpResponse:
    user = request.user
    form = AllianceForm(request.POST or None, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: create_alliance(user, **form.service_values()),
        heading=_("New medical alliance"),
        back=(reverse("network:alliances"), _("Medical alliances")),
        done=lambda alliance: reverse("network:alliance", args=[alliance.pk]),
    )


@page(NetworkPerm.MANAGE)
def alliance_edit(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    alliance = selectors.get_alliance_for(user, pk)
    url = reverse("network:alliance", args=[alliance.pk])
    form = AllianceForm(request.POST or None, instance=alliance, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: update_alliance(user, alliance, **form.service_values()),
        heading=_("Edit %(name)s") % {"name": alliance.name},
        back=(url, alliance.name),
        done=lambda _obj: url,
    )


# --- agreements -------------------------------------------------------------------------


def _mark_expiry(agreements: Any) -> None:
    today = timezone.localdate()
    for agreement in agreements:
        agreement.marker = agreement.expiry_marker(today)


@page(NetworkPerm.VIEW)
def agreement_list(request: PageRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    scoped = selectors.agreements_for(user)
    filters = AgreementFilterForm(request.GET or None)
    page_obj = paginate(request, filters.filter(scoped, today))
    _mark_expiry(page_obj)
    counts = scoped.aggregate(
        expired=Count("pk", filter=expiry_q("expired", today)),
        expiring=Count("pk", filter=expiry_q("expiring", today)),
        not_yet_valid=Count("pk", filter=expiry_q("not_yet_valid", today)),
    )
    context = {
        "filter_form": filters,
        "page_obj": page_obj,
        "query": query_without_page(request),
        "counts": counts,
        "can_manage": user.has_perm_code(NetworkPerm.MANAGE),
    }
    return render(request, "network/agreement_list.html", context)


@page(NetworkPerm.VIEW)
def agreement_detail(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    agreement = selectors.get_agreement_for(user, pk)
    visible = set(
        selectors.institutions_for(user)
        .filter(pk__in=[agreement.party_a_id, agreement.party_b_id])
        .values_list("pk", flat=True)
    )
    context = {
        "agreement": agreement,
        "marker": agreement.expiry_marker(timezone.localdate()),
        "party_a_visible": agreement.party_a_id in visible,
        "party_b_visible": agreement.party_b_id in visible,
        "document_name": os.path.basename(agreement.document.name) if agreement.document else "",
        "can_manage": user.has_perm_code(NetworkPerm.MANAGE),
    }
    return render(request, "network/agreement_detail.html", context)


@page(NetworkPerm.MANAGE)
def agreement_create(request: PageRequest) -> HttpResponse:
    user = request.user
    form = AgreementForm(request.POST or None, request.FILES or None, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: create_agreement(user, **form.cleaned_data),
        heading=_("New agreement"),
        back=(reverse("network:agreements"), _("Agreements")),
        done=lambda agreement: reverse("network:agreement", args=[agreement.pk]),
    )


@page(NetworkPerm.MANAGE)
def agreement_edit(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    agreement = selectors.get_agreement_for(user, pk)
    url = reverse("network:agreement", args=[agreement.pk])
    form = AgreementForm(request.POST or None, request.FILES or None, instance=agreement, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: update_agreement(user, agreement, **form.changed_data_values()),
        heading=_("Edit %(name)s") % {"name": agreement},
        back=(url, str(agreement)),
        done=lambda _obj: url,
    )


@page(NetworkPerm.VIEW)
def agreement_document(request: PageRequest, pk: int) -> FileResponse:
    agreement = selectors.get_agreement_for(request.user, pk)
    if not agreement.document:
        raise Http404("no document")
    return FileResponse(
        agreement.document.open("rb"),
        as_attachment=True,
        filename=os.path.basename(agreement.document.name),
    )


# --- staff ------------------------------------------------------------------------------


@page(NetworkPerm.STAFF_VIEW)
def staff_list(request: PageRequest) -> HttpResponse:
    user = request.user
    filters = StaffFilterForm(request.GET or None)
    page_obj = paginate(request, filters.filter(selectors.staff_for(user)))
    rows = [{"staff": s, "phone": mask_phone(s.phone) if s.phone else ""} for s in page_obj]
    context = {
        "filter_form": filters,
        "page_obj": page_obj,
        "rows": rows,
        "query": query_without_page(request),
        "can_manage": user.has_perm_code(NetworkPerm.STAFF_MANAGE),
    }
    return render(request, "network/staff_list.html", context)


@page(NetworkPerm.STAFF_VIEW)
def staff_detail(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    staff = selectors.get_staff_for(user, pk)  # audited read
    teams = (
        TeamMember.objects.filter(staff=staff, team__in=selectors.teams_for(user).values("pk"))
        .select_related("team")
        .order_by("team__name")
    )
    context = {
        "staff": staff,
        "phone": mask_phone(staff.phone) if staff.phone else "",
        "teams": teams,
        "can_manage": user.has_perm_code(NetworkPerm.STAFF_MANAGE),
    }
    return render(request, "network/staff_detail.html", context)


# The service validates memberships; the form edits the primary one as "institution".
STAFF_ALIASES = {"memberships": "institution"}


def _staff_values(form: StaffForm) -> dict[str, Any]:
    """The service's arguments: the changed model fields, plus the memberships when the
    primary institution or position changed (other memberships are kept as they are)."""
    data = form.changed_data_values() if form.instance.pk else dict(form.cleaned_data)
    data.pop("institution", None)
    data.pop("position", None)
    if form.instance.pk and not {"institution", "position"} & set(form.changed_data):
        return data
    institution = form.cleaned_data["institution"]
    primary = {
        "institution": institution,
        "position": form.cleaned_data.get("position", ""),
        "primary": True,
    }
    others = []
    if form.instance.pk:
        for m in form.instance.memberships.order_by("pk"):
            row = {
                "institution": m.institution_id,
                "position": m.position,
                "primary": False,
                "start_on": m.start_on,
                "end_on": m.end_on,
            }
            if m.institution_id == institution.pk:
                primary.update(start_on=m.start_on, end_on=m.end_on)
            elif not m.primary:
                others.append(row)
    data["memberships"] = [primary, *others]
    return data


@page(NetworkPerm.STAFF_MANAGE)
def staff_create(request: PageRequest) -> HttpResponse:
    user = request.user
    form = StaffForm(request.POST or None, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: create_staff(user, **_staff_values(form)),
        heading=_("New staff member"),
        back=(reverse("network:staff"), _("Staff")),
        done=lambda staff: reverse("network:staff_detail", args=[staff.pk]),
        aliases=STAFF_ALIASES,
    )


@page(NetworkPerm.STAFF_MANAGE)
def staff_edit(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    staff = selectors.get_staff_for(user, pk)  # audited read: the form shows the record
    url = reverse("network:staff_detail", args=[staff.pk])
    form = StaffForm(request.POST or None, instance=staff, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: update_staff(user, staff, **_staff_values(form)),
        heading=_("Edit %(name)s") % {"name": staff.name},
        back=(url, staff.name),
        done=lambda _obj: url,
        aliases=STAFF_ALIASES,
    )


# --- teams ------------------------------------------------------------------------------


@page(NetworkPerm.VIEW)
def team_list(request: PageRequest) -> HttpResponse:
    filters = TeamFilterForm(request.GET or None)
    context = {
        "filter_form": filters,
        "page_obj": paginate(request, filters.filter(selectors.teams_for(request.user))),
        "query": query_without_page(request),
        "can_manage": request.user.has_perm_code(NetworkPerm.MANAGE),
    }
    return render(request, "network/team_list.html", context)


@page(NetworkPerm.VIEW)
def team_detail(request: PageRequest, pk: int) -> HttpResponse:
    context = {
        "team": selectors.get_team_for(request.user, pk),
        "can_view_staff": request.user.has_perm_code(NetworkPerm.STAFF_VIEW),
        "can_manage": request.user.has_perm_code(NetworkPerm.MANAGE),
    }
    return render(request, "network/team_detail.html", context)


@page(NetworkPerm.MANAGE)
def team_create(request: PageRequest) -> HttpResponse:
    user = request.user
    form = TeamForm(request.POST or None, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: create_team(user, **form.service_values()),
        heading=_("New family-doctor team"),
        back=(reverse("network:teams"), _("Family-doctor teams")),
        done=lambda team: reverse("network:team", args=[team.pk]),
    )


@page(NetworkPerm.MANAGE)
def team_edit(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    team = selectors.get_team_for(user, pk)
    url = reverse("network:team", args=[team.pk])
    form = TeamForm(request.POST or None, instance=team, user=user)
    return _edit_page(
        request,
        form,
        save=lambda: update_team(user, team, **form.service_values()),
        heading=_("Edit %(name)s") % {"name": team.name},
        back=(url, team.name),
        done=lambda _obj: url,
    )


# --- shared edit flow -------------------------------------------------------------------


def _edit_page(
    request: PageRequest,
    form: Any,
    *,
    save: Callable[[], Any],
    heading: str,
    back: tuple[str, str],
    done: Callable[[Any], str],
    aliases: dict[str, str] | None = None,
) -> HttpResponse:
    """GET shows the form; POST validates the input, calls the service and redirects to
    the object, or shows the form again with the service's message next to the field.
    With htmx the form fragment is returned (and a client redirect on success)."""
    if request.method == "POST" and form.is_valid():
        if form.instance.pk and not form.has_changed():
            messages.info(request, _("Nothing changed."))
            return _redirect(request, done(form.instance))
        try:
            obj = save()
        except ValidationFailed as error:
            apply_error(form, error, aliases)
        else:
            messages.success(request, _("Saved."))
            return _redirect(request, done(obj))
    context = {
        "form": form,
        "heading": heading,
        "back_url": back[0],
        "back_label": back[1],
        "cancel_url": back[0],
    }
    template = "network/_form.html" if request.htmx else "network/form_page.html"
    return render(request, template, context)


def _redirect(request: PageRequest, url: str) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)
