"""Synthetic residents with households, contacts, consents and a health record.

Generated per county from ``random.Random(f"residents:{seed}:{county code}")`` (so a county
gets the same people whichever other counties are seeded with it) and written with
``BulkWriter`` (COPY on PostgreSQL): the city preset's million residents and their several
million rows of health data would take hours through the ORM.

What the numbers rest on (people aged 60 and over, China's 7th census, 2020, and national
surveys; rounded):

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

ID numbers are issued in the resident's county: ``make_id_number(county code, birth date,
sequence)`` with the 3-digit sequence counted per (county, birth date, sex) from a random
start (odd for men, even for women), so no two residents of a seeded city share one.
"""

from __future__ import annotations

import bisect
import datetime
import math
import random
import time
import uuid
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from yiyang.common import crypto
from yiyang.network.models import InstitutionType, RegionLevel
from yiyang.residents import loinc
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import (
    CareSetting,
    Condition,
    ConditionStatus,
    Consent,
    ConsentGiver,
    ConsentPurpose,
    Contact,
    Household,
    Insurance,
    Medication,
    Observation,
    ObservationSource,
    Relation,
    Resident,
    ResidentStatus,
    Sex,
)
from yiyang.residents.services.registry import name_pinyin
from yiyang.seed import names
from yiyang.seed.bulk import BulkWriter
from yiyang.seed.network.plan import NetworkPlan
from yiyang.seed.presets import Sizing

# --- population -------------------------------------------------------------------------
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
FIVE_MINUTES = datetime.timedelta(minutes=5)
NINE_HOURS = datetime.timedelta(hours=9)
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


# --- what the generator needs from the network -----------------------------------------
@dataclass
class Village:
    pk: int
    code: str
    name: str
    township: str
    rural: bool
    grids: list[int]
    weight: float


@dataclass
class County:
    code6: str
    index: int
    villages: list[Village]
    care_homes: list[int]  # institutions giving residential care in the county
    care_cum: list[float]
    ltc_pilot: bool


@dataclass
class DemoPeople:
    """The demo's named people: the resident with her own login (in a grid of the demo
    team) and her daughter, whose family login holds a proxy grant (readings and alerts)."""

    resident_user: int
    family_user: int
    grid: int  # a grid served by the demo doctor's team
    resident_id: int = 0
    daughter_contact_id: int = 0
    resident_name: str = ""
    daughter_name: str = ""


@dataclass
class Counters:
    values: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, key: str, n: int = 1) -> None:
        self.values[key] += n


@dataclass(slots=True)
class Person:
    """Who a generated resident is (``ResidentSeeder.identity``)."""

    name: str
    pinyin: str
    initials: str
    birth: datetime.date
    id_number: str
    phone: str
    status: str
    deceased_on: datetime.date | None
    insurance: str
    ltc: bool
    widowed_childless: bool
    veteran: bool
    ethnicity: str


def _insurance(rural: bool, roll: float) -> str:
    """The household's medical insurance from its roll: employee insurance mainly in
    towns, the urban-rural resident scheme for most, none for a few."""
    if roll < (0.08 if rural else 0.5):
        return Insurance.EMPLOYEE
    if roll < 0.98:
        return Insurance.URBAN_RURAL
    return Insurance.NONE


