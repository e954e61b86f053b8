"""The deployment's alert rules as policy (ADR 0019): read them, change them, put one back
to what the platform shipped (``yiyang.devices.defaults``).

The rules apply to the whole deployment (a county), so changing them needs
``devices.alert_policy`` (health-commission supervisors), like the escalation schedule;
reading them needs ``devices.view``.

* ``rules_for(user)`` / ``get_rule(user, code)`` — every rule (active or not), critical
  first, then by code; one rule by code (``NotFound`` otherwise).
* ``update_rule(actor, rule, *, severity, conditions, active, suggests_referral, reason)``
  — any of the four may be left out (unchanged). Conditions are checked by
  ``conditions.check_conditions`` and must keep the rule's structure: the same metrics and
  comparisons in the same order, only the numbers change, each within the plausible range
  of its metric (``overrides.METRIC_INFO``). An event rule (SOS, fall, device silent) has
  no conditions. SOS and fall stay critical and active. A reason is required.
* ``reset_rule(actor, rule, reason)`` — severity, conditions, active and "suggests
  referral" back to the shipped default.

Both lock the rule for their transaction and write one audit row with the rule before
and after and the reason. Bad input raises ``ValidationFailed`` naming the field and
changes nothing. Alerts already raised keep the severity they were raised with; a change
applies to readings from then on.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.validation import clean_text, required
from yiyang.devices.conditions import check_conditions
from yiyang.devices.defaults import RULES as DEFAULT_RULES
from yiyang.devices.errors import DeviceError
from yiyang.devices.models import AlertRule, Severity
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.services.overrides import (
    CRITICAL_EVENTS,
    OP_SYMBOLS,
    metric_label,
    plausible,
    rule_name,
)

UNSET: Any = object()  # "leave this as it is"
EDITABLE = ("severity", "conditions", "active", "suggests_referral")
_SEVERITY_ORDER = {s: i for i, s in enumerate(Severity.values)}


# --- reading ------------------------------------------------------------------------------


def sort_key(rule: AlertRule) -> tuple[int, str]:
    return (_SEVERITY_ORDER.get(rule.severity, 99), rule.code)


def rules_for(user: User) -> list[AlertRule]:
    """Every rule, active or not: critical first, then by code (``devices.view``)."""
    require_perm(user, DevicePerm.VIEW)
    return sorted(AlertRule.objects.all(), key=sort_key)


def _find(rule: Any, *, lock: bool = False) -> AlertRule:
    if isinstance(rule, AlertRule):
        rule = rule.code
    if not isinstance(rule, str) or not rule:
        raise NotFound("alert rule")
    qs = AlertRule.objects.select_for_update() if lock else AlertRule.objects
    try:
        return qs.get(code=rule)
    except AlertRule.DoesNotExist:
        raise NotFound("alert rule") from None


def get_rule(user: User, code: Any) -> AlertRule:
    """One rule by code, active or not (``devices.view``); else ``NotFound``."""
    require_perm(user, DevicePerm.VIEW)
    return _find(code)


def default_of(rule: AlertRule) -> dict[str, Any] | None:
    """The editable fields as the platform ships them; None for a rule it does not ship."""
    for row in DEFAULT_RULES:
        if row["code"] == rule.code:
            return {
                "severity": row["severity"],
                "conditions": list(row.get("conditions", [])),
                "active": row.get("active", True),
                "suggests_referral": row.get("suggests_referral", False),
            }
    return None


def snapshot(rule: AlertRule) -> dict[str, Any]:
    return {
        "severity": rule.severity,
        "conditions": list(rule.conditions or []),
        "active": rule.active,
        "suggests_referral": rule.suggests_referral,
    }


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two snapshots are equal, thresholds compared as numbers (180 == 180.0)."""

    def norm(s: dict[str, Any]) -> tuple:
        conditions = tuple(
            (c.get("metric"), c.get("op"), Decimal(str(c.get("value")))) for c in s["conditions"]
        )
        return (s["severity"], conditions, s["active"], s["suggests_referral"])

    return norm(a) == norm(b)


def is_default(rule: AlertRule) -> bool:
    """Whether the rule stands as shipped (a rule not shipped: True)."""
    shipped = default_of(rule)
    return shipped is None or _same(snapshot(rule), shipped)


def is_critical(rule: AlertRule) -> bool:
    """SOS and fall: always critical, never switched off."""
    return rule.event in CRITICAL_EVENTS


# --- checking -----------------------------------------------------------------------------


def shape(conditions: list[dict[str, Any]] | None) -> str:
    """The structure of conditions in words, without numbers: "收缩压 ≥ …"."""
    return ", ".join(
        f"{metric_label(c['metric'])} {OP_SYMBOLS.get(c['op'], c['op'])} …"
        for c in conditions or []
    )


