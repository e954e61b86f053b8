"""An independent reference implementation of the scoring rules, re-typed from
docs/standards.md §1, §3, §4 — deliberately NOT importing the app's tables.

Each function returns the expected result dict, or ``None`` when the input must be
refused (the app must then answer 422).
"""

from __future__ import annotations

from typing import Any

# §1 GB/T 42195-2022: item → max score (min 0).
GBT_MAX = {
    **{f"B.1.{i}": 4 for i in range(1, 9)},
    "B.2.1": 4, "B.2.2": 4, "B.2.3": 4, "B.2.4": 3,
    "B.3.1": 4, "B.3.2": 4, "B.3.3": 4, "B.3.4": 4, "B.3.5": 4, "B.3.6": 4,
    "B.3.7": 1, "B.3.8": 1, "B.3.9": 2,
    "B.4.1": 2, "B.4.2": 2, "B.4.3": 4, "B.4.4": 3, "B.4.5": 4,
}  # fmt: skip
GBT_NAMES = ["能力完好", "轻度失能", "中度失能", "重度失能", "完全失能"]


def _int(v: Any) -> bool:
    return type(v) is int


def gbt_level_from_total(total: int) -> int:
    if total == 90:
        return 0
    if total >= 66:
        return 1
    if total >= 46:
        return 2
    if total >= 30:
        return 3
    return 4


def gbt(answers: dict[str, Any], context: dict[str, Any], stack: bool = True) -> Any:
    if set(answers) != set(GBT_MAX):
        return None
    for k, v in answers.items():
        if not _int(v) or not 0 <= v <= GBT_MAX[k]:
            return None
    coma = context.get("coma", False)
    if type(coma) is not bool:
        return None
    if coma != (answers["B.3.9"] == 0):
        return None
    events = context.get("risk_events_30d", 0)
    if not _int(events) or events < 0:
        return None
    dx = context.get("diagnoses", [])
    domains = {
        d: sum(v for k, v in answers.items() if k.startswith(d + "."))
        for d in ("B.1", "B.2", "B.3", "B.4")
    }
    total = sum(domains.values())
    pre = gbt_level_from_total(total)
    changes = []
    if coma:
        level = 4
        changes = ["coma"]
    else:
        nums = [(c[0], int(c[1:3])) for c in dx]
        if any(letter == "F" and 0 <= n <= 3 for letter, n in nums):
            changes.append("dementia")
        elif any(letter == "F" and 4 <= n <= 99 for letter, n in nums):
            changes.append("mental_disorder")
        if events >= 2:
            changes.append("risk_events")
        if not stack:
            changes = changes[:1]
        level = min(4, pre + len(changes))
    return {
        "total": total,
        "domains": domains,
        "preliminary_level": pre,
        "level": level,
        "level_name": GBT_NAMES[level],
        "changes": changes,
    }


# §3 Barthel.
BARTHEL = {
    "feeding": {10, 5, 0}, "bathing": {5, 0}, "grooming": {5, 0}, "dressing": {10, 5, 0},
    "bowels": {10, 5, 0}, "bladder": {10, 5, 0}, "toilet": {10, 5, 0},
    "transfer": {15, 10, 5, 0}, "mobility": {15, 10, 5, 0}, "stairs": {10, 5, 0},
}  # fmt: skip


def barthel(answers: dict[str, Any], band_set: str = "a") -> Any:
    if set(answers) != set(BARTHEL):
        return None
    if any(not _int(v) or v not in BARTHEL[k] for k, v in answers.items()):
        return None
    total = sum(answers.values())
    if band_set == "a":
        band = (
            ("none", "无需依赖") if total == 100
            else ("mild", "轻度依赖") if total >= 61
            else ("moderate", "中度依赖") if total >= 41
            else ("severe", "重度依赖")
        )  # fmt: skip
    elif band_set == "b":
        band = (
            ("intact", "能力完好") if total == 100
            else ("mild", "轻度受损") if total >= 65
            else ("moderate", "中度受损") if total >= 45
            else ("severe", "重度受损")
        )  # fmt: skip
    else:
        return None
    return {"total": total, "band": band[0], "band_name": band[1]}


# §4 self-care 5.
SELFCARE = {
    "eating": (0, 0, 3, 5),
    "washing": (0, 1, 3, 7),
    "dressing": (0, 0, 3, 5),
    "toileting": (0, 1, 5, 10),
    "activity": (0, 1, 5, 10),
}
SELFCARE_LEVELS = ("independent", "mild", "moderate", "unable")


