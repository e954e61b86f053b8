"""Device registry pages: the device list, register (the serial and secret shown once),
edit, the device page (binding history, latest readings, rotate the secret, bind to a
resident, unbind, retire) and the quarantine of refused messages.

Access: the list and the device page need ``devices.view``; register, edit, rotate, bind,
unbind, retire and the resident picker ``devices.manage`` (and the device's owner
institution in scope); the quarantine ``devices.quarantine``. A device outside the scope
is a 404 like a missing one.

The secret never travels in a URL, a redirect or the session: the POST that creates it
answers with the page that shows it (``Cache-Control: no-store``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.pages import apply_error, page, paginate, query_without_page
from yiyang.devices import selectors
from yiyang.devices.models import Device, DeviceKind, DeviceStatus
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.services import registry
from yiyang.network.selectors.institutions import institutions_for
from yiyang.residents.models import Resident
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.search import search_residents

LOW_BATTERY_PCT = 20
READINGS_SHOWN = 20
RESIDENT_CHOICES = 20
PAYLOAD_EXCERPT = 120


# --- forms ------------------------------------------------------------------------------


class DeviceFilterForm(forms.Form):
    serial = forms.CharField(label=gettext_lazy("Serial"), required=False, max_length=64)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("All kinds")), *DeviceKind.choices],
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("All")), *DeviceStatus.choices],
    )
    bound = forms.ChoiceField(
        label=gettext_lazy("Bound"),
        required=False,
        choices=[
            ("", gettext_lazy("All")),
            ("yes", gettext_lazy("Bound to a resident")),
            ("no", gettext_lazy("Not bound")),
        ],
    )
    low_battery = forms.BooleanField(label=gettext_lazy("Low battery"), required=False)

    def filter(self, qs: QuerySet[Device]) -> QuerySet[Device]:
        if not self.is_bound or not self.is_valid():
            return qs
        data = self.cleaned_data
        if data["serial"]:
            qs = qs.filter(serial__icontains=data["serial"].strip())
        if data["kind"]:
            qs = qs.filter(kind=data["kind"])
        if data["status"]:
            qs = qs.filter(status=data["status"])
        if data["bound"] == "yes":
            qs = qs.filter(resident__isnull=False)
        elif data["bound"] == "no":
            qs = qs.filter(resident__isnull=True)
        if data["low_battery"]:
            qs = qs.filter(battery_pct__lt=LOW_BATTERY_PCT)
        return qs


class DeviceForm(forms.Form):
    """Register (``serial`` and ``kind`` shown) or edit (``status`` shown)."""

    serial = forms.CharField(
        label=gettext_lazy("Serial"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("Leave empty to have one generated."),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=DeviceKind.choices)
    model = forms.CharField(label=gettext_lazy("Model"), required=False, max_length=100)
    firmware = forms.CharField(label=gettext_lazy("Firmware"), required=False, max_length=50)
    institution = forms.ModelChoiceField(
        label=gettext_lazy("Owner institution"), queryset=Device.objects.none()
    )
    expected_interval_minutes = forms.IntegerField(
        label=gettext_lazy("Expected reporting interval (minutes)"),
        min_value=0,
        max_value=registry.MAX_INTERVAL_MINUTES,
        initial=0,
        help_text=gettext_lazy("Silence longer than this raises an alert; 0: never."),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[
            (DeviceStatus.ACTIVE, DeviceStatus.ACTIVE.label),
            (DeviceStatus.INACTIVE, DeviceStatus.INACTIVE.label),
        ],
    )

    def __init__(self, *args: Any, user: User, device: Device | None = None, **kwargs: Any):
        if device is not None:
            kwargs.setdefault(
                "initial",
                {
                    "model": device.model,
                    "firmware": device.firmware,
                    "institution": device.institution_id,
                    "expected_interval_minutes": device.expected_interval_minutes,
                    "status": device.status,
                },
            )
        super().__init__(*args, **kwargs)
        self.device = device
        institution = self.fields["institution"]
        assert isinstance(institution, forms.ModelChoiceField)
        institution.queryset = institutions_for(user).filter(active=True).order_by("name")
        if device is None:
            del self.fields["status"]
            self._serial_example(institution.queryset)
        else:
            del self.fields["serial"]
            del self.fields["kind"]

    def _serial_example(self, institutions: QuerySet[Any]) -> None:
        """The serial's help shows a generated serial as it would be here: with the county
        code of an institution the user may choose (the first one listed)."""
        first = institutions.select_related("region").first()
        if first is None:
            return
        example = f"{registry.KIND_PREFIX[DeviceKind.BP_MONITOR]}-{first.region.code[:6]}-000123"
        self.fields["serial"].help_text = _(
            "Leave empty to have one generated, e.g. %(example)s."
        ) % {"example": example}

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["institution"] = data["institution"].pk
        if self.device is None:
            data["serial"] = (data.get("serial") or "").strip().upper() or None
            return data
        current = {
            "model": self.device.model,
            "firmware": self.device.firmware,
            "institution": self.device.institution_id,
            "expected_interval_minutes": self.device.expected_interval_minutes,
            "status": self.device.status,
        }
        return {k: v for k, v in data.items() if current.get(k) != v}


class QuarantineFilterForm(forms.Form):
    serial = forms.CharField(label=gettext_lazy("Serial"), required=False, max_length=64)
    code = forms.CharField(label=gettext_lazy("Reason code"), required=False, max_length=20)

    def filter(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        if not self.is_bound or not self.is_valid():
            return qs
        if self.cleaned_data["serial"]:
            qs = qs.filter(serial__icontains=self.cleaned_data["serial"].strip())
        if self.cleaned_data["code"]:
            qs = qs.filter(code=self.cleaned_data["code"].strip())
        return qs


# --- helpers ----------------------------------------------------------------------------


def _secret_page(request: PageRequest, device: Device, secret: str, *, new: bool) -> HttpResponse:
    response = render(
        request, "devices/secret.html", {"device": device, "secret": secret, "new": new}
    )
    add_never_cache_headers(response)
    return response


def _resident_choices(user: User, q: str) -> list[Resident]:
    q = (q or "").strip()
    if not q:
        return []
    try:
        return list(search_residents(user, q)[:RESIDENT_CHOICES])
    except (ValidationFailed, PermissionDenied):
        return []


def _managed(request: PageRequest, pk: int) -> Device:
    """The device for a write page: visible (else 404), and managed by the user (else 404
    too: a device seen through a bound resident is not the user's to change)."""
    device = selectors.get_device_for(request.user, pk)
    if not selectors.can_manage(request.user, device):
        raise NotFound("device")
    return device


# --- list -------------------------------------------------------------------------------


@page(DevicePerm.VIEW)
def device_list(request: PageRequest) -> HttpResponse:
    user = request.user
    form = DeviceFilterForm(request.GET or None)
    devices = form.filter(selectors.devices_for(user)).order_by("serial")
    context = {
        "filter_form": form,
        "page_obj": paginate(request, devices),
        "query": query_without_page(request),
        "can_manage": user.has_perm_code(DevicePerm.MANAGE),
        "can_quarantine": user.has_perm_code(DevicePerm.QUARANTINE),
        "low_battery": LOW_BATTERY_PCT,
    }
    return render(request, "devices/list.html", context)


# --- register and edit ------------------------------------------------------------------


@page(DevicePerm.MANAGE)
def device_create(request: PageRequest) -> HttpResponse:
    user = request.user
    form = DeviceForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            device, secret = registry.register_device(user, **form.values())
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            return _secret_page(request, device, secret, new=True)
    context = {
        "form": form,
        "heading": _("Register a device"),
        "cancel_url": reverse("devices:list"),
    }
    return render(request, "devices/form.html", context)


@page(DevicePerm.MANAGE)
def device_edit(request: PageRequest, pk: int) -> HttpResponse:
    user = request.user
    device = _managed(request, pk)
    url = reverse("devices:detail", args=[device.pk])
    form = DeviceForm(request.POST or None, user=user, device=device)
    if request.method == "POST" and form.is_valid():
        changes = form.values()
        if not changes:
            messages.info(request, _("Nothing changed."))
            return redirect(url)
        try:
            registry.update_device(user, device, **changes)
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(url)
    context = {
        "form": form,
        "device": device,
        "heading": _("Edit %(serial)s") % {"serial": device.serial},
        "cancel_url": url,
    }
    return render(request, "devices/form.html", context)


# --- one device -------------------------------------------------------------------------


def _detail(
    request: PageRequest, device: Device, *, bind_error: str = "", status: int = 200
) -> HttpResponse:
    user = request.user
    manage = selectors.can_manage(user, device)
    q = request.GET.get("rq", "") if request.method == "GET" else request.POST.get("rq", "")
    context = {
        "device": device,
        "bindings": list(selectors.bindings_of(user, device)),
        "readings": (
            selectors.latest_readings(user, device, READINGS_SHOWN)
            if user.has_perm_code(ResidentPerm.HEALTH_VIEW)
            else None
        ),
        "can_manage": manage,
        "can_quarantine": user.has_perm_code(DevicePerm.QUARANTINE),
        "is_retired": device.status == DeviceStatus.RETIRED,
        "rq": q,
        "resident_choices": _resident_choices(user, q) if manage else [],
        "bind_error": bind_error,
        "low_battery": LOW_BATTERY_PCT,
    }
    return render(request, "devices/detail.html", context, status=status)


@page(DevicePerm.VIEW)
def device_detail(request: PageRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.get_device_for(request.user, pk))


@require_POST
@page(DevicePerm.MANAGE)
def device_rotate(request: PageRequest, pk: int) -> HttpResponse:
    device = _managed(request, pk)
    if request.POST.get("confirm") != "1":
        messages.error(request, _("Tick the confirmation: the old secret stops working at once."))
        return redirect("devices:detail", device.pk)
    try:
        secret = registry.rotate_secret(request.user, device)
    except ValidationFailed as error:
        messages.error(request, error.detail)
        return redirect("devices:detail", device.pk)
    return _secret_page(request, device, secret, new=False)


@require_POST
@page(DevicePerm.MANAGE)
def device_bind(request: PageRequest, pk: int) -> HttpResponse:
    device = _managed(request, pk)
    try:
        registry.bind(request.user, device, request.POST.get("resident", ""))
    except ValidationFailed as error:
        return _detail(request, device, bind_error=error.detail)
    messages.success(
        request,
        _("%(serial)s is bound to %(name)s.")
        % {"serial": device.serial, "name": device.resident.name if device.resident else ""},
    )
    return redirect("devices:detail", device.pk)


@require_POST
@page(DevicePerm.MANAGE)
def device_unbind(request: PageRequest, pk: int) -> HttpResponse:
    device = _managed(request, pk)
    try:
        registry.unbind(request.user, device)
    except ValidationFailed as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("%(serial)s is unbound.") % {"serial": device.serial})
    return redirect("devices:detail", device.pk)