def counties_of(plan: NetworkPlan, seed: int) -> list[County]:
    """The plan's counties with their villages (written: primary keys set), grids and
    residential-care institutions."""
    grids: dict[str, list[int]] = defaultdict(list)
    for grid in plan.grids:
        grids[grid.village.code].append(grid.pk)
    care: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for inst in plan.institutions:
        beds = inst.beds_care or 0
        if inst.type in {InstitutionType.NURSING_HOME, InstitutionType.HAPPINESS_HOME} and beds:
            care[inst.region.code[:6]].append((inst.pk, beds))
    rng = random.Random(f"villages:{seed}")  # noqa: S311 - synthetic data
    out: list[County] = []
    for index, county in enumerate(plan.regions[RegionLevel.COUNTY]):
        code6 = county.code[:6]
        villages = [
            Village(
                pk=v.pk,
                code=v.code,
                name=v.name,
                township=v.parent.name if v.parent else "",
                rural=v.code[9:] >= "200",
                grids=sorted(grids.get(v.code, [])),
                # communities (towns) are bigger than villages
                weight=(1.6 if v.code[9:] < "200" else 1.0) * rng.uniform(0.5, 1.5),
            )
            for v in plan.regions[RegionLevel.VILLAGE]
            if v.code.startswith(code6)
        ]
        homes = care.get(code6, [])
        cum: list[float] = []
        running = 0.0
        for _pk, beds in homes:
            running += beds
            cum.append(running)
        out.append(
            County(
                code6=code6,
                index=index,
                villages=villages,
                care_homes=[pk for pk, _ in homes],
                care_cum=cum,
                ltc_pilot=index % 2 == 0,
            )
        )
    return out


