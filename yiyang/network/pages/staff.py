"""Care network pages: staff (list with masked phones, the audited detail, create, edit; the
form edits the primary membership)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from yiyang.accounts.actor import PageRequest
from yiyang.common.crypto import mask_phone
from yiyang.common.pages import page, paginate, query_without_page
from yiyang.network.forms.staff import StaffFilterForm, StaffForm
from yiyang.network.models import TeamMember
from yiyang.network.pages.editing import edit_page
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.staff import get_staff_for, staff_for
from yiyang.network.selectors.teams import teams_for
from yiyang.network.services.staff import create_staff, update_staff


@page(NetworkPerm.STAFF_VIEW)
def staff_list(request: PageRequest) -> HttpResponse:
    user = request.user
    filters = StaffFilterForm(request.GET or None)
    page_obj = paginate(request, filters.filter(staff_for(user)))
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
    staff = get_staff_for(user, pk)  # audited read
    teams = (
        TeamMember.objects.filter(staff=staff, team__in=teams_for(user).values("pk"))
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
    return edit_page(
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
    staff = get_staff_for(user, pk)  # audited read: the form shows the record
    url = reverse("network:staff_detail", args=[staff.pk])
    form = StaffForm(request.POST or None, instance=staff, user=user)
    return edit_page(
        request,
        form,
        save=lambda: update_staff(user, staff, **_staff_values(form)),
        heading=_("Edit %(name)s") % {"name": staff.name},
        back=(url, staff.name),
        done=lambda _obj: url,
        aliases=STAFF_ALIASES,
    )


urlpatterns: list[URLPattern] = [
    path("staff/", staff_list, name="staff"),
    path("staff/new/", staff_create, name="staff_create"),
    path("staff/<int:pk>/", staff_detail, name="staff_detail"),
    path("staff/<int:pk>/edit/", staff_edit, name="staff_edit"),
]
