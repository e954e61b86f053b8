"""What the people pages share: a model field's label, the permission check (403), who
may manage or is the resident herself, the consent-giver fields of the consent and grant
forms, the note form of the small actions, and the answers after a change (the tab again
under htmx, else a redirect; the whole page after a consent change) or a refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from yiyang.accounts.actor import PageRequest
from yiyang.common.errors import ValidationFailed
from yiyang.common.permissions import Permission, Role
from yiyang.residents.models import Consent, ConsentGiver, Contact, Resident
from yiyang.residents.permissions import ResidentPerm


def verbose_label(model: type[models.Model], name: str) -> Any:
    return capfirst(model._meta.get_field(name).verbose_name)  # type: ignore[union-attr]


def require_perm(request: PageRequest, perm: Permission) -> None:
    if not request.user.has_perm_code(perm):  # type: ignore[union-attr]
        raise DjangoPermissionDenied


def add_giver_fields(form: forms.Form, resident: Resident) -> None:
    form.fields["given_by"] = forms.ChoiceField(
        label=verbose_label(Consent, "given_by"), choices=ConsentGiver.choices, initial="self"
    )
    form.fields["guardian"] = forms.ModelChoiceField(
        label=verbose_label(Consent, "guardian"),
        queryset=Contact.objects.filter(resident=resident, is_guardian=True),
        required=False,
        help_text=_("When the guardian gives the consent (a contact marked legal guardian)."),
    )


class NoteForm(forms.Form):
    note = forms.CharField(max_length=255, required=False)


# --- shared -----------------------------------------------------------------------------


def notice_or_redirect(
    request: HttpRequest, resident: Resident, tab: str, message: str, render_again: Callable
) -> HttpResponse:
    """After a change: htmx gets the tab again with the message in it; a plain form post
    is redirected back to the tab (the message follows in the session)."""
    if getattr(request, "htmx", False):
        return render_again(notice=message)
    messages.success(request, message)
    return redirect(reverse(f"residents:{tab}", args=[resident.pk]))


def reload_page(request: HttpRequest, resident: Resident, tab: str, message: str) -> HttpResponse:
    """After a consent change (the header shows the consent state): the whole page again,
    by a client redirect under htmx."""
    messages.success(request, message)
    url = reverse(f"residents:{tab}", args=[resident.pk])
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def may_manage(request: PageRequest) -> bool:
    return bool(request.user.has_perm_code(ResidentPerm.MANAGE))  # type: ignore[union-attr]


def is_own(request: PageRequest, resident: Resident) -> bool:
    user = request.user
    return getattr(user, "role", None) == Role.RESIDENT and resident.account_id == user.pk


def error_notice(
    request: HttpRequest, resident: Resident, tab: str, error: ValidationFailed, again: Callable
) -> HttpResponse:
    """A refused small action (remove, revoke, withdraw): the tab with the reason."""
    if getattr(request, "htmx", False):
        return again(notice=error.detail)
    messages.error(request, error.detail)
    return redirect(reverse(f"residents:{tab}", args=[resident.pk]))
