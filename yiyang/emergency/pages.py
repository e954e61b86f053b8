"""The dispatcher's pages, mounted at ``/emergency/`` (ADR 0022). Every page needs
``emergency.call``; a call outside the scope is a 404 like a missing one.

* ``/emergency/`` — the open calls (newest first; ``?state=closed|all``), refreshed in
  place every few seconds (htmx), and the "log a call" form whose phone field shows the
  matching residents as it is typed (``lookup``).
* ``/emergency/<pk>/`` — the call screen: the resident popped up (registry facts, team,
  health record summary, latest readings, contacts), the alert, the steps with a button
  per kind, "identify the resident" while unknown, and the close form.
* ``/emergency/from-alert/<alert_pk>/`` — the call of an alert: GET goes to it, or asks
  to open one when the alert has none; POST opens it.

Service errors are shown on the form that caused them (``apply_error``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.pages import apply_error, page, paginate
from yiyang.devices.models import Alert
from yiyang.emergency import selectors, services
from yiyang.emergency.models import CallOutcome, CallState, EmergencyCall, StepKind
from yiyang.emergency.permissions import EmergencyPerm
from yiyang.residents.models import Resident
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.search import search_residents
from yiyang.residents.selectors.registry import scoped_residents

RESIDENT_CHOICES = 20
STATES = ("open", "closed", "all")


# --- forms ------------------------------------------------------------------------------


class LogCallForm(forms.Form):
    caller_phone = forms.CharField(
        label=gettext_lazy("Caller's phone"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label=gettext_lazy("What the caller says"),
        required=False,
        max_length=services.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Typing the number shows whose it is (the fragment under the field).
        self.fields["caller_phone"].widget.attrs.update(
            {
                "hx-get": reverse("emergency:lookup"),
                "hx-trigger": "input changed delay:300ms, search",
                "hx-target": "#phone-matches",
                "hx-swap": "innerHTML",
            }
        )


class StepForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=services.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    kind = forms.CharField(required=False, widget=forms.HiddenInput)  # the button pressed


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        required=False,  # the service says what is missing
        choices=[("", "—"), *CallOutcome.choices],
    )
    note = forms.CharField(
        label=gettext_lazy("Outcome note"),
        required=False,
        max_length=services.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- helpers ----------------------------------------------------------------------------


def _alert_url(alert_id: int | None) -> str:
    """The alert's page (another part of the devices app; absent while it is not built)."""
    if alert_id is None:
        return ""
    try:
        return reverse("devices:alert_detail", args=[alert_id])
    except NoReverseMatch:
        return ""


def _resident_choices(user: User, call: EmergencyCall, q: str) -> list[Resident]:
    """Candidates for "identify the resident": residents in scope matching ``q``."""
    q = (q or "").strip()
    if q:
        try:
            return list(search_residents(user, q)[:RESIDENT_CHOICES])
        except (ValidationFailed, PermissionDenied):
            return []
    return []


def _phone_matches(user: User, call: EmergencyCall) -> list[services.PhoneMatch]:
    if call.state != CallState.OPEN or call.resident_id or not call.caller_phone:
        return []
    try:
        return services.lookup_phone(user, call.caller_phone)
    except ValidationFailed:
        return []


def _screen(
    request: PageRequest,
    call: EmergencyCall,
    *,
    step_form: StepForm | None = None,
    close_form: CloseForm | None = None,
    identify_error: str = "",
) -> HttpResponse:
    user = request.user
    q = request.GET.get("rq", "") if request.method == "GET" else request.POST.get("rq", "")
    is_open = call.state == CallState.OPEN
    context = {
        "call": call,
        "card": selectors.resident_card(user, call),
        "other_open_calls": selectors.other_open_calls(user, call),
        "steps": list(selectors.steps_of(call)),
        "alert_url": _alert_url(call.alert_id),
        "device": selectors.alert_device(call),
        "is_open": is_open,
        "is_mine": call.taken_by_id == user.pk,
        "step_kinds": StepKind.choices,
        "step_form": step_form or StepForm(),
        "close_form": close_form or CloseForm(),
        "identify_error": identify_error,
        "rq": q,
        "resident_choices": _resident_choices(user, call, q) if is_open else [],
        "phone_matches": _phone_matches(user, call),
        "can_reveal": user.has_perm_code(ResidentPerm.REVEAL),
        "caller_phone": call.caller_phone,
    }
    return render(request, "emergency/detail.html", context)


def _list_context(request: PageRequest) -> dict[str, Any]:
    state = request.GET.get("state", "open")
    state = state if state in STATES else "open"
    calls = selectors.calls_for(request.user)
    if state != "all":
        calls = calls.filter(state=state)
    return {
        "state": state,
        "states": [
            ("open", _("Open")),
            ("closed", _("Closed")),
            ("all", _("All")),
        ],
        "page_obj": paginate(request, calls.order_by("-opened_at", "-id")),
    }


# --- the list and logging a call ----------------------------------------------------------


@page(EmergencyPerm.CALL)
def call_list(request: PageRequest) -> HttpResponse:
    context = _list_context(request)
    if request.htmx and request.htmx.target == "calls":
        return render(request, "emergency/_calls.html", context)
    context.update(form=LogCallForm(), matches=None)
    return render(request, "emergency/list.html", context)