def selfcare(answers: dict[str, Any]) -> Any:
    if set(answers) != set(SELFCARE):
        return None
    if any(v not in SELFCARE_LEVELS for v in answers.values()):
        return None
    total = sum(SELFCARE[k][SELFCARE_LEVELS.index(v)] for k, v in answers.items())
    if total <= 3:
        band = ("self_sufficient", "可自理")
    elif total <= 8:
        band = ("mild", "轻度依赖")
    elif total <= 18:
        band = ("moderate", "中度依赖")
    else:
        band = ("unable", "不能自理")
    return {"total": total, "band": band[0], "band_name": band[1]}


# §4 TCM constitution.
TCM = {
    "qi_deficiency": (2, 3, 4, 14),
    "yang_deficiency": (11, 12, 13, 29),
    "yin_deficiency": (10, 21, 26, 31),
    "phlegm_dampness": (9, 16, 28, 32),
    "damp_heat": (23, 25, 27, 30),
    "blood_stasis": (19, 22, 24, 33),
    "qi_stagnation": (5, 6, 7, 8),
    "special": (15, 17, 18, 20),
}


def bmi_to_q9(bmi: float) -> int:
    if bmi < 24:
        return 1
    if bmi < 25:
        return 2
    if bmi < 26:
        return 3
    if bmi < 28:
        return 4
    return 5


def tcm(answers: dict[str, Any], bmi: float | None = None) -> Any:
    q = dict(answers)
    if bmi is not None:
        if "q9" in q and q["q9"] != bmi_to_q9(bmi):
            return None
        q.setdefault("q9", bmi_to_q9(bmi))
    if set(q) != {f"q{n}" for n in range(1, 34)}:
        return None
    if any(not _int(v) or not 1 <= v <= 5 for v in q.values()):
        return None
    a = {int(k[1:]): v for k, v in q.items()}
    scores = {name: sum(a[i] for i in items) for name, items in TCM.items()}
    results = {
        name: "yes" if s >= 11 else "tendency" if s >= 9 else "no" for name, s in scores.items()
    }
    bal = a[1] + (6 - a[2]) + (6 - a[4]) + (6 - a[5]) + (6 - a[13])
    if bal >= 17 and all(s <= 8 for s in scores.values()):
        bres = "yes"
    elif bal >= 17 and all(s <= 10 for s in scores.values()):
        bres = "basically"
    else:
        bres = "no"
    order = ["balanced", *TCM]
    all_scores = {"balanced": bal, **scores}
    all_results = {"balanced": bres, **results}
    primary = [c for c in order if all_results[c] == "yes"]
    primary.sort(key=lambda c: (-all_scores[c], order.index(c)))
    return {"scores": all_scores, "results": all_results, "primary": primary}


# Summed scales added later (re-typed from the published instruments, not the app).

MORSE = {
    "history_of_falling": {0, 25},
    "secondary_diagnosis": {0, 15},
    "ambulatory_aid": {0, 15, 30},
    "iv_or_heparin_lock": {0, 20},
    "gait": {0, 10, 20},
    "mental_status": {0, 15},
}
BRADEN = {
    "sensory_perception": {1, 2, 3, 4},
    "moisture": {1, 2, 3, 4},
    "activity": {1, 2, 3, 4},
    "mobility": {1, 2, 3, 4},
    "nutrition": {1, 2, 3, 4},
    "friction_shear": {1, 2, 3},
}
GDS_NO_ITEMS = (1, 5, 7, 11, 13)
MNA = {"A": {0, 1, 2}, "B": {0, 1, 2, 3}, "C": {0, 1, 2}, "D": {0, 2}, "E": {0, 1, 2}}
MNA_F = {"F1": {0, 1, 2, 3}, "F2": {0, 3}}
MINICOG = {"word_recall": {0, 1, 2, 3}, "clock_drawing": {0, 2}}


def _summed(answers: dict[str, Any], table: dict[str, set[int]]) -> Any:
    if set(answers) != set(table):
        return None
    if any(not _int(v) or v not in table[k] for k, v in answers.items()):
        return None
    return sum(answers.values())


def morse(answers: dict[str, Any]) -> Any:
    total = _summed(answers, MORSE)
    if total is None:
        return None
    if total >= 45:
        band = ("high", "高风险")
    elif total >= 25:
        band = ("moderate", "中风险")
    else:
        band = ("low", "低风险")
    return {"total": total, "band": band[0], "band_name": band[1]}


def braden(answers: dict[str, Any]) -> Any:
    total = _summed(answers, BRADEN)
    if total is None:
        return None
    if total <= 9:
        band = ("very_high", "极高危")
    elif total <= 12:
        band = ("high", "高危")
    elif total <= 14:
        band = ("moderate", "中危")
    elif total <= 18:
        band = ("mild", "低危")
    else:
        band = ("none", "无风险")
    return {"total": total, "band": band[0], "band_name": band[1]}


