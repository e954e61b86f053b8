"""Care network pages: medical alliances (list, detail, create, edit)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from yiyang.accounts.actor import PageRequest
from yiyang.common.pages import page, paginate, query_without_page
from yiyang.network.forms.institutions import AllianceFilterForm, AllianceForm
from yiyang.network.models import NodeLevel
from yiyang.network.pages.editing import edit_page
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.institutions import (
    alliances_for,
    get_alliance_for,
    institutions_for,
    nodes_for,
)
from yiyang.network.services.alliances import create_alliance, update_alliance


@page(NetworkPerm.VIEW)
def alliance_list(request: PageRequest) -> HttpResponse:
    user = request.user
    filters = AllianceFilterForm(request.GET or None)
    alliances = filters.filter(alliances_for(user)).order_by("name", "pk")
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
    alliance = get_alliance_for(user, pk)
    members = list(alliance.members.select_related("region").order_by("region__code", "name"))
    # An alliance seen through one member may name institutions outside the scope: they
    # are listed, but only those in the scope link to their page.
    visible = set(
        institutions_for(user)
        .filter(pk__in=[alliance.lead_id, *(m.pk for m in members)])
        .values_list("pk", flat=True)
    )
    centers = (
        nodes_for(user)
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
    return edit_page(
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
    alliance = get_alliance_for(user, pk)
    url = reverse("network:alliance", args=[alliance.pk])
    form = AllianceForm(request.POST or None, instance=alliance, user=user)
    return edit_page(
        request,
        form,
        save=lambda: update_alliance(user, alliance, **form.service_values()),
        heading=_("Edit %(name)s") % {"name": alliance.name},
        back=(url, alliance.name),
        done=lambda _obj: url,
    )


urlpatterns: list[URLPattern] = [
    path("alliances/", alliance_list, name="alliances"),
    path("alliances/new/", alliance_create, name="alliance_create"),
    path("alliances/<int:pk>/", alliance_detail, name="alliance"),
    path("alliances/<int:pk>/edit/", alliance_edit, name="alliance_edit"),
]