@require_POST
@page(EmergencyPerm.CALL)
def call_log(request: PageRequest) -> HttpResponse:
    user = request.user
    form = LogCallForm(request.POST)
    chosen = request.POST.get("resident", "")
    if form.is_valid():
        try:
            call = services.log_call(
                user,
                caller_phone=form.cleaned_data["caller_phone"],
                resident=chosen or None,
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            messages.success(request, _("Call #%(n)s logged.") % {"n": call.pk})
            return redirect("emergency:detail", call.pk)
    context = _list_context(request)
    context.update(form=form, matches=_lookup(user, request.POST.get("caller_phone", "")))
    context["chosen"] = chosen
    return render(request, "emergency/list.html", context)


def _lookup(user: User, phone: str) -> list[services.PhoneMatch] | None:
    """Matches for a typed number; ``None`` while it is not a whole number yet."""
    try:
        return services.lookup_phone(user, phone)
    except ValidationFailed:
        return None


@page(EmergencyPerm.CALL)
def phone_lookup(request: PageRequest) -> HttpResponse:
    """The residents a typed number belongs to (the fragment under the phone field)."""
    phone = request.GET.get("caller_phone", "")
    context = {"matches": _lookup(request.user, phone), "chosen": request.GET.get("resident")}
    return render(request, "emergency/_lookup.html", context)


# --- one call ---------------------------------------------------------------------------


@page(EmergencyPerm.CALL)
def call_detail(request: PageRequest, pk: int) -> HttpResponse:
    return _screen(request, selectors.get_call_for(request.user, pk))


@require_POST
@page(EmergencyPerm.CALL)
def call_take(request: PageRequest, pk: int) -> HttpResponse:
    call = selectors.get_call_for(request.user, pk)
    try:
        services.take(request.user, call, take_over=request.POST.get("take_over") == "1")
    except ValidationFailed as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("You have taken call #%(n)s.") % {"n": call.pk})
    return redirect("emergency:detail", call.pk)


@require_POST
@page(EmergencyPerm.CALL)
def call_step(request: PageRequest, pk: int) -> HttpResponse:
    call = selectors.get_call_for(request.user, pk)
    form = StepForm(request.POST)
    if form.is_valid():
        try:
            services.add_step(
                request.user, call, form.cleaned_data["kind"], form.cleaned_data["note"]
            )
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            return redirect("emergency:detail", call.pk)
    return _screen(request, selectors.get_call_for(request.user, pk), step_form=form)


@require_POST
@page(EmergencyPerm.CALL)
def contact_phone(request: PageRequest, pk: int, contact_pk: int) -> HttpResponse:
    """htmx: the contact's full number as a dial link, in place of the masked one (an
    open call only; audited)."""
    call = selectors.get_call_for(request.user, pk)
    try:
        phone = services.reveal_contact_phone(request.user, call, contact_pk)
    except ValidationFailed as error:
        return render(
            request,
            "emergency/_contact_phone.html",
            {"error": error.detail},
            status=400,
        )
    return render(request, "emergency/_contact_phone.html", {"phone": phone})


@require_POST
@page(EmergencyPerm.CALL)
def call_identify(request: PageRequest, pk: int) -> HttpResponse:
    call = selectors.get_call_for(request.user, pk)
    try:
        services.identify(request.user, call, request.POST.get("resident", ""))
    except ValidationFailed as error:
        return _screen(
            request, selectors.get_call_for(request.user, pk), identify_error=error.detail
        )
    return redirect("emergency:detail", call.pk)


@require_POST
@page(EmergencyPerm.CALL)
def call_close(request: PageRequest, pk: int) -> HttpResponse:
    call = selectors.get_call_for(request.user, pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.close(
                request.user, call, form.cleaned_data["outcome"], form.cleaned_data["note"]
            )
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            messages.success(request, _("Call #%(n)s is closed.") % {"n": call.pk})
            return redirect("emergency:detail", call.pk)
    return _screen(request, selectors.get_call_for(request.user, pk), close_form=form)


# --- from an alert ----------------------------------------------------------------------


@page(EmergencyPerm.CALL)
def from_alert(request: PageRequest, alert_pk: int) -> HttpResponse:
    """GET: to the alert's call, or a page offering to open one; POST: open it."""
    user = request.user
    if request.method == "POST":
        try:
            call, created = services.call_for_alert(user, alert_pk)
        except ValidationFailed as error:
            messages.error(request, error.detail)
            return redirect("emergency:from_alert", alert_pk)
        if created:
            messages.success(request, _("Call #%(n)s opened for the alert.") % {"n": call.pk})
        return redirect("emergency:detail", call.pk)
    alert = (
        Alert.objects.select_related("resident", "rule")
        .filter(pk=alert_pk, resident_id__in=scoped_residents(user).values("pk"))
        .first()
    )
    if alert is None:
        raise NotFound("alert")
    existing = EmergencyCall.objects.filter(alert=alert).values_list("pk", flat=True).first()
    if existing is not None:
        return redirect("emergency:detail", existing)
    context = {
        "alert": alert,
        "alert_url": _alert_url(alert.pk),
        "is_live": alert.state in services.LIVE_ALERT,
    }
    return render(request, "emergency/from_alert.html", context)
