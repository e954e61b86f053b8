"""Prescription abbreviations in words (qd → 每日一次, po → 口服), for readers who are not
clinicians: the resident's plain home page and the medication list."""

from __future__ import annotations

import re

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Prescription frequency abbreviations (Latin, as written on Chinese prescriptions too) in
# words. Matched case-insensitively, dots and spaces ignored ("q.d.", "Q D" → qd).
FREQUENCIES: dict[str, Promise] = {
    "qd": _("once a day"),
    "od": _("once a day"),
    "bid": _("twice a day"),
    "tid": _("three times a day"),
    "qid": _("four times a day"),
    "qn": _("once every night"),
    "hs": _("at bedtime"),
    "qm": _("once every morning"),
    "qod": _("every other day"),
    "qw": _("once a week"),
    "biw": _("twice a week"),
    "tiw": _("three times a week"),
    "q4h": _("every 4 hours"),
    "q6h": _("every 6 hours"),
    "q8h": _("every 8 hours"),
    "q12h": _("every 12 hours"),
    "prn": _("when needed"),
    "sos": _("when needed"),
    "st": _("at once"),
    "stat": _("at once"),
    "ac": _("before meals"),
    "pc": _("after meals"),
}
ROUTES: dict[str, Promise] = {
    "po": _("by mouth"),
    "oral": _("by mouth"),
    "ih": _("injection under the skin"),
    "sc": _("injection under the skin"),
    "im": _("injection into the muscle"),
    "iv": _("into a vein (drip or injection)"),
    "ivgtt": _("into a vein (drip or injection)"),
    "sl": _("under the tongue"),
    "inh": _("inhaled"),
    "top": _("on the skin"),
}


def _key(text: str) -> str:
    return re.sub(r"[\s.]", "", text or "").lower()


def frequency_words(frequency: str) -> str:
    """A prescription frequency in words; text that is not a known abbreviation (already
    words, e.g. 每日一次) is shown as written."""
    words = FREQUENCIES.get(_key(frequency))
    return str(words) if words is not None else (frequency or "").strip()


def route_words(route: str) -> str:
    words = ROUTES.get(_key(route))
    return str(words) if words is not None else (route or "").strip()
