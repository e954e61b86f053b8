"""The LOINC codes the health record uses for observations: label, canonical unit, the
units accepted on input (with their conversion), physiologically plausible range and the
precision a value is stored with.

The canonical unit is what ``Observation.unit`` stores; a value entered in another accepted
unit (``mg/dL`` glucose, ``kPa`` blood pressure, ``°F``, ``斤``, ``lb``, ``m``) is converted
explicitly and stored in the canonical unit. The plausible range is about what a human
body can show (and a meter can measure), not about what is normal: a value outside it is
a typing or device error and is refused with the range in the message.

Blood pressure is a panel (``BP_PANEL``): systolic and diastolic (and the heart rate when
measured with them) are rows sharing ``Observation.panel``. BMI is never entered: it is
derived from weight and height (``residents.services.observations``, ADR 0012).

The seed and the devices write rows directly: they use ``CODES[code].unit`` and keep
values inside ``low``–``high``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"
HEART_RATE = "8867-4"
GLUCOSE_FASTING = "14771-0"
GLUCOSE_RANDOM = "15074-8"
SPO2 = "59408-5"
TEMPERATURE = "8310-5"
WEIGHT = "29463-7"
HEIGHT = "8302-2"
BMI = "39156-5"
# "Blood pressure panel with all children optional": the panel's own code (for exchange
# formats; the rows of a panel carry their own codes and share ``Observation.panel``).
BP_PANEL = "85354-9"

GLUCOSE_MG_PER_MMOL = Decimal("18.016")  # glucose, 180.16 g/mol
KPA_TO_MMHG = Decimal("7.50062")


@dataclass(frozen=True)
class Code:
    code: str
    key: str  # a short name accepted in place of the code (API, forms)
    label: str | Promise
    short: str | Promise  # for chart legends and narrow tables
    unit: str  # the canonical unit, stored in ``Observation.unit``
    low: Decimal  # plausible range, inclusive, in the canonical unit
    high: Decimal
    decimals: int  # stored precision (values are rounded half-up to it)
    # other units accepted on input → conversion to the canonical unit
    conversions: dict[str, Callable[[Decimal], Decimal]] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()  # other spellings of the canonical unit

    def quantize(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_UP)

    @property
    def units(self) -> tuple[str, ...]:
        """Every unit accepted on input (canonical first)."""
        return (self.unit, *self.conversions)

    def in_range(self, value: Decimal) -> bool:
        return self.low <= value <= self.high

    def range_text(self) -> str:
        return f"{self.low}–{self.high} {self.unit}"


def _fahrenheit(value: Decimal) -> Decimal:
    return (value - 32) * 5 / 9


CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code(
            SYSTOLIC,
            "systolic",
            _("Systolic blood pressure"),
            _("Systolic"),
            "mmHg",
            Decimal(50),
            Decimal(300),
            0,
            {"kPa": lambda v: v * KPA_TO_MMHG},
            ("mm[Hg]", "mmhg"),
        ),
        Code(
            DIASTOLIC,
            "diastolic",
            _("Diastolic blood pressure"),
            _("Diastolic"),
            "mmHg",
            Decimal(20),
            Decimal(200),
            0,
            {"kPa": lambda v: v * KPA_TO_MMHG},
            ("mm[Hg]", "mmhg"),
        ),
        Code(
            HEART_RATE,
            "heart_rate",
            _("Heart rate"),
            _("Heart rate"),
            "/min",
            Decimal(20),
            Decimal(250),
            0,
            {},
            ("bpm", "beats/min", "次/分"),
        ),
        Code(
            GLUCOSE_FASTING,
            "glucose_fasting",
            _("Fasting blood glucose"),
            _("Fasting glucose"),
            "mmol/L",
            Decimal("1.0"),
            Decimal("40.0"),
            1,
            {"mg/dL": lambda v: v / GLUCOSE_MG_PER_MMOL},
            ("mmol/l",),
        ),
        Code(
            GLUCOSE_RANDOM,
            "glucose_random",
            _("Random blood glucose"),
            _("Random glucose"),
            "mmol/L",
            Decimal("1.0"),
            Decimal("40.0"),
            1,
            {"mg/dL": lambda v: v / GLUCOSE_MG_PER_MMOL},
            ("mmol/l",),
        ),
        Code(
            SPO2,
            "spo2",
            _("Oxygen saturation (SpO2)"),
            _("SpO2"),
            "%",
            Decimal(50),
            Decimal(100),
            0,
        ),
        Code(
            TEMPERATURE,
            "temperature",
            _("Body temperature"),
            _("Temperature"),
            "°C",
            Decimal("30.0"),
            Decimal("45.0"),
            1,
            {"°F": _fahrenheit},
            ("Cel", "℃", "C"),
        ),
        Code(
            WEIGHT,
            "weight",
            _("Body weight"),
            _("Weight"),
            "kg",
            Decimal("20.0"),
            Decimal("300.0"),
            1,
            {"斤": lambda v: v / 2, "lb": lambda v: v * Decimal("0.45359237")},
            ("KG",),
        ),
        Code(
            HEIGHT,
            "height",
            _("Body height"),
            _("Height"),
            "cm",
            Decimal("100.0"),
            Decimal("230.0"),
            1,
            {"m": lambda v: v * 100},
        ),
        Code(
            BMI,
            "bmi",
            _("Body mass index (BMI)"),
            _("BMI"),
            "kg/m2",
            Decimal("8.0"),
            Decimal("80.0"),
            1,
            {},
            ("kg/m²",),
        ),
    )
}

BY_KEY: dict[str, Code] = {c.key: c for c in CODES.values()}

# What may be recorded on its own (systolic/diastolic only as a panel, BMI only derived).
SINGLE_CODES: tuple[str, ...] = (
    GLUCOSE_FASTING,
    GLUCOSE_RANDOM,
    HEART_RATE,
    SPO2,
    TEMPERATURE,
    WEIGHT,
    HEIGHT,
)
# The order of the "latest vitals" summary.
SUMMARY_CODES: tuple[str, ...] = (
    SYSTOLIC,
    DIASTOLIC,
    HEART_RATE,
    GLUCOSE_FASTING,
    GLUCOSE_RANDOM,
    SPO2,
    TEMPERATURE,
    WEIGHT,
    HEIGHT,
    BMI,
)

# Reference lines of the charts (Chinese guidelines: hypertension ≥ 140/90 mmHg; diabetes
# fasting plasma glucose ≥ 7.0 mmol/L, random ≥ 11.1 mmol/L).
BP_LIMITS = (Decimal(140), Decimal(90))
GLUCOSE_LIMITS = (Decimal("7.0"), Decimal("11.1"))


def lookup(code_or_key: str) -> Code | None:
    """The code for a LOINC code (``8480-6``) or its key (``systolic``); ``None`` if
    unknown."""
    text = (code_or_key or "").strip()
    return CODES.get(text) or BY_KEY.get(text.lower())


def label(code: str) -> str:
    """The (translated) label of a code; the code itself when unknown."""
    found = CODES.get(code)
    return str(found.label) if found else code


def canonical_unit(code: Code, unit: str | None) -> str | None:
    """The canonical spelling of ``unit`` for ``code`` if it is the canonical unit or one of
    its aliases (``None`` or "" mean the canonical unit); ``None`` when it is not."""
    if unit is None or unit.strip() == "":
        return code.unit
    text = unit.strip()
    if text == code.unit or text in code.aliases:
        return code.unit
    return None


def convert(code: Code, value: Decimal, unit: str | None) -> Decimal | None:
    """``value`` in the canonical unit, rounded to the code's precision; ``None`` when
    ``unit`` is neither the canonical unit, an alias nor a convertible unit."""
    if canonical_unit(code, unit) is not None:
        return code.quantize(value)
    assert unit is not None
    convert_from = code.conversions.get(unit.strip())
    if convert_from is None:
        return None
    return code.quantize(convert_from(value))
