"""Care network pages: agreements between institutions (list with expiry markers and
counts, detail, create, edit, the signed document)."""

from __future__ import annotations

import os
from typing import Any

from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.actor import PageRequest
from yiyang.common.pages import page, paginate, query_without_page
from yiyang.network.forms.institutions import AgreementFilterForm, AgreementForm
from yiyang.network.models import expiry_q
from yiyang.network.pages.editing import edit_page
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.institutions import (
    agreements_for,
    get_agreement_for,
    institutions_for,
)
from yiyang.network.services.agreements import create_agreement, update_agreement


def mark_expiry(agreements: Any) -> None:
    """Give each agreement its expiry ``marker`` for today (the templates show it)."""
    today = timezone.localdate()
    for agreement in agreements:
        agreement.marker = agreement.expiry_marker(today)


@page(NetworkPerm.VIEW)
def agreement_list(request: PageRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    scoped = agreements_for(user)
    filters = AgreementFilterForm(request.GET or None)
    page_obj = paginate(request, filters.filter(scoped, today))
    mark_expiry(page_obj)
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
    agreement = get_agreement_for(user, pk)
    visible = set(
        institutions_for(user)
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
    return edit_page(
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
    agreement = get_agreement_for(user, pk)
    url = reverse("network:agreement", args=[agreement.pk])
    form = AgreementForm(request.POST or None, request.FILES or None, instance=agreement, user=user)
    return edit_page(
        request,
        form,
        save=lambda: update_agreement(user, agreement, **form.changed_data_values()),
        heading=_("Edit %(name)s") % {"name": agreement},
        back=(url, str(agreement)),
        done=lambda _obj: url,
    )


@page(NetworkPerm.VIEW)
def agreement_document(request: PageRequest, pk: int) -> FileResponse:
    agreement = get_agreement_for(request.user, pk)
    if not agreement.document:
        raise Http404("no document")
    return FileResponse(
        agreement.document.open("rb"),
        as_attachment=True,
        filename=os.path.basename(agreement.document.name),
    )


urlpatterns: list[URLPattern] = [
    path("agreements/", agreement_list, name="agreements"),
    path("agreements/new/", agreement_create, name="agreement_create"),
    path("agreements/<int:pk>/", agreement_detail, name="agreement"),
    path("agreements/<int:pk>/edit/", agreement_edit, name="agreement_edit"),
    path("agreements/<int:pk>/document/", agreement_document, name="agreement_document"),
]
