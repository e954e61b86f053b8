"""Geriatric Depression Scale, 15-item short form (Sheikh & Yesavage 1986). Items are
answered "yes"/"no" (``"answer": "value"``); one point for "no" on items 1, 5, 7, 11, 13
and for "yes" on the others. Total 0–15; ≥ 5 suggests depression."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

_QUESTIONS = [
    ("您对生活基本满意吗?", "Are you basically satisfied with your life?"),
    ("您是否放弃了许多活动和兴趣?", "Have you dropped many of your activities and interests?"),
    ("您是否觉得生活空虚?", "Do you feel that your life is empty?"),
    ("您是否常感到厌倦?", "Do you often get bored?"),
    ("您是否大部分时间精神都很好?", "Are you in good spirits most of the time?"),
    ("您是否害怕会有不好的事情发生?", "Are you afraid that something bad is going to happen?"),
    ("您是否大部分时间感到快乐?", "Do you feel happy most of the time?"),
    ("您是否常感到无助?", "Do you often feel helpless?"),
    ("您是否宁愿待在家里而不愿外出做新鲜事?", "Do you prefer to stay at home rather than go out?"),
    ("您是否觉得记忆力比大多数人差?", "Do you feel you have more problems with memory than most?"),
    ("您是否觉得现在活着很美好?", "Do you think it is wonderful to be alive now?"),
    ("您是否觉得现在的自己很没有价值?", "Do you feel pretty worthless the way you are now?"),
    ("您是否觉得精力充沛?", "Do you feel full of energy?"),
    ("您是否觉得自己的处境没有希望?", "Do you feel that your situation is hopeless?"),
    ("您是否觉得大多数人比您过得好?", "Do you think that most people are better off than you?"),
]
_NO_SCORES = {1, 5, 7, 11, 13}  # items where "no" is the depressive answer


def _item(n: int) -> dict[str, Any]:
    zh, en = _QUESTIONS[n - 1]
    yes = 0 if n in _NO_SCORES else 1
    return {
        "code": f"q{n}",
        "label_zh": zh,
        "label_en": en,
        "answer": "value",
        "options": [
            {
                "value": "yes",
                "score": yes,
                "label_zh": "是",
                "label_en": "yes",
                "anchor_zh": "回答“是”" + (",计1分" if yes else ",不计分"),
                "anchor_en": "answered yes" + ("; scores 1" if yes else "; scores 0"),
            },
            {
                "value": "no",
                "score": 1 - yes,
                "label_zh": "否",
                "label_en": "no",
                "anchor_zh": "回答“否”" + (",不计分" if yes else ",计1分"),
                "anchor_en": "answered no" + ("; scores 0" if yes else "; scores 1"),
            },
        ],
    }


DEFINITION: dict[str, Any] = {
    "code": "gds-15",
    "version": "1",
    "kind": "sum",
    "name": {"zh": "老年抑郁量表(简版15项)", "en": "Geriatric Depression Scale, short form"},
    "source": {
        "document": (
            "Sheikh JI, Yesavage JA. Geriatric Depression Scale (GDS): recent evidence and"
            " development of a shorter version. Clinical Gerontologist 5(1/2):165–173 (1986)"
        ),
        "edition": "15 items, 0–15",
    },
    "items": [_item(n) for n in range(1, 16)],
    "bands": [
        {"min": 0, "max": 4, "code": "normal", "name_zh": "正常"},
        {"min": 5, "max": 8, "code": "mild", "name_zh": "轻度抑郁"},
        {"min": 9, "max": 11, "code": "moderate", "name_zh": "中度抑郁"},
        {"min": 12, "max": 15, "code": "severe", "name_zh": "重度抑郁"},
    ],
    "unverified": [
        {
            "rule": "bands",
            "note": gettext_noop(
                "Only the screening cut-off (≥ 5 suggests depression) is widely cited; the"
                " graded bands 5–8 / 9–11 / 12–15 come from secondary sources."
            ),
        },
        {
            "rule": "items.label_zh",
            "note": gettext_noop(
                "Chinese item wording is a working translation, not a validated version."
            ),
        },
    ],
}
