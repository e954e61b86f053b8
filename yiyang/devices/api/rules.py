"""The deployment's alert rules through the API, mounted at ``/api/v1/alerts/rules``
(ADR 0019; services in ``yiyang.devices.services.rules``). The ``/alerts`` router's own paths take
an integer id (``/alerts/{int:pk}``), so ``/alerts/rules`` never reaches them.

* ``GET /alerts/rules`` (``devices.view``) — every rule, active or not, critical first:
  conditions also in words in the request's language, the shipped default, and whether
  the rule differs from it.
* ``GET /alerts/rules/{code}`` (``devices.view``) — one rule.
* ``PUT /alerts/rules/{code}`` (``devices.alert_policy``) ``{"severity"?, "conditions"?,
  "active"?, "suggests_referral"?, "reason"}`` — change the rule for the whole
  deployment; fields left out stay. Conditions keep the rule's metrics and comparisons
  in order (only the numbers change); SOS and fall stay critical and active (400
  ``critical_rule``); an event rule has no conditions (400 ``event_rule``).
* ``POST /alerts/rules/{code}/reset`` (``devices.alert_policy``) ``{"reason"}`` — back
  to the shipped default.

An unknown code answers 404. Errors: ``{"code", "detail", "field"}`` — a refused write
changes nothing. Alerts already raised keep their severity.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field, StrictBool

from yiyang.accounts.actor import actor
from yiyang.common.schemas import ErrorOut
from yiyang.devices.api.thresholds import RuleConditionOut, ThresholdRuleOut
from yiyang.devices.models import AlertRule, Severity
from yiyang.devices.services import overrides, rules

router = Router(tags=["alerts"])

ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class DefaultOut(Schema):
    severity: Severity
    conditions: list[RuleConditionOut]
    conditions_text: str
    active: bool
    suggests_referral: bool

    @staticmethod
    def resolve_conditions_text(obj: dict[str, Any]) -> str:
        return overrides.describe(obj["conditions"])


class AlertRuleOut(ThresholdRuleOut):
    """A rule as the deployment has it (``ThresholdRuleOut``, what a resident's rules list shows,
    plus what policy needs)."""

    suggests_referral: bool
    source: str
    unverified: bool
    active: bool
    critical: bool = Field(description="SOS and fall: always critical and active")
    default: DefaultOut | None = Field(None, description="as shipped; null for a local rule")
    changed: bool = Field(description="differs from the shipped default")
    updated_at: datetime.datetime

    @staticmethod
    def resolve_critical(obj: AlertRule) -> bool:
        return rules.is_critical(obj)

    @staticmethod
    def resolve_default(obj: AlertRule) -> dict[str, Any] | None:
        return rules.default_of(obj)

    @staticmethod
    def resolve_changed(obj: AlertRule) -> bool:
        return not rules.is_default(obj)


class AlertRuleIn(Schema):
    severity: str | None = Field(None, description="critical, urgent, warning or info")
    conditions: list[Any] | None = Field(
        None, description="{metric, op, value} each, the rule's own metrics and ops in order"
    )
    active: StrictBool | None = None
    suggests_referral: StrictBool | None = None
    reason: str = Field("", description="required: why the rule changes")


class ResetIn(Schema):
    reason: str = Field("", description="required: why the rule goes back to its default")


@router.get(
    "",
    response={200: list[AlertRuleOut], **ERRORS},
    url_name="alert_rules",
    summary="The deployment's alert rules",
)
def rule_list(request: HttpRequest) -> Any:
    return rules.rules_for(actor(request))


@router.get(
    "/{code}",
    response={200: AlertRuleOut, **ERRORS},
    url_name="alert_rule",
    summary="One alert rule",
)
def rule_detail(request: HttpRequest, code: str) -> Any:
    return rules.get_rule(actor(request), code)


@router.put(
    "/{code}",
    response={200: AlertRuleOut, **ERRORS},
    url_name="alert_rule_set",
    summary="Change an alert rule for the whole deployment",
)
def rule_set(request: HttpRequest, code: str, payload: AlertRuleIn) -> Any:
    given = {
        name: getattr(payload, name) for name in rules.EDITABLE if name in payload.model_fields_set
    }
    return rules.update_rule(actor(request), code, reason=payload.reason, **given)


@router.post(
    "/{code}/reset",
    response={200: AlertRuleOut, **ERRORS},
    url_name="alert_rule_reset",
    summary="Put an alert rule back to its shipped default",
)
def rule_reset(request: HttpRequest, code: str, payload: ResetIn) -> Any:
    return rules.reset_rule(actor(request), code, payload.reason)
