"""The resident page's "Assessments" tab, and this app's parts of the resident page.

* ``assessments:resident`` (``resident/<pk>/``, GET): the resident page's tab (current
  standing, eligibility evaluated for today, open dues, history), rendered with
  ``residents.pages.shell.render_tab`` — the fragment for htmx, else the whole resident
  page. Access: ``shell.resident_page`` (scope: 404) and the tab's visibility (the right
  to see the health record: 403).
* ``assessments:report_change`` (``resident/<pk>/change/``, POST): "report a change"
  (``services.schedule.report_change``; ``AssessmentPerm.RECORD``); htmx gets the
  refreshed dues section, a plain POST is redirected back to the tab.

``assessments.plugin`` registers the tab (``RESIDENT_TAB``), the header's ability level
(``ability_badge``) and her "coming up" line (``next_assessment``).
"""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.assessments.instruments import gbt42195_2022, ltc_disability_2021
from yiyang.assessments.models import (
    Assessment,
    Due,
    DueReason,
    EligibilityRule,
    InstrumentVersion,
    Standing,
)
from yiyang.assessments.pages.schedule.common import (
    chinese,
    decorate_dues,
    instrument_names,
    is_htmx,
)
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.assessments.services import schedule
from yiyang.assessments.services.base import ABILITY_INSTRUMENT
from yiyang.assessments.services.sessions import history
from yiyang.assessments.services.standing import evaluate_rule
from yiyang.common.errors import ValidationFailed
from yiyang.common.pages import apply_error
from yiyang.residents.models import Resident
from yiyang.residents.pages.shell import Tab, render_tab, require_tab, resident_page
from yiyang.residents.plain import ComingUp

HISTORY_SHOWN = 50

# GB/T 42195-2022 level names in English (the definition's ``levels`` name them in
# Chinese only).
ABILITY_NAMES_EN: dict[int, str | Promise] = {
    0: gettext_lazy("intact ability"),
    1: gettext_lazy("mild disability"),
    2: gettext_lazy("moderate disability"),
    3: gettext_lazy("severe disability"),
    4: gettext_lazy("complete disability"),
}
CHANGE_REASONS = [
    (value, label)
    for value, label in DueReason.choices
    if value in (DueReason.CONDITION_CHANGE, DueReason.FALL, DueReason.DISPUTE)
]


# --- names ------------------------------------------------------------------------------


def _level_entry(levels: list[dict[str, Any]] | None, level: int) -> dict[str, Any]:
    for entry in levels or []:
        if entry.get("level") == level:
            return entry
    return {}


def level_names(
    level: int | None, levels: list[dict[str, Any]] | None, english: dict[int, Any]
) -> tuple[str, str]:
    """(Chinese, English) name of ``level`` in a definition's ``levels``."""
    if level is None:
        return "", ""
    entry = _level_entry(levels, level)
    zh = str(entry.get("name_zh") or "")
    en = str(entry.get("name_en") or english.get(level) or "")
    return zh, en


# This app's tab of the resident page (registered in ``assessments.plugin``).
RESIDENT_TAB = "assessments:resident"


def ability_badge(user: User, resident: Resident, tabs: list[Tab]) -> str:
    """The resident page header's part: her current GB/T 42195 ability level, to those who
    see this app's tab (one query); "" otherwise."""
    if not any(tab.key == RESIDENT_TAB for tab in tabs):
        return ""
    level = (
        Standing.objects.filter(resident_id=resident.pk)
        .values_list("ability_level", flat=True)
        .first()
    )
    if level is None:
        return ""
    context = {"ability_level": level, "ability_level_name": ability_level_name(level)}
    return render_to_string("assessments/_ability_badge.html", context)


def ability_level_name(level: int) -> str:
    """The GB/T 42195-2022 level's name in the current language (for the resident
    header: no query)."""
    zh, en = level_names(level, gbt42195_2022.DEFINITION["levels"], ABILITY_NAMES_EN)
    return zh if chinese() or not en else f"{en} ({zh})" if zh else en


def next_assessment(user: User, resident: Resident, today: datetime.date) -> ComingUp | None:
    """Her "coming up" line (``residents.plain``): the next assessment due, and whether it
    is due already."""
    due = Due.objects.filter(resident=resident, done_by__isnull=True).order_by("due_on").first()
    if due is None:
        return None
    name = instrument_names().get(due.instrument_code, due.instrument_code)
    return ComingUp(str(_("Next assessment")), name, due.due_on, overdue=due.due_on < today)


def _version_name(version: InstrumentVersion) -> str:
    return (version.name_zh if chinese() else version.name_en) or version.code


# --- the resident's tab -----------------------------------------------------------------


class ChangeForm(forms.Form):
    """Report a change (a new immediate due). Typing only: the rules are the service's."""

    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=CHANGE_REASONS)
    instrument = forms.ChoiceField(label=gettext_lazy("Instrument"))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=255, required=False)

    prefix = "change"

    def __init__(self, *args: Any, instruments: dict[str, str], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"instrument": ABILITY_INSTRUMENT})
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, str]] = sorted(instruments.items(), key=lambda item: item[1])
        cast(forms.ChoiceField, self.fields["instrument"]).choices = choices


