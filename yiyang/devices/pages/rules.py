"""The deployment's alert rules (``devices:rules``, ``/devices/rules/``; ADR 0019).

GET (``devices.view``): every rule in words — its name in the page's language, severity,
conditions ("收缩压 ≥ 180 mmHg 或 舒张压 ≥ 110 mmHg"; an event rule fires on every event),
source, whether the thresholds are unverified, active or switched off, and whether it
differs from the shipped default. Users with ``devices.alert_policy`` (health-commission
supervisors: the rules apply to the whole county) also get a form per rule: a number per
condition (its metric and comparison stay), severity, active, suggests referral, a reason,
and Save / Reset to default. SOS and fall stay critical and active: their form has
neither field.

POST (``devices.alert_policy``; CSRF): ``rule`` (the code), ``action`` (``save`` or
``reset``) and the rule's fields prefixed by its code. Both call ``yiyang.devices.services.rules``;
success redirects back here with a message, a refusal shows the page again with the error
next to its field and nothing changed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from yiyang.accounts.actor import PageRequest
from yiyang.common.errors import PermissionDenied, ValidationFailed
from yiyang.common.pages import apply_error, page
from yiyang.devices.models import AlertRule, Severity
from yiyang.devices.pages.thresholds import add_threshold_fields, typed_conditions
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.services import rules
from yiyang.devices.services.overrides import describe, rule_name

TEMPLATE = "devices/rules/page.html"
SAVE, RESET = "save", "reset"


class RuleForm(forms.Form):
    """One rule: a number per condition (metric and comparison stay), severity, active,
    suggests referral (SOS and fall: no severity, no active), a reason."""

    def __init__(self, data: Any = None, *, rule: AlertRule):
        self.rule = rule
        self.critical = rules.is_critical(rule)
        self.own = list(rule.conditions or []) if not rule.event else []
        initial: dict[str, Any] = {f"value_{i}": c["value"] for i, c in enumerate(self.own)}
        initial.update(
            severity=rule.severity, active=rule.active, suggests_referral=rule.suggests_referral
        )
        super().__init__(data, prefix=rule.code, initial=initial)
        add_threshold_fields(self, self.own)
        if not self.critical:
            self.fields["severity"] = forms.ChoiceField(
                label=gettext_lazy("Severity"), choices=Severity.choices
            )
            self.fields["active"] = forms.BooleanField(
                label=gettext_lazy("Active: raises alerts"), required=False
            )
        self.fields["suggests_referral"] = forms.BooleanField(
            label=capfirst(gettext_lazy("suggests referral")), required=False
        )
        self.fields["reason"] = forms.CharField(
            label=gettext_lazy("Reason"),
            max_length=255,
            required=False,  # the service says it is required (also for a reset)
            help_text=gettext_lazy("Why the county's rule changes (kept in the audit trail)."),
        )

    def changes(self) -> dict[str, Any]:
        """The service's keyword arguments from the cleaned form."""
        out: dict[str, Any] = {"suggests_referral": self.cleaned_data["suggests_referral"]}
        if self.own:
            out["conditions"] = typed_conditions(self.cleaned_data, self.own)
        if not self.critical:
            out["severity"] = self.cleaned_data["severity"]
            out["active"] = self.cleaned_data["active"]
        return out


def _rows(request: PageRequest, bound: RuleForm | None) -> list[dict[str, Any]]:
    can_edit = request.user.has_perm_code(DevicePerm.ALERT_POLICY)
    out = []
    for rule in rules.rules_for(request.user):
        form = None
        if can_edit:
            form = bound if bound is not None and bound.rule.pk == rule.pk else RuleForm(rule=rule)
        shipped = rules.default_of(rule)
        out.append(
            {
                "rule": rule,
                "name": rule_name(rule),
                "conditions": describe(rule.conditions),
                "critical": rules.is_critical(rule),
                "changed": not rules.is_default(rule),
                "shipped": describe(shipped["conditions"]) if shipped else "",
                "shipped_severity": Severity(shipped["severity"]).label if shipped else "",
                "form": form,
            }
        )
    return out


def _page(request: PageRequest, bound: RuleForm | None = None) -> HttpResponse:
    rows = _rows(request, bound)
    context = {
        "rows": rows,
        "can_edit": request.user.has_perm_code(DevicePerm.ALERT_POLICY),
        "changed": sum(1 for r in rows if r["changed"]),
    }
    return render(request, TEMPLATE, context)


@require_http_methods(["GET", "POST"])
@page(DevicePerm.VIEW)
def rule_list(request: PageRequest) -> HttpResponseBase:
    if request.method != "POST":
        return _page(request)
    if not request.user.has_perm_code(DevicePerm.ALERT_POLICY):
        raise PermissionDenied()
    found = rules.get_rule(request.user, request.POST.get("rule", ""))
    name = rule_name(found)
    form = RuleForm(request.POST, rule=found)
    if request.POST.get("action") == RESET:
        try:
            rules.reset_rule(request.user, found, request.POST.get(f"{found.code}-reason"))
        except ValidationFailed as error:
            form.is_valid()  # show what was typed, with the service's reason
            apply_error(form, error)
            return _page(request, form)
        messages.success(request, _("%(rule)s: back to the shipped default.") % {"rule": name})
        return redirect("devices:rules")
    if not form.is_valid():
        return _page(request, form)
    try:
        rules.update_rule(request.user, found, reason=form.cleaned_data["reason"], **form.changes())
    except ValidationFailed as error:
        apply_error(form, error, {"conditions": ""})
        return _page(request, form)
    messages.success(request, _("%(rule)s: saved for the whole deployment.") % {"rule": name})
    return redirect("devices:rules")
