"""Care network pages: the grids (list, create, edit)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from yiyang.accounts.actor import PageRequest
from yiyang.common.pages import page, paginate, query_without_page
from yiyang.network.forms.regions import GridFilterForm, GridForm
from yiyang.network.pages.editing import edit_page
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.regions import get_grid_for, grids_for
from yiyang.network.services.grids import create_grid, update_grid


@page(NetworkPerm.VIEW)
def grid_list(request: PageRequest) -> HttpResponse:
    user = request.user
    filters = GridFilterForm(request.GET or None)
    grids = filters.filter(grids_for(user)).order_by("village__code", "code")
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
    return edit_page(
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
    grid = get_grid_for(user, pk)
    url = reverse("network:grids")
    form = GridForm(request.POST or None, instance=grid, user=user)
    return edit_page(
        request,
        form,
        save=lambda: update_grid(user, grid, **form.changed_data_values()),
        heading=_("Edit %(name)s") % {"name": grid.name},
        back=(url, _("Grids")),
        done=lambda _obj: url,
    )


urlpatterns: list[URLPattern] = [
    path("grids/", grid_list, name="grids"),
    path("grids/new/", grid_create, name="grid_create"),
    path("grids/<int:pk>/edit/", grid_edit, name="grid_edit"),
]