def split(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders; sums exactly)."""
    if not weights:
        return []
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [math.floor(x) for x in exact]
    left = total - sum(counts)
    order = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[:left]:
        counts[i] += 1
    return counts


# --- the generator ----------------------------------------------------------------------
RESIDENT_FIELDS = (
    "id",
    "name",
    "name_pinyin",
    "name_initials",
    "id_number",
    "id_number_index",
    "sex",
    "birth_date",
    "phone",
    "phone_index",
    "address",
    "region",
    "region_code",
    "grid",
    "household",
    "ethnicity",
    "insurance",
    "ltc_insured",
    "status",
    "deceased_on",
    "care_setting",
    "institution",
    "empty_nest",
    "living_alone",
    "left_behind",
    "widowed_childless",
    "lost_only_child",
    "minimum_allowance",
    "extreme_poverty",
    "veteran",
    "permanent_resident",
    "account",
    "created_at",
    "updated_at",
)

CONTACT_FIELDS = (
    "id",
    "resident",
    "name",
    "relation",
    "phone",
    "phone_index",
    "is_guardian",
    "is_emergency",
    "account",
    "created_at",
)
CONSENT_FIELDS = (
    "id",
    "resident",
    "purpose",
    "given_by",
    "guardian",
    "given_at",
    "recorded_by",
    "withdrawn_at",
    "withdrawn_by",
)
CONDITION_FIELDS = ("resident", "icd10", "name", "onset", "status", "recorded_by", "recorded_at")
MEDICATION_FIELDS = (
    "resident",
    "name",
    "dose",
    "frequency",
    "route",
    "long_term",
    "start",
    "recorded_by",
    "recorded_at",
)
OBSERVATION_FIELDS = (
    "resident",
    "code",
    "value",
    "unit",
    "effective_at",
    "source",
    "panel",
    "device_serial",
    "recorded_by",
    "recorded_at",
)


def _birth_ranges(today: datetime.date) -> dict[int, tuple[int, int]]:
    """Birth-date range per age on ``today`` (ordinals, inclusive)."""
    ranges: dict[int, tuple[int, int]] = {}
    for age in range(AGES[0], AGES[-1] + 1):
        latest = _years_before(today, age)
        earliest = _years_before(today, age + 1) + datetime.timedelta(days=1)
        ranges[age] = (earliest.toordinal(), latest.toordinal())
    return ranges


class ResidentSeeder:
    """Generates the residents of one county after another (``county``) into the writer's
    tables: households, residents, contacts, consents, conditions, medication and
    readings."""

    def __init__(
        self,
        writer: BulkWriter,
        seed: int,
        today: datetime.date,
        sizing: Sizing,
        *,
        now: datetime.datetime,
        recorder: int,
        nurse: int | None = None,
        demo: DemoPeople | None = None,
    ) -> None:
        self.writer = writer
        self.seed = seed
        self.today = today
        self.sizing = sizing
        self.recorder = recorder
        self.nurse = nurse or recorder
        self.demo = demo
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.now = now
        self.counts = Counters()
        self.pinyin: dict[str, tuple[str, str]] = {}
        self.birth_range = _birth_ranges(today)
        w = writer
        self.t_household = w.table(Household, ("id", "address", "region"))
        self.t_resident = w.table(Resident, RESIDENT_FIELDS)
        self.t_contact = w.table(Contact, CONTACT_FIELDS)
        self.t_consent = w.table(Consent, CONSENT_FIELDS)
        self.t_condition = w.table(Condition, CONDITION_FIELDS)
        self.t_medication = w.table(Medication, MEDICATION_FIELDS)
        self.t_observation = w.table(Observation, OBSERVATION_FIELDS)
        self.units = {code: loinc.CODES[code].unit for code in loinc.CODES}

    # -- helpers ---------------------------------------------------------------------------
    def names_pinyin(self, name: str) -> tuple[str, str]:
        found = self.pinyin.get(name)
        if found is None:
            found = self.pinyin[name] = name_pinyin(name)
        return found

    def ago(self, rng: random.Random, low_days: int, high_days: int) -> datetime.datetime:
        """A moment between ``low_days`` and ``high_days`` before the seed's morning."""
        return self.now - datetime.timedelta(
            days=rng.randint(low_days, high_days), minutes=rng.randrange(600)
        )

    # -- per county ------------------------------------------------------------------------
    def county(self, county: County, residents: int) -> None:
        rng = random.Random(f"residents:{self.seed}:{county.code6}")  # noqa: S311
        self.rng = rng
        self.sequences: dict[tuple[int, str], int] = {}
        self.current = county
        counts = split(residents, [v.weight for v in county.villages])
        for village, n in zip(county.villages, counts, strict=True):
            self.village(county, village, n)

    def village(self, county: County, village: Village, n: int) -> None:
        made = 0
        number = 0
        demo = self.demo
        if demo is not None and not demo.resident_id and demo.grid in village.grids and n:
            number += 1
            made += self.demo_household(county, village, number)
        while made < n:
            number += 1
            made += self.household(county, village, number, n - made)

    def draw_age(self) -> int:
        return AGES[bisect.bisect(AGE_CUM, self.rng.random())]

    def household(self, county: County, village: Village, number: int, room: int) -> int:
        rng = self.rng
        age = self.draw_age()
        decade = age // 10
        couple = room >= 2 and rng.random() < COUPLE_SHARE[decade]
        if couple:  # the wife's age drawn, the husband a little older
            members = [(Sex.MALE, min(100, age + rng.randint(0, 3))), (Sex.FEMALE, age)]
        else:
            sex = Sex.FEMALE if rng.random() < SINGLE_FEMALE[decade] else Sex.MALE
            members = [(sex, age)]
        oldest = max(a for _, a in members)
        home = self.home(county, village, number, couple, oldest)
        for sex, member_age in members:
            self.person(county, village, home, sex, member_age)
        return len(members)

    def home(
        self, county: County, village: Village, number: int, couple: bool, oldest: int
    ) -> dict[str, Any]:
        """What the members of one household share."""
        rng = self.rng
        hid = self.writer.next_id(self.t_household)
        address = f"{village.township}{village.name}{number}号"
        self.writer.add(self.t_household, (hid, address, village.pk))
        self.counts.add("households")
        roll = rng.random()
        institution = None
        inst_share = 0.02 if oldest < 80 else 0.07 if oldest < 90 else 0.12
        if roll < inst_share and county.care_homes:
            care = CareSetting.INSTITUTION
            pick = rng.random() * county.care_cum[-1]
            institution = county.care_homes[bisect.bisect(county.care_cum, pick)]
        elif roll < inst_share + 0.07:
            care = CareSetting.COMMUNITY
        else:
            care = CareSetting.HOME
        at_home = care != CareSetting.INSTITUTION  # in a nursing home nobody "lives alone"
        alone = not couple and at_home and rng.random() < LIVING_ALONE_OF_SINGLES
        nest_share = (0.62 if couple else 0.22) if village.rural else (0.5 if couple else 0.18)
        empty_nest = alone or rng.random() < nest_share
        poor = rng.random()
        extreme = poor < (0.015 if village.rural else 0.003)
        allowance = not extreme and poor < (0.065 if village.rural else 0.035)
        status = ResidentStatus.ACTIVE
        if rng.random() < 0.01:
            status = ResidentStatus.MOVED_OUT
        return {
            "id": hid,
            "address": address,
            "grid": rng.choice(village.grids)
            if village.grids and rng.random() < GRID_SHARE
            else None,
            "care": care,
            "institution": institution,
            "couple": couple,
            "alone": alone,
            "empty_nest": empty_nest,
            "left_behind": village.rural and empty_nest and rng.random() < 0.3,
            "lost_only_child": rng.random() < 0.006,
            "minimum_allowance": allowance,
            "extreme_poverty": extreme,
            "status": status,
            "insurance_roll": rng.random(),
            "surname": None,
            "children": None,
        }

    def id_number(self, birth: datetime.date, sex: str) -> str:
        key = (birth.toordinal(), sex)
        seq = self.sequences.get(key)
        if seq is None:
            seq = 2 * self.rng.randrange(300) + (1 if sex == Sex.MALE else 0)
        self.sequences[key] = seq + 2
        return make_id_number(self.current.code6, birth, seq)

    def person(
        self,
        county: County,
        village: Village,
        home: dict[str, Any],
        sex: str,
        age: int,
        *,
        force: dict[str, Any] | None = None,
    ) -> int:
        """One resident of ``home``: her row, diagnoses (with medication), contacts,
        consents and, when observed, a year of readings. ``force``: what the demo resident
        must have (name, phone, login, conditions, children, consents). Returns her id."""
        force = force or {}
        rid = self.writer.next_id(self.t_resident)
        who = self.identity(county, village, home, sex, age, force)
        self.write_resident(rid, village, home, sex, who, force.get("account"))
        self.counts.add("residents")
        if home["surname"] is None:  # the husband comes first in a couple
            home["surname"] = who.name[0]
        diagnosed = self.diagnoses(rid, sex, age, force)
        contacts, guardian = self.contacts(
            rid, home, DEMENTIA in diagnosed, who.widowed_childless, force
        )
        self.consents(rid, who.status, diagnosed, contacts, guardian, force)
        return rid

    def identity(
        self,
        county: County,
        village: Village,
        home: dict[str, Any],
        sex: str,
        age: int,
        force: dict[str, Any],
    ) -> Person:
        """Who a new resident of ``home`` is: birth date (for ``age`` on ``today``), name,
        ID number, phone, status (a few deceased), insurance and the personal markers."""
        rng = self.rng
        low, high = self.birth_range[age]
        birth = datetime.date.fromordinal(rng.randint(low, high))
        name = force.get("name") or names.elder_name(rng, sex)
        pinyin, initials = self.names_pinyin(name)
        id_number = self.id_number(birth, sex)
        phone = names.mobile(rng) if force.get("phone") or rng.random() < PHONE_SHARE else ""
        status = home["status"]
        deceased_on = None
        if status == ResidentStatus.ACTIVE and not force and rng.random() < 0.02:
            status = ResidentStatus.DECEASED
            deceased_on = self.today - datetime.timedelta(days=rng.randint(1, 730))
        insurance = _insurance(village.rural, home["insurance_roll"])
        ltc = county.ltc_pilot and (
            (insurance == Insurance.EMPLOYEE and rng.random() < 0.95)
            or (insurance == Insurance.URBAN_RURAL and rng.random() < 0.3)
        )
        single = not home["couple"]
        widowed_childless = single and rng.random() < 0.02
        veteran = rng.random() < (0.018 if sex == Sex.MALE else 0.002)
        ethnicity = "汉族" if rng.random() < 0.95 else rng.choice(ETHNICITIES)
        return Person(
            name=name,
            pinyin=pinyin,
            initials=initials,
            birth=birth,
            id_number=id_number,
            phone=phone,
            status=status,
            deceased_on=deceased_on,
            insurance=insurance,
            ltc=ltc,
            widowed_childless=widowed_childless,
            veteran=veteran,
            ethnicity=ethnicity,
        )

    def write_resident(
        self,
        rid: int,
        village: Village,
        home: dict[str, Any],
        sex: str,
        who: Person,
        account: int | None,
    ) -> None:
        """The resident's row (``RESIDENT_FIELDS``): who she is and what she shares with
        her household; ID number and phone encrypted, with their blind indexes."""
        self.writer.add(
            self.t_resident,
            (
                rid,
                who.name,
                who.pinyin,
                who.initials,
                crypto.encrypt(who.id_number),
                crypto.blind_index(who.id_number),
                sex,
                who.birth,
                crypto.encrypt(who.phone) if who.phone else "",
                crypto.blind_index(who.phone) if who.phone else "",
                home["address"],
                village.pk,
                village.code,
                home["grid"],
                home["id"],
                who.ethnicity,
                who.insurance,
                who.ltc,
                who.status,
                who.deceased_on,
                home["care"],
                home["institution"],
                home["empty_nest"],
                home["alone"],
                home["left_behind"],
                who.widowed_childless,
                home["lost_only_child"],
                home["minimum_allowance"],
                home["extreme_poverty"],
                who.veteran,
                who.status != ResidentStatus.MOVED_OUT,
                account,
                self.now,
                self.now,
            ),
        )

    def diagnoses(self, rid: int, sex: str, age: int, force: dict[str, Any]) -> list[str]:
        """Health record: diagnoses by age band (and sex), each with its medicine
        (``condition``). Returns the ICD-10 codes diagnosed."""
        rng = self.rng
        band = min(3, (age - 60) // 10)
        diagnosed: list[str] = []
        for disease in DISEASES:
            rate = disease.rate[band] * (disease.male_factor if sex == Sex.MALE else 1.0)
            if disease.icd10 in force.get("conditions", ()) or rng.random() < rate:
                diagnosed.append(disease.icd10)
                self.condition(rid, disease, age)
        return diagnosed

    def contacts(
        self,
        rid: int,
        home: dict[str, Any],
        dementia: bool,
        childless: bool,
        force: dict[str, Any],
    ) -> tuple[list[int], int | None]:
        """Contacts: the children (none for the childless; a couple shares them), the first
        one the emergency contact and, with dementia, the guardian. Returns the contacts'
        ids and the guardian's (None without one)."""
        writer = self.writer
        contacts: list[int] = []
        guardian = None
        for position, (relation, child_name, child_phone) in enumerate(
            self.children(home, childless, force.get("children"))
        ):
            cid = writer.next_id(self.t_contact)
            is_guardian = dementia and position == 0
            child_account = None
            if self.demo is not None and force and relation == Relation.DAUGHTER:
                child_account = self.demo.family_user
                self.demo.daughter_contact_id = cid
                self.demo.daughter_name = child_name
            writer.add(
                self.t_contact,
                (
                    cid,
                    rid,
                    child_name,
                    relation,
                    crypto.encrypt(child_phone) if child_phone else "",
                    crypto.blind_index(child_phone) if child_phone else "",
                    is_guardian,
                    position == 0,
                    child_account,
                    self.now,
                ),
            )
            contacts.append(cid)
            if is_guardian:
                guardian = cid
        self.counts.add("contacts", len(contacts))
        return contacts, guardian

    def consents(
        self,
        rid: int,
        status: str,
        diagnosed: list[str],
        contacts: list[int],
        guardian: int | None,
        force: dict[str, Any],
    ) -> None:
        """Consents: health data for most, exchange with the platform for many, sharing
        with family for some of those with family recorded, device monitoring for a few;
        an active resident with hypertension or diabetes may be observed: a year of
        readings (``readings``), from a device when she consents to monitoring."""
        rng = self.rng
        consents = force.get("consents", ())
        device = False
        if ConsentPurpose.HEALTH_DATA in consents or rng.random() < 0.92:
            withdrawn = not consents and rng.random() < 0.01
            self.consent(rid, ConsentPurpose.HEALTH_DATA, guardian, withdrawn)
        if ConsentPurpose.PLATFORM_EXCHANGE in consents or rng.random() < 0.55:
            self.consent(rid, ConsentPurpose.PLATFORM_EXCHANGE, guardian, False)
        if contacts and (ConsentPurpose.FAMILY_SHARING in consents or rng.random() < 0.4):
            self.consent(rid, ConsentPurpose.FAMILY_SHARING, guardian, False)
        chronic = HYPERTENSION in diagnosed or DIABETES in diagnosed
        observed = status == ResidentStatus.ACTIVE and chronic
        observed = observed and (bool(force) or rng.random() < self.sizing.observed_share)
        if ConsentPurpose.DEVICE_MONITORING in consents or rng.random() < (
            0.4 if observed else 0.05
        ):
            self.consent(rid, ConsentPurpose.DEVICE_MONITORING, guardian, False)
            device = True
        if observed:
            self.readings(rid, HYPERTENSION in diagnosed, DIABETES in diagnosed, device)

    def children(
        self, home: dict[str, Any], childless: bool, relations: list[str] | None
    ) -> list[tuple[str, str, str]]:
        """(relation, name, phone) of the household's children recorded as contacts, drawn
        once per household; sons carry the father's surname."""
        if childless:
            return []
        if home["children"] is None:
            rng = self.rng
            if relations is None:
                if home["lost_only_child"] or rng.random() >= self.sizing.contact_share:
                    home["children"] = []
                    return []
                relations = [
                    Relation.SON if rng.random() < 0.5 else Relation.DAUGHTER
                    for _ in range(1 if rng.random() < 0.45 else 2)
                ]
            kids = []
            for relation in relations:
                child_sex = Sex.MALE if relation == Relation.SON else Sex.FEMALE
                child_name = names.person_name(rng, child_sex)
                if relation == Relation.SON:
                    child_name = home["surname"] + child_name[1:]
                kids.append(
                    (relation, child_name, names.mobile(rng) if rng.random() < 0.95 else "")
                )
            home["children"] = kids
        return home["children"]

    def condition(self, rid: int, disease: Disease, age: int) -> None:
        rng = self.rng
        years = rng.randint(1, max(1, min(30, age - 45)))
        onset = self.today - datetime.timedelta(days=365 * years + rng.randrange(365))
        self.writer.add(
            self.t_condition,
            (
                rid,
                disease.icd10,
                disease.name,
                onset,
                ConditionStatus.ACTIVE,
                self.recorder,
                self.now,
            ),
        )
        self.counts.add("conditions")
        if disease.medicines:
            weights = [m[4] for m in disease.medicines]
            name, dose, frequency, route, _ = rng.choices(disease.medicines, weights)[0]
            self.medication(rid, name, dose, frequency, route, onset)
        for name, dose, frequency, route in disease.extra:
            if rng.random() < 0.7:
                self.medication(rid, name, dose, frequency, route, onset)

    def medication(
        self, rid: int, name: str, dose: str, frequency: str, route: str, start: datetime.date
    ) -> None:
        self.writer.add(
            self.t_medication,
            (rid, name, dose, frequency, route, True, start, self.recorder, self.now),
        )
        self.counts.add("medications")

    def consent(self, rid: int, purpose: str, guardian: int | None, withdrawn: bool) -> int:
        rng = self.rng
        cid = self.writer.next_id(self.t_consent)
        given_at = self.ago(rng, 30, 1000)
        withdrawn_at = given_at + datetime.timedelta(days=rng.randint(1, 25)) if withdrawn else None
        self.writer.add(
            self.t_consent,
            (
                cid,
                rid,
                purpose,
                ConsentGiver.GUARDIAN if guardian else ConsentGiver.SELF,
                guardian,
                given_at,
                self.recorder,
                withdrawn_at,
                self.recorder if withdrawn else None,
            ),
        )
        self.counts.add("consents")
        return cid

    def readings(self, rid: int, bp: bool, glucose: bool, device: bool) -> None:
        """A year of weekly home readings: a BP panel (systolic, diastolic, heart rate; one
        ``panel`` UUID) and, with diabetes, fasting glucose weekly and random glucose
        monthly. Values drift down a little over the year (treatment working)."""
        rng = self.rng
        add = self.writer.add
        table = self.t_observation
        units = self.units
        source = ObservationSource.DEVICE if device else ObservationSource.MANUAL
        serial = f"YY-{rid:08d}" if device else ""
        by = None if device else self.nurse
        recorded = self.now

        def put(code: str, value: Any, at: datetime.datetime, panel: uuid.UUID | None) -> None:
            add(table, (rid, code, value, units[code], at, source, panel, serial, by, recorded))

        sys_mu = rng.gauss(146, 9) if bp else rng.gauss(128, 8)
        dia_mu = rng.gauss(84, 5) if bp else rng.gauss(76, 5)
        hr_mu = rng.gauss(74, 6)
        glu_mu = rng.gauss(7.6, 0.9)
        rows = 0
        weekday = rng.randrange(7)
        for week in range(52, 0, -1):
            day = self.today - datetime.timedelta(days=7 * week - weekday)
            hour, minute = 7 + rng.randrange(3), rng.randrange(60)
            at = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz)
            trend = week / 52
            sys_v = min(220, max(90, round(rng.gauss(sys_mu + 8 * trend, 7))))
            dia_v = min(130, max(50, min(round(rng.gauss(dia_mu + 4 * trend, 5)), sys_v - 20)))
            hr_v = min(130, max(45, round(rng.gauss(hr_mu, 5))))
            panel = uuid.UUID(int=rng.getrandbits(128), version=4)
            put(loinc.SYSTOLIC, sys_v, at, panel)
            put(loinc.DIASTOLIC, dia_v, at, panel)
            put(loinc.HEART_RATE, hr_v, at, panel)
            rows += 3
            if glucose:
                value = min(25.0, max(3.5, rng.gauss(glu_mu + 0.8 * trend, 0.8)))
                put(loinc.GLUCOSE_FASTING, f"{value:.1f}", at + FIVE_MINUTES, None)
                rows += 1
                if week % 4 == 0:
                    value = min(30.0, max(4.0, rng.gauss(glu_mu + 2.4, 1.6)))
                    put(loinc.GLUCOSE_RANDOM, f"{value:.1f}", at + NINE_HOURS, None)
                    rows += 1
        self.counts.add("observations", rows)
        self.counts.add("observed_residents")

    # -- the demo's named resident ---------------------------------------------------------
    def demo_household(self, county: County, village: Village, number: int) -> int:
        """The demo resident: a woman of about 82 living alone in a grid of the demo team,
        with hypertension and diabetes, a year of readings, consent to health data, family
        sharing and device monitoring, a daughter (the family login) and a son."""
        demo = self.demo
        assert demo is not None
        home = self.home(county, village, number, False, 82)
        home.update(
            grid=demo.grid,
            care=CareSetting.HOME,
            institution=None,
            alone=True,
            empty_nest=True,
            status=ResidentStatus.ACTIVE,
            insurance_roll=0.5,
            lost_only_child=False,
            surname="王",  # her late husband's: the children's
        )
        rid = self.person(
            county,
            village,
            home,
            Sex.FEMALE,
            82,
            force={
                "name": "陈秀英",
                "phone": True,
                "account": demo.resident_user,
                "conditions": (HYPERTENSION, DIABETES),
                "children": [Relation.DAUGHTER, Relation.SON],
                "consents": (
                    ConsentPurpose.HEALTH_DATA,
                    ConsentPurpose.FAMILY_SHARING,
                    ConsentPurpose.DEVICE_MONITORING,
                    ConsentPurpose.PLATFORM_EXCHANGE,
                ),
            },
        )
        demo.resident_id = rid
        demo.resident_name = "陈秀英"
        return 1


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# The tables the residents are written to, in the order they are registered.
TABLES = (Household, Resident, Contact, Consent, Condition, Medication, Observation)

