"""The scoring engine: pure functions of (definition, answers, context) — no database.

``score(definition, answers, context)`` returns the result dict of the scoring API or
raises ``ScoringError`` listing EVERY offending item (missing, unknown, wrong type, out of
range, inconsistent context) — never a partial score. Which routine runs is the
definition's ``kind``; every table and threshold comes from the definition.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Result = dict[str, Any]


@dataclass(frozen=True)
class ItemError:
    item: str
    code: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"item": self.item, "code": self.code, "detail": self.detail}


class ScoringError(Exception):
    def __init__(self, errors: list[ItemError]):
        super().__init__("; ".join(f"{e.item}: {e.detail}" for e in errors))
        self.errors = errors


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_answers(
    definition: dict[str, Any],
    answers: Any,
    errors: list[ItemError],
    *,
    optional: frozenset[str] = frozenset(),
    by_value: bool = False,
) -> dict[str, int]:
    """Validate ``answers`` against the definition's items; return item code → score."""
    if not isinstance(answers, dict):
        errors.append(ItemError("answers", "wrong_type", "answers must be an object"))
        return {}
    scores: dict[str, int] = {}
    known = {item["code"]: item for item in definition["items"]}
    for code in answers:
        if code not in known:
            errors.append(ItemError(str(code), "unknown_item", f"{code} is not an item"))
    for code, item in known.items():
        if code not in answers:
            if code not in optional:
                errors.append(ItemError(code, "missing", f"{code} is required"))
            continue
        value = answers[code]
        if by_value or item.get("answer") == "value":
            table = {o["value"]: o["score"] for o in item["options"]}
            if not isinstance(value, str):
                errors.append(ItemError(code, "wrong_type", f"{code} must be a string"))
            elif value not in table:
                allowed = ", ".join(table)
                errors.append(ItemError(code, "out_of_range", f"{code} must be one of {allowed}"))
            else:
                scores[code] = table[value]
            continue
        allowed_scores = [o["score"] for o in item["options"]]
        if not _is_int(value):
            errors.append(ItemError(code, "wrong_type", f"{code} must be an integer"))
        elif value not in allowed_scores:
            allowed = ", ".join(str(s) for s in sorted(allowed_scores))
            errors.append(ItemError(code, "out_of_range", f"{code} must be one of {allowed}"))
        else:
            scores[code] = value
    return scores


def _context(context: Any, errors: list[ItemError], allowed: set[str]) -> dict[str, Any]:
    if context is None:
        return {}
    if not isinstance(context, dict):
        errors.append(ItemError("context", "wrong_type", "context must be an object"))
        return {}
    for key in context:
        if key not in allowed:
            errors.append(ItemError(f"context.{key}", "unknown_context", f"{key} is not known"))
    return context


def _band(bands: list[dict[str, Any]], total: int) -> dict[str, Any]:
    for band in bands:
        if band["min"] <= total <= band["max"]:
            return band
    raise ValueError(f"no band for {total}")  # a definition error, caught by tests


# --- GB/T 42195-2022 ----------------------------------------------------------------------

_ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")


def _in_ranges(code: str, ranges: list[list[str]]) -> bool:
    head = code[:3]
    return any(lo <= head <= hi for lo, hi in ranges)


