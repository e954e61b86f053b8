"""Builders shared by the instrument definitions: plain dicts, so a definition stays data."""

from __future__ import annotations

from typing import Any


def option(score: int, zh: str, en: str, anchor_zh: str, anchor_en: str) -> dict[str, Any]:
    """An answer option: its score, short labels and anchor descriptions (zh/en)."""
    return {
        "score": score,
        "label_zh": zh,
        "label_en": en,
        "anchor_zh": anchor_zh,
        "anchor_en": anchor_en,
    }


def item(code: str, zh: str, en: str, options: list[dict[str, Any]]) -> dict[str, Any]:
    return {"code": code, "label_zh": zh, "label_en": en, "options": options}
