"""Resident ID number (居民身份证号码) rules, standards.md §6.

Pure functions, no database: parse and validate an 18-character number, derive the
region, birth date and sex from it, compute the check character, mask it for display,
and build valid numbers for seeds and tests.

Layout: 6-digit region + 8-digit birth date (YYYYMMDD) + 3-digit sequence (odd = male,
even = female) + check character. Check = CHECK[sum(d_i * w_i) mod 11] over the first 17
digits with WEIGHTS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiyang.common.errors import ValidationFailed
from yiyang.residents.errors import ResidentError

LENGTH = 18
FIELD = "id_number"
MIN_BIRTH_YEAR = 1900

PROVINCE_CODES: frozenset[str] = frozenset(
    f"{code:02d}"
    for code in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        91,
    )
)

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def check_character(first17: str) -> str:
    """The check character for the first 17 digits of a number."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK[total % 11]


@dataclass(frozen=True)
class IdNumber:
    """A valid resident ID number and what it encodes."""

    value: str
    region_code: str
    birth_date: date
    sequence: str
    sex: str  # "M" (odd sequence) or "F" (even sequence)

    def age_on(self, day: date) -> int:
        """Completed years of age on ``day`` (a 29 February birthday counts from 1 March)."""
        if day < self.birth_date:
            raise ValueError(f"{day.isoformat()} is before the birth date")
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (1 if before_birthday else 0)

    @property
    def masked(self) -> str:
        """First 4 and last 4 characters, stars between: ``1101**********002X``."""
        return self.value[:4] + "*" * (LENGTH - 8) + self.value[-4:]

    def __str__(self) -> str:
        return self.masked


def _fail(code: str, detail: str) -> ValidationFailed:
    return ValidationFailed(code, detail, field=FIELD)


def parse_id_number(value: str, *, today: date | None = None) -> IdNumber:
    """Validate ``value`` and return its parts; raise ValidationFailed on any broken rule.

    Surrounding whitespace is ignored and a lower-case ``x`` is accepted (stored upper-case).
    """
    text = value.strip().upper()

    if len(text) != LENGTH:
        raise _fail(
            ResidentError.ID_LENGTH,
            ngettext(
                "The ID number must be 18 characters long; %(count)d character was given.",
                "The ID number must be 18 characters long; %(count)d characters were given.",
                len(text),
            )
            % {"count": len(text)},
        )

    for position, char in enumerate(text[:17], start=1):
        if not ("0" <= char <= "9"):
            raise _fail(
                ResidentError.ID_DIGITS,
                _(
                    "The first 17 characters of the ID number must be digits; "
                    "character %(position)d is “%(char)s”."
                )
                % {"position": position, "char": char},
            )

    last = text[17]
    if not ("0" <= last <= "9" or last == "X"):
        raise _fail(
            ResidentError.ID_CHECK_CHAR_FORMAT,
            _("The last character of the ID number must be a digit or X, not “%(char)s”.")
            % {"char": last},
        )

    province = text[:2]
    if province not in PROVINCE_CODES:
        raise _fail(
            ResidentError.ID_PROVINCE,
            _("The ID number starts with %(code)s, which is not a province code.")
            % {"code": province},
        )

    birth_text = text[6:14]
    year, month, day = int(birth_text[:4]), int(birth_text[4:6]), int(birth_text[6:8])
    if year < MIN_BIRTH_YEAR:
        raise _fail(
            ResidentError.ID_BIRTH_TOO_EARLY,
            _("The birth year %(year)s in the ID number is before 1900.")
            % {"year": birth_text[:4]},
        )
    try:
        birth_date = date(year, month, day)
    except ValueError:
        raise _fail(
            ResidentError.ID_BIRTH_DATE,
            _("The birth date %(digits)s in the ID number is not a real date.")
            % {"digits": birth_text},
        ) from None

    reference = today if today is not None else timezone.localdate()
    if birth_date > reference:
        raise _fail(
            ResidentError.ID_BIRTH_FUTURE,
            _("The birth date %(date)s in the ID number is in the future.")
            % {"date": birth_date.isoformat()},
        )

    expected = check_character(text[:17])
    if last != expected:
        raise _fail(
            ResidentError.ID_CHECKSUM,
            _(
                "The check character of the ID number is wrong: expected %(expected)s, "
                "got %(given)s. Please check the number for a typing error."
            )
            % {"expected": expected, "given": last},
        )

    sequence = text[14:17]
    return IdNumber(
        value=text,
        region_code=text[:6],
        birth_date=birth_date,
        sequence=sequence,
        sex="M" if int(sequence) % 2 == 1 else "F",
    )


def make_id_number(region_code: str, birth_date: date, sequence: int) -> str:
    """Build a valid 18-character number (for seeds and tests)."""
    if len(region_code) != 6 or not (region_code.isascii() and region_code.isdigit()):
        raise ValueError(f"region_code must be 6 digits, got {region_code!r}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0-999, got {sequence}")
    birth = f"{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}"
    first17 = f"{region_code}{birth}{sequence:03d}"
    return first17 + check_character(first17)