def score_gbt42195(definition: dict[str, Any], answers: Any, context: Any) -> Result:
    errors: list[ItemError] = []
    scores = _check_answers(definition, answers, errors)
    ctx = _context(context, errors, {"coma", "diagnoses", "risk_events_30d"})
    rules = definition["changes"]
    coma = ctx.get("coma", False)
    if not isinstance(coma, bool):
        errors.append(ItemError("context.coma", "wrong_type", "coma must be true or false"))
        coma = False
    diagnoses = ctx.get("diagnoses", [])
    if not isinstance(diagnoses, list):
        errors.append(ItemError("context.diagnoses", "wrong_type", "diagnoses must be a list"))
        diagnoses = []
    for i, dx in enumerate(diagnoses):
        if not isinstance(dx, str) or not _ICD10.match(dx.strip().upper()):
            errors.append(
                ItemError(f"context.diagnoses[{i}]", "invalid_code", "not an ICD-10 code")
            )
    events = ctx.get("risk_events_30d", 0)
    if not _is_int(events) or events < 0:
        errors.append(
            ItemError(
                "context.risk_events_30d", "wrong_type", "risk_events_30d must be an integer ≥ 0"
            )
        )
        events = 0
    coma_item = rules["coma_item"]
    if coma_item in scores and coma != (scores[coma_item] == rules["coma_item_score"]):
        errors.append(
            ItemError(
                "context.coma",
                "inconsistent_context",
                f"coma must be true exactly when {coma_item} = {rules['coma_item_score']}",
            )
        )
    if errors:
        raise ScoringError(errors)

    domains = {d["code"]: 0 for d in definition["domains"]}
    for code, value in scores.items():
        domains[code.rsplit(".", 1)[0]] += value
    total = sum(domains.values())
    preliminary = _band(definition["levels"], total)["level"]
    codes = [d.strip().upper() for d in diagnoses]
    changes: list[str] = []
    level = preliminary
    if coma:
        level = rules["max_level"]
        changes.append("coma")
    else:
        plus = []
        if any(_in_ranges(c, rules["dementia_ranges"]) for c in codes):
            plus.append("dementia")
        elif any(_in_ranges(c, rules["mental_disorder_ranges"]) for c in codes):
            plus.append("mental_disorder")
        if events >= rules["risk_events_threshold"]:
            plus.append("risk_events")
        if plus and not rules["stack_plus_one"]:
            plus = plus[:1]
        changes.extend(plus)
        level = min(rules["max_level"], preliminary + len(plus))
    name = next(b["name_zh"] for b in definition["levels"] if b["level"] == level)
    return {
        "instrument": definition["code"],
        "version": definition["version"],
        "total": total,
        "domains": domains,
        "preliminary_level": preliminary,
        "level": level,
        "level_name": name,
        "changes": changes,
    }


# --- Barthel, self-care 5 -------------------------------------------------------------------


def score_barthel(definition: dict[str, Any], answers: Any, context: Any) -> Result:
    errors: list[ItemError] = []
    scores = _check_answers(definition, answers, errors)
    ctx = _context(context, errors, {"band_set"})
    band_set = ctx.get("band_set", definition["default_band_set"])
    if not isinstance(band_set, str) or band_set not in definition["band_sets"]:
        sets = ", ".join(definition["band_sets"])
        errors.append(ItemError("context.band_set", "out_of_range", f"band_set must be {sets}"))
    if errors:
        raise ScoringError(errors)
    total = sum(scores.values())
    band = _band(definition["band_sets"][band_set]["bands"], total)
    return {
        "instrument": definition["code"],
        "version": definition["version"],
        "total": total,
        "band": band["code"],
        "band_name": band["name_zh"],
    }


def score_selfcare5(definition: dict[str, Any], answers: Any, context: Any) -> Result:
    errors: list[ItemError] = []
    scores = _check_answers(definition, answers, errors, by_value=True)
    _context(context, errors, set())
    if errors:
        raise ScoringError(errors)
    total = sum(scores.values())
    band = _band(definition["bands"], total)
    return {
        "instrument": definition["code"],
        "version": definition["version"],
        "total": total,
        "band": band["code"],
        "band_name": band["name_zh"],
    }


# --- summed scales (Morse, Braden, GDS-15, MNA-SF, Mini-Cog) ----------------------------


def score_sum(definition: dict[str, Any], answers: Any, context: Any) -> Result:
    """Total of the item scores, banded. Generic options read from the definition:
    an item with ``"answer": "value"`` is answered by option value (e.g. "yes"/"no")
    instead of by score; ``one_of`` lists groups of alternative items of which exactly
    one must be answered (e.g. MNA-SF F1 BMI or F2 calf circumference)."""
    errors: list[ItemError] = []
    groups: list[list[str]] = definition.get("one_of", [])
    optional = frozenset(code for group in groups for code in group)
    scores = _check_answers(definition, answers, errors, optional=optional)
    if isinstance(answers, dict):
        for group in groups:
            given = [code for code in group if code in answers]
            if len(given) != 1:
                names = " or ".join(group)
                problem = "missing" if not given else "both_given"
                for code in group:
                    errors.append(
                        ItemError(code, problem, f"exactly one of {names} must be answered")
                    )
    _context(context, errors, set())
    if errors:
        raise ScoringError(errors)
    total = sum(scores.values())
    band = _band(definition["bands"], total)
    return {
        "instrument": definition["code"],
        "version": definition["version"],
        "total": total,
        "band": band["code"],
        "band_name": band["name_zh"],
    }


# --- TCM constitution ---------------------------------------------------------------------


def bmi_answer(definition: dict[str, Any], bmi: float) -> int:
    for upper, answer in definition["bmi_map"]:
        if upper is None or bmi < upper:
            return int(answer)
    raise ValueError("bmi_map has no open band")


