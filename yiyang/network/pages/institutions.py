"""Care network pages: institutions (list, detail with their nodes and agreements, create,
edit)."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from yiyang.accounts.actor import PageRequest
from yiyang.common.pages import page, paginate, query_without_page
from yiyang.network.forms.institutions import InstitutionFilterForm, InstitutionForm
from yiyang.network.pages.agreements import mark_expiry
from yiyang.network.pages.editing import edit_page
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.institutions import (
    agreements_for,
    get_institution_for,
    institutions_for,
    nodes_for,
)
from yiyang.network.services.institutions import create_institution, update_institution


@page(NetworkPerm.VIEW)
def institution_list(request: PageRequest) -> HttpResponse:
    user = request.user
    filters = InstitutionFilterForm(request.GET or None, user=user)
    institutions = filters.filter(institutions_for(user))
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
    inst = get_institution_for(user, pk)
    nodes = nodes_for(user).filter(Q(medical_member=inst) | Q(care_member=inst) | Q(lead=inst))
    agreements = list(agreements_for(user).filter(Q(party_a=inst) | Q(party_b=inst)))
    mark_expiry(agreements)
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
    return edit_page(
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
    inst = get_institution_for(user, pk)
    url = reverse("network:institution", args=[inst.pk])
    form = InstitutionForm(request.POST or None, instance=inst, user=user)
    return edit_page(
        request,
        form,
        save=lambda: update_institution(user, inst, **form.changed_data_values()),
        heading=_("Edit %(name)s") % {"name": inst.name},
        back=(url, inst.name),
        done=lambda _obj: url,
    )


urlpatterns: list[URLPattern] = [
    path("institutions/", institution_list, name="institutions"),
    path("institutions/new/", institution_create, name="institution_create"),
    path("institutions/<int:pk>/", institution_detail, name="institution"),
    path("institutions/<int:pk>/edit/", institution_edit, name="institution_edit"),
]
