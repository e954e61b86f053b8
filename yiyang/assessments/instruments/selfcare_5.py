"""Self-care 5-item score (老年人生活自理能力评估表) of the national basic public-health service
specification, 3rd edition. Source: docs/standards.md §4 [C]. Higher = more dependent."""

from __future__ import annotations

from typing import Any

_LEVELS = [
    ("independent", "可自理", "independent"),
    ("mild", "轻度依赖", "mildly dependent"),
    ("moderate", "中度依赖", "moderately dependent"),
    ("unable", "不能自理", "unable"),
]


def _item(code: str, zh: str, en: str, scores: list[int]) -> dict[str, Any]:
    options = [
        {"value": value, "score": score, "anchor_zh": azh, "anchor_en": aen}
        for (value, azh, aen), score in zip(_LEVELS, scores, strict=True)
    ]
    return {"code": code, "label_zh": zh, "label_en": en, "options": options}


DEFINITION: dict[str, Any] = {
    "code": "selfcare-5",
    "version": "1",
    "kind": "selfcare5",
    "name": {"zh": "老年人生活自理能力评估", "en": "Elderly self-care score"},
    "source": {"document": "国家基本公共卫生服务规范", "edition": "第三版 (2017)"},
    "items": [
        _item("eating", "进餐", "eating", [0, 0, 3, 5]),
        _item("washing", "梳洗", "washing", [0, 1, 3, 7]),
        _item("dressing", "穿衣", "dressing", [0, 0, 3, 5]),
        _item("toileting", "如厕", "toileting", [0, 1, 5, 10]),
        _item("activity", "活动", "activity", [0, 1, 5, 10]),
    ],
    "bands": [
        {"min": 0, "max": 3, "code": "self_sufficient", "name_zh": "可自理"},
        {"min": 4, "max": 8, "code": "mild", "name_zh": "轻度依赖"},
        {"min": 9, "max": 18, "code": "moderate", "name_zh": "中度依赖"},
        {"min": 19, "max": 37, "code": "unable", "name_zh": "不能自理"},
    ],
    "unverified": [],
}
