"""The observations tab of the health record: the latest values, the blood-pressure and
glucose charts and the recent readings over a period (30 days, 90 days, a year), with the
quick entry forms (a BP panel, glucose, other vitals) and removing a reading. Recording
or removing needs ``ResidentPerm.OBSERVATION_RECORD``.
"""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase
from django.urls import path
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.common.errors import ValidationFailed
from yiyang.residents import charts, loinc
from yiyang.residents.models import Resident
from yiyang.residents.pages.health.common import (
    DATETIME,
    DATETIME_FORMATS,
    HealthForm,
    back_to_tab,
    can_write,
    common_context,
    is_htmx,
    refused,
    require_perm,
)
from yiyang.residents.pages.shell import render_tab, require_tab, resident_page
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.health import (
    latest_vitals,
    observation_series,
    observations_for,
    recent_readings,
)
from yiyang.residents.services.observations import record_bp, record_observation, remove_observation

PERIODS: tuple[tuple[int, str | Promise], ...] = (
    (30, gettext_lazy("30 days")),
    (90, gettext_lazy("90 days")),
    (365, gettext_lazy("1 year")),
)
DEFAULT_PERIOD = 90
READINGS_SHOWN = 20


# --- forms (typing only: the rules are the services') ----------------------------------


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
    can_record = can_write(request, resident, ResidentPerm.OBSERVATION_RECORD)
    context = {
        **common_context(request, resident),
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
    if is_htmx(request):
        return _observations_tab(request, resident, period, notice=text)
    messages.success(request, text)
    return back_to_tab(request, resident, "observations", f"period={period}")


@require_POST
@resident_page
def observation_bp(request: PageRequest, resident: Resident) -> HttpResponseBase:
    require_perm(request, ResidentPerm.OBSERVATION_RECORD)
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
            error = refused(form, exc)
        else:
            return _observation_done(request, resident, period, rows)
    return _observations_tab(request, resident, period, bp_form=form, error=error)


@require_POST
@resident_page
def observation_record(request: PageRequest, resident: Resident) -> HttpResponseBase:
    require_perm(request, ResidentPerm.OBSERVATION_RECORD)
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
            error = refused(form, exc)
        else:
            return _observation_done(request, resident, period, rows)
    if which == "glucose":
        return _observations_tab(request, resident, period, glucose_form=form, error=error)
    return _observations_tab(request, resident, period, vital_form=form, error=error)


@require_POST
@resident_page
def observation_remove(request: PageRequest, resident: Resident, item_id: int) -> HttpResponseBase:
    require_perm(request, ResidentPerm.OBSERVATION_RECORD)
    require_tab(request, resident, "observations")
    period = _period(request.POST.get("period"))
    if not observations_for(request.user, resident).filter(pk=item_id).exists():
        raise Http404("observation not found")
    try:
        remove_observation(request.user, resident, item_id)
    except ValidationFailed as exc:
        if is_htmx(request):
            return _observations_tab(request, resident, period, error=exc.detail)
        messages.error(request, exc.detail)
        return back_to_tab(request, resident, "observations", f"period={period}")
    text = _("Reading deleted.")
    if is_htmx(request):
        return _observations_tab(request, resident, period, notice=text)
    messages.success(request, text)
    return back_to_tab(request, resident, "observations", f"period={period}")


urlpatterns = [
    path("<int:pk>/observations/", observations, name="observations"),
    path("<int:pk>/observations/bp/", observation_bp, name="observation_bp"),
    path("<int:pk>/observations/record/", observation_record, name="observation_record"),
    path(
        "<int:pk>/observations/<int:item_id>/remove/",
        observation_remove,
        name="observation_remove",
    ),
]
