"""A resident's own alert thresholds: per-resident overrides of the alert rules
(``ResidentRule``; ADR 0019), e.g. a COPD patient's SpO2 target.

``alerts.evaluate`` already honours an override (its ``conditions`` replace the rule's,
``disabled`` switches the rule off for her) and so does ``timers.check_silence`` for a
disabled ``device_silent``. This module is how someone sees and sets them:

* ``rules_for_resident(user, resident)`` — every active rule with her override, if any
  (``devices.view`` and the right to see her health record; she must be in scope).
* ``set_override(actor, resident, rule, *, conditions, disabled, reason)`` and
  ``clear_override(actor, resident, rule)`` — ``residents.health_manage`` (doctors and
  nurses), the resident in the actor's scope (locked for the transaction), audited with
  the override before and after. A reason is required. Conditions are checked by
  ``conditions.check_conditions``, must test only the metrics the rule itself tests (a window
  rule — NEWS2 — only ``news2.*``) and lie in a plausible range. An event rule (the
  device-silent rule) may only be switched off; SOS and fall are critical and can be
  neither switched off nor changed. Bad input raises ``ValidationFailed`` naming the
  field and changes nothing.

``describe(conditions)`` renders conditions in words in the active language
("收缩压 ≥ 180 mmHg 或 舒张压 ≥ 110 mmHg").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.validation import clean_text, required
from yiyang.devices.conditions import METRICS, check_conditions
from yiyang.devices.errors import DeviceError
from yiyang.devices.models import AlertRule, ResidentRule, Severity
from yiyang.devices.permissions import DevicePerm
from yiyang.residents import loinc
from yiyang.residents.access import require_health_view
from yiyang.residents.models import Resident
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.registry import (
    get_resident_for,
    locked_resident_for,
    scoped_residents,
)

# SOS and fall: an alert every time, for everyone (issue 5: critical and immediate).
CRITICAL_EVENTS = ("sos", "fall")
WINDOW_METRICS = ("news2.total", "news2.max")
OP_SYMBOLS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}


class Metric(NamedTuple):
    label: str | Promise
    unit: str | Promise
    low: Decimal  # a threshold outside [low, high] is refused (a typo, not a target)
    high: Decimal


def _from_loinc(code: str, label: str | Promise, unit: str | Promise) -> Metric:
    found = loinc.lookup(code)
    assert found is not None, code
    return Metric(label, unit, found.low, found.high)


METRIC_INFO: dict[str, Metric] = {
    "bp.sys": _from_loinc(loinc.SYSTOLIC, gettext_lazy("Systolic blood pressure"), "mmHg"),
    "bp.dia": _from_loinc(loinc.DIASTOLIC, gettext_lazy("Diastolic blood pressure"), "mmHg"),
    "hr": _from_loinc(loinc.HEART_RATE, gettext_lazy("Heart rate"), gettext_lazy("/min")),
    "glucose.mmol": _from_loinc(loinc.GLUCOSE_RANDOM, gettext_lazy("Blood glucose"), "mmol/L"),
    "spo2.spo2": _from_loinc(loinc.SPO2, gettext_lazy("SpO2"), "%"),
    "temp.c": _from_loinc(loinc.TEMPERATURE, gettext_lazy("Temperature"), "°C"),
    "weight.kg": _from_loinc(loinc.WEIGHT, gettext_lazy("Weight"), "kg"),
    "battery.pct": Metric(gettext_lazy("Battery"), "%", Decimal(0), Decimal(100)),
    "news2.total": Metric(gettext_lazy("NEWS2 total score"), "", Decimal(0), Decimal(20)),
    "news2.max": Metric(
        gettext_lazy("NEWS2 highest single-parameter score"), "", Decimal(0), Decimal(3)
    ),
}
assert set(METRIC_INFO) == METRICS


@dataclass(frozen=True)
class RuleRow:
    """A rule as it stands for one resident."""

    rule: AlertRule
    override: ResidentRule | None

    @property
    def conditions(self) -> list[dict[str, Any]]:
        """The conditions in force for her (her own, else the rule's)."""
        if self.override is not None and self.override.conditions:
            return list(self.override.conditions)
        return list(self.rule.conditions or [])

    @property
    def disabled(self) -> bool:
        return self.override is not None and self.override.disabled

    @property
    def critical(self) -> bool:
        """SOS and fall: never switched off or changed."""
        return self.rule.event in CRITICAL_EVENTS


# --- words --------------------------------------------------------------------------------


def metric_label(metric: str) -> str:
    info = METRIC_INFO.get(metric)
    return str(info.label) if info else metric


def metric_unit(metric: str) -> str:
    info = METRIC_INFO.get(metric)
    return str(info.unit) if info else ""


def number(value: Any) -> str:
    """A threshold as written: ``88``, ``16.7``, ``39.0`` (never ``1E+1``)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def describe_condition(condition: dict[str, Any]) -> str:
    """One condition in words: "SpO2 ≤ 91 %", "收缩压 ≥ 180 mmHg"."""
    metric = str(condition.get("metric", ""))
    op = OP_SYMBOLS.get(str(condition.get("op", "")), str(condition.get("op", "")))
    return " ".join(
        part
        for part in (metric_label(metric), op, number(condition.get("value")), metric_unit(metric))
        if part
    )


def describe(conditions: list[dict[str, Any]] | None) -> str:
    """Conditions in words, any of which raises the alert ("… or …"); "" for none."""
    word = pgettext("alert conditions", "or")
    joiner = f" {word} "
    return joiner.join(describe_condition(c) for c in conditions or [])


# --- reading ------------------------------------------------------------------------------

_SEVERITY_ORDER = {s: i for i, s in enumerate(Severity.values)}


def _visible_resident(user: User, resident: Any) -> Resident:
    """The resident in ``user``'s scope: an instance already fetched (checked again here,
    one query) or a pk (``get_resident_for``, an audited read); else ``NotFound``."""
    if isinstance(resident, Resident):
        if not scoped_residents(user).filter(pk=resident.pk).exists():
            raise NotFound("resident")
        return resident
    return get_resident_for(user, resident)


def rules_for_resident(user: User, resident: Any) -> list[RuleRow]:
    """Every active rule with her override, if any: critical first, then by code.
    ``devices.view``, the right to see her health record, and her in scope."""
    require_perm(user, DevicePerm.VIEW)
    target = _visible_resident(user, resident)
    require_health_view(user, target)
    rules = sorted(
        AlertRule.objects.filter(active=True),
        key=lambda r: (_SEVERITY_ORDER.get(r.severity, 99), r.code),
    )
    own = {
        o.rule_id: o
        for o in ResidentRule.objects.filter(resident_id=target.pk).select_related("set_by")
    }
    return [RuleRow(rule, own.get(rule.pk)) for rule in rules]


def active_rule(rule: Any) -> AlertRule:
    """An active rule by instance, pk or code; else ``NotFound``."""
    if isinstance(rule, AlertRule):
        rule = rule.pk
    if rule is None or isinstance(rule, bool):
        raise NotFound("alert rule")
    qs = AlertRule.objects.filter(active=True)
    try:
        if isinstance(rule, int) or (isinstance(rule, str) and rule.isdigit()):
            return qs.get(pk=int(rule))
        return qs.get(code=str(rule))
    except (AlertRule.DoesNotExist, ValueError, TypeError):
        raise NotFound("alert rule") from None


# --- writing ------------------------------------------------------------------------------


def rule_name(rule: AlertRule) -> str:
    """The rule's name in the active language."""
    if (get_language() or "").lower().startswith("zh"):
        return rule.name_zh or rule.name_en or rule.code
    return rule.name_en or rule.name_zh or rule.code


