"""Escalation management pages (ADR 0020): the center's duty roster and the per-severity
schedule. Mounted under ``/devices/`` (namespace ``devices``).

* ``devices:duty`` (``duty/``, ``network.staff_view``): who the center tier notifies now
  at each institution in scope that keeps a roster (the doctor on duty, or — nobody on
  duty — the institution's doctors), and the current and upcoming shifts, filtered by
  institution. With ``network.staff_manage`` a form adds a shift (POST to the same URL,
  ``network.services.duty.add_duty``; times in the site's time zone).
* ``devices:duty_end`` (``duty/<pk>/end/``, POST, ``network.staff_manage``): ends a
  running shift now or cancels one not started (``network.services.duty.end_duty``).
* ``devices:escalation`` (``escalation/``, ``devices.view``): the schedule — minutes after
  an alert opened at which each tier is notified, per severity. The schedule applies to
  the whole deployment: with ``devices.alert_policy`` (health-commission supervisors)
  each severity's row is a form (POST, ``escalation.set_schedule``).

A refused change shows the page again with the service's reason next to the field;
nothing is written. A shift outside the scope is a 404 like a missing one.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.common.errors import PermissionDenied, ValidationFailed
from yiyang.common.pages import apply_error, page
from yiyang.devices.models import Severity, Tier
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.services import escalation
from yiyang.network.models import Institution
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.duty import (
    duty_candidates,
    duty_institutions,
    duty_shifts_for,
    get_duty_shift_for,
    on_duty,
)
from yiyang.network.services.duty import add_duty, end_duty

SHIFTS_SHOWN = 200
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
DEFAULT_SHIFT = datetime.timedelta(hours=12)


# --- the roster -------------------------------------------------------------------------


class RosterFilterForm(forms.Form):
    institution = forms.TypedChoiceField(
        label=gettext_lazy("Institution"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, institutions: list[Institution], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["institution"].choices = [  # type: ignore[attr-defined]
            ("", _("All institutions")),
            *((str(i.pk), i.name) for i in institutions),
        ]

    def institution_id(self) -> int | None:
        """The chosen institution (an invalid choice is shown and ignored)."""
        if not self.is_bound or not self.is_valid():
            return None
        value = self.cleaned_data.get("institution")
        return int(value) if value is not None else None


class ShiftForm(forms.Form):
    institution = forms.TypedChoiceField(label=gettext_lazy("Institution"), coerce=int)
    user = forms.TypedChoiceField(
        label=gettext_lazy("Doctor"),
        coerce=int,
        help_text=gettext_lazy(
            "Doctors are listed by institution: choose one of the institution above."
        ),
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts"), widget=DATETIME, input_formats=DATETIME_FORMATS
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Ends"), widget=DATETIME, input_formats=DATETIME_FORMATS
    )

    def __init__(
        self,
        *args: Any,
        institutions: list[Institution],
        doctors: dict[int, list[Any]],
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["institution"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *((str(i.pk), i.name) for i in institutions),
        ]
        groups: list[Any] = [("", "—")]
        for inst in institutions:
            people = doctors.get(inst.pk, [])
            if people:
                groups.append((inst.name, [(str(u.pk), str(u)) for u in people]))
        self.fields["user"].choices = groups  # type: ignore[attr-defined]


def _shift_form(
    data: Any, institutions: list[Institution], doctors: dict[int, list[Any]], chosen: int | None
) -> ShiftForm:
    start = timezone.localtime().replace(second=0, microsecond=0)
    initial: dict[str, Any] = {"starts_at": start, "ends_at": start + DEFAULT_SHIFT}
    if chosen is not None:
        initial["institution"] = chosen
    return ShiftForm(data, institutions=institutions, doctors=doctors, initial=initial)


def _roster(request: PageRequest, form: ShiftForm | None = None) -> HttpResponse:
    user = request.user
    now = timezone.now()
    institutions = list(duty_institutions(user))
    filter_form = RosterFilterForm(request.GET or None, institutions=institutions)
    chosen = filter_form.institution_id()
    wanted = [chosen] if chosen is not None else [i.pk for i in institutions]
    shifts = (
        duty_shifts_for(user)
        .filter(ends_at__gt=now)
        .order_by("starts_at", "pk")
        .select_related("user")
    )
    if chosen is not None:
        shifts = shifts.filter(institution_id=chosen)
    rows = list(shifts[:SHIFTS_SHOWN])
    for shift in rows:
        shift.running = shift.starts_at <= now  # type: ignore[attr-defined]
    can_manage = user.has_perm_code(NetworkPerm.STAFF_MANAGE)
    if can_manage and form is None:
        doctors = duty_candidates(user, [i.pk for i in institutions])
        form = _shift_form(None, institutions, doctors, chosen)
    context = {
        "filter_form": filter_form,
        "chosen": chosen,
        "on_duty": on_duty(user, now, wanted),
        "shifts": rows,
        "more": max(0, shifts.count() - len(rows)) if len(rows) == SHIFTS_SHOWN else 0,
        "can_manage": can_manage,
        "shift_form": form if can_manage else None,
        "now": now,
    }
    return render(request, "devices/duty/roster.html", context)


@require_http_methods(["GET", "POST"])
@page(NetworkPerm.STAFF_VIEW)
def duty_roster(request: PageRequest) -> HttpResponseBase:
    if request.method != "POST":
        return _roster(request)
    user = request.user
    if not user.has_perm_code(NetworkPerm.STAFF_MANAGE):
        raise PermissionDenied()
    institutions = list(duty_institutions(user))
    doctors = duty_candidates(user, [i.pk for i in institutions])
    form = _shift_form(request.POST, institutions, doctors, None)
    if not form.is_valid():
        return _roster(request, form)
    data = form.cleaned_data
    try:
        shift = add_duty(
            user,
            institution=data["institution"],
            user=data["user"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
        )
    except ValidationFailed as error:
        apply_error(form, error)
        return _roster(request, form)
    messages.success(
        request,
        _("%(user)s is on duty at %(inst)s from %(start)s to %(end)s.")
        % {
            "user": shift.user,
            "inst": shift.institution.name,
            "start": timezone.localtime(shift.starts_at).strftime("%Y-%m-%d %H:%M"),
            "end": timezone.localtime(shift.ends_at).strftime("%Y-%m-%d %H:%M"),
        },
    )
    return redirect(f"{reverse('devices:duty')}?institution={shift.institution_id}")


@require_POST
@page(NetworkPerm.STAFF_MANAGE)
def duty_end(request: PageRequest, pk: int) -> HttpResponseBase:
    shift = get_duty_shift_for(request.user, pk)  # out of scope: 404 before anything
    target = f"{reverse('devices:duty')}?institution={shift.institution_id}"
    try:
        outcome = end_duty(request.user, shift)
    except ValidationFailed as error:
        messages.error(request, error.detail)
        return redirect(target)
    if outcome == "cancelled":
        messages.success(request, _("The shift of %(user)s was cancelled.") % {"user": shift.user})
    else:
        messages.success(request, _("The shift of %(user)s ended now.") % {"user": shift.user})
    return redirect(target)


# --- the schedule -----------------------------------------------------------------------


class ScheduleForm(forms.Form):
    """One severity's schedule: minutes per tier; a blank tier is skipped."""

    def __init__(self, data: Any = None, *, severity: str, initial: Any = None):
        super().__init__(data, prefix=severity, initial=initial)
        self.severity = severity
        for tier, label in Tier.choices:
            self.fields[f"tier_{tier}"] = forms.CharField(
                label=label,
                required=False,
                max_length=12,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": "6"}),
            )

    def steps(self) -> dict[int, str]:
        return {
            tier: self.cleaned_data[f"tier_{tier}"].strip()
            for tier in Tier.values
            if self.cleaned_data.get(f"tier_{tier}", "").strip()
        }


