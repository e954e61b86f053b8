"""The resident generator's state (``SeederBase``): the writer's tables with their columns
(``RESIDENT_FIELDS`` …), the seed's moment and time zone, the row counters, the demo's
named people, and the small helpers every part of the generator uses."""

from __future__ import annotations

import datetime
import random
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings

from yiyang.residents import loinc
from yiyang.residents.models import (
    Condition,
    Consent,
    Contact,
    Household,
    Medication,
    Observation,
    Resident,
)
from yiyang.residents.services.registry import name_pinyin
from yiyang.seed.bulk import BulkWriter
from yiyang.seed.presets import Sizing
from yiyang.seed.residents.counties import County
from yiyang.seed.residents.population import birth_ranges


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


# --- the columns written to each table, in order ----------------------------------------
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


class SeederBase:
    """What the generator holds: the writer and its tables, the seed, its day and moment,
    the sizing, who is recorded as entering the data, the counters and, while a county is
    generated, its random stream (``rng``), ID-number sequences and the county."""

    rng: random.Random
    sequences: dict[tuple[int, str], int]
    current: County

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
        self.birth_range = birth_ranges(today)
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
