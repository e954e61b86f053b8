"""NEWS2 (National Early Warning Score 2, Royal College of Physicians 2017; standards.md §7)
over the parameters home devices measure.

Devices measure SpO2, systolic blood pressure, pulse and temperature; they do not measure
the respiration rate, consciousness (ACVPU) or whether the resident is on supplemental
oxygen. The score computed here is therefore a LOWER BOUND of the true NEWS2 (the missing
parameters can only add points; "on oxygen" is taken as "no", i.e. SpO2 scale 1) and is
marked unverified: a lower bound at or above a threshold means the true score is too, so
an alert on it is never a false "raised" — but a low value does not clear the resident.

Bands as published (integers for SpO2, blood pressure and pulse; one decimal for
temperature). A device value between two published integers (a pulse of 130.5) falls in
the worse band: each band is written as "below the next band's lower edge" on the low
side and "above the previous band's upper edge" on the high side.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

SOURCE = "NEWS2, Royal College of Physicians 2017 (standards.md §7)"

# Per parameter: ordered (test, edge, points); the first test that holds gives the points.
# "lt"/"le" on the low side, "le"/"gt" on the high side.
Band = tuple[str, Decimal, int]

_D = Decimal
TABLES: dict[str, tuple[Band, ...]] = {
    # SpO2 scale 1 (%): ≤ 91 → 3, 92–93 → 2, 94–95 → 1, ≥ 96 → 0.
    "spo2": (("lt", _D(92), 3), ("lt", _D(94), 2), ("lt", _D(96), 1), ("ge", _D(96), 0)),
    # Systolic BP (mmHg): ≤ 90 → 3, 91–100 → 2, 101–110 → 1, 111–219 → 0, ≥ 220 → 3.
    "sbp": (
        ("lt", _D(91), 3),
        ("lt", _D(101), 2),
        ("lt", _D(111), 1),
        ("le", _D(219), 0),
        ("gt", _D(219), 3),
    ),
    # Pulse (/min): ≤ 40 → 3, 41–50 → 1, 51–90 → 0, 91–110 → 1, 111–130 → 2, ≥ 131 → 3.
    "pulse": (
        ("lt", _D(41), 3),
        ("lt", _D(51), 1),
        ("le", _D(90), 0),
        ("le", _D(110), 1),
        ("le", _D(130), 2),
        ("gt", _D(130), 3),
    ),
    # Temperature (°C): ≤ 35.0 → 3, 35.1–36.0 → 1, 36.1–38.0 → 0, 38.1–39.0 → 1, ≥ 39.1 → 2.
    "temp": (
        ("le", _D("35.0"), 3),
        ("le", _D("36.0"), 1),
        ("le", _D("38.0"), 0),
        ("le", _D("39.0"), 1),
        ("gt", _D("39.0"), 2),
    ),
}
MISSING = ("respiration rate", "consciousness", "supplemental oxygen")

_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


# The bands with float edges, for int and float values (what devices send): every edge is
# exactly a float, so comparing a float with it gives the same answer as comparing the
# float's decimal ``Decimal(str(value))`` (the shortest repr lies on the same side of a
# float edge as the float itself); an int compares exactly with a float.
_FAST: dict[str, tuple[tuple[Callable[[Any, Any], bool], float, int], ...]] = {
    parameter: tuple((_TESTS[test], float(edge), score) for test, edge, score in bands)
    for parameter, bands in TABLES.items()
}
assert all(Decimal(float(e)) == e for bands in TABLES.values() for _, e, _ in bands)


def points(parameter: str, value: Decimal | int | float | str) -> int:
    """The NEWS2 points of one parameter (``spo2``, ``sbp``, ``pulse``, ``temp``)."""
    if (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and math.isfinite(value)
    ):
        for fast_test, fast_edge, fast_score in _FAST.get(parameter, ()):
            if fast_test(value, fast_edge):
                return fast_score
    if parameter not in TABLES:
        raise ValueError(f"NEWS2 has no device parameter {parameter!r}")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        number = Decimal("NaN")
    if isinstance(value, bool) or not number.is_finite():
        raise ValueError(f"NEWS2 {parameter}: {value!r} is not a number")
    for test, edge, score in TABLES[parameter]:
        if _TESTS[test](number, edge):
            return score
    raise AssertionError(f"the {parameter} bands leave {value!r} out")  # unreachable


@dataclass(frozen=True)
class Score:
    total: int  # the sum over the parameters present: a lower bound of NEWS2
    parts: dict[str, int]  # points by parameter
    values: dict[str, Decimal]

    @property
    def highest(self) -> int:
        return max(self.parts.values(), default=0)

    @property
    def band(self) -> str:
        """low / low-medium (a single 3) / medium (5–6) / high (≥ 7) — of the lower bound."""
        if self.total >= 7:
            return "high"
        if self.total >= 5:
            return "medium"
        if self.highest >= 3:
            return "low-medium"
        return "low"

    def describe(self) -> str:
        shown = ", ".join(f"{k} {self.values[k]:f} ({v})" for k, v in self.parts.items())
        return f"NEWS2 ≥ {self.total} ({self.band}; {shown}; RR, ACVPU, O2 not measured)"


def score(values: Mapping[str, Decimal | int | float | str]) -> Score:
    """Score the parameters present in ``values`` (keys as in ``TABLES``)."""
    parts: dict[str, int] = {}
    kept: dict[str, Decimal] = {}
    for parameter in TABLES:
        if values.get(parameter) is None:
            continue
        kept[parameter] = Decimal(str(values[parameter]))
        parts[parameter] = points(parameter, kept[parameter])
    return Score(total=sum(parts.values()), parts=parts, values=kept)


# Which reading values feed which parameter (docs/device-protocol.md kinds).
FROM_READING: dict[str, dict[str, str]] = {
    "spo2": {"spo2": "spo2", "hr": "pulse"},
    "bp": {"sys": "sbp", "hr": "pulse"},
    "hr": {"hr": "pulse"},
    "temp": {"c": "temp"},
}
KINDS = tuple(FROM_READING)
