"""A resident's own alert thresholds through the API, mounted at
``/api/v1/alerts/residents`` (ADR 0019; services in ``yiyang.devices.services.overrides``).

* ``GET /alerts/residents/{id}/rules`` (``devices.view`` and the right to see her health
  record) — every active rule with its default conditions and her override, if any;
  conditions also in words in the request's language.
* ``PUT /alerts/residents/{id}/rules/{code}`` ``{"conditions"?, "disabled"?, "reason"}``
  (``residents.health_manage``) — set her own version of the rule: ``conditions`` (a list
  of ``{metric, op, value}``, any of which raises the alert; only the metrics the rule
  tests) replace the rule's, ``disabled`` switches it off for her. SOS and fall cannot be
  changed (400 ``critical_rule``). The answer is the rule as it now stands for her.
* ``DELETE /alerts/residents/{id}/rules/{code}`` (``residents.health_manage``) — back to
  the default (204, also when she had no override).

A resident outside the scope, or an unknown or inactive rule, answers 404. Errors:
``{"code", "detail", "field"}`` — a refused write changes nothing.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from yiyang.accounts.actor import actor
from yiyang.common.params import Id
from yiyang.common.schemas import ErrorOut
from yiyang.devices.models import AlertRule, ResidentRule, Severity
from yiyang.devices.services import overrides

router = Router(tags=["alerts"])

ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class RuleConditionOut(Schema):
    metric: str
    op: str
    value: int | float
    text: str = Field(description="in words, in the request's language")

    @staticmethod
    def resolve_text(obj: dict[str, Any]) -> str:
        return overrides.describe_condition(obj)


class ThresholdRuleOut(Schema):
    id: int
    code: str
    name: str = Field(description="in the request's language")
    name_zh: str
    name_en: str
    severity: Severity
    event: str = Field(description="sos, fall, silent; empty: a rule on values")
    window_minutes: int
    conditions: list[RuleConditionOut] = Field(description="any of which raises the alert")
    conditions_text: str

    @staticmethod
    def resolve_name(obj: AlertRule) -> str:
        return overrides.rule_name(obj)

    @staticmethod
    def resolve_conditions_text(obj: AlertRule) -> str:
        return overrides.describe(obj.conditions)


class OverrideOut(Schema):
    conditions: list[RuleConditionOut] = Field(description="empty: the rule's own apply")
    conditions_text: str
    disabled: bool
    reason: str
    set_by: str | None = None
    updated_at: datetime.datetime

    @staticmethod
    def resolve_conditions_text(obj: ResidentRule) -> str:
        return overrides.describe(obj.conditions)

    @staticmethod
    def resolve_set_by(obj: ResidentRule) -> str | None:
        return obj.set_by.username if obj.set_by is not None else None


class ResidentRuleOut(Schema):
    rule: ThresholdRuleOut
    override: OverrideOut | None = None
    critical: bool = Field(description="SOS and fall: never switched off or changed")
    disabled: bool = Field(description="switched off for her")
    conditions: list[RuleConditionOut] = Field(description="the conditions in force for her")

    @staticmethod
    def resolve_critical(obj: overrides.RuleRow) -> bool:
        return obj.critical

    @staticmethod
    def resolve_disabled(obj: overrides.RuleRow) -> bool:
        return obj.disabled

    @staticmethod
    def resolve_conditions(obj: overrides.RuleRow) -> list[dict[str, Any]]:
        return obj.conditions


class OverrideIn(Schema):
    conditions: list[Any] | None = Field(
        None,
        description="her own conditions ({metric, op, value}), replacing the rule's; "
        "omitted or empty: the rule's stay",
    )
    disabled: bool = False
    reason: str = Field("", description="required: why she needs her own setting")


@router.get(
    "/{int:pk}/rules",
    response={200: list[ResidentRuleOut], **ERRORS},
    url_name="alerts_resident_rules",
    summary="The alert rules as they stand for one resident",
)
def resident_rules(request: HttpRequest, pk: Id) -> Any:
    return overrides.rules_for_resident(actor(request), pk)


@router.put(
    "/{int:pk}/rules/{code}",
    response={200: ResidentRuleOut, **ERRORS},
    url_name="alerts_resident_rule_set",
    summary="Set a resident's own version of an alert rule",
)
def resident_rule_set(request: HttpRequest, pk: Id, code: str, payload: OverrideIn) -> Any:
    override = overrides.set_override(
        actor(request),
        pk,
        code,
        conditions=payload.conditions,
        disabled=payload.disabled,
        reason=payload.reason,
    )
    return overrides.RuleRow(override.rule, override)


@router.delete(
    "/{int:pk}/rules/{code}",
    response={204: None, **ERRORS},
    url_name="alerts_resident_rule_clear",
    summary="Put an alert rule back to its default for a resident",
)
def resident_rule_clear(request: HttpRequest, pk: Id, code: str) -> Any:
    overrides.clear_override(actor(request), pk, code)
    return 204, None