@require_POST
@page(DevicePerm.MANAGE)
def device_retire(request: PageRequest, pk: int) -> HttpResponse:
    device = _managed(request, pk)
    if request.POST.get("confirm") != "1":
        messages.error(request, _("Tick the confirmation to retire the device for good."))
        return redirect("devices:detail", device.pk)
    try:
        registry.retire(request.user, device)
    except ValidationFailed as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("%(serial)s is retired.") % {"serial": device.serial})
    return redirect("devices:detail", device.pk)


@page(DevicePerm.MANAGE)
def resident_options(request: PageRequest) -> HttpResponse:
    """The ``<option>``s of the residents in scope matching ``?rq=`` (the bind picker)."""
    choices = _resident_choices(request.user, request.GET.get("rq", ""))
    return render(request, "devices/_resident_options.html", {"resident_choices": choices})


# --- quarantine -------------------------------------------------------------------------


@page(DevicePerm.QUARANTINE)
def quarantine_list(request: PageRequest) -> HttpResponse:
    form = QuarantineFilterForm(request.GET or None)
    rows = form.filter(selectors.quarantine_for(request.user))
    device = request.GET.get("device", "")
    if device.isdigit():
        rows = rows.filter(device_id=int(device))
    page_obj = paginate(request, rows.order_by("-received_at", "-id"))
    for row in page_obj:
        row.excerpt = row.payload[:PAYLOAD_EXCERPT] + (  # type: ignore[attr-defined]
            "…" if len(row.payload) > PAYLOAD_EXCERPT else ""
        )
    context = {
        "filter_form": form,
        "page_obj": page_obj,
        "query": query_without_page(request),
    }
    return render(request, "devices/quarantine.html", context)
