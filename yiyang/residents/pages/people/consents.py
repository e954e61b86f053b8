"""The consent tab (``residents:consents``): the state per purpose and the history; record
a consent (``residents.manage``) or withdraw one (staff, or the resident herself), in
effect at once. Both answer with the whole page again: its header shows the consent
state.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.common.errors import ValidationFailed
from yiyang.common.pages import apply_error
from yiyang.residents.models import Consent, ConsentPurpose, Resident, ResidentStatus
from yiyang.residents.pages.people.common import (
    NoteForm,
    add_giver_fields,
    error_notice,
    is_own,
    may_manage,
    reload_page,
    require_perm,
    verbose_label,
)
from yiyang.residents.pages.shell import render_tab, require_tab, resident_page
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.people import consents_for
from yiyang.residents.services.people import GIVEN_PURPOSES, give_consent, withdraw_consent


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(
        label=verbose_label(Consent, "purpose"),
        choices=[(p, ConsentPurpose(p).label) for p in GIVEN_PURPOSES],
    )
    given_at = forms.DateTimeField(
        label=verbose_label(Consent, "given_at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=gettext_lazy("When it was signed; empty = now."),
    )
    note = forms.CharField(label=verbose_label(Consent, "note"), max_length=255, required=False)

    def __init__(self, *args: Any, resident: Resident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_giver_fields(self, resident)
        self.order_fields(["purpose", "given_by", "guardian", "given_at", "note"])

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "purpose": data["purpose"],
            "given_by": data["given_by"],
            "guardian": data["guardian"],
            "note": data["note"],
            "given_at": data["given_at"],
        }


# --- consent tab ------------------------------------------------------------------------


def _consents_tab(
    request: PageRequest,
    resident: Resident,
    *,
    notice: str = "",
    form: ConsentForm | None = None,
) -> HttpResponse:
    history = list(consents_for(request.user, resident))
    latest: dict[str, Consent] = {}
    for consent in history:
        latest.setdefault(consent.purpose, consent)
    state = [
        {"purpose": p, "label": ConsentPurpose(p).label, "consent": latest.get(p)}
        for p in GIVEN_PURPOSES
    ]
    can_manage = may_manage(request) and resident.status != ResidentStatus.MERGED
    if form is None and can_manage:
        form = ConsentForm(resident=resident, auto_id="consent-%s")
    context = {
        "state": state,
        "history": history,
        "can_manage": can_manage,
        "can_withdraw": can_manage or is_own(request, resident),
        "form": form if can_manage else None,
        "notice": notice,
    }
    return render_tab(request, resident, "consents", "residents/people/consents.html", context)


@resident_page
def consents(request: PageRequest, resident: Resident) -> HttpResponse:
    """The consent tab (state per purpose, history); POST records a consent."""
    require_tab(request, resident, "consents")
    if request.method != "POST":
        return _consents_tab(request, resident)
    require_perm(request, ResidentPerm.MANAGE)
    form = ConsentForm(request.POST, resident=resident, auto_id="consent-%s")
    if form.is_valid():
        try:
            consent = give_consent(request.user, resident, **form.values())
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            message = _("Consent recorded: %(purpose)s.") % {
                "purpose": consent.get_purpose_display()
            }
            return reload_page(request, resident, "consents", message)
    return _consents_tab(request, resident, form=form)


@require_POST
@resident_page
def consent_withdraw(request: PageRequest, resident: Resident, consent_id: int) -> HttpResponse:
    """Withdraw a consent (staff, or the resident herself); effective at once."""
    require_tab(request, resident, "consents")
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        consent = withdraw_consent(request.user, consent_id, note, resident=resident)
    except ValidationFailed as error:
        again = lambda **kw: _consents_tab(request, resident, **kw)  # noqa: E731
        return error_notice(request, resident, "consents", error, again)
    message = _("Consent withdrawn: %(purpose)s. This takes effect now.") % {
        "purpose": consent.get_purpose_display()
    }
    return reload_page(request, resident, "consents", message)


urlpatterns: list[URLPattern] = [
    path("<int:pk>/consents/", consents, name="consents"),
    path(
        "<int:pk>/consents/<int:consent_id>/withdraw/",
        consent_withdraw,
        name="consent_withdraw",
    ),
]