# From this many residents on (and at least as many as are already there) the load drops
# the tables' secondary indexes and constraints and rebuilds them afterwards (PostgreSQL).
DEFER_INDEXES_FROM = 50_000


@dataclass
class Loaded:
    counts: dict[str, int]
    seconds: dict[str, float]  # parts of the whole: writing rows, rebuilding, analysing
    demo: DemoPeople | None = None


def write_residents(
    plan: NetworkPlan,
    sizing: Sizing,
    total: int,
    *,
    now: datetime.datetime,
    recorder: Any,
    demo_users: dict[str, Any] | None = None,
    progress: Any = None,
) -> Loaded:
    """Generate and write ``total`` residents (split evenly over the plan's counties, which
    must be written already) with their households, contacts, consents and health record.
    Call inside a transaction. ``now``: the seed's moment (``seed_clock``), the latest time
    written (readings are up to the day before). ``recorder``: the user recorded as having
    entered consents and diagnoses. With the demo's users (``resident``, ``family``,
    ``nurse``), one resident in the demo team's grid gets the resident login and her
    daughter the family login with a proxy grant (readings and alerts)."""
    demo_users = demo_users or {}
    demo = None
    targets = plan.targets
    if {"resident", "family"} <= set(demo_users) and targets is not None:
        team_grids = sorted(g.pk for t, g in plan.team_grids if t is targets.team)
        demo = DemoPeople(
            resident_user=demo_users["resident"].pk,
            family_user=demo_users["family"].pk,
            grid=team_grids[0],
        )
    nurse = demo_users.get("nurse")
    writer = BulkWriter()
    seeder = ResidentSeeder(
        writer,
        plan.seed,
        plan.today,
        sizing,
        now=now,
        recorder=recorder.pk,
        nurse=nurse.pk if nurse is not None else None,
        demo=demo,
    )
    if total >= DEFER_INDEXES_FROM and total >= Resident.objects.count():
        writer.defer_indexes()
    counties = counties_of(plan, plan.seed)
    for county, n in zip(counties, split(total, [1.0] * len(counties)), strict=True):
        seeder.county(county, n)
        writer.flush()
        if progress is not None:
            progress(f"county {county.code6}: {seeder.counts.values['residents']:,} residents")
    writer.finish()
    if demo is not None and demo.resident_id:
        link_demo_people(demo, demo_users, seeder.now)
    counts = dict(seeder.counts.values)
    seconds = {
        "writing": writer.seconds,
        "indexes": writer.rebuild_seconds,
        "analyze": writer.analyze_seconds,
    }
    return Loaded(counts=counts, seconds=seconds, demo=demo)


