"""Resident ID number rules (standards.md §6). Pure: no database."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.utils import timezone

from yiyang.common.errors import ValidationFailed
from yiyang.residents.idnumber import (
    CHECK,
    PROVINCE_CODES,
    WEIGHTS,
    IdNumber,
    check_character,
    make_id_number,
    parse_id_number,
)

TODAY = date(2025, 6, 15)
EXAMPLE = "11010519491231002X"


# Messages in English (the root conftest's ``english`` fixture).
pytestmark = pytest.mark.usefixtures("english")


def fail(value: str, *, today: date = TODAY) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        parse_id_number(value, today=today)
    assert info.value.field == "id_number"
    assert info.value.status == 400
    return info.value


# --- constants ---------------------------------------------------------------------------


def test_province_codes_exact() -> None:
    assert sorted(PROVINCE_CODES) == [
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82", "91",
    ]  # fmt: skip


def test_weights_and_check_table() -> None:
    assert WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    assert CHECK == "10X98765432"


# --- check character ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first17", "expected"),
    [
        # 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 -> "X"
        ("11010519491231002", "X"),
        # 7+9+0+0+0+0+2+9+0+0+0+9+0+5+0+0+0 = 41; 41 mod 11 = 8 -> "4"
        ("11000019000101000", "4"),
        # 28+36+0+15+0+16+2+9+54+0+0+9+0+5+0+0+2 = 176; 176 mod 11 = 0 -> "1"
        ("44030419900101001", "1"),
        # 21+18+0+5+0+8+2+9+48+0+0+27+10+25+8+8+6 = 195; 195 mod 11 = 8 -> "4"
        ("32010219800315123", "4"),
        # 42+45+0+5+0+4+4+0+0+0+7+18+30+5+72+36+18 = 286; 286 mod 11 = 0 -> "1"
        ("65010120001231999", "1"),
        # 7+9+0+5+0+4+2+9+54+0+0+27+0+35+64+0+6 = 222; 222 mod 11 = 2 -> "X"
        ("11010119900307803", "X"),
    ],
)
def test_check_character_known_values(first17: str, expected: str) -> None:
    assert check_character(first17) == expected


@pytest.mark.parametrize("bad", ["", "1101051949123100", "110105194912310021", "1101051949123100A"])
def test_check_character_rejects_non_17_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        check_character(bad)


def test_check_character_covers_every_remainder() -> None:
    # Vary only the last digit (weight 2) and the one before (weight 4) to hit all 11 remainders.
    seen = {check_character(f"110105194912310{a}{b}") for a in range(10) for b in range(10)}
    assert seen == set(CHECK)


# --- valid numbers -----------------------------------------------------------------------


def test_standards_example_is_valid() -> None:
    parsed = parse_id_number(EXAMPLE, today=TODAY)
    assert parsed == IdNumber(
        value="11010519491231002X",
        region_code="110105",
        birth_date=date(1949, 12, 31),
        sequence="002",
        sex="F",
    )


def test_lower_case_x_and_whitespace_normalised() -> None:
    parsed = parse_id_number("  11010519491231002x\n", today=TODAY)
    assert parsed.value == "11010519491231002X"
    assert parsed.sex == "F"


def test_odd_sequence_is_male() -> None:
    parsed = parse_id_number("440304199001010011", today=TODAY)
    assert parsed.sequence == "001"
    assert parsed.sex == "M"
    assert parsed.region_code == "440304"
    assert parsed.birth_date == date(1990, 1, 1)


def test_birth_date_today_is_accepted() -> None:
    value = make_id_number("320102", TODAY, 7)
    assert parse_id_number(value, today=TODAY).birth_date == TODAY


def test_birth_year_1900_is_accepted() -> None:
    assert parse_id_number("110000190001010004", today=TODAY).birth_date == date(1900, 1, 1)


def test_leap_day_birth_date_is_accepted() -> None:
    value = make_id_number("110105", date(2000, 2, 29), 12)
    assert parse_id_number(value, today=TODAY).birth_date == date(2000, 2, 29)


def test_default_today_is_local_date() -> None:
    # A number born yesterday (local time) is valid without passing today.
    yesterday = timezone.localdate() - timedelta(days=1)
    assert parse_id_number(make_id_number("110105", yesterday, 1)).birth_date == yesterday
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationFailed) as info:
        parse_id_number(make_id_number("110105", tomorrow, 1))
    assert info.value.code == "id_birth_future"


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("", "The ID number must be 18 characters long; 0 characters were given."),
        ("1", "The ID number must be 18 characters long; 1 character was given."),
        (
            "11010519491231002",
            "The ID number must be 18 characters long; 17 characters were given.",
        ),
        (
            "11010519491231002X1",
            "The ID number must be 18 characters long; 19 characters were given.",
        ),
        (
            "110105 19491231002X",
            "The ID number must be 18 characters long; 19 characters were given.",
        ),
    ],
)
def test_wrong_length(value: str, detail: str) -> None:
    error = fail(value)
    assert error.code == "id_length"
    assert error.detail == detail


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        (
            "A1010519491231002X",
            "The first 17 characters of the ID number must be digits; character 1 is “A”.",
        ),
        (
            "1101051949123100X2",
            "The first 17 characters of the ID number must be digits; character 17 is “X”.",
        ),
        (
            "110105-9491231002X",
            "The first 17 characters of the ID number must be digits; character 7 is “-”.",
        ),
        (
            # Full-width digit: not ASCII, rejected.
            "1101051949123１002X",
            "The first 17 characters of the ID number must be digits; character 14 is “１”.",
        ),
    ],
)
def test_non_digit_in_first_17(value: str, detail: str) -> None:
    error = fail(value)
    assert error.code == "id_digits"
    assert error.detail == detail


@pytest.mark.parametrize("last", ["Y", "-", "*"])
def test_last_character_format(last: str) -> None:
    error = fail("11010519491231002" + last)
    assert error.code == "id_check_char_format"
    assert error.detail == (
        f"The last character of the ID number must be a digit or X, not “{last}”."
    )


@pytest.mark.parametrize("province", ["00", "10", "16", "20", "24", "38", "47", "55", "66", "99"])
def test_unknown_province(province: str) -> None:
    value = make_id_number(province + "0105", date(1949, 12, 31), 2)
    error = fail(value)
    assert error.code == "id_province"
    assert error.detail == f"The ID number starts with {province}, which is not a province code."


@pytest.mark.parametrize("digits", ["19490231", "19491301", "19490001", "19491200", "19000229"])
def test_birth_date_not_real(digits: str) -> None:
    first17 = "110105" + digits + "002"
    error = fail(first17 + check_character(first17))
    assert error.code == "id_birth_date"
    assert error.detail == f"The birth date {digits} in the ID number is not a real date."


def test_birth_date_in_future() -> None:
    value = make_id_number("110105", TODAY + timedelta(days=1), 2)
    error = fail(value)
    assert error.code == "id_birth_future"
    assert error.detail == "The birth date 2025-06-16 in the ID number is in the future."


@pytest.mark.parametrize("year", ["1899", "1800", "0000"])
def test_birth_year_before_1900(year: str) -> None:
    first17 = "110105" + year + "0101" + "002"
    error = fail(first17 + check_character(first17))
    assert error.code == "id_birth_too_early"
    assert error.detail == f"The birth year {year} in the ID number is before 1900."


@pytest.mark.parametrize(
    ("value", "expected", "given"),
    [
        ("110105194912310021", "X", "1"),
        ("44030419900101001X", "1", "X"),
        ("320102198003151230", "4", "0"),
    ],
)
def test_wrong_check_character(value: str, expected: str, given: str) -> None:
    error = fail(value)
    assert error.code == "id_checksum"
    assert error.detail == (
        f"The check character of the ID number is wrong: expected {expected}, got {given}. "
        "Please check the number for a typing error."
    )


def test_every_single_digit_typo_changes_the_check_character() -> None:
    # All weights are non-zero mod 11, so any one changed digit changes the check character.
    for position in range(17):
        for digit in "0123456789":
            if digit == EXAMPLE[position]:
                continue
            typo = EXAMPLE[:position] + digit + EXAMPLE[position + 1 : 17]
            assert check_character(typo) != "X", typo


# --- masking and age ---------------------------------------------------------------------


def test_masked() -> None:
    parsed = parse_id_number(EXAMPLE, today=TODAY)
    assert parsed.masked == "1101**********002X"
    assert str(parsed) == "1101**********002X"
    assert parse_id_number("440304199001010011", today=TODAY).masked == "4403**********0011"


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (date(1949, 12, 31), 0),
        (date(1950, 12, 30), 0),
        (date(1950, 12, 31), 1),
        (date(2024, 12, 30), 74),
        (date(2024, 12, 31), 75),
        (date(2025, 1, 1), 75),
        (date(2025, 6, 15), 75),
    ],
)
def test_age_on(day: date, age: int) -> None:
    assert parse_id_number(EXAMPLE, today=TODAY).age_on(day) == age


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (date(2001, 2, 28), 0),
        (date(2001, 3, 1), 1),
        (date(2004, 2, 28), 3),
        (date(2004, 2, 29), 4),
    ],
)
def test_age_on_leap_day_birthday(day: date, age: int) -> None:
    parsed = parse_id_number(make_id_number("110105", date(2000, 2, 29), 1), today=TODAY)
    assert parsed.age_on(day) == age


def test_age_on_before_birth_is_an_error() -> None:
    with pytest.raises(ValueError):
        parse_id_number(EXAMPLE, today=TODAY).age_on(date(1949, 12, 30))


# --- make_id_number ----------------------------------------------------------------------


def test_make_id_number_standards_example() -> None:
    assert make_id_number("110105", date(1949, 12, 31), 2) == EXAMPLE


@pytest.mark.parametrize(
    ("region", "sequence"), [("11010", 1), ("1101050", 1), ("11010A", 1), ("110105", -1)]
)
def test_make_id_number_rejects_bad_input(region: str, sequence: int) -> None:
    with pytest.raises(ValueError):
        make_id_number(region, date(1949, 12, 31), sequence)


def test_make_id_number_rejects_sequence_over_999() -> None:
    with pytest.raises(ValueError):
        make_id_number("110105", date(1949, 12, 31), 1000)


def test_make_id_number_round_trips() -> None:
    rng = random.Random(1)
    provinces = sorted(PROVINCE_CODES)
    first = date(1900, 1, 1).toordinal()
    last = TODAY.toordinal()
    for _ in range(2000):
        region = rng.choice(provinces) + f"{rng.randrange(10_000):04d}"
        birth = date.fromordinal(rng.randint(first, last))
        sequence = rng.randrange(1000)
        value = make_id_number(region, birth, sequence)
        lower = value.lower() if rng.random() < 0.5 else value
        parsed = parse_id_number(lower, today=TODAY)
        assert parsed.value == value
        assert parsed.region_code == region
        assert parsed.birth_date == birth
        assert parsed.sequence == f"{sequence:03d}"
        assert parsed.sex == ("M" if sequence % 2 else "F")
        assert parsed.masked == value[:4] + "**********" + value[-4:]
        assert parsed.age_on(birth) == 0
