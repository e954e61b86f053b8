"""The resident generator (``ResidentSeeder``): county by county, village by village, the
households (a couple or one person, what its members share) and their residents (who
each is, her row, then her health record, contacts and consents), and the demo's named
resident.

ID numbers are issued in the resident's county: ``make_id_number(county code, birth date,
sequence)`` with the 3-digit sequence counted per (county, birth date, sex) from a random
start (odd for men, even for women), so no two residents of a seeded city share one.
"""

from __future__ import annotations

import bisect
import datetime
import random
from dataclasses import dataclass
from typing import Any

from yiyang.common import crypto
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import (
    CareSetting,
    ConsentPurpose,
    Insurance,
    Relation,
    ResidentStatus,
    Sex,
)
from yiyang.seed import names
from yiyang.seed.residents.contacts import ContactsAndConsents
from yiyang.seed.residents.counties import County, Village, split
from yiyang.seed.residents.population import (
    AGE_CUM,
    AGES,
    COUPLE_SHARE,
    DEMENTIA,
    DIABETES,
    ETHNICITIES,
    GRID_SHARE,
    HYPERTENSION,
    LIVING_ALONE_OF_SINGLES,
    PHONE_SHARE,
    SINGLE_FEMALE,
    insurance_for,
)


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


class ResidentSeeder(ContactsAndConsents):
    """Generates the residents of one county after another (``county``) into the writer's
    tables: households, residents, contacts, consents, conditions, medication and
    readings."""

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
        insurance = insurance_for(village.rural, home["insurance_roll"])
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
