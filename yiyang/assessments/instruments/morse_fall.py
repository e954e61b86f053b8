"""Morse Fall Scale (Morse, Morse & Tylko 1989). Six items, total 0–125; risk bands by
total. The risk cut-offs vary between institutions (45 or 51 for "high") and are marked
unverified."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from yiyang.assessments.instruments._build import item as _item
from yiyang.assessments.instruments._build import option as _opt

DEFINITION: dict[str, Any] = {
    "code": "morse-fall",
    "version": "1",
    "kind": "sum",
    "name": {"zh": "Morse 跌倒风险评估量表", "en": "Morse Fall Scale"},
    "source": {
        "document": (
            "Morse JM, Morse RM, Tylko SJ. Development of a scale to identify the fall-prone"
            " patient. Canadian Journal on Aging 8(4):366–377 (1989)"
        ),
        "edition": "6 items, 0–125",
    },
    "items": [
        _item(
            "history_of_falling",
            "跌倒史",
            "history of falling",
            [
                _opt(0, "无", "no", "近3个月内无跌倒", "no fall in the last 3 months"),
                _opt(25, "有", "yes", "近3个月内有跌倒", "fell in the last 3 months"),
            ],
        ),
        _item(
            "secondary_diagnosis",
            "超过一个医学诊断",
            "secondary diagnosis",
            [
                _opt(0, "无", "no", "只有一个医学诊断", "one medical diagnosis only"),
                _opt(15, "有", "yes", "有两个及以上医学诊断", "two or more medical diagnoses"),
            ],
        ),
        _item(
            "ambulatory_aid",
            "行走辅助",
            "ambulatory aid",
            [
                _opt(
                    0,
                    "无/卧床/护士扶持",
                    "none / bed rest / nurse assist",
                    "不需辅助、卧床休息或由护士扶持行走",
                    "walks without aid, on bed rest, or walks with a nurse",
                ),
                _opt(
                    15,
                    "拐杖/手杖/助行器",
                    "crutches / cane / walker",
                    "使用拐杖、手杖或助行器",
                    "uses crutches, a cane or a walker",
                ),
                _opt(30, "扶家具行走", "furniture", "依扶家具行走", "clutches onto furniture"),
            ],
        ),
        _item(
            "iv_or_heparin_lock",
            "静脉输液/肝素锁",
            "IV or heparin lock",
            [
                _opt(0, "无", "no", "无静脉通路", "no intravenous access"),
                _opt(20, "有", "yes", "有静脉输液或肝素锁", "has an IV or a heparin lock"),
            ],
        ),
        _item(
            "gait",
            "步态",
            "gait",
            [
                _opt(
                    0,
                    "正常/卧床/轮椅",
                    "normal / bed rest / wheelchair",
                    "步态正常、卧床不能移动或使用轮椅",
                    "normal gait, immobile in bed, or uses a wheelchair",
                ),
                _opt(
                    10,
                    "虚弱",
                    "weak",
                    "弯腰但能抬头行走,步伐短小,可能拖步",
                    "stooped but able to lift head, short steps, may shuffle",
                ),
                _opt(
                    20,
                    "受损",
                    "impaired",
                    "起身困难,低头看地,需扶持,步伐短小拖步",
                    "difficulty rising, looks down, needs support, short shuffling steps",
                ),
            ],
        ),
        _item(
            "mental_status",
            "认知状态",
            "mental status",
            [
                _opt(
                    0,
                    "了解自己能力",
                    "oriented to own ability",
                    "对自身行走能力评估与实际相符",
                    "own assessment of walking ability matches reality",
                ),
                _opt(
                    15,
                    "高估/忘记限制",
                    "overestimates / forgets limitations",
                    "高估自身能力或忘记自己的限制",
                    "overestimates own ability or forgets limitations",
                ),
            ],
        ),
    ],
    "bands": [
        {"min": 0, "max": 24, "code": "low", "name_zh": "低风险"},
        {"min": 25, "max": 44, "code": "moderate", "name_zh": "中风险"},
        {"min": 45, "max": 125, "code": "high", "name_zh": "高风险"},
    ],
    "unverified": [
        {
            "rule": "bands",
            "note": gettext_noop(
                "Risk cut-offs differ between institutions: high risk from 45 (used here)"
                " or from 51; low/moderate split at 25 is common practice, not the 1989 paper."
            ),
        },
    ],
}