def score_tcm(definition: dict[str, Any], answers: Any, context: Any) -> Result:
    errors: list[ItemError] = []
    ctx = _context(context, errors, {"bmi"})
    bmi = ctx.get("bmi")
    bmi_item = definition["bmi_item"]
    if bmi is not None and (not _is_number(bmi) or not 10 <= bmi <= 80):
        errors.append(ItemError("context.bmi", "out_of_range", "bmi must be a number 10–80"))
        bmi = None
    optional = frozenset({bmi_item}) if bmi is not None else frozenset()
    scores = _check_answers(definition, answers, errors, optional=optional)
    if bmi is not None:
        mapped = bmi_answer(definition, bmi)
        if bmi_item in scores and scores[bmi_item] != mapped:
            errors.append(
                ItemError(
                    bmi_item,
                    "inconsistent_context",
                    f"{bmi_item} = {scores[bmi_item]} but bmi {bmi} maps to {mapped}",
                )
            )
        elif isinstance(answers, dict) and bmi_item not in answers:
            scores[bmi_item] = mapped
    if errors:
        raise ScoringError(errors)

    biased = definition["biased"]
    result_scores: dict[str, int] = {}
    results: dict[str, str] = {}
    order = []
    for c in definition["constitutions"]:
        s = sum(scores[i] for i in c["items"])
        result_scores[c["code"]] = s
        order.append(c["code"])
        if s >= biased["yes_min"]:
            results[c["code"]] = "yes"
        elif s >= biased["tendency_min"]:
            results[c["code"]] = "tendency"
        else:
            results[c["code"]] = "no"
    bal = definition["balanced"]
    b = sum(
        bal["reverse_base"] - scores[i] if i in bal["reverse"] else scores[i] for i in bal["items"]
    )
    worst = max(result_scores.values())
    if b >= bal["min_score"] and worst <= bal["others_max_yes"]:
        balanced = "yes"
    elif b >= bal["min_score"] and worst <= bal["others_max_basically"]:
        balanced = "basically"
    else:
        balanced = "no"
    all_scores = {bal["code"]: b, **result_scores}
    all_results = {bal["code"]: balanced, **results}
    rank = {code: i for i, code in enumerate([bal["code"], *order])}
    primary = sorted(
        (code for code, r in all_results.items() if r == "yes"),
        key=lambda code: (-all_scores[code], rank[code]),
    )
    return {
        "instrument": definition["code"],
        "version": definition["version"],
        "scores": all_scores,
        "results": all_results,
        "primary": primary,
    }


# --- long-term-care disability grade (长期护理失能等级评估标准, 2021) ---------------------


def score_ltc2021(definition: dict[str, Any], answers: Any, context: Any) -> Result:
    """Each indicator's items are summed and banded into a grade (``indicators[].grades``);
    the level is ``matrix.table[row grade][column grade]`` with row = the grade of
    ``matrix.row`` and column = the worst (latest in ``grade_order``) grade of the
    indicators in ``matrix.columns_worst_of``. ``total`` is the sum of ``total_indicator``
    (the ADL total); every indicator's sum is in ``domains``."""
    errors: list[ItemError] = []
    scores = _check_answers(definition, answers, errors)
    _context(context, errors, set())
    if errors:
        raise ScoringError(errors)

    order: list[str] = definition["grade_order"]
    domains: dict[str, int] = {}
    grades: dict[str, dict[str, str]] = {}
    for indicator in definition["indicators"]:
        total = sum(scores[code] for code in indicator["items"])
        band = _band(indicator["grades"], total)
        domains[indicator["code"]] = total
        grades[indicator["code"]] = {"code": band["code"], "name": band["name_zh"]}
    matrix = definition["matrix"]
    row = grades[matrix["row"]]["code"]
    column = max((grades[c]["code"] for c in matrix["columns_worst_of"]), key=order.index)
    level = matrix["table"][row][column]
    name = next(lv["name_zh"] for lv in definition["levels"] if lv["level"] == level)
    return {
        "instrument": definition["code"],
        "version": definition["version"],
        "total": domains[definition["total_indicator"]],
        "domains": domains,
        "indicator_grades": grades,
        "level": level,
        "level_name": name,
    }


SCORERS: dict[str, Callable[[dict[str, Any], Any, Any], Result]] = {
    "gbt42195": score_gbt42195,
    "barthel": score_barthel,
    "selfcare5": score_selfcare5,
    "tcm": score_tcm,
    "sum": score_sum,
    "ltc2021": score_ltc2021,
}


def score(definition: dict[str, Any], answers: Any, context: Any = None) -> Result:
    return SCORERS[definition["kind"]](definition, answers, context)
