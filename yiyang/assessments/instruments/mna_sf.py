"""Mini Nutritional Assessment short form (Rubenstein et al. 2001; revised with the calf
circumference alternative by Kaiser et al. 2009). Items A–E plus EITHER F1 (BMI) OR F2
(calf circumference) — ``one_of``; total 0–14."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from yiyang.assessments.instruments._build import item as _item
from yiyang.assessments.instruments._build import option as _opt

DEFINITION: dict[str, Any] = {
    "code": "mna-sf",
    "version": "1",
    "kind": "sum",
    "name": {"zh": "微型营养评定简表", "en": "Mini Nutritional Assessment short form"},
    "source": {
        "document": (
            "Rubenstein LZ et al. Screening for undernutrition in geriatric practice:"
            " developing the short-form MNA (MNA-SF). J Gerontol A 56(6):M366–M372 (2001);"
            " Kaiser MJ et al. Validation of the MNA-SF. J Nutr Health Aging 13(9):782–788"
            " (2009)"
        ),
        "edition": "MNA-SF 2009, 6 items, 0–14",
    },
    "items": [
        _item(
            "A",
            "近3个月食量减少",
            "food intake declined over the past 3 months",
            [
                _opt(0, "严重减少", "severe decrease", "食量严重减少", "severe decrease in intake"),
                _opt(1, "中度减少", "moderate decrease", "食量中度减少", "moderate decrease"),
                _opt(2, "未减少", "no decrease", "食量没有减少", "no decrease in intake"),
            ],
        ),
        _item(
            "B",
            "近3个月体重下降",
            "weight loss during the last 3 months",
            [
                _opt(0, "大于3公斤", "more than 3 kg", "体重下降超过3公斤", "lost more than 3 kg"),
                _opt(1, "不知道", "does not know", "不清楚体重变化", "does not know"),
                _opt(2, "1–3公斤", "1–3 kg", "体重下降1至3公斤", "lost between 1 and 3 kg"),
                _opt(3, "无下降", "no weight loss", "体重没有下降", "no weight loss"),
            ],
        ),
        _item(
            "C",
            "活动能力",
            "mobility",
            [
                _opt(
                    0,
                    "卧床或坐轮椅",
                    "bed or chair bound",
                    "需卧床或长期坐着",
                    "bed or chair bound",
                ),
                _opt(
                    1,
                    "能下床但不外出",
                    "gets out of bed, does not go out",
                    "能离开床或椅子,但不能外出",
                    "able to get out of bed or chair but does not go out",
                ),
                _opt(2, "能外出", "goes out", "可以外出活动", "goes out"),
            ],
        ),
        _item(
            "D",
            "近3个月心理应激或急性疾病",
            "psychological stress or acute disease in the past 3 months",
            [
                _opt(0, "有", "yes", "有心理创伤或急性疾病", "stress or acute disease present"),
                _opt(2, "无", "no", "没有心理创伤或急性疾病", "no stress or acute disease"),
            ],
        ),
        _item(
            "E",
            "神经心理问题",
            "neuropsychological problems",
            [
                _opt(0, "严重痴呆或抑郁", "severe dementia or depression", "严重", "severe"),
                _opt(1, "轻度痴呆", "mild dementia", "轻度", "mild"),
                _opt(2, "无", "no psychological problems", "无神经心理问题", "none"),
            ],
        ),
        _item(
            "F1",
            "体重指数(BMI)",
            "body mass index (BMI)",
            [
                _opt(0, "BMI<19", "BMI < 19", "BMI 小于19", "BMI less than 19"),
                _opt(1, "19≤BMI<21", "19 ≤ BMI < 21", "BMI 19至21以下", "BMI 19 to less than 21"),
                _opt(2, "21≤BMI<23", "21 ≤ BMI < 23", "BMI 21至23以下", "BMI 21 to less than 23"),
                _opt(3, "BMI≥23", "BMI ≥ 23", "BMI 23及以上", "BMI 23 or greater"),
            ],
        ),
        _item(
            "F2",
            "小腿围(CC,不能测BMI时使用)",
            "calf circumference (CC, when BMI is not available)",
            [
                _opt(0, "CC<31厘米", "CC < 31 cm", "小腿围小于31厘米", "calf less than 31 cm"),
                _opt(3, "CC≥31厘米", "CC ≥ 31 cm", "小腿围31厘米及以上", "calf 31 cm or greater"),
            ],
        ),
    ],
    "one_of": [["F1", "F2"]],
    "bands": [
        {"min": 12, "max": 14, "code": "normal", "name_zh": "营养正常"},
        {"min": 8, "max": 11, "code": "at_risk", "name_zh": "有营养不良风险"},
        {"min": 0, "max": 7, "code": "malnourished", "name_zh": "营养不良"},
    ],
    "unverified": [
        {
            "rule": "items.label_zh",
            "note": gettext_noop(
                "Chinese wording is a working translation, not the licensed Nestlé text."
            ),
        },
    ],
}
