"""Assessment schedule pages: the team's due list, the resident's "Assessments" tab and
the local policy pages (eligibility rules, schedule policies).

* ``assessments:due`` (``due/``, GET): the open dues of the residents in the user's
  scope (``services.schedule.open_dues``), filtered by team (default: the user's own team), by
  instrument and "overdue only", earliest first, paged by keyset on (due date, id) — no
  ``COUNT(*)``. Needs ``AssessmentPerm.RECORD`` or ``ResidentPerm.HEALTH_VIEW``.
* ``assessments:resident`` (``resident/<pk>/``, GET): the resident page's tab (current
  standing, eligibility evaluated for today, open dues, history), rendered with
  ``residents.pages.shell.render_tab`` — the fragment for htmx, else the whole resident
  page. Access: ``shell.resident_page`` (scope: 404) and the tab's visibility (the right
  to see the health record: 403).
* ``assessments:report_change`` (``resident/<pk>/change/``, POST): "report a change"
  (``services.schedule.report_change``; ``AssessmentPerm.RECORD``); htmx gets the refreshed dues
  section, a plain POST is redirected back to the tab.
* ``assessments:policy`` (``policy/``), ``assessments:rule_create``
  (``policy/rules/new/``), ``assessments:rule_edit`` (``policy/rules/<pk>/``),
  ``assessments:schedule_edit`` (``policy/schedule/<code>/``): list and edit eligibility
  rules and schedule policies (``AssessmentPerm.POLICY``); the writes are
  ``yiyang.assessments.policy``'s.
"""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.validators import validate_slug
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.assessments import policy
from yiyang.assessments.instruments import gbt42195_2022, ltc_disability_2021
from yiyang.assessments.models import (
    Assessment,
    Due,
    DueReason,
    EligibilityRule,
    InstrumentStatus,
    InstrumentVersion,
    SchedulePolicy,
    Standing,
)
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.assessments.services import schedule
from yiyang.assessments.services.base import ABILITY_INSTRUMENT
from yiyang.assessments.services.sessions import history
from yiyang.assessments.services.standing import evaluate_rule
from yiyang.common.errors import ValidationFailed
from yiyang.common.forms import ServiceForm
from yiyang.common.pages import apply_error, page, refuses_control_characters
from yiyang.common.paging import KeysetPage, keyset_page
from yiyang.common.scope import ScopeKind, scope_of
from yiyang.network.models import Team
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors import teams as network_selectors
from yiyang.residents.models import Resident
from yiyang.residents.pages.shell import Tab, render_tab, require_tab, resident_page
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.plain import ComingUp

PAGE_SIZE = 50
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
STATE_LABELS: dict[str, str | Promise] = {
    "overdue": gettext_lazy("Overdue"),
    "month": gettext_lazy("Due this month"),
    "upcoming": gettext_lazy("Upcoming"),
}


def _chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


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
    return zh if _chinese() or not en else f"{en} ({zh})" if zh else en


def next_assessment(user: User, resident: Resident, today: datetime.date) -> ComingUp | None:
    """Her "coming up" line (``residents.plain``): the next assessment due, and whether it
    is due already."""
    due = Due.objects.filter(resident=resident, done_by__isnull=True).order_by("due_on").first()
    if due is None:
        return None
    name = instrument_names().get(due.instrument_code, due.instrument_code)
    return ComingUp(str(_("Next assessment")), name, due.due_on, overdue=due.due_on < today)


def instrument_names() -> dict[str, str]:
    """Code → name (current language) of the instruments with an active version (one
    small query: the newest active version of each code names it)."""
    rows = (
        InstrumentVersion.objects.filter(status=InstrumentStatus.ACTIVE)
        .order_by("code", "-id")
        .values_list("code", "name_zh", "name_en")
    )
    names: dict[str, str] = {}
    zh = _chinese()
    for code, name_zh, name_en in rows:
        names.setdefault(code, (name_zh if zh else name_en) or name_zh or code)
    return names