def _minutes(value: Any) -> str:
    """Minutes as typed back into the form: ``2`` not ``2.00``, ``1.5`` as is."""
    return format(value.normalize(), "f") if value is not None else ""


def _schedule_forms(bound: ScheduleForm | None = None) -> list[ScheduleForm]:
    plan = escalation.schedule()
    out = []
    for severity in Severity.values:
        if bound is not None and bound.severity == severity:
            out.append(bound)
            continue
        initial = {f"tier_{t}": _minutes(m) for t, m in plan.get(severity, [])}
        out.append(ScheduleForm(severity=severity, initial=initial))
    return out


def _schedule_page(request: PageRequest, bound: ScheduleForm | None = None) -> HttpResponse:
    plan = escalation.schedule()
    rows = []
    for form in _schedule_forms(bound):
        steps = dict(plan.get(form.severity, []))
        rows.append(
            {
                "severity": form.severity,
                "label": Severity(form.severity).label,
                "form": form,
                "cells": [
                    {"tier": t, "minutes": _minutes(steps[t]) if t in steps else None}
                    for t in Tier.values
                ],
            }
        )
    context = {
        "rows": rows,
        "tiers": Tier.choices,
        "can_manage": request.user.has_perm_code(DevicePerm.ALERT_POLICY),
    }
    return render(request, "devices/duty/escalation.html", context)


@require_http_methods(["GET", "POST"])
@page(DevicePerm.VIEW)
def escalation_schedule(request: PageRequest) -> HttpResponseBase:
    if request.method != "POST":
        return _schedule_page(request)
    if not request.user.has_perm_code(DevicePerm.ALERT_POLICY):
        raise PermissionDenied()
    severity = request.POST.get("severity", "")
    if severity not in Severity.values:
        messages.error(
            request,
            _("Severity must be one of: %(c)s") % {"c": ", ".join(Severity.values)},
        )
        return _schedule_page(request)
    form = ScheduleForm(request.POST, severity=severity)
    if not form.is_valid():
        return _schedule_page(request, form)
    steps = form.steps()
    if not steps:
        form.add_error(None, _("Give the minutes of at least one tier."))
        return _schedule_page(request, form)
    try:
        escalation.set_schedule(request.user, severity, steps)
    except ValidationFailed as error:
        apply_error(form, error)
        return _schedule_page(request, form)
    messages.success(
        request,
        _("The escalation schedule of %(severity)s alerts was saved.")
        % {"severity": Severity(severity).label},
    )
    return redirect("devices:escalation")
