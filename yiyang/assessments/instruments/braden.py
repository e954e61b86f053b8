"""Braden Scale for predicting pressure-sore risk (Bergstrom, Braden et al. 1987). Six
items, total 6–23; lower = higher risk."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from yiyang.assessments.instruments._build import item as _item
from yiyang.assessments.instruments._build import option as _opt

DEFINITION: dict[str, Any] = {
    "code": "braden",
    "version": "1",
    "kind": "sum",
    "name": {"zh": "Braden 压力性损伤风险评估量表", "en": "Braden Scale"},
    "source": {
        "document": (
            "Bergstrom N, Braden BJ, Laguzza A, Holman V. The Braden Scale for predicting"
            " pressure sore risk. Nursing Research 36(4):205–210 (1987)"
        ),
        "edition": "6 items, 6–23",
    },
    "items": [
        _item(
            "sensory_perception",
            "感知能力",
            "sensory perception",
            [
                _opt(
                    1, "完全受限", "completely limited", "对疼痛刺激无反应", "no response to pain"
                ),
                _opt(2, "非常受限", "very limited", "仅对疼痛有反应", "responds only to pain"),
                _opt(3, "轻度受限", "slightly limited", "对言语指令有反应", "responds to commands"),
                _opt(4, "未受损", "no impairment", "感觉无缺损", "no sensory deficit"),
            ],
        ),
        _item(
            "moisture",
            "潮湿程度",
            "moisture",
            [
                _opt(
                    1,
                    "持续潮湿",
                    "constantly moist",
                    "皮肤几乎一直潮湿",
                    "skin almost always moist",
                ),
                _opt(
                    2, "经常潮湿", "very moist", "床单每班至少更换一次", "linen changed each shift"
                ),
                _opt(
                    3,
                    "偶尔潮湿",
                    "occasionally moist",
                    "每天约需额外更换一次",
                    "extra change daily",
                ),
                _opt(4, "罕见潮湿", "rarely moist", "皮肤通常干燥", "skin usually dry"),
            ],
        ),
        _item(
            "activity",
            "活动能力",
            "activity",
            [
                _opt(1, "卧床", "bedfast", "限制在床上", "confined to bed"),
                _opt(2, "坐椅", "chairfast", "不能行走或行走严重受限", "cannot walk or barely"),
                _opt(
                    3, "偶尔行走", "walks occasionally", "白天偶尔短距离行走", "short walks by day"
                ),
                _opt(
                    4,
                    "经常行走",
                    "walks frequently",
                    "每天室外行走至少两次",
                    "walks outside 2×/day",
                ),
            ],
        ),
        _item(
            "mobility",
            "移动能力",
            "mobility",
            [
                _opt(
                    1, "完全不能", "completely immobile", "无法自行改变体位", "no position changes"
                ),
                _opt(
                    2, "非常受限", "very limited", "偶尔轻微改变体位", "occasional slight changes"
                ),
                _opt(
                    3, "轻度受限", "slightly limited", "经常轻微改变体位", "frequent slight changes"
                ),
                _opt(4, "不受限", "no limitation", "经常大幅改变体位", "frequent major changes"),
            ],
        ),
        _item(
            "nutrition",
            "营养摄取",
            "nutrition",
            [
                _opt(1, "非常差", "very poor", "很少吃完一餐的1/3", "rarely eats 1/3 of a meal"),
                _opt(
                    2, "可能不足", "probably inadequate", "很少吃完一餐", "rarely a complete meal"
                ),
                _opt(3, "充足", "adequate", "多数餐吃完一半以上", "eats over half of most meals"),
                _opt(4, "丰富", "excellent", "每餐基本吃完", "eats most of every meal"),
            ],
        ),
        _item(
            "friction_shear",
            "摩擦力和剪切力",
            "friction & shear",
            [
                _opt(
                    1, "存在问题", "problem", "移动需大量帮助,常滑落", "needs maximum help, slides"
                ),
                _opt(
                    2,
                    "潜在问题",
                    "potential problem",
                    "移动需少量帮助",
                    "moves feebly, minimal help",
                ),
                _opt(3, "无明显问题", "no apparent problem", "能独立移动", "moves independently"),
            ],
        ),
    ],
    "bands": [
        {"min": 6, "max": 9, "code": "very_high", "name_zh": "极高危"},
        {"min": 10, "max": 12, "code": "high", "name_zh": "高危"},
        {"min": 13, "max": 14, "code": "moderate", "name_zh": "中危"},
        {"min": 15, "max": 18, "code": "mild", "name_zh": "低危"},
        {"min": 19, "max": 23, "code": "none", "name_zh": "无风险"},
    ],
    "unverified": [
        {
            "rule": "bands",
            "note": gettext_noop(
                "Risk bands (≤9, 10–12, 13–14, 15–18, 19–23) follow common clinical practice"
                " (Ayello & Braden), not the 1987 paper, which used a single cut-off (16);"
                " some Chinese institutions use ≤12 / 13–14 / 15–18 only."
            ),
        },
    ],
}
