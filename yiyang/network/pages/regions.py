"""Care network pages: the region list and the region CSV import."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from yiyang.accounts.actor import PageRequest
from yiyang.common.errors import ValidationFailed
from yiyang.common.pages import apply_error, page, paginate, query_without_page
from yiyang.network.forms.regions import RegionFilterForm, RegionImportForm
from yiyang.network.permissions import NetworkPerm
from yiyang.network.regions import import_regions
from yiyang.network.selectors.regions import regions_for


@page(NetworkPerm.VIEW)
def region_list(request: PageRequest) -> HttpResponse:
    user = request.user
    filters = RegionFilterForm(request.GET or None)
    regions = filters.filter(regions_for(user)).select_related("parent")
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


urlpatterns: list[URLPattern] = [
    path("regions/", region_list, name="regions"),
    path("regions/import/", region_import, name="region_import"),
]