def link_demo_people(demo: DemoPeople, users: dict[str, Any], now: datetime.datetime) -> None:
    """The demo resident's daughter gets her proxy grant (with its own consent, purpose
    ``proxy_access``): she sees the readings and is told of alerts (escalation's second
    tier); the two logins are named after the people they belong to."""
    from yiyang.residents.models import ProxyGrant

    consent = Consent.objects.create(
        resident_id=demo.resident_id,
        purpose=ConsentPurpose.PROXY_ACCESS,
        given_by=ConsentGiver.SELF,
        given_at=now,
        recorded_by=users.get("doctor") or users["resident"],
        note="family access for her daughter: readings and alerts",
    )
    ProxyGrant.objects.create(
        resident_id=demo.resident_id,
        contact_id=demo.daughter_contact_id,
        user=users["family"],
        consent=consent,
        can_view_readings=True,
        can_view_alerts=True,
        can_book_services=False,
        can_view_bills=False,
    )
    for username, display in (("resident", demo.resident_name), ("family", demo.daughter_name)):
        user = users[username]
        user.display_name = display
        user.save(update_fields=["display_name"])


def vacuum() -> float:
    """PostgreSQL, after a large load has committed: VACUUM the residents tables, so the
    visibility map is set (index-only scans) and the hint bits are written once now
    rather than by the first queries. Not inside a transaction (VACUUM cannot run in one):
    then it is left to autovacuum. Returns the seconds spent."""
    from django.db import connection

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 0.0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in TABLES:
            cursor.execute(f"VACUUM {connection.ops.quote_name(model._meta.db_table)}")
    return time.perf_counter() - started
