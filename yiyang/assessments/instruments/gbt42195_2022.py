"""GB/T 42195-2022 老年人能力评估规范 (elderly ability assessment), appendix B.

Source: docs/standards.md §1. Item ranges and bands [C]; domain maxima by arithmetic [S];
whether the two "+1" level changes stack is [U] (setting ``stack_plus_one``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

# The shared 5-step scale of self-care and mobility items (higher = better).
_SCALE5 = {
    4: ("独立完成", "independent"),
    3: ("需他人指导或提示", "needs supervision or prompting"),
    2: ("需他人部分帮助，大部分自己完成", "needs some help, mostly self"),
    1: ("主要依靠他人，能配合", "mostly relies on others, cooperates"),
    0: ("完全依赖他人", "fully dependent"),
}


def _options(top: int, anchors: dict[int, tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    out = []
    for score in range(top, -1, -1):
        zh, en = (anchors or _SCALE5).get(score, (f"{score}分", f"{score} points"))
        out.append({"score": score, "anchor_zh": zh, "anchor_en": en})
    return out


def _item(code: str, zh: str, en: str, top: int, anchors: Any = None) -> dict[str, Any]:
    return {"code": code, "label_zh": zh, "label_en": en, "options": _options(top, anchors)}


_BINARY = {1: ("无", "none"), 0: ("有", "present")}
_CONSCIOUS = {
    2: ("神志清醒", "alert"),
    1: ("嗜睡或昏睡", "drowsy or stuporous"),
    0: ("昏迷", "coma"),
}
_SENSE = {2: ("正常", "normal"), 1: ("轻度受损", "impaired"), 0: ("严重受损", "severely impaired")}
_STAIRS = {
    3: ("独立上下楼梯", "independent"),
    2: ("需他人指导或部分帮助", "needs prompting or some help"),
    1: ("主要依靠他人", "mostly relies on others"),
    0: ("不能上下楼梯", "cannot use stairs"),
}
_TRANSPORT = {
    3: ("能独立使用交通工具外出", "uses transport alone"),
    2: ("需他人陪同或部分帮助", "needs company or some help"),
    1: ("主要依靠他人", "mostly relies on others"),
    0: ("完全不能外出", "cannot go out"),
}

ITEMS = [
    _item("B.1.1", "进食", "eating", 4),
    _item("B.1.2", "修饰", "grooming", 4),
    _item("B.1.3", "洗澡", "bathing", 4),
    _item("B.1.4", "穿/脱上衣", "upper-body dressing", 4),
    _item("B.1.5", "穿/脱裤子和鞋袜", "lower-body dressing and shoes", 4),
    _item("B.1.6", "小便控制", "urinary control", 4),
    _item("B.1.7", "大便控制", "bowel control", 4),
    _item("B.1.8", "如厕", "toileting", 4),
    _item("B.2.1", "床上体位转移", "bed mobility", 4),
    _item("B.2.2", "床椅转移", "bed-chair transfer", 4),
    _item("B.2.3", "平地行走", "walking on level ground", 4),
    _item("B.2.4", "上下楼梯", "stairs", 3, _STAIRS),
    _item("B.3.1", "时间定向", "time orientation", 4),
    _item("B.3.2", "空间定向", "place orientation", 4),
    _item("B.3.3", "人物定向", "person orientation", 4),
    _item("B.3.4", "记忆", "memory", 4),
    _item("B.3.5", "理解能力", "comprehension", 4),
    _item("B.3.6", "表达能力", "expression", 4),
    _item("B.3.7", "攻击行为", "aggressive behaviour", 1, _BINARY),
    _item("B.3.8", "抑郁症状", "depressive symptoms", 1, _BINARY),
    _item("B.3.9", "意识水平", "level of consciousness", 2, _CONSCIOUS),
    _item("B.4.1", "视力", "vision", 2, _SENSE),
    _item("B.4.2", "听力", "hearing", 2, _SENSE),
    _item("B.4.3", "执行日常事务", "daily affairs", 4),
    _item("B.4.4", "使用交通工具外出", "using transport", 3, _TRANSPORT),
    _item("B.4.5", "社会交往能力", "social interaction", 4),
]

DEFINITION: dict[str, Any] = {
    "code": "gbt42195-2022",
    "version": "1",
    "kind": "gbt42195",
    "name": {"zh": "老年人能力评估", "en": "Elderly ability assessment"},
    "source": {"document": "GB/T 42195-2022 老年人能力评估规范", "edition": "2022"},
    "items": ITEMS,
    "domains": [
        {"code": "B.1", "label_zh": "自理能力", "label_en": "self-care", "max": 32},
        {"code": "B.2", "label_zh": "基础运动能力", "label_en": "basic mobility", "max": 15},
        {"code": "B.3", "label_zh": "精神状态", "label_en": "mental state", "max": 28},
        {
            "code": "B.4",
            "label_zh": "感知觉与社会参与",
            "label_en": "perception & social",
            "max": 15,
        },
    ],
    # Preliminary level from the total: [min, max, level, name].
    "levels": [
        {"min": 90, "max": 90, "level": 0, "name_zh": "能力完好"},
        {"min": 66, "max": 89, "level": 1, "name_zh": "轻度失能"},
        {"min": 46, "max": 65, "level": 2, "name_zh": "中度失能"},
        {"min": 30, "max": 45, "level": 3, "name_zh": "重度失能"},
        {"min": 0, "max": 29, "level": 4, "name_zh": "完全失能"},
    ],
    "changes": {
        "max_level": 4,
        # Context ``coma`` true → level 4. It must agree with item B.3.9 = 0 (昏迷).
        "coma_item": "B.3.9",
        "coma_item_score": 0,
        # ICD-10 ranges (letter + two digits, inclusive) that add one level.
        "dementia_ranges": [["F00", "F03"]],
        "mental_disorder_ranges": [["F04", "F99"]],  # diagnosed by a psychiatrist
        "risk_events_threshold": 2,
        "stack_plus_one": True,  # [U] whether mental disorder +1 and risk events +1 add up
    },
    "unverified": [
        {
            "rule": "changes.stack_plus_one",
            "note": gettext_noop(
                "Whether the mental-disorder and care-risk-event +1 changes stack is not "
                "stated in the sources available; default: they stack (cap 4)."
            ),
        },
        {
            "rule": "items.*.options.anchor",
            "note": gettext_noop("Anchor descriptions are abbreviated from public transcriptions."),
        },
    ],
}
