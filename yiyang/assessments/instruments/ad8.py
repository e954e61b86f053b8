"""AD8 dementia screening interview (Galvin et al. 2005). An informant (or the person) says
for each of 8 items whether there has been a change over the last several years caused by
thinking or memory problems: "yes" (a change, 1 point), "no" (no change, 0) or "dont_know"
(0). Items are answered by value (``"answer": "value"``, kind ``sum``). Total 0–8; ≥ 2 is a
positive screen (cognitive impairment likely)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

# (Chinese wording of the common Chinese version AD8 中文版, English of the original.)
_QUESTIONS = [
    (
        "判断力出现问题(如做决定有困难、错误的财务决定、思考障碍)",
        "Problems with judgment (e.g. making decisions, bad financial decisions, thinking)",
    ),
    ("兴趣减退,爱好改变,活动减少", "Less interest in hobbies or activities"),
    (
        "不断重复同一件事(如总是问相同的问题,重复讲同一个故事或同一句话)",
        "Repeats the same things over and over (questions, stories or statements)",
    ),
    (
        "学习使用日常工具或家用电器(如遥控器、微波炉、电脑)有困难",
        "Trouble learning to use a tool, appliance or gadget (e.g. remote control, microwave)",
    ),
    ("记不清当前的月份或年份", "Forgets the correct month or year"),
    (
        "处理复杂的个人经济事务有困难(如对账、缴纳水电煤气费)",
        "Trouble handling complicated financial affairs (e.g. balancing a checkbook, bills)",
    ),
    ("记不住和别人的约定", "Trouble remembering appointments"),
    ("日常记忆和思考能力出现问题", "Daily problems with thinking and/or memory"),
]


def _item(n: int) -> dict[str, Any]:
    zh, en = _QUESTIONS[n - 1]
    return {
        "code": f"q{n}",
        "label_zh": zh,
        "label_en": en,
        "answer": "value",
        "options": [
            {
                "value": "yes",
                "score": 1,
                "label_zh": "是,有变化",
                "label_en": "yes, a change",
                "anchor_zh": "近几年因记忆或思考问题而出现变化,计1分",
                "anchor_en": "changed over recent years due to memory or thinking; scores 1",
            },
            {
                "value": "no",
                "score": 0,
                "label_zh": "否,无变化",
                "label_en": "no, no change",
                "anchor_zh": "没有变化,不计分",
                "anchor_en": "no change; scores 0",
            },
            {
                "value": "dont_know",
                "score": 0,
                "label_zh": "不知道",
                "label_en": "don't know",
                "anchor_zh": "无法判断,不计分",
                "anchor_en": "cannot tell; scores 0",
            },
        ],
    }


DEFINITION: dict[str, Any] = {
    "code": "ad8",
    "version": "1",
    "kind": "sum",
    "name": {"zh": "AD8 痴呆筛查问卷", "en": "AD8 dementia screening interview"},
    "source": {
        "document": (
            "Galvin JE, Roe CM, Powlishta KK, et al. The AD8: a brief informant interview to"
            " detect dementia. Neurology 65(4):559–564 (2005)"
        ),
        "edition": "8 items yes/no/don't know, 0–8; ≥ 2 positive",
    },
    "instructions_zh": (
        "与几年前相比,以下方面是否因思考或记忆问题而出现变化?“是”表示有变化,计1分。"
    ),
    "instructions_en": (
        "Compared with a few years ago, has there been a change in the following because of"
        " problems with thinking or memory? Each 'yes, a change' scores 1."
    ),
    "items": [_item(n) for n in range(1, 9)],
    "bands": [
        {"min": 0, "max": 1, "code": "negative", "name_zh": "筛查阴性"},
        {"min": 2, "max": 8, "code": "positive", "name_zh": "筛查阳性"},
    ],
    "unverified": [
        {
            "rule": "items.label_zh",
            "note": gettext_noop(
                "Chinese wording follows the commonly circulated AD8 中文版 (abbreviated);"
                " not checked against a validated published Chinese version."
            ),
        },
        {
            "rule": "licence",
            "note": gettext_noop(
                "The AD8 is copyright Washington University in St. Louis; free use is"
                " generally granted for clinical care and research — confirm the terms"
                " before commercial deployment."
            ),
        },
    ],
}
