"""Opening an assessment session.

* ``start`` — ``new/?resident=<pk>[&supersedes=<id>]`` GET/POST: open a draft (with
  ``supersedes``: a correction of a submitted session).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.assessments.models import Assessment, InstrumentStatus, InstrumentVersion, Place, Reason
from yiyang.assessments.pages.sessions.common import english, health_resident, require_record
from yiyang.assessments.selectors import assessor_candidates, can_assess, current_version
from yiyang.assessments.services import sessions
from yiyang.assessments.services.base import ABILITY_INSTRUMENT
from yiyang.common.errors import NotFound, ValidationFailed
from yiyang.common.pages import apply_error, errors_to_http
from yiyang.residents.models import Resident

FIRST_INSTRUMENT = ABILITY_INSTRUMENT


# --- start ------------------------------------------------------------------------------


def instrument_choices() -> list[tuple[str, str]]:
    """The current version of every active instrument, GB/T 42195 first, then by name."""
    codes = (
        InstrumentVersion.objects.filter(status=InstrumentStatus.ACTIVE)
        .values_list("code", flat=True)
        .distinct()
    )
    versions = [v for v in (current_version(code) for code in set(codes)) if v is not None]
    en = english()
    versions.sort(key=lambda v: (v.code != FIRST_INSTRUMENT, v.name_en if en else v.name_zh))
    return [
        (v.code, f"{v.name_en if en else v.name_zh} · {v.source_document} · v{v.version}")
        for v in versions
    ]


def second_assessor_candidates(actor: User, resident: Resident) -> list[User]:
    """The assessors the actor works with (``selectors.assessor_candidates``) who can open
    ``resident``'s record and so could sign."""
    return [u for u in assessor_candidates(actor) if can_assess(u, resident)]


class StartForm(forms.Form):
    instrument = forms.ChoiceField(label=gettext_lazy("Instrument"))
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=Reason.choices)
    reason_note = forms.CharField(
        label=gettext_lazy("Reason details"), max_length=255, required=False
    )
    assessed_on = forms.DateField(
        label=gettext_lazy("Assessment date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    place = forms.ChoiceField(label=gettext_lazy("Place"), choices=Place.choices)
    place_note = forms.CharField(
        label=gettext_lazy("Place details"), max_length=255, required=False
    )
    second_assessor = forms.ChoiceField(label=gettext_lazy("Second assessor"), required=False)
    correction_reason = forms.CharField(
        label=gettext_lazy("Why is the assessment corrected?"),
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        actor: User,
        resident: Resident,
        correcting: Assessment | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["instrument"])
        if correcting is not None:
            version = correcting.instrument
            field.choices = [(version.code, version.name_en if english() else version.name_zh)]
            self.fields["correction_reason"].required = True
        else:
            field.choices = instrument_choices()
            del self.fields["correction_reason"]
        people = [("", _("— none —"))] + [
            (str(u.pk), f"{u} ({u.get_role_display()})")
            for u in second_assessor_candidates(actor, resident)
        ]
        cast(forms.ChoiceField, self.fields["second_assessor"]).choices = people
        self.fields["second_assessor"].help_text = _(
            "Needed to submit without co-signing on this device when the instrument requires "
            "two assessors."
        )


def _correcting(request: HttpRequest, resident: Resident) -> Assessment | None:
    raw = request.GET.get("supersedes") or ""
    if not raw:
        return None
    if not raw.isdigit():
        raise NotFound("assessment")
    found = (
        Assessment.objects.filter(pk=int(raw), resident=resident)
        .select_related("instrument")
        .first()
    )
    if found is None:
        raise NotFound("assessment")
    return found


@require_http_methods(["GET", "POST"])
@errors_to_http
def start(request: PageRequest) -> HttpResponseBase:
    require_record(request)
    raw = request.GET.get("resident") or ""
    if not raw.isdigit():
        raise NotFound("resident")
    resident = health_resident(request.user, int(raw))
    correcting = _correcting(request, resident)
    status = 200
    if request.method == "POST":
        form = StartForm(request.POST, actor=request.user, resident=resident, correcting=correcting)
        if form.is_valid():
            data = form.cleaned_data
            try:
                session = sessions.start(
                    request.user,
                    resident.pk,
                    instrument=data["instrument"],
                    reason=data["reason"],
                    reason_note=data["reason_note"],
                    assessed_on=data["assessed_on"],
                    place=data["place"],
                    place_note=data["place_note"],
                    second_assessor=data["second_assessor"] or None,
                    supersedes=correcting.pk if correcting else None,
                    correction_reason=data.get("correction_reason", ""),
                )
            except ValidationFailed as exc:
                apply_error(form, exc, {"date": "assessed_on"})
            else:
                return redirect("assessments:session", session.pk)
        status = 400
    else:
        has_final = resident.assessments.filter(sessions.final_q()).exists()
        initial: dict[str, Any] = {
            "assessed_on": timezone.localdate(),
            "reason": Reason.ROUTINE if has_final else Reason.FIRST,
            "place": Place.HOME,
        }
        if correcting is not None:
            initial.update(
                instrument=correcting.instrument.code,
                reason=Reason.DISPUTE,
                place=correcting.place,
                second_assessor=str(correcting.second_assessor_id or ""),
            )
        form = StartForm(
            initial=initial, actor=request.user, resident=resident, correcting=correcting
        )
    context = {"resident": resident, "form": form, "correcting": correcting}
    return render(request, "assessments/session/start.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("new/", start, name="start"),
]
