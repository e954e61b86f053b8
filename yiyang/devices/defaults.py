"""The alert rules a county starts with (ADR 0019); local policy and per-resident
overrides adjust them. Thresholds from docs/standards.md §4 (urgent referral criteria of
the public-health service specification) and §7 (NEWS2 single-parameter 3-point bands),
each naming its source. Loaded by migration 0003 and, after a test that flushed the
database, by ``restore_reference_data``."""

from __future__ import annotations

from typing import Any

_SPEC = "国家基本公共卫生服务规范（第三版）"

RULES: list[dict[str, Any]] = [
    {
        "code": "sos",
        "name_zh": "紧急呼叫",
        "name_en": "SOS pressed",
        "severity": "critical",
        "event": "sos",
        "source": "issue 5: SOS is critical and immediate",
    },
    {
        "code": "fall",
        "name_zh": "跌倒",
        "name_en": "Fall detected",
        "severity": "critical",
        "event": "fall",
        "source": "issue 5: a fall is critical and immediate",
    },
    {
        "code": "bp_high",
        "name_zh": "血压危急升高",
        "name_en": "Severely raised blood pressure",
        "severity": "urgent",
        "conditions": [
            {"metric": "bp.sys", "op": "ge", "value": 180},
            {"metric": "bp.dia", "op": "ge", "value": 110},
        ],
        "suggests_referral": True,
        "source": f"{_SPEC} 高血压患者健康管理: urgent referral at SBP ≥ 180 and/or DBP ≥ 110"
        " (Chinese BP grade 3)",
    },
    {
        "code": "bp_low",
        "name_zh": "血压过低",
        "name_en": "Low blood pressure",
        "severity": "urgent",
        "conditions": [{"metric": "bp.sys", "op": "le", "value": 90}],
        "source": "NEWS2: systolic ≤ 90 scores 3",
    },
    {
        "code": "glucose_high",
        "name_zh": "血糖危急升高",
        "name_en": "Very high glucose",
        "severity": "urgent",
        "conditions": [{"metric": "glucose.mmol", "op": "ge", "value": 16.7}],
        "suggests_referral": True,
        "source": f"{_SPEC} 2型糖尿病患者健康管理: urgent referral at glucose ≥ 16.7 mmol/L",
    },
    {
        "code": "glucose_low",
        "name_zh": "低血糖",
        "name_en": "Low glucose",
        "severity": "urgent",
        "conditions": [{"metric": "glucose.mmol", "op": "le", "value": 3.9}],
        "suggests_referral": True,
        "source": f"{_SPEC} 2型糖尿病患者健康管理: urgent referral at glucose ≤ 3.9 mmol/L",
    },
    {
        "code": "spo2_low",
        "name_zh": "血氧过低",
        "name_en": "Low oxygen saturation",
        "severity": "urgent",
        "conditions": [{"metric": "spo2.spo2", "op": "le", "value": 91}],
        "source": "NEWS2 SpO2 scale 1: ≤ 91 % scores 3 (a COPD target needs scale 2: set it "
        "per resident)",
    },
    {
        "code": "hr_extreme",
        "name_zh": "心率异常",
        "name_en": "Extreme heart rate",
        "severity": "urgent",
        "conditions": [
            {"metric": "hr", "op": "ge", "value": 131},
            {"metric": "hr", "op": "le", "value": 40},
        ],
        "source": "NEWS2: pulse ≥ 131 or ≤ 40 scores 3",
    },
    {
        "code": "temp_extreme",
        "name_zh": "体温异常",
        "name_en": "Extreme temperature",
        "severity": "urgent",
        "conditions": [
            {"metric": "temp.c", "op": "gt", "value": 39.0},
            {"metric": "temp.c", "op": "le", "value": 35.0},
        ],
        "source": f"{_SPEC} 糖尿病 urgent referral above 39 °C; NEWS2: ≤ 35.0 °C scores 3",
    },
    {
        "code": "battery_low",
        "name_zh": "设备电量低",
        "name_en": "Device battery low",
        "severity": "info",
        "conditions": [{"metric": "battery.pct", "op": "le", "value": 15}],
        "source": "local default",
        "unverified": True,
    },
]


def install_defaults(rule_model: Any) -> None:
    """Create the default rules that are missing (never overwrite a local edit)."""
    for row in RULES:
        rule_model.objects.get_or_create(code=row["code"], defaults=row)


def restore_reference_data() -> bool:
    """Reload the default rules after a test flushed the database."""
    from yiyang.devices.models import AlertRule

    if AlertRule.objects.exists():
        return False
    install_defaults(AlertRule)
    return True