def _version_name(version: InstrumentVersion) -> str:
    return (version.name_zh if _chinese() else version.name_en) or version.code


def due_state(due_on: datetime.date, today: datetime.date) -> str:
    """``overdue`` (before today), ``month`` (due later this calendar month) or
    ``upcoming``."""
    if due_on < today:
        return "overdue"
    if (due_on.year, due_on.month) == (today.year, today.month):
        return "month"
    return "upcoming"


def _decorate_dues(dues: list[Due], names: dict[str, str], today: datetime.date) -> list[Due]:
    for due in dues:
        state = due_state(due.due_on, today)
        due.state = state  # type: ignore[attr-defined]
        due.state_label = STATE_LABELS[state]  # type: ignore[attr-defined]
        due.instrument_name = names.get(due.instrument_code, due.instrument_code)  # type: ignore[attr-defined]
    return dues


def _cursor(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted  # type: ignore[union-attr]


# --- the team's due list ------------------------------------------------------------------


def can_see_dues(user: User) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and (
            user.has_perm_code(AssessmentPerm.RECORD)
            or user.has_perm_code(ResidentPerm.HEALTH_VIEW)
        )
    )


def team_choices(user: User) -> tuple[list[tuple[int, str]], int | None]:
    """The teams the due list offers and the default one.

    A user with a team scope is offered the teams she belongs to (her scope's team and
    her staff record's teams); a wider scope (institution, region, all) is offered the
    teams in it as well. The default is her own team (her scope's team first), if any."""
    scope = scope_of(user)
    own_q = Q(pk__in=[])
    staff_id = getattr(user, "staff_id", None)
    if staff_id:
        own_q = Q(memberships__staff_id=staff_id) | Q(leader_id=staff_id)
    if scope.kind == ScopeKind.TEAM and scope.team_id:
        own_q |= Q(pk=scope.team_id)
    own = list(
        Team.objects.filter(own_q).distinct().order_by("name", "pk").values_list("pk", "name")
    )
    wider = scope.kind in (ScopeKind.ALL, ScopeKind.REGION, ScopeKind.INSTITUTION)
    if wider and user.has_perm_code(NetworkPerm.VIEW):
        in_scope = Q(pk__in=network_selectors.teams_for(user).values("pk"))
        choices = list(
            Team.objects.filter(in_scope | own_q)
            .distinct()
            .order_by("name", "pk")
            .values_list("pk", "name")
        )
    else:
        choices = own
    default = None
    if scope.kind == ScopeKind.TEAM and any(pk == scope.team_id for pk, _name in own):
        default = scope.team_id
    elif own:
        default = own[0][0]
    return choices, default


class DueFilterForm(forms.Form):
    team = forms.TypedChoiceField(
        label=gettext_lazy("Team"), coerce=int, required=False, empty_value=None
    )
    instrument = forms.ChoiceField(label=gettext_lazy("Instrument"), required=False)
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)

    def __init__(
        self, data: Any, *, teams: list[tuple[int, str]], instruments: dict[str, str]
    ) -> None:
        super().__init__(data)
        cast(forms.TypedChoiceField, self.fields["team"]).choices = [
            ("", _("All teams")),
            *teams,
        ]
        cast(forms.ChoiceField, self.fields["instrument"]).choices = [
            ("", _("All instruments")),
            *sorted(instruments.items(), key=lambda item: item[1]),
        ]


