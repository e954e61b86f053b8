"""The eligibility rules and schedule policies a county starts with (ADR 0017); local
policy edits them on the policy pages. Loaded by migration 0004 and, after a test that
flushed the database, by ``restore_reference_data``."""

from __future__ import annotations

from typing import Any

RULES = [
    {
        "code": "ltc_insurance",
        "name_zh": "长期护理保险待遇",
        "name_en": "Long-term-care insurance benefits",
        "min_disability_grade": 3,
        "requires_ltc_insured": True,
        "source": "长期护理失能等级评估标准（试行）（医保办发〔2021〕37号）; local pilot: "
        "重度失能Ⅰ级 and above",
        "unverified": True,
    },
    {
        "code": "high_age_disability_allowance",
        "name_zh": "高龄失能老人补贴",
        "name_en": "High-age disability allowance",
        "min_age": 80,
        "min_ability_level": 2,
        "source": "local civil-affairs policy (example default: age >= 80 and level >= 中度失能)",
        "unverified": True,
    },
]
POLICIES = [
    # GB/T 42195-2022 and the LTC standard have two assessors on site.
    {"instrument_code": "gbt42195-2022", "interval_days": 365, "requires_second_assessor": True},
    {
        "instrument_code": "ltc-disability-2021",
        "interval_days": 365,
        "requires_second_assessor": True,
    },
    {"instrument_code": "selfcare-5", "interval_days": 365, "requires_second_assessor": False},
    {
        "instrument_code": "tcm-constitution-elderly",
        "interval_days": 365,
        "requires_second_assessor": False,
    },
]


def install_defaults(rule_model: Any, policy_model: Any) -> None:
    """Create the default rules and policies that are missing (never overwrite an edit)."""
    for row in RULES:
        rule_model.objects.get_or_create(code=row["code"], defaults=row)
    for row in POLICIES:
        policy_model.objects.get_or_create(instrument_code=row["instrument_code"], defaults=row)


def restore_reference_data() -> bool:
    """Reload the instruments and the defaults when they are missing — a test that
    flushes the database (a transactional or live-server test) deletes what the data
    migrations loaded. Returns whether anything had to be restored."""
    from yiyang.assessments.models import EligibilityRule, InstrumentVersion, SchedulePolicy
    from yiyang.assessments.sync import sync_instruments

    if InstrumentVersion.objects.exists() and SchedulePolicy.objects.exists():
        return False
    sync_instruments(InstrumentVersion)
    install_defaults(EligibilityRule, SchedulePolicy)
    return True
