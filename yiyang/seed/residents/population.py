"""What the synthetic population rests on (people aged 60 and over, China's 7th census,
2020, and national surveys; rounded):

* ages 60–100: 55 % are 60–69, 30 % 70–79, 13 % 80–89, 2 % 90+ (so about 72 % are 65+);
  women outnumber men more the older the age band;
* about 55 % live as a couple (both in the registry, one household); most others alone or
  with children; about 12 % live alone;
* empty-nest about half of the rural elderly, a little less in towns; left-behind (children
  working away) a share of the rural empty-nest; minimum living allowance ~5 %, extreme
  poverty ~1.5 % (rural), veterans ~1 %;
* urban-rural resident basic medical insurance for most, employee insurance mainly in
  towns; long-term-care insurance in the pilot counties;
* care at home ~90 %, in the community ~7 %, in an institution ~3 % (more of the very old);
* hypertension about half of the 65+, diabetes ~20 %, coronary heart disease, stroke
  sequelae, COPD and dementia at lower, age-rising rates; each with the usual long-term
  medication.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from yiyang.residents.models import Insurance

# Share of people 60+ per age band (7th census) and, within 90–100, a steep decline.
AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (60, 69, 0.55),
    (70, 79, 0.30),
    (80, 89, 0.13),
    (90, 100, 0.02),
)


def _age_table() -> tuple[list[int], list[float]]:
    ages: list[int] = []
    weights: list[float] = []
    for low, high, share in AGE_BANDS:
        years = list(range(low, high + 1))
        if low >= 90:
            raw = [0.72**i for i in range(len(years))]
        elif low >= 80:
            raw = [0.93**i for i in range(len(years))]
        else:
            raw = [1.0] * len(years)
        total = sum(raw)
        ages += years
        weights += [share * w / total for w in raw]
    cum: list[float] = []
    running = 0.0
    for w in weights:
        running += w
        cum.append(running)
    return ages, [c / running for c in cum]


AGES, AGE_CUM = _age_table()

# Per decade of the household's age: chance of a couple (both 60+, one household), and the
# share of women among people living without a spouse (widows outlive widowers).
COUPLE_SHARE = {6: 0.50, 7: 0.40, 8: 0.22, 9: 0.08, 10: 0.05}
SINGLE_FEMALE = {6: 0.42, 7: 0.62, 8: 0.72, 9: 0.8, 10: 0.8}
LIVING_ALONE_OF_SINGLES = 0.29  # of those not in a nursing home
GRID_SHARE = 0.85  # residents of a village with grids assigned to one of them
PHONE_SHARE = 0.70
ETHNICITIES = ("壮族", "回族", "满族", "土家族", "苗族", "彝族", "蒙古族", "侗族")


@dataclass(frozen=True)
class Disease:
    icd10: str
    name: str
    rate: tuple[float, float, float, float]  # by age band 60s, 70s, 80s, 90+
    male_factor: float = 1.0
    # (medicine, dose, frequency, route, weight); one is drawn per diagnosis
    medicines: tuple[tuple[str, str, str, str, float], ...] = ()
    extra: tuple[tuple[str, str, str, str], ...] = ()  # also given, when not already taken


HYPERTENSION = "I10"
DIABETES = "E11"
DEMENTIA = "F03"
DISEASES: tuple[Disease, ...] = (
    Disease(
        HYPERTENSION,
        "原发性高血压",
        (0.44, 0.53, 0.56, 0.55),
        medicines=(
            ("氨氯地平片", "5mg", "qd", "口服", 0.4),
            ("硝苯地平缓释片", "20mg", "bid", "口服", 0.2),
            ("缬沙坦胶囊", "80mg", "qd", "口服", 0.2),
            ("厄贝沙坦片", "150mg", "qd", "口服", 0.1),
            ("美托洛尔缓释片", "47.5mg", "qd", "口服", 0.1),
        ),
    ),
    Disease(
        DIABETES,
        "2型糖尿病",
        (0.19, 0.21, 0.19, 0.15),
        medicines=(
            ("二甲双胍片", "0.5g", "tid", "口服", 0.55),
            ("阿卡波糖片", "50mg", "tid", "口服", 0.2),
            ("格列美脲片", "2mg", "qd", "口服", 0.15),
            ("甘精胰岛素注射液", "10U", "qn", "皮下注射", 0.1),
        ),
    ),
    Disease(
        "I25.1",
        "冠状动脉粥样硬化性心脏病",
        (0.06, 0.10, 0.13, 0.13),
        male_factor=1.2,
        medicines=(("阿司匹林肠溶片", "100mg", "qd", "口服", 1.0),),
        extra=(("阿托伐他汀钙片", "20mg", "qn", "口服"),),
    ),
    Disease(
        "I69.3",
        "脑梗死后遗症",
        (0.03, 0.05, 0.07, 0.07),
        male_factor=1.3,
        medicines=(
            ("阿司匹林肠溶片", "100mg", "qd", "口服", 0.6),
            ("氯吡格雷片", "75mg", "qd", "口服", 0.4),
        ),
        extra=(("阿托伐他汀钙片", "20mg", "qn", "口服"),),
    ),
    Disease(
        "J44.9",
        "慢性阻塞性肺疾病",
        (0.05, 0.08, 0.10, 0.10),
        male_factor=1.6,
        medicines=(("噻托溴铵粉吸入剂", "18μg", "qd", "吸入", 1.0),),
    ),
    Disease(
        DEMENTIA,
        "痴呆",
        (0.02, 0.05, 0.14, 0.25),
        medicines=(
            ("多奈哌齐片", "5mg", "qn", "口服", 0.7),
            ("美金刚片", "10mg", "bid", "口服", 0.3),
        ),
    ),
)


def insurance_for(rural: bool, roll: float) -> str:
    """The household's medical insurance from its roll: employee insurance mainly in
    towns, the urban-rural resident scheme for most, none for a few."""
    if roll < (0.08 if rural else 0.5):
        return Insurance.EMPLOYEE
    if roll < 0.98:
        return Insurance.URBAN_RURAL
    return Insurance.NONE


def birth_ranges(today: datetime.date) -> dict[int, tuple[int, int]]:
    """Birth-date range per age on ``today`` (ordinals, inclusive)."""
    ranges: dict[int, tuple[int, int]] = {}
    for age in range(AGES[0], AGES[-1] + 1):
        latest = _years_before(today, age)
        earliest = _years_before(today, age + 1) + datetime.timedelta(days=1)
        ranges[age] = (earliest.toordinal(), latest.toordinal())
    return ranges


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