def gds15(answers: dict[str, Any]) -> Any:
    if set(answers) != {f"q{n}" for n in range(1, 16)}:
        return None
    if any(v not in ("yes", "no") or type(v) is not str for v in answers.values()):
        return None
    total = sum(
        (v == "no") if int(k[1:]) in GDS_NO_ITEMS else (v == "yes") for k, v in answers.items()
    )
    if total <= 4:
        band = ("normal", "正常")
    elif total <= 8:
        band = ("mild", "轻度抑郁")
    elif total <= 11:
        band = ("moderate", "中度抑郁")
    else:
        band = ("severe", "重度抑郁")
    return {"total": total, "band": band[0], "band_name": band[1]}


def mna_sf(answers: dict[str, Any]) -> Any:
    f = [k for k in MNA_F if k in answers]
    if len(f) != 1:
        return None
    total = _summed(answers, {**MNA, f[0]: MNA_F[f[0]]})
    if total is None:
        return None
    if total >= 12:
        band = ("normal", "营养正常")
    elif total >= 8:
        band = ("at_risk", "有营养不良风险")
    else:
        band = ("malnourished", "营养不良")
    return {"total": total, "band": band[0], "band_name": band[1]}


def minicog(answers: dict[str, Any]) -> Any:
    total = _summed(answers, MINICOG)
    if total is None:
        return None
    band = ("positive", "筛查阳性") if total < 3 else ("negative", "筛查阴性")
    return {"total": total, "band": band[0], "band_name": band[1]}


# §2 长期护理失能等级评估标准（试行） 2021, re-typed: ADL = the Barthel items above; the
# cognition and perception items score 0–4 each. Grade bands and the level table are the
# [U] rules shipped by the definition, re-typed here as plain arithmetic.
LTC_COGNITION = ("cognition.time", "cognition.person", "cognition.place", "cognition.memory")
LTC_PERCEPTION = ("perception.vision", "perception.hearing", "perception.communication")
LTC_GRADES = (
    ("intact", "能力完好"),
    ("mild", "轻度受损"),
    ("moderate", "中度受损"),
    ("severe", "重度受损"),
)
# LTC_LEVEL[adl grade][worse of cognition / perception grade], grades 0 = intact … 3 = severe
LTC_LEVEL = (
    (0, 0, 1, 1),
    (1, 1, 1, 2),
    (2, 2, 2, 3),
    (3, 3, 4, 5),
)
LTC_NAMES = ("基本正常", "轻度失能", "中度失能", "重度失能Ⅰ级", "重度失能Ⅱ级", "重度失能Ⅲ级")


def ltc_adl_grade(total: int) -> int:
    return 0 if total == 100 else 1 if total >= 65 else 2 if total >= 45 else 3


def ltc_cognition_grade(total: int) -> int:
    return 0 if total == 16 else 1 if total >= 12 else 2 if total >= 4 else 3


def ltc_perception_grade(total: int) -> int:
    return 0 if total == 12 else 1 if total >= 8 else 2 if total >= 4 else 3


def ltc2021(answers: dict[str, Any]) -> Any:
    if set(answers) != set(BARTHEL) | set(LTC_COGNITION) | set(LTC_PERCEPTION):
        return None
    for k, v in answers.items():
        allowed = BARTHEL.get(k, {0, 1, 2, 3, 4})
        if not _int(v) or v not in allowed:
            return None
    adl = sum(answers[k] for k in BARTHEL)
    cog = sum(answers[k] for k in LTC_COGNITION)
    per = sum(answers[k] for k in LTC_PERCEPTION)
    g = (ltc_adl_grade(adl), ltc_cognition_grade(cog), ltc_perception_grade(per))
    level = LTC_LEVEL[g[0]][max(g[1], g[2])]
    return {
        "total": adl,
        "domains": {"adl": adl, "cognition": cog, "perception": per},
        "indicator_grades": {
            name: {"code": LTC_GRADES[i][0], "name": LTC_GRADES[i][1]}
            for name, i in zip(("adl", "cognition", "perception"), g, strict=True)
        },
        "level": level,
        "level_name": LTC_NAMES[level],
    }


# AD8 (Galvin et al. 2005): 8 items, "yes" = 1, "no" / "dont_know" = 0; ≥ 2 positive.
AD8_ANSWERS = ("yes", "no", "dont_know")


def ad8(answers: dict[str, Any]) -> Any:
    if set(answers) != {f"q{n}" for n in range(1, 9)}:
        return None
    if any(type(v) is not str or v not in AD8_ANSWERS for v in answers.values()):
        return None
    total = sum(v == "yes" for v in answers.values())
    band = ("positive", "筛查阳性") if total >= 2 else ("negative", "筛查阴性")
    return {"total": total, "band": band[0], "band_name": band[1]}
