"""The health record of a generated resident (``HealthRecords``): diagnoses by age band
and sex, each with its usual long-term medication, and for an observed resident a year of
weekly home readings (BP panels, glucose with diabetes)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from yiyang.residents import loinc
from yiyang.residents.models import ConditionStatus, ObservationSource, Sex
from yiyang.seed.residents.base import SeederBase
from yiyang.seed.residents.population import DISEASES, Disease

FIVE_MINUTES = datetime.timedelta(minutes=5)
NINE_HOURS = datetime.timedelta(hours=9)


class HealthRecords(SeederBase):
    """Diagnoses, medication and readings, written to the condition, medication and
    observation tables."""

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
