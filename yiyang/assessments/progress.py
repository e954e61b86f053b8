"""Partial answers of a draft: one-item checks and the running score shown at the bedside.

Pure functions of the definition (no database). An item is answered either by its score
(an integer among the options' ``score``) or, for items marked ``"answer": "value"`` and
the instruments whose kind answers every item by value, by the option's ``value``.
"""

from __future__ import annotations

from typing import Any

from yiyang.assessments.scoring import ItemError

BY_VALUE_KINDS = frozenset({"selfcare5"})


def _items(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["code"]: item for item in definition["items"]}


def by_value(definition: dict[str, Any], item: dict[str, Any]) -> bool:
    return definition.get("kind") in BY_VALUE_KINDS or item.get("answer") == "value"


def coerce(definition: dict[str, Any], code: str, value: Any) -> Any:
    """A form posts strings: "3" → 3 for items answered by score."""
    item = _items(definition)[code]
    if not by_value(definition, item) and isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def check_one(definition: dict[str, Any], code: str, value: Any) -> ItemError | None:
    """The problem with answering item ``code`` with ``value``, or None."""
    item = _items(definition).get(code)
    if item is None:
        return ItemError(code, "unknown_item", f"{code} is not an item")
    value = coerce(definition, code, value)
    if by_value(definition, item):
        values = [o["value"] for o in item["options"]]
        if not isinstance(value, str):
            return ItemError(code, "wrong_type", f"{code} must be a string")
        if value not in values:
            return ItemError(code, "out_of_range", f"{code} must be one of {', '.join(values)}")
        return None
    scores = [o["score"] for o in item["options"]]
    if not isinstance(value, int) or isinstance(value, bool):
        return ItemError(code, "wrong_type", f"{code} must be an integer")
    if value not in scores:
        allowed = ", ".join(str(s) for s in sorted(scores))
        return ItemError(code, "out_of_range", f"{code} must be one of {allowed}")
    return None


def item_score(definition: dict[str, Any], code: str, value: Any) -> int | None:
    item = _items(definition).get(code)
    if item is None or check_one(definition, code, value) is not None:
        return None
    value = coerce(definition, code, value)
    if by_value(definition, item):
        return next(o["score"] for o in item["options"] if o["value"] == value)
    return int(value)


def domain_of(definition: dict[str, Any], item: dict[str, Any]) -> str | None:
    """The domain code of ``item``: its ``domain`` key, the indicator listing it (LTC
    grade), else the longest domain code that prefixes the item code (``B.1`` for
    ``B.1.3``)."""
    if item.get("domain"):
        return str(item["domain"])
    for indicator in definition.get("indicators", []):
        if item["code"] in indicator.get("items", []):
            return str(indicator["code"])
    best = None
    for d in definition.get("domains", []):
        code = d["code"]
        if item["code"].startswith(code + ".") and (best is None or len(code) > len(best)):
            best = code
    return best


def running(definition: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Answered count, the running sum of the answered items and per-domain running sums
    (only meaningful as a guide: the result is the engine's, on submit)."""
    items = definition["items"]
    total = 0
    answered = 0
    groups = definition.get("domains") or definition.get("indicators") or []
    domains: dict[str, int] = {d["code"]: 0 for d in groups}
    for item in items:
        code = item["code"]
        if code not in answers:
            continue
        points = item_score(definition, code, answers[code])
        if points is None:
            continue
        answered += 1
        total += points
        dom = domain_of(definition, item)
        if dom is not None and dom in domains:
            domains[dom] += points
    optional = sum(len(group) - 1 for group in definition.get("one_of", []))
    return {
        "answered": answered,
        "count": len(items) - optional,
        "total": total,
        "domains": domains,
        "summed": definition.get("kind") != "tcm",
    }
