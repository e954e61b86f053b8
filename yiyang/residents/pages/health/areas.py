"""The list tabs of the health record: conditions, medications, allergies and encounters.

One ``Area`` describes each (its tab and URL names, template, form, rows and the service
actions); the same three views serve all four: the tab (GET; POST adds an entry), a row
edited in place (``<tab>/<id>/edit/``) and a removal (``<tab>/<id>/remove/``, POST). A
write needs ``ResidentPerm.HEALTH_MANAGE``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.common.errors import ValidationFailed
from yiyang.network.models import Institution, Staff
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.institutions import institutions_for
from yiyang.network.selectors.staff import staff_for
from yiyang.residents import icd10
from yiyang.residents.models import AllergySeverity, ConditionStatus, EncounterKind, Resident
from yiyang.residents.pages.health.common import (
    HealthForm,
    back_to_tab,
    can_write,
    common_context,
    date_field,
    is_htmx,
    refused,
    require_perm,
    text_field,
)
from yiyang.residents.pages.shell import render_tab, require_tab, resident_page
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.health import (
    allergies_for,
    conditions_for,
    encounters_for,
    medications_for,
)
from yiyang.residents.services.health import (
    ALLERGY_FIELDS,
    CONDITION_FIELDS,
    ENCOUNTER_FIELDS,
    MEDICATION_FIELDS,
    add_allergy,
    add_condition,
    add_encounter,
    add_medication,
    remove_allergy,
    remove_condition,
    remove_encounter,
    remove_medication,
    update_allergy,
    update_condition,
    update_encounter,
    update_medication,
)

# --- forms (typing only: the rules are the services') ----------------------------------


class ConditionForm(HealthForm):
    icd10 = text_field(
        gettext_lazy("ICD-10 code"),
        10,
        required=True,
        widget=forms.TextInput(attrs={"list": "icd10-catalogue", "autocomplete": "off"}),
        help_text=gettext_lazy("e.g. I10, E11.9 — pick from the list or type a code"),
    )
    name = text_field(
        gettext_lazy("diagnosis"),
        100,
        help_text=gettext_lazy("Leave empty to use the catalogue name of the code"),
    )
    onset = date_field(gettext_lazy("onset"))
    status = forms.ChoiceField(
        label=gettext_lazy("status"),
        choices=ConditionStatus.choices,
        initial=ConditionStatus.ACTIVE,
    )
    note = text_field(gettext_lazy("note"), 255)


class MedicationForm(HealthForm):
    name = text_field(gettext_lazy("medicine"), 100, required=True)
    dose = text_field(gettext_lazy("dose"), 50)
    frequency = text_field(gettext_lazy("frequency"), 50)
    route = text_field(
        gettext_lazy("route"), 30, widget=forms.TextInput(attrs={"list": "medication-routes"})
    )
    long_term = forms.BooleanField(label=gettext_lazy("long-term prescription"), required=False)
    start = date_field(gettext_lazy("start"))
    end = date_field(gettext_lazy("end"))
    note = text_field(gettext_lazy("note"), 255)


class AllergyForm(HealthForm):
    substance = text_field(gettext_lazy("substance"), 100, required=True)
    reaction = text_field(gettext_lazy("reaction"), 255)
    severity = forms.ChoiceField(
        label=gettext_lazy("severity"),
        choices=AllergySeverity.choices,
        initial=AllergySeverity.MILD,
    )
    note = text_field(gettext_lazy("note"), 255)


class EncounterForm(HealthForm):
    kind = forms.ChoiceField(label=gettext_lazy("type"), choices=EncounterKind.choices)
    date = date_field(gettext_lazy("date"), required=True)
    end_date = date_field(gettext_lazy("discharge date"))
    institution = forms.ModelChoiceField(
        label=gettext_lazy("institution"), queryset=Institution.objects.none(), required=False
    )
    practitioner = forms.ModelChoiceField(
        label=gettext_lazy("practitioner"), queryset=Staff.objects.none(), required=False
    )
    reason = text_field(gettext_lazy("reason"), 255)
    notes = forms.CharField(
        label=gettext_lazy("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        institutions = Institution.objects.none()
        staff = Staff.objects.none()
        if user is not None and user.has_perm_code(NetworkPerm.VIEW):
            institutions = institutions_for(user).order_by("name")
        if user is not None and user.has_perm_code(NetworkPerm.STAFF_VIEW):
            staff = staff_for(user).order_by("name")
        cast(forms.ModelChoiceField, self.fields["institution"]).queryset = institutions
        cast(forms.ModelChoiceField, self.fields["practitioner"]).queryset = staff


# --- the list tabs (conditions, medications, allergies, encounters) --------------------


@dataclass(frozen=True)
class Area:
    tab: str  # the tab key and URL name ("conditions")
    item: str  # the entry's URL prefix ("condition")
    template: str
    form: type[HealthForm]
    rows: Callable[[Any, Resident], QuerySet]
    add: Callable[..., Any]
    update: Callable[..., Any]
    remove: Callable[..., Any]
    fields: tuple[str, ...]
    added: str | Promise
    saved: str | Promise
    removed: str | Promise


AREAS: dict[str, Area] = {
    a.tab: a
    for a in (
        Area(
            "conditions",
            "condition",
            "residents/health/conditions.html",
            ConditionForm,
            conditions_for,
            add_condition,
            update_condition,
            remove_condition,
            CONDITION_FIELDS,
            gettext_lazy("Diagnosis added."),
            gettext_lazy("Diagnosis saved."),
            gettext_lazy("Diagnosis removed."),
        ),
        Area(
            "medications",
            "medication",
            "residents/health/medications.html",
            MedicationForm,
            medications_for,
            add_medication,
            update_medication,
            remove_medication,
            MEDICATION_FIELDS,
            gettext_lazy("Medication added."),
            gettext_lazy("Medication saved."),
            gettext_lazy("Medication removed."),
        ),
        Area(
            "allergies",
            "allergy",
            "residents/health/allergies.html",
            AllergyForm,
            allergies_for,
            add_allergy,
            update_allergy,
            remove_allergy,
            ALLERGY_FIELDS,
            gettext_lazy("Allergy added."),
            gettext_lazy("Allergy saved."),
            gettext_lazy("Allergy removed."),
        ),
        Area(
            "encounters",
            "encounter",
            "residents/health/encounters.html",
            EncounterForm,
            encounters_for,
            add_encounter,
            update_encounter,
            remove_encounter,
            ENCOUNTER_FIELDS,
            gettext_lazy("Encounter added."),
            gettext_lazy("Encounter saved."),
            gettext_lazy("Encounter removed."),
        ),
    )
}

MEDICATION_ROUTES = (
    gettext_lazy("oral"),
    gettext_lazy("subcutaneous injection"),
    gettext_lazy("intravenous"),
    gettext_lazy("inhaled"),
    gettext_lazy("topical"),
    gettext_lazy("sublingual"),
    gettext_lazy("eye drops"),
)


def _initial(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def _area_tab(
    request: PageRequest,
    resident: Resident,
    area: Area,
    *,
    form: HealthForm | None = None,
    editing: Any = None,
    edit_form: HealthForm | None = None,
    notice: str | Promise | None = None,
    error: str | None = None,
) -> HttpResponse:
    user = request.user
    rows = area.rows(user, resident)
    can_manage = can_write(request, resident, ResidentPerm.HEALTH_MANAGE)
    context = {
        **common_context(request, resident),
        "area": area,
        "rows": rows,
        "form": form if form is not None else (area.form(user=user) if can_manage else None),
        "editing": getattr(editing, "pk", None),
        "edit_form": edit_form,
        "can_manage": can_manage,
        "notice": notice,
        "error": error,
        "form_action": reverse(f"residents:{area.tab}", args=[resident.pk]),
    }
    if area.tab == "conditions":
        context["catalogue"] = icd10.CATALOGUE.values()
    if area.tab == "medications":
        context["routes"] = MEDICATION_ROUTES
    return render_tab(request, resident, area.tab, area.template, context)


def _area_view(tab: str) -> Callable[..., HttpResponseBase]:
    area = AREAS[tab]

    @require_http_methods(["GET", "POST"])
    @resident_page
    def view(request: PageRequest, resident: Resident) -> HttpResponseBase:
        if request.method == "POST":
            require_perm(request, ResidentPerm.HEALTH_MANAGE)
        require_tab(request, resident, area.tab)
        if request.method != "POST":
            return _area_tab(request, resident, area)
        form = area.form(request.POST, user=request.user)
        error = None
        if form.is_valid():
            try:
                area.add(request.user, resident, **form.cleaned_data)
            except ValidationFailed as exc:
                error = refused(form, exc)
            else:
                if is_htmx(request):
                    return _area_tab(request, resident, area, notice=area.added)
                messages.success(request, str(area.added))
                return back_to_tab(request, resident, area.tab)
        return _area_tab(request, resident, area, form=form, error=error)

    view.__name__ = f"{tab}_tab"
    return view


def _entry(area: Area, request: HttpRequest, resident: Resident, item_id: int) -> Any:
    found = area.rows(request.user, resident).filter(pk=item_id).first()
    if found is None:
        raise Http404(f"{area.item} not found")
    return found


def _edit_view(tab: str) -> Callable[..., HttpResponseBase]:
    area = AREAS[tab]

    @require_http_methods(["GET", "POST"])
    @resident_page
    def view(request: PageRequest, resident: Resident, item_id: int) -> HttpResponseBase:
        require_perm(request, ResidentPerm.HEALTH_MANAGE)
        require_tab(request, resident, area.tab)
        entry = _entry(area, request, resident, item_id)
        if request.method != "POST":
            form = area.form(initial=_initial(entry, area.fields), user=request.user)
            return _area_tab(request, resident, area, editing=entry, edit_form=form)
        form = area.form(request.POST, user=request.user)
        error = None
        if form.is_valid():
            try:
                area.update(request.user, resident, entry, **form.cleaned_data)
            except ValidationFailed as exc:
                error = refused(form, exc)
            else:
                if is_htmx(request):
                    return _area_tab(request, resident, area, notice=area.saved)
                messages.success(request, str(area.saved))
                return back_to_tab(request, resident, area.tab)
        return _area_tab(request, resident, area, editing=entry, edit_form=form, error=error)

    view.__name__ = f"{area.item}_edit"
    return view


def _remove_view(tab: str) -> Callable[..., HttpResponseBase]:
    area = AREAS[tab]

    @require_POST
    @resident_page
    def view(request: PageRequest, resident: Resident, item_id: int) -> HttpResponseBase:
        require_perm(request, ResidentPerm.HEALTH_MANAGE)
        require_tab(request, resident, area.tab)
        entry = _entry(area, request, resident, item_id)
        try:
            area.remove(request.user, resident, entry)
        except ValidationFailed as exc:
            if is_htmx(request):
                return _area_tab(request, resident, area, error=exc.detail)
            messages.error(request, exc.detail)
            return back_to_tab(request, resident, area.tab)
        if is_htmx(request):
            return _area_tab(request, resident, area, notice=area.removed)
        messages.success(request, str(area.removed))
        return back_to_tab(request, resident, area.tab)

    view.__name__ = f"{area.item}_remove"
    return view


def _area_urls(tab: str) -> list[Any]:
    area = AREAS[tab]
    return [
        path(f"<int:pk>/{tab}/", _area_view(tab), name=tab),
        path(f"<int:pk>/{tab}/<int:item_id>/edit/", _edit_view(tab), name=f"{area.item}_edit"),
        path(
            f"<int:pk>/{tab}/<int:item_id>/remove/",
            _remove_view(tab),
            name=f"{area.item}_remove",
        ),
    ]


urlpatterns = [
    *_area_urls("conditions"),
    *_area_urls("medications"),
    *_area_urls("allergies"),
    *_area_urls("encounters"),
]
