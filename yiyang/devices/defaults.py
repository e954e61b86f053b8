"""The alert rules a county starts with (ADR 0019) and the escalation schedule (ADR 0020);
local policy and per-resident overrides adjust them. Thresholds from docs/standards.md
§4 (urgent referral criteria of the public-health service specification) and §7 (NEWS2
single-parameter 3-point bands), each naming its source. Loaded by migrations 0003 and
0005 and, after a test that flushed the database, by ``restore_reference_data``."""

from __future__ import annotations

from decimal import Decimal
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
    {
        "code": "device_silent",
        "name_zh": "设备失联",
        "name_en": "Device silent",
        "severity": "warning",
        "event": "silent",
        "source": "issue 5: a device silent for longer than its expected interval "
        "(checked every minute by the alert timers)",
    },
    {
        "code": "news2",
        "name_zh": "NEWS2 早期预警评分升高",
        "name_en": "Raised NEWS2 score",
        "severity": "urgent",
        "conditions": [{"metric": "news2.total", "op": "ge", "value": 5}],
        "window_minutes": 60,
        "source": "NEWS2 (RCP 2017, standards.md §7): aggregate 5–6 medium, ≥ 7 high. No "
        "respiration rate, consciousness or O2 from devices: a lower bound over SpO2 "
        "(scale 1), systolic BP, pulse, temperature",
        "unverified": True,
    },
]

# The default rules' sources in Chinese, shown in the Chinese UI while a rule keeps the
# shipped source (a source edited locally is shown as written: ``source_text``).
SOURCES_ZH: dict[str, str] = {
    "sos": "平台规定：紧急呼叫为危急，立即处理",
    "fall": "平台规定：跌倒为危急，立即处理",
    "bp_high": f"{_SPEC}高血压患者健康管理：收缩压 ≥ 180 和/或舒张压 ≥ 110 mmHg 紧急转诊"
    "（中国高血压 3 级）",
    "bp_low": "NEWS2：收缩压 ≤ 90 mmHg 计 3 分",
    "glucose_high": f"{_SPEC}2型糖尿病患者健康管理：血糖 ≥ 16.7 mmol/L 紧急转诊",
    "glucose_low": f"{_SPEC}2型糖尿病患者健康管理：血糖 ≤ 3.9 mmol/L 紧急转诊",
    "spo2_low": "NEWS2 SpO2 量表 1：≤ 91 % 计 3 分（慢阻肺患者的目标需用量表 2：请为其单独设置）",
    "hr_extreme": "NEWS2：脉搏 ≥ 131 或 ≤ 40 次/分 计 3 分",
    "temp_extreme": f"{_SPEC}糖尿病：体温 > 39 °C 紧急转诊；NEWS2：体温 ≤ 35.0 °C 计 3 分",
    "battery_low": "本地默认",
    "device_silent": "平台规定：设备静默超过预期上报间隔（告警定时器每分钟检查）",
    "news2": "NEWS2（RCP 2017，standards.md §7）：总分 5–6 为中危，≥ 7 为高危。设备不测呼吸频率、"
    "意识和吸氧：按 SpO2（量表 1）、收缩压、脉搏、体温计算的下限",
}


def source_text(rule: Any) -> str:
    """A rule's source in the active language: the Chinese citation of a default rule
    whose source is still the shipped one; otherwise the source as stored."""
    from django.utils.translation import get_language

    source = str(getattr(rule, "source", "") or "")
    if not (get_language() or "").lower().startswith("zh"):
        return source
    shipped = next((r for r in RULES if r["code"] == rule.code), None)
    if shipped is not None and shipped.get("source") == source and rule.code in SOURCES_ZH:
        return SOURCES_ZH[rule.code]
    return source


# Minutes after the alert opened at which each tier is notified, per severity (ADR 0020).
# Tier 1: the station staff (the responsible team); 2: the center's duty doctor and the
# family proxies with the right to see alerts; 3: the dispatcher. A missing tier is skipped.
ESCALATION: dict[str, dict[int, str]] = {
    "critical": {1: "0", 2: "2", 3: "5"},
    "urgent": {1: "0", 2: "10", 3: "30"},
    "warning": {1: "0", 2: "60"},
    "info": {1: "0"},
}


def install_defaults(rule_model: Any) -> None:
    """Create the default rules that are missing (never overwrite a local edit). A rule
    needing a field the (historical) model does not have yet waits for the migration that
    adds it."""
    fields = {f.name for f in rule_model._meta.get_fields()}
    for row in RULES:
        if set(row) <= fields:
            rule_model.objects.get_or_create(code=row["code"], defaults=row)


def install_escalation(step_model: Any) -> None:
    """Create the default escalation steps that are missing (never overwrite an edit)."""
    for severity, steps in ESCALATION.items():
        for tier, minutes in steps.items():
            step_model.objects.get_or_create(
                severity=severity, tier=tier, defaults={"after_minutes": Decimal(minutes)}
            )


def restore_reference_data() -> bool:
    """Reload the default rules and escalation schedule after a test flushed the database."""
    from yiyang.devices.models import AlertRule, EscalationStep

    restored = False
    if not AlertRule.objects.exists():
        install_defaults(AlertRule)
        restored = True
    if not EscalationStep.objects.exists():
        install_escalation(EscalationStep)
        restored = True
    return restored