@require_http_methods(["GET"])
@login_required
@refuses_control_characters
def due_list(request: PageRequest) -> HttpResponse:
    user = request.user
    if not can_see_dues(user):
        raise DjangoPermissionDenied
    teams, default_team = team_choices(user)
    names = instrument_names()
    data = request.GET.copy()
    if "team" not in data:
        data["team"] = str(default_team) if default_team is not None else ""
    form = DueFilterForm(data, teams=teams, instruments=names)
    today = timezone.localdate()
    results: KeysetPage
    if form.is_valid():
        filters = form.cleaned_data
        qs = schedule.open_dues(user, team=filters.get("team"))
        if filters.get("instrument"):
            qs = qs.filter(instrument_code=filters["instrument"])
        if filters.get("overdue"):
            qs = qs.filter(due_on__lt=today)
        results = keyset_page(
            cast(Any, qs),
            after=_cursor(request.GET.get("after")),
            before=_cursor(request.GET.get("before")),
            limit=PAGE_SIZE,
            key="due_on",
        )
    else:
        results = keyset_page(cast(Any, Due.objects.none()), key="due_on")
    _decorate_dues(cast(list[Due], results.items), names, today)
    query = data.copy()
    for name in ("after", "before"):
        query.pop(name, None)
    context = {
        "filter_form": form,
        "results": results,
        "query": query.urlencode(),
        "today": today,
        "can_record": user.has_perm_code(AssessmentPerm.RECORD),
    }
    if _is_htmx(request):
        return render(request, "assessments/schedule/_due_results.html", context)
    return render(request, "assessments/schedule/due_list.html", context)


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
        "dues": _decorate_dues(dues, names, today),
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
        "english": not _chinese(),
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
            if _is_htmx(request):
                context = _dues_context(request, resident, names, notice=text)
                return render(request, "assessments/schedule/_resident_dues.html", context)
            messages.success(request, text)
            return redirect(RESIDENT_TAB, resident.pk)
    if _is_htmx(request):
        context = _dues_context(request, resident, names, form=form, error=error)
        return render(request, "assessments/schedule/_resident_dues.html", context)
    return _resident_tab(request, resident, form=form, error=error)


# --- policy -----------------------------------------------------------------------------