def check_rule_conditions(rule: AlertRule, conditions: Any) -> list[dict[str, Any]]:
    """New conditions for ``rule``: the rule's own metrics and comparisons in the same
    order, each threshold plausible; else ``ValidationFailed`` on ``conditions``."""
    if rule.event:
        if conditions in (None, []):
            return []
        raise ValidationFailed(
            DeviceError.EVENT_RULE,
            _("%(rule)s fires on an event, not on values: it has no conditions to set.")
            % {"rule": rule_name(rule)},
            field="conditions",
        )
    check_conditions(conditions)
    own = list(rule.conditions or [])
    if [(c["metric"], c["op"]) for c in conditions] != [(c["metric"], c["op"]) for c in own]:
        raise ValidationFailed(
            CommonError.INVALID,
            _(
                "Only the thresholds of a rule can be changed: give %(n)s condition(s) "
                "in this order: %(shape)s."
            )
            % {"n": len(own), "shape": shape(own)},
            field="conditions",
        )
    clean: list[dict[str, Any]] = []
    for n, c in enumerate(conditions, start=1):
        value = plausible(n, c["metric"], c["value"])
        clean.append({"metric": c["metric"], "op": c["op"], "value": value})
    return clean


def _check_bool(value: Any, field: str, label: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(
            CommonError.INVALID, _("“%(f)s” must be true or false.") % {"f": label}, field=field
        )
    return value


def _reason(reason: Any) -> str:
    label = _("Reason")
    text = clean_text(reason, "reason", label)
    if not text:
        raise required("reason", label)
    return text


def _check(
    rule: AlertRule, severity: Any, conditions: Any, active: Any, suggests_referral: Any
) -> dict[str, Any]:
    """The rule's editable fields after the change (a copy), or ``ValidationFailed``."""
    after = snapshot(rule)
    if severity is not UNSET:
        if not isinstance(severity, str) or severity not in Severity.values:
            raise ValidationFailed(
                CommonError.INVALID_CHOICE,
                _("Severity must be one of: %(c)s") % {"c": ", ".join(Severity.values)},
                field="severity",
            )
        if is_critical(rule) and severity != Severity.CRITICAL:
            raise ValidationFailed(
                DeviceError.CRITICAL_RULE,
                _(
                    "%(rule)s alerts are critical: every SOS and every fall must reach "
                    "someone at once, so this rule stays critical."
                )
                % {"rule": rule_name(rule)},
                field="severity",
            )
        after["severity"] = severity
    if conditions is not UNSET:
        after["conditions"] = check_rule_conditions(rule, conditions)
    if active is not UNSET:
        _check_bool(active, "active", _("Active"))
        if is_critical(rule) and not active:
            raise ValidationFailed(
                DeviceError.CRITICAL_RULE,
                _(
                    "%(rule)s alerts are critical: every SOS and every fall must reach "
                    "someone, so this rule cannot be switched off."
                )
                % {"rule": rule_name(rule)},
                field="active",
            )
        after["active"] = active
    if suggests_referral is not UNSET:
        after["suggests_referral"] = _check_bool(
            suggests_referral, "suggests_referral", capfirst(_("suggests referral"))
        )
    return after


# --- writing ------------------------------------------------------------------------------


def _apply(actor: User, rule: AlertRule, after: dict[str, Any], action: str, reason: str) -> bool:
    """Write ``after`` onto the locked ``rule`` with its audit row; False if nothing changes."""
    before = snapshot(rule)
    if _same(before, after):
        return False
    changed = [f for f in EDITABLE if before[f] != after[f]]
    for field in changed:
        setattr(rule, field, after[field])
    rule.save(update_fields=[*changed, "updated_at"])
    record(
        actor=actor,
        action=action,
        object_type="devices.alertrule",
        object_id=rule.pk,
        object_repr=rule.code,
        details={"rule": rule.code, "before": before, "after": after, "reason": reason},
    )
    return True


def update_rule(
    actor: User,
    rule: Any,
    *,
    severity: Any = UNSET,
    conditions: Any = UNSET,
    active: Any = UNSET,
    suggests_referral: Any = UNSET,
    reason: Any,
) -> AlertRule:
    """Change ``rule`` (an instance or its code) for the whole deployment. Fields left out
    stay; a change that changes nothing writes nothing."""
    require_perm(actor, DevicePerm.ALERT_POLICY)
    with transaction.atomic():
        found = _find(rule, lock=True)
        after = _check(found, severity, conditions, active, suggests_referral)
        text = _reason(reason)
        _apply(actor, found, after, "devices.alert_rule.update", text)
    return found


def reset_rule(actor: User, rule: Any, reason: Any) -> AlertRule:
    """Put ``rule`` back to the shipped default (severity, conditions, active, suggests
    referral). A rule the platform does not ship has no default to go back to."""
    require_perm(actor, DevicePerm.ALERT_POLICY)
    with transaction.atomic():
        found = _find(rule, lock=True)
        shipped = default_of(found)
        if shipped is None:
            raise ValidationFailed(
                DeviceError.NO_DEFAULT,
                _("%(rule)s is a local rule: there is no shipped default to go back to.")
                % {"rule": rule_name(found)},
                field="rule",
            )
        text = _reason(reason)
        _apply(actor, found, shipped, "devices.alert_rule.reset", text)
    return found
