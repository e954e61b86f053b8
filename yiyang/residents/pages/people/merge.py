"""Merging a duplicate record (``residents:merge``, ``residents.merge``): find it (ID
number, phone, name or the possible duplicates), compare both side by side (what differs,
how many linked rows each has), confirm with a reason.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import HttpResponseClientRedirect

from yiyang.accounts.actor import PageRequest
from yiyang.common.crypto import mask_phone
from yiyang.common.errors import NotFound, ValidationFailed
from yiyang.common.pages import apply_error, refuses_control_characters
from yiyang.common.validation import field_label
from yiyang.residents.models import Resident, ResidentStatus
from yiyang.residents.pages.people.common import require_perm
from yiyang.residents.pages.shell import resident_page
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.search import search_residents
from yiyang.residents.selectors.registry import get_resident_for
from yiyang.residents.services.merge import (
    COMPARED,
    differing_fields,
    linked_counts,
    merge_residents,
)
from yiyang.residents.services.registry import duplicate_candidates

CANDIDATES = 20  # at most this many records offered for a merge


class MergeForm(forms.Form):
    remove = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Why these two records are the same person (kept in the audit)."),
    )


# --- merge ------------------------------------------------------------------------------


def _display(resident: Resident, name: str) -> str:
    if name == "id_number":
        return resident.id_number_masked
    if name == "phone":
        return mask_phone(resident.phone) if resident.phone else ""
    value = getattr(resident, name)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    display = getattr(resident, f"get_{name}_display", None)
    if display is not None:
        return str(display())
    if value is None:
        return ""
    return str(value)


def _comparison(keep: Resident, other: Resident) -> list[dict[str, Any]]:
    differed = set(differing_fields(keep, other))
    return [
        {
            "name": name,
            "label": capfirst(field_label((Resident,), name)),
            "keep": _display(keep, name),
            "other": _display(other, name),
            "differs": name in differed,
        }
        for name in COMPARED
    ]


def _linked(resident: Resident) -> dict[str, int]:
    from django.apps import apps

    return {
        str(apps.get_model(label)._meta.verbose_name_plural): n
        for label, n in linked_counts(resident).items()
    }


@login_required
@refuses_control_characters
def merge(request: PageRequest, pk: int) -> HttpResponseBase:
    """Merge a duplicate into this record: find it (ID number, phone, name or the possible
    duplicates), compare both side by side, confirm with a reason."""
    require_perm(request, ResidentPerm.MERGE)
    return _merge(request, pk)


@resident_page
def _merge(request: PageRequest, keep: Resident) -> HttpResponse:
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    q = (request.GET.get("q") or "").strip()
    other: Resident | None = None
    problem = ""
    raw = source.get("remove")
    if raw:
        try:
            other = get_resident_for(user, raw)
        except NotFound:
            problem = _("There is no record %(id)s in your data scope.") % {"id": raw}
    form = MergeForm(request.POST or None, initial={"remove": other.pk if other else None})
    if request.method == "POST" and other is not None and form.is_valid():
        try:
            result = merge_residents(user, keep, other, form.cleaned_data["reason"])
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            moved = sum(result.moved.values())
            messages.success(
                request,
                _("Record %(id)s was merged into this one (%(n)d linked rows moved).")
                % {"id": other.pk, "n": moved},
            )
            url = reverse("residents:detail", args=[keep.pk])
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(url)
            return redirect(url)
    elif request.method == "POST" and other is None and not problem:
        problem = _("Choose the duplicate record first.")
    candidates: list[Resident] = []
    if keep.status != ResidentStatus.MERGED:
        candidates = duplicate_candidates(user, keep)[:CANDIDATES]
        if q:
            found = search_residents(user, q).exclude(pk=keep.pk)[:CANDIDATES]
            candidates = list(found)
    context = {
        "keep": keep,
        "resident": keep,
        "q": q,
        "searched": bool(q),
        "candidates": [c for c in candidates if c.pk != keep.pk],
        "other": other,
        "problem": problem,
        "form": form,
        "comparison": _comparison(keep, other) if other is not None else [],
        "linked_keep": _linked(keep) if other is not None else {},
        "linked_other": _linked(other) if other is not None else {},
        "blocked": keep.status == ResidentStatus.MERGED
        or (other is not None and (other.status == ResidentStatus.MERGED or other.pk == keep.pk)),
    }
    return render(request, "residents/people/merge.html", context)


urlpatterns: list[URLPattern] = [
    path("<int:pk>/merge/", merge, name="merge"),
]
