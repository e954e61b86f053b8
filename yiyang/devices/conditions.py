"""The conditions of alert rules, as pure functions (no database): the metrics a rule can
test and its comparisons (``METRICS``, ``OPS``), checking a conditions list for a rule
edit or an override (``check_conditions``), a reading's metrics and summary facts
(``metrics_of``, ``facts_of``), whether a reading scores NEWS2 points at all
(``news2_scores``), and whether conditions hold on them — the exact
definition (``compile_conditions``, ``holds``, with decimals) and the plain-number fast
path the evaluation runs (``plain_conditions``, ``plain_metrics``, ``plain_holds``), which
``tests/test_fast_paths.py`` checks against the exact one. A reading is anything with a
``kind`` and ``values`` (a ``Reading`` or the ``Fresh`` row of
``yiyang.devices.services.alerts``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from django.utils.translation import gettext as _

from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.devices import news2, summaries

OPS = {
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
}
METRICS = {"bp.sys", "bp.dia", "hr", "glucose.mmol", "spo2.spo2", "temp.c", "weight.kg",
           "battery.pct", "news2.total", "news2.max"}  # fmt: skip


class ReadingLike(Protocol):
    """What the conditions read of a reading: its kind and its values."""

    @property
    def kind(self) -> str: ...

    @property
    def values(self) -> Any: ...


def metrics_of(reading: ReadingLike) -> dict[str, Decimal]:
    """The values a rule can test, by metric name (any heart rate is ``hr``)."""
    out: dict[str, Decimal] = {}
    for key, value in (reading.values or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        name = "hr" if key == "hr" else f"{reading.kind}.{key}"
        out[name] = Decimal(str(value))
    return out


def check_conditions(conditions: Any) -> list[dict[str, Any]]:
    """Validate a conditions list (for rule edits and overrides); ``ValidationFailed``."""
    if not isinstance(conditions, list):
        raise ValidationFailed(
            CommonError.INVALID, _("Conditions must be a list."), field="conditions"
        )
    for i, c in enumerate(conditions):
        if (
            not isinstance(c, dict)
            or set(c) != {"metric", "op", "value"}
            or c["metric"] not in METRICS
            or c["op"] not in OPS
            or isinstance(c["value"], bool)
            or not isinstance(c["value"], int | float)
        ):
            raise ValidationFailed(
                CommonError.INVALID,
                _("Condition %(n)s must be {metric, op, value} with a known metric and op.")
                % {"n": i + 1},
                field="conditions",
            )
    return conditions


Compiled = tuple[tuple[str, Callable[[Decimal, Decimal], bool], Decimal], ...]


def compile_conditions(conditions: list[dict[str, Any]]) -> Compiled:
    """(metric, comparison, threshold) of each condition, thresholds as exact decimals."""
    return tuple((c["metric"], OPS[c["op"]], Decimal(str(c["value"]))) for c in conditions)


def holds(compiled: Compiled, values: dict[str, Decimal]) -> bool:
    """Whether ANY of the compiled conditions holds on the metrics ``values`` — the exact
    (``Decimal``) definition; ``evaluate`` uses the plain-number fast path, which
    ``tests/test_fast_paths.py`` checks against this one."""
    for metric, op, threshold in compiled:
        value = values.get(metric)
        if value is not None and op(value, threshold):
            return True
    return False


# The evaluation's own fast path. Each value is compared as the number it is (an int or a
# float from JSON), not through ``Decimal(str(value))``: a finite float's shortest repr is
# a strictly increasing function of the float, and an int (here far below 2**53) is a
# float exactly, so every comparison comes out as between the exact decimals above.
FAST_OPS = {"ge": operator.ge, "gt": operator.gt, "le": operator.le, "lt": operator.lt}
Plain = tuple[tuple[str, Callable[[Any, Any], bool], int | float], ...]


def plain_conditions(conditions: list[dict[str, Any]]) -> Plain:
    """``compile_conditions`` without the decimals (see ``FAST_OPS``)."""
    return tuple((c["metric"], FAST_OPS[c["op"]], c["value"]) for c in conditions)


def plain_metrics(reading: ReadingLike) -> dict[str, int | float]:
    """``metrics_of`` without the decimals (see ``FAST_OPS``)."""
    out: dict[str, int | float] = {}
    kind = reading.kind
    for key, value in (reading.values or {}).items():
        if value.__class__ is bool or not isinstance(value, int | float):
            continue
        out["hr" if key == "hr" else f"{kind}.{key}"] = value
    return out


def plain_holds(compiled: Plain, values: dict[str, int | float]) -> bool:
    """``holds`` without the decimals (see ``FAST_OPS``)."""
    for metric, op, threshold in compiled:
        value = values.get(metric)
        if value is not None and op(value, threshold):
            return True
    return False


def news2_scores(reading: ReadingLike) -> bool:
    """Whether any NEWS2 parameter of the reading scores points."""
    values = reading.values or {}
    for key, parameter in news2.FROM_READING[reading.kind].items():
        value = values.get(key)
        if value is None or value.__class__ is bool or not isinstance(value, int | float):
            continue
        if news2.points(parameter, value) > 0:
            return True
    return False


def facts_of(reading: ReadingLike) -> dict[str, Any]:
    """The facts of a reading's alert summary (``summaries.reading_facts``)."""
    return summaries.reading_facts(reading.kind, reading.values)
