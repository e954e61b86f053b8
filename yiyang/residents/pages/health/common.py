"""What the health-record tabs share: the form base (``HealthForm``) and its field
helpers and widgets, the write-permission check (403), the htmx test, the consent state
every tab shows, a service refusal put next to its form field, and the redirect back to
a tab after a plain (non-htmx) POST."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.common.errors import ValidationFailed
from yiyang.common.pages import apply_error
from yiyang.common.permissions import Permission
from yiyang.residents.access import has_consent
from yiyang.residents.models import ConsentPurpose, Resident

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def text_field(label: Any, max_length: int, required: bool = False, **kw: Any) -> Any:
    return forms.CharField(label=label, max_length=max_length, required=required, **kw)


def date_field(label: Any, required: bool = False) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DATE)


# --- forms (typing only: the rules are the services') ----------------------------------


class HealthForm(forms.Form):
    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user


# --- views ------------------------------------------------------------------------------


def require_perm(request: PageRequest, perm: Permission) -> None:
    if not request.user.has_perm_code(perm):  # type: ignore[union-attr]
        raise DjangoPermissionDenied


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def can_write(request: PageRequest, resident: Resident, perm: Permission) -> bool:
    return bool(request.user.has_perm_code(perm))  # type: ignore[union-attr]


def common_context(request: HttpRequest, resident: Resident) -> dict[str, Any]:
    return {"consent": has_consent(resident, ConsentPurpose.HEALTH_DATA)}


def refused(form: forms.Form, exc: ValidationFailed) -> str | None:
    """Put a service error next to its form field; an error about something else (no
    consent, a merged record) is returned for the tab's status line instead."""
    if exc.field in form.fields:
        apply_error(form, exc)
        return None
    return exc.detail


def back_to_tab(
    request: HttpRequest, resident: Resident, tab: str, query: str = ""
) -> HttpResponseBase:
    url = reverse(f"residents:{tab}", args=[resident.pk])
    return redirect(url + (f"?{query}" if query else ""))
