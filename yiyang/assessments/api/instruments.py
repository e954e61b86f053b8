"""``/api/v1/assessments/``: the instruments (``/instruments``: the current version of
each; ``/instruments/{code}``: its definition — items, options, anchors, tables) and the
eligibility rules in force (``/rules``). Each needs ``assessments.score``.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from yiyang.accounts.actor import actor
from yiyang.assessments.api.common import ERRORS
from yiyang.assessments.models import EligibilityRule, InstrumentStatus
from yiyang.assessments.models import InstrumentVersion as IV
from yiyang.assessments.selectors import current_version
from yiyang.common.errors import NotFound
from yiyang.common.params import Age

router = Router(tags=["assessments"])


def _require_score(request: HttpRequest) -> None:
    from yiyang.assessments.permissions import AssessmentPerm
    from yiyang.common.permissions import require_perm

    require_perm(actor(request), AssessmentPerm.SCORE)


class InstrumentOut(Schema):
    code: str
    version: str
    name_zh: str
    name_en: str
    source_document: str
    source_edition: str
    unverified: list[dict[str, Any]]


@router.get(
    "/instruments",
    response={200: list[InstrumentOut], **ERRORS},
    url_name="assessments_instruments",
    operation_id="yiyang_assessments_api_sessions_instrument_list",
    summary="The instruments (current versions)",
)
def instrument_list(request: HttpRequest) -> Any:
    _require_score(request)
    rows = IV.objects.filter(status=InstrumentStatus.ACTIVE).order_by("code", "-id")
    seen: dict[str, IV] = {}
    for row in rows:
        seen.setdefault(row.code, row)
    return list(seen.values())


@router.get(
    "/instruments/{code}",
    response={200: dict[str, Any], **ERRORS},
    url_name="assessments_instrument",
    operation_id="yiyang_assessments_api_sessions_instrument_detail",
    summary="An instrument's current definition (items, options, anchors, tables)",
)
def instrument_detail(request: HttpRequest, code: str) -> Any:
    _require_score(request)
    row = current_version(code)
    if row is None:
        raise NotFound("instrument")
    return row.definition


class EligibilityRuleOut(Schema):
    code: str
    name_zh: str
    name_en: str
    min_age: Age | None
    min_ability_level: int | None
    min_disability_grade: int | None
    requires_ltc_insured: bool
    source: str
    unverified: bool
    active: bool


@router.get(
    "/rules",
    response={200: list[EligibilityRuleOut], **ERRORS},
    url_name="assessments_rules",
    operation_id="yiyang_assessments_api_sessions_rule_list",
    summary="The eligibility rules in force (local policy)",
)
def rule_list(request: HttpRequest) -> Any:
    _require_score(request)
    return list(EligibilityRule.objects.all())