def check_override(rule: AlertRule, conditions: Any, disabled: Any) -> list[dict[str, Any]]:
    """The override's conditions, clean (``[]`` for none), or ``ValidationFailed``."""
    if not isinstance(disabled, bool):
        raise ValidationFailed(
            CommonError.INVALID, _("“Switched off” must be true or false."), field="disabled"
        )
    if rule.event in CRITICAL_EVENTS:
        raise ValidationFailed(
            DeviceError.CRITICAL_RULE,
            _(
                "%(rule)s alerts are critical: every SOS and every fall must reach someone, "
                "so this rule can be neither switched off nor changed for one resident."
            )
            % {"rule": rule_name(rule)},
            field="disabled" if disabled else "conditions",
        )
    clean: list[dict[str, Any]] = []
    if conditions is not None and conditions != []:
        if rule.event:
            raise ValidationFailed(
                CommonError.INVALID,
                _("This rule fires on an event, not on values: it can only be switched off."),
                field="conditions",
            )
        check_conditions(conditions)
        if rule.window_minutes:
            allowed = set(WINDOW_METRICS)
        else:
            allowed = {c["metric"] for c in rule.conditions or []}
        for n, c in enumerate(conditions, start=1):
            if c["metric"] not in allowed:
                raise ValidationFailed(
                    CommonError.INVALID,
                    _(
                        "Condition %(n)s tests %(metric)s, which this rule does not test "
                        "(it tests %(allowed)s)."
                    )
                    % {
                        "n": n,
                        "metric": metric_label(c["metric"]),
                        "allowed": ", ".join(metric_label(m) for m in sorted(allowed)),
                    },
                    field="conditions",
                )
            value = plausible(n, c["metric"], c["value"])
            clean.append({"metric": c["metric"], "op": c["op"], "value": value})
    if not disabled and not clean:
        raise ValidationFailed(
            CommonError.REQUIRED,
            _("Give her own thresholds or switch the rule off."),
            field="conditions",
        )
    return clean


