"""Shipped instrument definitions (data, not code).

Each module exports ``DEFINITION``: a JSON-serialisable dict with ``code``, ``version``,
``kind`` (which scoring routine of ``yiyang.assessments.scoring`` reads it), ``name``
(zh/en), ``source`` (document + edition), ``items``, and kind-specific tables (domains,
bands, level-change settings, constitutions). ``unverified`` lists the rules marked [U]
in docs/standards.md — shipped as data and flagged, never silent constants.

Changing a definition means adding a NEW module (or a new dict) with a new ``version``;
``yiyang.assessments.sync.sync_instruments`` refuses to overwrite a stored version whose
definition differs.
"""

from __future__ import annotations

from typing import Any

from yiyang.assessments.instruments import (
    ad8,
    barthel,
    braden,
    gbt42195_2022,
    gds_15,
    ltc_disability_2021,
    mini_cog,
    mna_sf,
    morse_fall,
    selfcare_5,
    tcm_constitution,
)

DEFINITIONS: tuple[dict[str, Any], ...] = (
    gbt42195_2022.DEFINITION,
    barthel.DEFINITION,
    selfcare_5.DEFINITION,
    tcm_constitution.DEFINITION,
    morse_fall.DEFINITION,
    braden.DEFINITION,
    gds_15.DEFINITION,
    mna_sf.DEFINITION,
    mini_cog.DEFINITION,
    ltc_disability_2021.DEFINITION,
    ad8.DEFINITION,
)


def current(code: str) -> dict[str, Any] | None:
    """The newest shipped definition of ``code`` (the last one listed), or None."""
    found = [d for d in DEFINITIONS if d["code"] == code]
    return found[-1] if found else None