class RuleForm(ServiceForm):
    """Typing only: ranges, required names and the code's shape are
    ``policy``'s rules, shown next to the field."""

    class Meta:
        model = EligibilityRule
        fields = ["code", *policy.RULE_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["code"]
        else:  # its shape is the service's rule, said in its words
            self.fields["code"].validators = [
                v for v in self.fields["code"].validators if v is not validate_slug
            ]
        for name in ("name_zh", "name_en", "code"):
            if name in self.fields:
                self.fields[name].required = False  # the service says what is missing
        hints = {
            "min_ability_level": (0, 4),
            "min_disability_grade": (0, 5),
            "min_age": (0, 130),
        }
        for name, (low, high) in hints.items():
            self.fields[name].widget.attrs.update({"min": low, "max": high})
        self.fields["min_ability_level"].help_text = _(
            "0 能力完好 … 4 完全失能; empty: not considered"
        )
        self.fields["min_disability_grade"].help_text = _(
            "0 基本正常 … 5 重度失能Ⅲ级; empty: not considered"
        )
        self.fields["unverified"].help_text = _(
            "The rule's source has not been checked against the policy text."
        )


class ScheduleForm(ServiceForm):
    class Meta:
        model = SchedulePolicy
        fields = list(policy.SCHEDULE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["interval_days"].widget.attrs.update({"min": 1})
        self.fields["interval_days"].required = False  # the service says what is missing


def _policy_rows() -> list[dict[str, Any]]:
    """Each instrument with an active version or a stored policy, and its policy (the
    stored one, or the defaults it runs on)."""
    names = instrument_names()
    stored = {p.instrument_code: p for p in SchedulePolicy.objects.all()}
    rows = []
    for code in sorted(set(names) | set(stored)):
        found = stored.get(code)
        rows.append(
            {
                "code": code,
                "name": names.get(code, code),
                "policy": found or SchedulePolicy(instrument_code=code),
                "stored": found is not None,
            }
        )
    return rows


@require_http_methods(["GET"])
@page(AssessmentPerm.POLICY)
def policy_list(request: PageRequest) -> HttpResponse:
    context = {
        "rules": list(EligibilityRule.objects.order_by("code")),
        "schedules": _policy_rows(),
    }
    return render(request, "assessments/schedule/policy.html", context)


def _done(request: PageRequest, text: str, *, changed: bool = True) -> HttpResponse:
    (messages.success if changed else messages.info)(request, text)
    url = reverse("assessments:policy")
    if _is_htmx(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _form_page(request: PageRequest, form: forms.BaseForm, heading: str) -> HttpResponse:
    context = {"form": form, "heading": heading, "cancel_url": reverse("assessments:policy")}
    template = (
        "assessments/schedule/_policy_form.html"
        if _is_htmx(request)
        else "assessments/schedule/policy_form.html"
    )
    return render(request, template, context)


def _apply_all(form: forms.BaseForm, exc: ValidationFailed) -> None:
    """Every problem of a service error next to its field (``PolicyInvalid`` has several)."""
    for error in getattr(exc, "errors", None) or [exc]:
        apply_error(form, error)


def _rule_problems(form: RuleForm) -> None:
    """A form refused for its typing: also show what the policy rules say about the
    fields that did parse, so every error appears at once."""
    data = form.cleaned_data
    values = {name: data[name] for name in policy.RULE_FIELDS if name in data}
    code = data.get("code") if "code" in form.fields and "code" in data else None
    if "code" in form.fields and code is None and "code" not in form.errors:
        code = ""
    for problem in policy.rule_problems(values, code=code):
        if problem.field not in form.errors:
            apply_error(form, problem)


@require_http_methods(["GET", "POST"])
@page(AssessmentPerm.POLICY)
def rule_create(request: PageRequest) -> HttpResponse:
    form = RuleForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                rule = policy.create_rule(
                    request.user, **{name: data.get(name) for name in form.fields}
                )
            except ValidationFailed as exc:
                _apply_all(form, exc)
            else:
                return _done(request, _("Rule %(code)s created.") % {"code": rule.code})
        else:
            _rule_problems(form)
    return _form_page(request, form, _("New eligibility rule"))


@require_http_methods(["GET", "POST"])
@page(AssessmentPerm.POLICY)
def rule_edit(request: PageRequest, pk: int) -> HttpResponse:
    rule = EligibilityRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404("eligibility rule not found")
    form = RuleForm(request.POST or None, instance=rule, user=request.user)
    if request.method == "POST" and not form.is_valid():
        _rule_problems(form)
    elif request.method == "POST":
        if not form.has_changed():
            return _done(request, _("Nothing changed."), changed=False)
        try:
            policy.update_rule(request.user, rule.pk, **form.changed_data_values())
        except ValidationFailed as exc:
            _apply_all(form, exc)
        else:
            return _done(request, _("Rule %(code)s saved.") % {"code": rule.code})
    return _form_page(request, form, _("Eligibility rule %(code)s") % {"code": rule.code})


@require_http_methods(["GET", "POST"])
@page(AssessmentPerm.POLICY)
def schedule_edit(request: PageRequest, code: str) -> HttpResponse:
    found = SchedulePolicy.objects.filter(instrument_code=code).first()
    if found is None and code not in instrument_names():
        raise Http404("schedule policy not found")
    current = found or SchedulePolicy(instrument_code=code)
    form = ScheduleForm(request.POST or None, instance=current, user=request.user)
    if request.method == "POST" and form.is_valid():
        if not form.has_changed():
            return _done(request, _("Nothing changed."), changed=False)
        try:
            policy.update_schedule(request.user, code, **form.changed_data_values())
        except ValidationFailed as exc:
            _apply_all(form, exc)
        else:
            return _done(request, _("Schedule of %(code)s saved.") % {"code": code})
    name = instrument_names().get(code, code)
    return _form_page(request, form, _("Schedule policy: %(name)s") % {"name": name})


urlpatterns: list[URLPattern] = [
    path("due/", due_list, name="due"),
    path("resident/<int:pk>/", resident_tab, name="resident"),
    path("resident/<int:pk>/change/", report_change, name="report_change"),
    path("policy/", policy_list, name="policy"),
    path("policy/rules/new/", rule_create, name="rule_create"),
    path("policy/rules/<int:pk>/", rule_edit, name="rule_edit"),
    path("policy/schedule/<slug:code>/", schedule_edit, name="schedule_edit"),
]