def _standing_context(resident: Resident, today: datetime.date) -> dict[str, Any]:
    """The current standing and the eligibility flags, evaluated for ``today`` with the
    active rules (age-based rules change with time: the stored flags are not reused)."""
    standing = (
        Standing.objects.filter(resident_id=resident.pk)
        .select_related("ability_assessment__instrument", "disability_assessment__instrument")
        .first()
    )
    current = standing or Standing(resident=resident)
    ability = current.ability_assessment if standing else None
    disability = current.disability_assessment if standing else None
    ability_levels = (
        ability.instrument.definition.get("levels") if ability else None
    ) or gbt42195_2022.DEFINITION["levels"]
    disability_levels = (
        disability.instrument.definition.get("levels") if disability else None
    ) or ltc_disability_2021.DEFINITION["levels"]
    rules = list(EligibilityRule.objects.filter(active=True).order_by("code"))
    eligibility = [
        {"rule": rule, "eligible": evaluate_rule(rule, resident, current, today)} for rule in rules
    ]
    ability_zh, ability_en = level_names(current.ability_level, ability_levels, ABILITY_NAMES_EN)
    grade_zh, grade_en = level_names(current.disability_grade, disability_levels, {})
    return {
        "standing": standing,
        "ability": {
            "level": current.ability_level,
            "name_zh": ability_zh,
            "name_en": ability_en,
            "assessment": ability,
        },
        "disability": {
            "level": current.disability_grade,
            "name_zh": grade_zh,
            "name_en": grade_en,
            "assessment": disability,
        },
        "eligibility": eligibility,
    }


def _dues_context(
    request: PageRequest,
    resident: Resident,
    names: dict[str, str],
    *,
    form: ChangeForm | None = None,
    notice: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    today = timezone.localdate()
    dues = list(
        Due.objects.filter(resident_id=resident.pk, done_by__isnull=True).order_by("due_on", "id")
    )
    can_record = request.user.has_perm_code(AssessmentPerm.RECORD)  # type: ignore[union-attr]
    return {
        "resident": resident,
        "dues": decorate_dues(dues, names, today),
        "can_record": can_record,
        "change_form": form or (ChangeForm(instruments=names) if can_record else None),
        "notice": notice,
        "error": error,
    }


def _history(resident: Resident) -> list[Assessment]:
    # The list needs neither the answers nor the instruments' definitions.
    qs = history(resident).defer("answers", "context", "result", "instrument__definition")
    rows = list(qs[:HISTORY_SHOWN])
    for row in rows:
        row.instrument_name = _version_name(row.instrument)  # type: ignore[attr-defined]
    return rows


def _resident_tab(
    request: PageRequest,
    resident: Resident,
    *,
    form: ChangeForm | None = None,
    error: str | None = None,
) -> HttpResponse:
    today = timezone.localdate()
    names = instrument_names()
    context = {
        **_standing_context(resident, today),
        **_dues_context(request, resident, names, form=form, error=error),
        "history": _history(resident),
        "history_limit": HISTORY_SHOWN,
        "today": today,
        "english": not chinese(),
    }
    return render_tab(
        request, resident, RESIDENT_TAB, "assessments/schedule/resident_tab.html", context
    )


@require_http_methods(["GET"])
@resident_page
def resident_tab(request: PageRequest, resident: Resident) -> HttpResponseBase:
    require_tab(request, resident, RESIDENT_TAB)
    return _resident_tab(request, resident)


def _refused(form: forms.Form, exc: ValidationFailed) -> str | None:
    """A service error next to its field; about anything else, for the status line."""
    if exc.field in form.fields:
        apply_error(form, exc)
        return None
    return exc.detail


@require_POST
@resident_page
def report_change(request: PageRequest, resident: Resident) -> HttpResponseBase:
    user = request.user
    if not user.has_perm_code(AssessmentPerm.RECORD):  # type: ignore[union-attr]
        raise DjangoPermissionDenied
    require_tab(request, resident, RESIDENT_TAB)
    names = instrument_names()
    form = ChangeForm(request.POST, instruments=names)
    error = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            due = schedule.report_change(
                user,
                resident,
                reason=data["reason"],
                note=data.get("note") or "",
                instrument=data["instrument"],
            )
        except ValidationFailed as exc:
            error = _refused(form, exc)
        else:
            text = _("Re-assessment requested: %(instrument)s, due %(day)s.") % {
                "instrument": names.get(due.instrument_code, due.instrument_code),
                "day": due.due_on.isoformat(),
            }
            if is_htmx(request):
                context = _dues_context(request, resident, names, notice=text)
                return render(request, "assessments/schedule/_resident_dues.html", context)
            messages.success(request, text)
            return redirect(RESIDENT_TAB, resident.pk)
    if is_htmx(request):
        context = _dues_context(request, resident, names, form=form, error=error)
        return render(request, "assessments/schedule/_resident_dues.html", context)
    return _resident_tab(request, resident, form=form, error=error)


urlpatterns: list[URLPattern] = [
    path("resident/<int:pk>/", resident_tab, name="resident"),
    path("resident/<int:pk>/change/", report_change, name="report_change"),
]
