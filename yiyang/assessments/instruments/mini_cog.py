"""Mini-Cog (Borson et al. 2000): three-word recall (0–3) plus clock drawing (0 or 2);
total 0–5. Total < 3 is a positive screen (possible cognitive impairment)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from yiyang.assessments.instruments._build import option as _opt

DEFINITION: dict[str, Any] = {
    "code": "mini-cog",
    "version": "1",
    "kind": "sum",
    "name": {"zh": "简易认知筛查(Mini-Cog)", "en": "Mini-Cog"},
    "source": {
        "document": (
            "Borson S, Scanlan J, Brush M, Vitaliano P, Dokmak A. The Mini-Cog: a cognitive"
            " 'vital signs' measure for dementia screening in multi-lingual elderly."
            " Int J Geriatr Psychiatry 15(11):1021–1027 (2000)"
        ),
        "edition": "word recall 0–3 + clock 0/2, 0–5",
    },
    "items": [
        {
            "code": "word_recall",
            "label_zh": "三词回忆",
            "label_en": "three-word recall",
            "options": [
                _opt(
                    n,
                    f"{n}个",
                    f"{n} word{'s' if n != 1 else ''}",
                    f"回忆出{n}个词",
                    f"{n} recalled",
                )
                for n in range(4)
            ],
        },
        {
            "code": "clock_drawing",
            "label_zh": "画钟试验",
            "label_en": "clock drawing",
            "options": [
                _opt(
                    0, "异常", "abnormal", "数字或指针错误,或拒画", "wrong numbers/hands or refused"
                ),
                _opt(
                    2, "正常", "normal", "数字位置及指针时间正确", "all numbers and hands correct"
                ),
            ],
        },
    ],
    "bands": [
        {"min": 0, "max": 2, "code": "positive", "name_zh": "筛查阳性"},
        {"min": 3, "max": 5, "code": "negative", "name_zh": "筛查阴性"},
    ],
    "unverified": [
        {
            "rule": "bands",
            "note": gettext_noop(
                "Cut-off < 3 = positive screen as used here; some protocols also treat a total"
                " of 3 with an abnormal clock as positive (≤ 3)."
            ),
        },
    ],
}
