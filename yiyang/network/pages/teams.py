"""Care network pages: family-doctor teams (list, detail, create, edit)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from yiyang.accounts.actor import PageRequest
from yiyang.common.pages import page, paginate, query_without_page
from yiyang.network.forms.teams import TeamFilterForm, TeamForm
from yiyang.network.pages.editing import edit_page
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.teams import get_team_for, teams_for
from yiyang.network.services.teams import create_team, update_team


@page(NetworkPerm.VIEW)
def team_list(request: PageRequest) -> HttpResponse:
    filters = TeamFilterForm(request.GET or None)
    context = {
        "filter_form": filters,
        "page_obj": paginate(request, filters.filter(teams_for(request.user))),
        "query": query_without_page(request),
        "can_manage": request.user.has_perm_code(NetworkPerm.MANAGE),
    }
    return render(request, "network/team_list.html", context)


@page(NetworkPerm.VIEW)
def team_detail(request: PageRequest, pk: int) -> HttpResponse:
    context = {
        "team": get_team_for(request.user, pk),
        "can_view_staff": request.user.has_perm_code(NetworkPerm.STAFF_VIEW),
        "can_manage": request.user.has_perm_code(NetworkPerm.MANAGE),
    }
    return render(request, "network/team_detail.html", context)


@page(NetworkPerm.MANAGE)
def team_create(request: PageRequest) -> HttpResponse:
    user = request.user
    form = TeamForm(request.POST or None, user=user)
    return edit_page(
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
    team = get_team_for(user, pk)
    url = reverse("network:team", args=[team.pk])
    form = TeamForm(request.POST or None, instance=team, user=user)
    return edit_page(
        request,
        form,
        save=lambda: update_team(user, team, **form.service_values()),
        heading=_("Edit %(name)s") % {"name": team.name},
        back=(url, team.name),
        done=lambda _obj: url,
    )


urlpatterns: list[URLPattern] = [
    path("teams/", team_list, name="teams"),
    path("teams/new/", team_create, name="team_create"),
    path("teams/<int:pk>/", team_detail, name="team"),
    path("teams/<int:pk>/edit/", team_edit, name="team_edit"),
]
