"""The health-record tabs of the resident page: conditions, medications, allergies,
observations (latest values, BP and glucose charts, recent readings, quick entry forms),
encounters and documents.

Each tab is ``residents:<tab>`` (``<pk>/<tab>/``) rendered with ``shell.render_tab``: an
htmx request gets the fragment, a plain one the whole page. The inline forms post with
htmx and get the re-rendered tab back (so a recorded BP shows at once in the chart and the
table); without htmx the same POST redirects back to the tab (or shows the page with the
errors). Editing a row (``<tab>/<id>/edit/``) shows the row as a form in place; removing
(``<tab>/<id>/remove/``) is a POST with a confirmation.

Access: ``shell.resident_page`` (login, scope — 404, audited read), then the tab's
visibility (``require_tab``: the right to see the health record), and for a write the
permission (``ResidentPerm.HEALTH_MANAGE`` / ``ResidentPerm.OBSERVATION_RECORD``, else 403)
before the service, which checks consent and input.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.common.errors import ValidationFailed
from yiyang.common.pages import apply_error
from yiyang.common.permissions import Permission
from yiyang.network.models import Institution, Staff
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.institutions import institutions_for
from yiyang.network.selectors.staff import staff_for
from yiyang.residents import charts, documents, icd10, loinc
from yiyang.residents.access import has_consent
from yiyang.residents.api.health import download_response
from yiyang.residents.models import (
    AllergySeverity,
    ConditionStatus,
    ConsentPurpose,
    DocumentKind,
    EncounterKind,
    Resident,
)
from yiyang.residents.pages.shell import render_tab, require_tab, resident_page
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.health import (
    allergies_for,
    conditions_for,
    documents_for,
    encounters_for,
    get_document_for,
    latest_vitals,
    medications_for,
    observation_series,
    observations_for,
    recent_readings,
)
from yiyang.residents.services.documents import remove_document, upload_document
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
from yiyang.residents.services.observations import record_bp, record_observation, remove_observation

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
PERIODS: tuple[tuple[int, str | Promise], ...] = (
    (30, gettext_lazy("30 days")),
    (90, gettext_lazy("90 days")),
    (365, gettext_lazy("1 year")),
)
DEFAULT_PERIOD = 90
READINGS_SHOWN = 20


def _text(label: Any, max_length: int, required: bool = False, **kw: Any) -> Any:
    return forms.CharField(label=label, max_length=max_length, required=required, **kw)


def _date(label: Any, required: bool = False) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DATE)


# --- forms (typing only: the rules are the services') ----------------------------------


class HealthForm(forms.Form):
    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user


class ConditionForm(HealthForm):
    icd10 = _text(
        gettext_lazy("ICD-10 code"),
        10,
        required=True,
        widget=forms.TextInput(attrs={"list": "icd10-catalogue", "autocomplete": "off"}),
        help_text=gettext_lazy("e.g. I10, E11.9 — pick from the list or type a code"),
    )
    name = _text(
        gettext_lazy("diagnosis"),
        100,
        help_text=gettext_lazy("Leave empty to use the catalogue name of the code"),
    )
    onset = _date(gettext_lazy("onset"))
    status = forms.ChoiceField(
        label=gettext_lazy("status"),
        choices=ConditionStatus.choices,
        initial=ConditionStatus.ACTIVE,
    )
    note = _text(gettext_lazy("note"), 255)


class MedicationForm(HealthForm):
    name = _text(gettext_lazy("medicine"), 100, required=True)
    dose = _text(gettext_lazy("dose"), 50)
    frequency = _text(gettext_lazy("frequency"), 50)
    route = _text(
        gettext_lazy("route"), 30, widget=forms.TextInput(attrs={"list": "medication-routes"})
    )
    long_term = forms.BooleanField(label=gettext_lazy("long-term prescription"), required=False)
    start = _date(gettext_lazy("start"))
    end = _date(gettext_lazy("end"))
    note = _text(gettext_lazy("note"), 255)


class AllergyForm(HealthForm):
    substance = _text(gettext_lazy("substance"), 100, required=True)
    reaction = _text(gettext_lazy("reaction"), 255)
    severity = forms.ChoiceField(
        label=gettext_lazy("severity"),
        choices=AllergySeverity.choices,
        initial=AllergySeverity.MILD,
    )
    note = _text(gettext_lazy("note"), 255)


class EncounterForm(HealthForm):
    kind = forms.ChoiceField(label=gettext_lazy("type"), choices=EncounterKind.choices)
    date = _date(gettext_lazy("date"), required=True)
    end_date = _date(gettext_lazy("discharge date"))
    institution = forms.ModelChoiceField(
        label=gettext_lazy("institution"), queryset=Institution.objects.none(), required=False
    )
    practitioner = forms.ModelChoiceField(
        label=gettext_lazy("practitioner"), queryset=Staff.objects.none(), required=False
    )
    reason = _text(gettext_lazy("reason"), 255)
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


class DocumentForm(HealthForm):
    file = forms.FileField(
        label=gettext_lazy("file"),
        widget=forms.ClearableFileInput(attrs={"accept": documents.ACCEPT}),
    )
    kind = forms.ChoiceField(label=gettext_lazy("type"), choices=DocumentKind.choices)
    title = _text(
        gettext_lazy("title"), 200, help_text=gettext_lazy("Leave empty to use the file name")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("PDF, JPEG, PNG or Word (.docx), at most %(size)s.") % {
            "size": documents.human_size(documents.max_bytes())
        }


class BloodPressureForm(HealthForm):
    systolic = forms.DecimalField(
        label=gettext_lazy("Systolic (mmHg)"), widget=forms.NumberInput(attrs={"step": "1"})
    )
    diastolic = forms.DecimalField(
        label=gettext_lazy("Diastolic (mmHg)"), widget=forms.NumberInput(attrs={"step": "1"})
    )
    heart_rate = forms.DecimalField(
        label=gettext_lazy("Heart rate (/min)"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "1"}),
    )
    effective_at = forms.DateTimeField(
        label=gettext_lazy("measured at"),
        required=False,
        widget=DATETIME,
        input_formats=DATETIME_FORMATS,
        help_text=gettext_lazy("Empty: now"),
    )


def _code_choices(codes: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(code, str(loinc.CODES[code].label)) for code in codes]


def _unit_choices(codes: tuple[str, ...]) -> list[tuple[str, str]]:
    choices = [("", str(gettext_lazy("standard unit")))]
    seen: set[str] = set()
    for code in codes:
        for unit in loinc.CODES[code].units:
            if unit not in seen:
                seen.add(unit)
                choices.append((unit, unit))
    return choices


GLUCOSE_CODES = (loinc.GLUCOSE_FASTING, loinc.GLUCOSE_RANDOM)
VITAL_CODES = (loinc.HEART_RATE, loinc.SPO2, loinc.TEMPERATURE, loinc.WEIGHT, loinc.HEIGHT)


class MeasurementForm(HealthForm):
    """One measurement; ``codes`` limits what it offers (glucose, other vitals)."""

    code = forms.ChoiceField(label=gettext_lazy("measurement"))
    value = forms.DecimalField(
        label=gettext_lazy("value"), widget=forms.NumberInput(attrs={"step": "any"})
    )
    unit = forms.ChoiceField(label=gettext_lazy("unit"), required=False)
    effective_at = forms.DateTimeField(
        label=gettext_lazy("measured at"),
        required=False,
        widget=DATETIME,
        input_formats=DATETIME_FORMATS,
        help_text=gettext_lazy("Empty: now"),
    )

    def __init__(self, *args: Any, codes: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["code"]).choices = _code_choices(codes)
        cast(forms.ChoiceField, self.fields["unit"]).choices = _unit_choices(codes)


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


def _require(request: PageRequest, perm: Permission) -> None:
    if not request.user.has_perm_code(perm):  # type: ignore[union-attr]
        raise DjangoPermissionDenied


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _can_write(request: PageRequest, resident: Resident, perm: Permission) -> bool:
    return bool(request.user.has_perm_code(perm))  # type: ignore[union-attr]


def _common(request: HttpRequest, resident: Resident) -> dict[str, Any]:
    return {"consent": has_consent(resident, ConsentPurpose.HEALTH_DATA)}


def _refused(form: forms.Form, exc: ValidationFailed) -> str | None:
    """Put a service error next to its form field; an error about something else (no
    consent, a merged record) is returned for the tab's status line instead."""
    if exc.field in form.fields:
        apply_error(form, exc)
        return None
    return exc.detail


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
    can_manage = _can_write(request, resident, ResidentPerm.HEALTH_MANAGE)
    context = {
        **_common(request, resident),
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


def _back(request: HttpRequest, resident: Resident, tab: str, query: str = "") -> HttpResponseBase:
    url = reverse(f"residents:{tab}", args=[resident.pk])
    return redirect(url + (f"?{query}" if query else ""))


def _area_view(tab: str) -> Callable[..., HttpResponseBase]:
    area = AREAS[tab]

    @require_http_methods(["GET", "POST"])
    @resident_page
    def view(request: PageRequest, resident: Resident) -> HttpResponseBase:
        if request.method == "POST":
            _require(request, ResidentPerm.HEALTH_MANAGE)
        require_tab(request, resident, area.tab)
        if request.method != "POST":
            return _area_tab(request, resident, area)
        form = area.form(request.POST, user=request.user)
        error = None
        if form.is_valid():
            try:
                area.add(request.user, resident, **form.cleaned_data)
            except ValidationFailed as exc:
                error = _refused(form, exc)
            else:
                if _is_htmx(request):
                    return _area_tab(request, resident, area, notice=area.added)
                messages.success(request, str(area.added))
                return _back(request, resident, area.tab)
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
        _require(request, ResidentPerm.HEALTH_MANAGE)
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
                error = _refused(form, exc)
            else:
                if _is_htmx(request):
                    return _area_tab(request, resident, area, notice=area.saved)
                messages.success(request, str(area.saved))
                return _back(request, resident, area.tab)
        return _area_tab(request, resident, area, editing=entry, edit_form=form, error=error)

    view.__name__ = f"{area.item}_edit"
    return view


def _remove_view(tab: str) -> Callable[..., HttpResponseBase]:
    area = AREAS[tab]

    @require_POST
    @resident_page
    def view(request: PageRequest, resident: Resident, item_id: int) -> HttpResponseBase:
        _require(request, ResidentPerm.HEALTH_MANAGE)
        require_tab(request, resident, area.tab)
        entry = _entry(area, request, resident, item_id)
        try:
            area.remove(request.user, resident, entry)
        except ValidationFailed as exc:
            if _is_htmx(request):
                return _area_tab(request, resident, area, error=exc.detail)
            messages.error(request, exc.detail)
            return _back(request, resident, area.tab)
        if _is_htmx(request):
            return _area_tab(request, resident, area, notice=area.removed)
        messages.success(request, str(area.removed))
        return _back(request, resident, area.tab)

    view.__name__ = f"{area.item}_remove"
    return view


# --- observations -----------------------------------------------------------------------


def _period(value: Any) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return days if days in dict(PERIODS) else DEFAULT_PERIOD


def _glucose_form(data: Any = None, user: User | None = None) -> MeasurementForm:
    return MeasurementForm(
        data, user=user, codes=GLUCOSE_CODES, prefix="glucose", initial={"unit": ""}
    )


def _vital_form(data: Any = None, user: User | None = None) -> MeasurementForm:
    return MeasurementForm(data, user=user, codes=VITAL_CODES, prefix="vital")


def observations_context(
    user: User, resident: Resident, period: int, now: datetime.datetime | None = None
) -> dict[str, Any]:
    """Latest values, the two charts and the recent readings over ``period`` days."""
    end = now or timezone.now()
    start = end - datetime.timedelta(days=period)
    series = {
        code: observation_series(user, resident, code, start, end)
        for code in (loinc.SYSTOLIC, loinc.DIASTOLIC, loinc.GLUCOSE_FASTING, loinc.GLUCOSE_RANDOM)
    }
    return {
        "latest": latest_vitals(user, resident),
        "bp_chart": charts.bp_chart(series, start, end),
        "glucose_chart": charts.glucose_chart(series, start, end),
        "readings": recent_readings(user, resident, start, READINGS_SHOWN),
        "period": period,
        "periods": PERIODS,
        "SYSTOLIC": loinc.SYSTOLIC,
        "DIASTOLIC": loinc.DIASTOLIC,
        "HEART_RATE": loinc.HEART_RATE,
    }


def _observations_tab(
    request: PageRequest,
    resident: Resident,
    period: int,
    *,
    bp_form: HealthForm | None = None,
    glucose_form: HealthForm | None = None,
    vital_form: HealthForm | None = None,
    notice: str | Promise | None = None,
    error: str | None = None,
) -> HttpResponse:
    user = request.user
    can_record = _can_write(request, resident, ResidentPerm.OBSERVATION_RECORD)
    context = {
        **_common(request, resident),
        **observations_context(user, resident, period),
        "can_record": can_record,
        "bp_form": bp_form or (BloodPressureForm(user=user) if can_record else None),
        "glucose_form": glucose_form or (_glucose_form(user=user) if can_record else None),
        "vital_form": vital_form or (_vital_form(user=user) if can_record else None),
        "notice": notice,
        "error": error,
    }
    return render_tab(
        request, resident, "observations", "residents/health/observations.html", context
    )


@require_http_methods(["GET"])
@resident_page
def observations(request: PageRequest, resident: Resident) -> HttpResponseBase:
    require_tab(request, resident, "observations")
    return _observations_tab(request, resident, _period(request.GET.get("period")))


def _observation_done(
    request: PageRequest, resident: Resident, period: int, rows: list[Any]
) -> HttpResponseBase:
    text = _("Recorded: %(what)s.") % {
        "what": ", ".join(f"{loinc.CODES[r.code].short} {r.value:g} {r.unit}" for r in rows)
    }
    if _is_htmx(request):
        return _observations_tab(request, resident, period, notice=text)
    messages.success(request, text)
    return _back(request, resident, "observations", f"period={period}")


@require_POST
@resident_page
def observation_bp(request: PageRequest, resident: Resident) -> HttpResponseBase:
    _require(request, ResidentPerm.OBSERVATION_RECORD)
    require_tab(request, resident, "observations")
    period = _period(request.POST.get("period"))
    form = BloodPressureForm(request.POST, user=request.user)
    error = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            rows = record_bp(
                request.user,
                resident,
                systolic=data["systolic"],
                diastolic=data["diastolic"],
                heart_rate=data.get("heart_rate"),
                effective_at=data.get("effective_at"),
            )
        except ValidationFailed as exc:
            error = _refused(form, exc)
        else:
            return _observation_done(request, resident, period, rows)
    return _observations_tab(request, resident, period, bp_form=form, error=error)


@require_POST
@resident_page
def observation_record(request: PageRequest, resident: Resident) -> HttpResponseBase:
    _require(request, ResidentPerm.OBSERVATION_RECORD)
    require_tab(request, resident, "observations")
    period = _period(request.POST.get("period"))
    which = request.POST.get("form")
    make = _glucose_form if which == "glucose" else _vital_form
    form = make(request.POST, user=request.user)
    error = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            rows = record_observation(
                request.user,
                resident,
                data["code"],
                data["value"],
                unit=data.get("unit") or None,
                effective_at=data.get("effective_at"),
            )
        except ValidationFailed as exc:
            error = _refused(form, exc)
        else:
            return _observation_done(request, resident, period, rows)
    if which == "glucose":
        return _observations_tab(request, resident, period, glucose_form=form, error=error)
    return _observations_tab(request, resident, period, vital_form=form, error=error)


@require_POST
@resident_page
def observation_remove(request: PageRequest, resident: Resident, item_id: int) -> HttpResponseBase:
    _require(request, ResidentPerm.OBSERVATION_RECORD)
    require_tab(request, resident, "observations")
    period = _period(request.POST.get("period"))
    if not observations_for(request.user, resident).filter(pk=item_id).exists():
        raise Http404("observation not found")
    try:
        remove_observation(request.user, resident, item_id)
    except ValidationFailed as exc:
        if _is_htmx(request):
            return _observations_tab(request, resident, period, error=exc.detail)
        messages.error(request, exc.detail)
        return _back(request, resident, "observations", f"period={period}")
    text = _("Reading deleted.")
    if _is_htmx(request):
        return _observations_tab(request, resident, period, notice=text)
    messages.success(request, text)
    return _back(request, resident, "observations", f"period={period}")


# --- documents --------------------------------------------------------------------------


def _documents_tab(
    request: PageRequest,
    resident: Resident,
    *,
    form: HealthForm | None = None,
    notice: str | Promise | None = None,
    error: str | None = None,
) -> HttpResponse:
    user = request.user
    can_manage = _can_write(request, resident, ResidentPerm.HEALTH_MANAGE)
    context = {
        **_common(request, resident),
        "rows": documents_for(user, resident),
        "form": form or (DocumentForm(user=user) if can_manage else None),
        "can_manage": can_manage,
        "notice": notice,
        "error": error,
    }
    return render_tab(request, resident, "documents", "residents/health/documents.html", context)


@require_http_methods(["GET", "POST"])
@resident_page
def documents_tab(request: PageRequest, resident: Resident) -> HttpResponseBase:
    if request.method == "POST":
        _require(request, ResidentPerm.HEALTH_MANAGE)
    require_tab(request, resident, "documents")
    if request.method != "POST":
        return _documents_tab(request, resident)
    form = DocumentForm(request.POST, request.FILES, user=request.user)
    error = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            upload_document(
                request.user, resident, file=data["file"], kind=data["kind"], title=data["title"]
            )
        except ValidationFailed as exc:
            error = _refused(form, exc)
        else:
            text = _("Document uploaded.")
            if _is_htmx(request):
                return _documents_tab(request, resident, notice=text)
            messages.success(request, text)
            return _back(request, resident, "documents")
    return _documents_tab(request, resident, form=form, error=error)


@require_http_methods(["GET"])
@resident_page
def document_download(request: PageRequest, resident: Resident, item_id: int) -> HttpResponseBase:
    require_tab(request, resident, "documents")
    document = get_document_for(request.user, resident, item_id)
    return download_response(document)


@require_POST
@resident_page
def document_remove(request: PageRequest, resident: Resident, item_id: int) -> HttpResponseBase:
    _require(request, ResidentPerm.HEALTH_MANAGE)
    require_tab(request, resident, "documents")
    if not documents_for(request.user, resident).filter(pk=item_id).exists():
        raise Http404("document not found")
    try:
        remove_document(request.user, resident, item_id)
    except ValidationFailed as exc:
        if _is_htmx(request):
            return _documents_tab(request, resident, error=exc.detail)
        messages.error(request, exc.detail)
        return _back(request, resident, "documents")
    text = _("Document removed.")
    if _is_htmx(request):
        return _documents_tab(request, resident, notice=text)
    messages.success(request, text)
    return _back(request, resident, "documents")


# --- URLs -------------------------------------------------------------------------------


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
    path("<int:pk>/observations/", observations, name="observations"),
    path("<int:pk>/observations/bp/", observation_bp, name="observation_bp"),
    path("<int:pk>/observations/record/", observation_record, name="observation_record"),
    path(
        "<int:pk>/observations/<int:item_id>/remove/",
        observation_remove,
        name="observation_remove",
    ),
    path("<int:pk>/documents/", documents_tab, name="documents"),
    path(
        "<int:pk>/documents/<int:item_id>/download/",
        document_download,
        name="document_download",
    ),
    path("<int:pk>/documents/<int:item_id>/remove/", document_remove, name="document_remove"),
]
