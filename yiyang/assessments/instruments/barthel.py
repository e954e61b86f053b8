"""Barthel index (10 items, 0–100). Source: docs/standards.md §3. Item points [C]; the two
band sets in use [S], selectable by context ``band_set``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop


def _item(code: str, zh: str, en: str, points: list[int]) -> dict[str, Any]:
    anchors = {
        15: ("完全独立", "independent"),
        10: ("需少量帮助", "needs minor help"),
        5: ("需大量帮助", "needs major help"),
        0: ("完全依赖", "dependent"),
    }
    if max(points) == 10:
        anchors = {10: ("完全独立", "independent"), 5: ("需部分帮助", "needs help"), 0: anchors[0]}
    if max(points) == 5:
        anchors = {5: ("完全独立", "independent"), 0: ("需要帮助", "needs help")}
    options = [{"score": p, "anchor_zh": anchors[p][0], "anchor_en": anchors[p][1]} for p in points]
    return {"code": code, "label_zh": zh, "label_en": en, "options": options}


DEFINITION: dict[str, Any] = {
    "code": "barthel",
    "version": "1",
    "kind": "barthel",
    "name": {"zh": "Barthel 指数", "en": "Barthel index"},
    "source": {
        "document": "Mahoney & Barthel, Functional evaluation: the Barthel index (1965)",
        "edition": "10-item, 0–100",
    },
    "items": [
        _item("feeding", "进食", "feeding", [10, 5, 0]),
        _item("bathing", "洗澡", "bathing", [5, 0]),
        _item("grooming", "修饰", "grooming", [5, 0]),
        _item("dressing", "穿衣", "dressing", [10, 5, 0]),
        _item("bowels", "控制大便", "bowels", [10, 5, 0]),
        _item("bladder", "控制小便", "bladder", [10, 5, 0]),
        _item("toilet", "如厕", "toilet use", [10, 5, 0]),
        _item("transfer", "床椅转移", "bed-chair transfer", [15, 10, 5, 0]),
        _item("mobility", "平地行走", "walking (5 = independent in a wheelchair)", [15, 10, 5, 0]),
        _item("stairs", "上下楼梯", "stairs", [10, 5, 0]),
    ],
    "default_band_set": "a",
    "band_sets": {
        "a": {
            "source": "nursing-grade practice",
            "bands": [
                {"min": 100, "max": 100, "code": "none", "name_zh": "无需依赖"},
                {"min": 61, "max": 99, "code": "mild", "name_zh": "轻度依赖"},
                {"min": 41, "max": 60, "code": "moderate", "name_zh": "中度依赖"},
                {"min": 0, "max": 40, "code": "severe", "name_zh": "重度依赖"},
            ],
        },
        "b": {
            "source": "MZ/T 039-2013 老年人能力评估 (ADL grading)",
            "bands": [
                {"min": 100, "max": 100, "code": "intact", "name_zh": "能力完好"},
                {"min": 65, "max": 95, "code": "mild", "name_zh": "轻度受损"},
                {"min": 45, "max": 60, "code": "moderate", "name_zh": "中度受损"},
                {"min": 0, "max": 40, "code": "severe", "name_zh": "重度受损"},
            ],
        },
    },
    "unverified": [
        {"rule": "band_sets", "note": gettext_noop("Band sets from secondary sources [S].")},
    ],
}
