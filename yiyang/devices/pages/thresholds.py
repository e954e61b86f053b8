"""A resident's own alert thresholds (``devices:resident_thresholds``,
``/devices/residents/<pk>/thresholds/``), opened from her "Alerts & readings" tab and
shown inside the resident page with that tab open.

GET: every active rule (name in the page's language, severity, the default conditions in
words, her own conditions if any, whether it is switched off for her, why and by whom) —
for whoever sees the tab (``devices.view`` and her health record). Users with
``residents.health_manage`` (doctors, nurses) also get a form per rule: for each of the
rule's conditions its metric and comparison as text and the number to change (an
override keeps the rule's structure), "switch off", a reason, and Save / Reset to
default. SOS and fall are critical: no form, a note says why.

POST (``residents.health_manage``; CSRF): ``rule`` (the rule's code), ``action``
(``save`` or ``reset``) and the rule's form fields (prefixed by its code). Both call
``yiyang.devices.services.overrides``; success redirects back here with a message, a refusal shows
the page again with the error next to its field and nothing changed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiyang.accounts.actor import PageRequest
from yiyang.common.errors import PermissionDenied, ValidationFailed
from yiyang.common.pages import apply_error
from yiyang.devices.pages.alerts import RESIDENT_TAB, rule_name
from yiyang.devices.services import overrides
from yiyang.devices.services.overrides import (
    OP_SYMBOLS,
    RuleRow,
    describe,
    metric_label,
    metric_unit,
)
from yiyang.residents.models import Resident
from yiyang.residents.pages.shell import render_tab, require_tab, resident_page
from yiyang.residents.permissions import ResidentPerm

TEMPLATE = "devices/thresholds/page.html"
SAVE, RESET = "save", "reset"


def _same_shape(own: list[dict[str, Any]], rule: list[dict[str, Any]]) -> bool:
    return [(c.get("metric"), c.get("op")) for c in own] == [
        (c.get("metric"), c.get("op")) for c in rule
    ]


def _as_number(value: Decimal, like: Any) -> int | float:
    """A typed threshold as JSON: an integer where the rule's own value is one."""
    if isinstance(like, int) and value == value.to_integral_value():
        return int(value)
    return float(value)


def add_threshold_fields(form: forms.Form, conditions: list[dict[str, Any]]) -> None:
    """A number field ``value_<i>`` per condition, labelled with its metric and comparison
    (which stay as they are: only the number is typed). Shared with the rules page."""
    for i, c in enumerate(conditions):
        form.fields[f"value_{i}"] = forms.DecimalField(
            label=f"{metric_label(c['metric'])} {OP_SYMBOLS.get(c['op'], c['op'])}",
            help_text=metric_unit(c["metric"]),
            max_digits=8,
            decimal_places=2,
            widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        )


def typed_conditions(
    cleaned: dict[str, Any], conditions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``conditions`` with the numbers of the ``add_threshold_fields`` fields."""
    return [
        {
            "metric": c["metric"],
            "op": c["op"],
            "value": _as_number(cleaned[f"value_{i}"], c["value"]),
        }
        for i, c in enumerate(conditions)
    ]


class ThresholdForm(forms.Form):
    """One rule for one resident: a number per condition of the rule (its metric and
    comparison stay), switched off, a reason."""

    def __init__(self, data: Any = None, *, row: RuleRow):
        rule = row.rule
        defaults = list(rule.conditions or []) if not rule.event else []
        own = list(row.override.conditions or []) if row.override is not None else []
        shown = own if own and _same_shape(own, defaults) else defaults
        initial: dict[str, Any] = {f"value_{i}": c["value"] for i, c in enumerate(shown)}
        if row.override is not None:
            initial["disabled"] = row.override.disabled
            initial["reason"] = row.override.reason
        super().__init__(data, prefix=rule.code, initial=initial)
        self.row = row
        self.defaults = defaults
        add_threshold_fields(self, defaults)
        self.fields["disabled"] = forms.BooleanField(
            label=_("Switch this rule off for her"), required=False
        )
        self.fields["reason"] = forms.CharField(label=_("Reason"), max_length=255)

    def conditions(self) -> list[dict[str, Any]] | None:
        """Her conditions in the rule's structure; None when every number is the default."""
        typed = typed_conditions(self.cleaned_data, self.defaults)
        if all(
            Decimal(str(t["value"])) == Decimal(str(c["value"]))
            for t, c in zip(typed, self.defaults, strict=True)
        ):
            return None
        return typed


def _rows(
    request: PageRequest, resident: Resident, bound: ThresholdForm | None = None
) -> list[dict[str, Any]]:
    can_manage = request.user.has_perm_code(ResidentPerm.HEALTH_MANAGE)  # type: ignore[union-attr]
    out = []
    for row in overrides.rules_for_resident(request.user, resident):
        rule, own = row.rule, row.override
        form = None
        if can_manage and not row.critical:
            form = bound if bound is not None and bound.row.rule.pk == rule.pk else None
            form = form or ThresholdForm(row=row)
        out.append(
            {
                "rule": rule,
                "name": rule_name(rule),
                "default": describe(rule.conditions),
                "own": describe(own.conditions) if own is not None else "",
                "override": own,
                "disabled": row.disabled,
                "critical": row.critical,
                "form": form,
                # Her conditions (set through the API) do not fit the rule's form.
                "other_shape": bool(
                    form is not None
                    and own is not None
                    and own.conditions
                    and not _same_shape(own.conditions, form.defaults)
                ),
            }
        )
    return out


def _page(
    request: PageRequest, resident: Resident, bound: ThresholdForm | None = None
) -> HttpResponseBase:
    rows = _rows(request, resident, bound)
    context = {
        "rows": rows,
        "can_manage": request.user.has_perm_code(ResidentPerm.HEALTH_MANAGE),  # type: ignore[union-attr]
        "overridden": sum(1 for r in rows if r["override"] is not None),
    }
    return render_tab(request, resident, RESIDENT_TAB, TEMPLATE, context)


@require_http_methods(["GET", "POST"])
@resident_page
def resident_thresholds(request: PageRequest, resident: Resident) -> HttpResponseBase:
    require_tab(request, resident, RESIDENT_TAB)
    if request.method != "POST":
        return _page(request, resident)
    if not request.user.has_perm_code(ResidentPerm.HEALTH_MANAGE):  # type: ignore[union-attr]
        raise PermissionDenied()
    found = overrides.active_rule(request.POST.get("rule", ""))
    name = rule_name(found)
    if request.POST.get("action") == RESET:
        if overrides.clear_override(request.user, resident, found):
            messages.success(request, _("%(rule)s: back to the default.") % {"rule": name})
        return redirect("devices:resident_thresholds", resident.pk)
    row = next(r for r in overrides.rules_for_resident(request.user, resident) if r.rule == found)
    form = ThresholdForm(request.POST, row=row)
    if not form.is_valid():
        return _page(request, resident, form)
    try:
        overrides.set_override(
            request.user,
            resident,
            found,
            conditions=form.conditions(),
            disabled=form.cleaned_data["disabled"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationFailed as error:
        if row.critical:  # no form on the page to show it: a message says why
            messages.error(request, error.detail)
            return _page(request, resident)
        apply_error(form, error, {"conditions": ""})
        return _page(request, resident, form)
    messages.success(request, _("%(rule)s: her own setting was saved.") % {"rule": name})
    return redirect("devices:resident_thresholds", resident.pk)
