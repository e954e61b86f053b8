"""Care network pages: the network tree (lead institutions → centers → stations, with their
teams and grids) and the chain nodes (detail, create, edit)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from yiyang.accounts.actor import PageRequest
from yiyang.common.pages import page
from yiyang.network.forms.institutions import NodeForm
from yiyang.network.models import NodeLevel
from yiyang.network.pages.editing import edit_page
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.institutions import get_node_for, institutions_for, nodes_for
from yiyang.network.selectors.teams import teams_for
from yiyang.network.selectors.tree import network_tree
from yiyang.network.services.nodes import create_node, update_node

# Above this many centers and stations the tree starts with the stations folded.
TREE_EXPAND_LIMIT = 60


@page(NetworkPerm.VIEW)
def tree(request: PageRequest) -> HttpResponse:
    user = request.user
    leads = network_tree(user)
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
    node = get_node_for(user, pk)
    stations = []
    if node.level == NodeLevel.CENTER:
        stations = list(nodes_for(user).filter(center=node).order_by("region__code"))
    lead_visible = center_visible = False
    if node.lead_id is not None:
        lead_visible = institutions_for(user).filter(pk=node.lead_id).exists()
    if node.center_id is not None:
        center_visible = nodes_for(user).filter(pk=node.center_id).exists()
    context = {
        "node": node,
        "stations": stations,
        "teams": teams_for(user).filter(node=node),
        "lead_visible": lead_visible,
        "center_visible": center_visible,
        "can_manage": user.has_perm_code(NetworkPerm.MANAGE),
    }
    return render(request, "network/node_detail.html", context)


@page(NetworkPerm.MANAGE)
def node_create(request: PageRequest) -> HttpResponse:
    user = request.user
    form = NodeForm(request.POST or None, user=user)
    return edit_page(
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
    node = get_node_for(user, pk)
    url = reverse("network:node", args=[node.pk])
    form = NodeForm(request.POST or None, instance=node, user=user)
    return edit_page(
        request,
        form,
        save=lambda: update_node(user, node, **form.changed_data_values()),
        heading=_("Edit %(name)s") % {"name": node.name},
        back=(url, node.name),
        done=lambda _obj: url,
    )


urlpatterns: list[URLPattern] = [
    path("", tree, name="tree"),
    path("nodes/new/", node_create, name="node_create"),
    path("nodes/<int:pk>/", node_detail, name="node"),
    path("nodes/<int:pk>/edit/", node_edit, name="node_edit"),
]