def _snapshot(override: ResidentRule | None) -> dict[str, Any] | None:
    if override is None:
        return None
    return {
        "conditions": override.conditions,
        "disabled": override.disabled,
        "reason": override.reason,
    }


def _audit(
    actor: User,
    action: str,
    resident: Resident,
    rule: AlertRule,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    pk: Any,
) -> None:
    record(
        actor=actor,
        action=action,
        object_type="devices.residentrule",
        object_id=pk,
        object_repr=f"{resident.pk}:{rule.code}",
        details={"resident": resident.pk, "rule": rule.code, "before": before, "after": after},
    )


def _resident(actor: User, resident: Any) -> Resident:
    return locked_resident_for(
        actor,
        resident,
        merged_detail=_("This record was merged into another one: set her thresholds there."),
    )


def plausible(n: int, metric: str, value: Any) -> Any:
    """``value``, condition ``n``'s threshold on ``metric``, if it is a finite number within
    the metric's plausible range (a typo, not a target, lies outside); ``ValidationFailed``
    ``out_of_range`` naming ``conditions`` otherwise."""
    info = METRIC_INFO[metric]
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    if value is None or not info.low <= Decimal(str(value)) <= info.high:
        raise ValidationFailed(
            CommonError.OUT_OF_RANGE,
            _("Condition %(n)s: %(metric)s must be between %(low)s and %(high)s.")
            % {
                "n": n,
                "metric": metric_label(metric),
                "low": number(info.low),
                "high": number(info.high),
            },
            field="conditions",
        )
    return value


def set_override(
    actor: User,
    resident: Any,
    rule: Any,
    *,
    conditions: Any = None,
    disabled: Any = False,
    reason: Any,
) -> ResidentRule:
    """Set her own version of ``rule`` (created or replaced): ``conditions`` replace the
    rule's (none: the rule's stay), ``disabled`` switches it off for her."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    with transaction.atomic():
        target = _resident(actor, resident)
        found = active_rule(rule)
        clean = check_override(found, conditions, disabled)
        label = _("Reason")
        text = clean_text(reason, "reason", label)
        if not text:
            raise required("reason", label)
        existing = (
            ResidentRule.objects.select_for_update().filter(resident=target, rule=found).first()
        )
        before = _snapshot(existing)
        if existing is None:
            override = ResidentRule.objects.create(
                resident=target,
                rule=found,
                conditions=clean,
                disabled=disabled,
                reason=text,
                set_by=actor,
            )
            action = "devices.resident_rule.create"
        else:
            override = existing
            override.conditions, override.disabled = clean, disabled
            override.reason, override.set_by = text, actor
            override.save(
                update_fields=["conditions", "disabled", "reason", "set_by", "updated_at"]
            )
            action = "devices.resident_rule.update"
        _audit(actor, action, target, found, before, _snapshot(override), override.pk)
    return override


def clear_override(actor: User, resident: Any, rule: Any) -> bool:
    """Back to the rule's defaults for her. Whether there was an override to remove."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    with transaction.atomic():
        target = _resident(actor, resident)
        found = active_rule(rule)
        existing = (
            ResidentRule.objects.select_for_update().filter(resident=target, rule=found).first()
        )
        if existing is None:
            return False
        pk, before = existing.pk, _snapshot(existing)
        existing.delete()
        _audit(actor, "devices.resident_rule.delete", target, found, before, None, pk)
    return True
