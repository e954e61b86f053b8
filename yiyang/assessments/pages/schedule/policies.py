"""The local policy pages.

* ``assessments:policy`` (``policy/``), ``assessments:rule_create``
  (``policy/rules/new/``), ``assessments:rule_edit`` (``policy/rules/<pk>/``),
  ``assessments:schedule_edit`` (``policy/schedule/<code>/``): list and edit eligibility
  rules and schedule policies (``AssessmentPerm.POLICY``); the writes are
  ``yiyang.assessments.policy``'s.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.validators import validate_slug
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from yiyang.accounts.actor import PageRequest
from yiyang.assessments import policy
from yiyang.assessments.models import EligibilityRule, SchedulePolicy
from yiyang.assessments.pages.schedule.common import instrument_names, is_htmx
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.common.errors import ValidationFailed
from yiyang.common.forms import ServiceForm
from yiyang.common.pages import apply_error, page

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
    if is_htmx(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _form_page(request: PageRequest, form: forms.BaseForm, heading: str) -> HttpResponse:
    context = {"form": form, "heading": heading, "cancel_url": reverse("assessments:policy")}
    template = (
        "assessments/schedule/_policy_form.html"
        if is_htmx(request)
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
    path("policy/", policy_list, name="policy"),
    path("policy/rules/new/", rule_create, name="rule_create"),
    path("policy/rules/<int:pk>/", rule_edit, name="rule_edit"),
    path("policy/schedule/<slug:code>/", schedule_edit, name="schedule_edit"),
]
