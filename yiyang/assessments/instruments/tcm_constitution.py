"""Elderly TCM constitution questionnaire (老年人中医药健康管理服务记录表, 33 items) of the
national basic public-health service specification, 3rd edition. Source:
docs/standards.md §4 [C].

``primary``: the constitutions judged ``yes`` ordered by score, highest first (ties in the
order of ``constitutions`` below). ``balanced`` is "yes" only when every biased
constitution is ≤ 8 (so none of them is "yes"); it then appears alone as
``["balanced"]``. "basically" balanced is not "yes" and never appears in ``primary``.
"""

from __future__ import annotations

from typing import Any

_ANSWERS = [
    (1, "没有（根本不）", "never"),
    (2, "很少（有一点）", "rarely"),
    (3, "有时（有些）", "sometimes"),
    (4, "经常（相当）", "often"),
    (5, "总是（非常）", "always"),
]

DEFINITION: dict[str, Any] = {
    "code": "tcm-constitution-elderly",
    "version": "1",
    "kind": "tcm",
    "name": {"zh": "老年人中医体质辨识", "en": "Elderly TCM constitution questionnaire"},
    "source": {
        "document": "国家基本公共卫生服务规范 · 老年人中医药健康管理",
        "edition": "第三版 (2017)",
    },
    "items": [
        {
            "code": f"q{n}",
            "label_zh": f"第{n}题",
            "label_en": f"question {n}",
            "options": [{"score": s, "anchor_zh": zh, "anchor_en": en} for s, zh, en in _ANSWERS],
        }
        for n in range(1, 34)
    ],
    # q9 (body shape) may be omitted when context ``bmi`` is given: first band whose upper
    # bound (exclusive) exceeds the BMI; ``None`` = no upper bound.
    "bmi_item": "q9",
    "bmi_map": [[24, 1], [25, 2], [26, 3], [28, 4], [None, 5]],
    "constitutions": [
        {"code": "qi_deficiency", "name_zh": "气虚质", "items": ["q2", "q3", "q4", "q14"]},
        {"code": "yang_deficiency", "name_zh": "阳虚质", "items": ["q11", "q12", "q13", "q29"]},
        {"code": "yin_deficiency", "name_zh": "阴虚质", "items": ["q10", "q21", "q26", "q31"]},
        {"code": "phlegm_dampness", "name_zh": "痰湿质", "items": ["q9", "q16", "q28", "q32"]},
        {"code": "damp_heat", "name_zh": "湿热质", "items": ["q23", "q25", "q27", "q30"]},
        {"code": "blood_stasis", "name_zh": "血瘀质", "items": ["q19", "q22", "q24", "q33"]},
        {"code": "qi_stagnation", "name_zh": "气郁质", "items": ["q5", "q6", "q7", "q8"]},
        {"code": "special", "name_zh": "特禀质", "items": ["q15", "q17", "q18", "q20"]},
    ],
    "balanced": {
        "code": "balanced",
        "name_zh": "平和质",
        "items": ["q1", "q2", "q4", "q5", "q13"],
        "reverse": ["q2", "q4", "q5", "q13"],  # scored 6 − x, for balanced only
        "reverse_base": 6,
        "min_score": 17,
        "others_max_yes": 8,
        "others_max_basically": 10,
    },
    # Biased constitution: sum ≥ yes_min → yes; ≥ tendency_min → tendency; else no.
    "biased": {"yes_min": 11, "tendency_min": 9},
    "unverified": [],
}
