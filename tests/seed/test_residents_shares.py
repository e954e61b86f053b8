"""Seeded residents at the county preset's shape (4,000 of them over 300 villages, enough
for the shares): valid and unique ID numbers issued in their county, ages 60–100 with the
census pyramid, realistic shares of special groups, care settings and diseases with
matching medicines, consents and contacts, and a year of BP panels in canonical units.

The sample is seeded once for the module, in a transaction rolled back at its end (this
module only: other tests must not see it)."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict

import pytest
from django.db import connection, transaction

from yiyang.common import crypto
from yiyang.network.models import InstitutionType
from yiyang.residents import loinc
from yiyang.residents.idnumber import parse_id_number
from yiyang.residents.models import (
    Condition,
    Consent,
    ConsentPurpose,
    Contact,
    Medication,
    Observation,
    Relation,
    Resident,
    ResidentStatus,
)
from yiyang.seed import seed
from yiyang.seed.residents.population import DISEASES

TODAY = datetime.date(2026, 3, 1)


def age(resident: Resident) -> int:
    return resident.age_on(TODAY)


@pytest.fixture(scope="module")
def _county_sample(django_db_setup, django_db_blocker):
    """4,000 residents of the county preset (300 villages), enough for the shares: seeded
    once for the module, in a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        report = seed("county", 5, TODAY, residents=4000)
        yield report
        transaction.set_rollback(True)


@pytest.fixture
def county_sample(_county_sample, db):
    return _county_sample


def test_every_id_number_is_valid_unique_and_issued_in_the_residents_county(county_sample):
    residents = list(Resident.objects.all())
    assert len(residents) == 4000
    seen = set()
    for r in residents:
        parsed = parse_id_number(r.id_number, today=TODAY)
        assert parsed.value == r.id_number
        assert parsed.region_code == r.region_code[:6]
        assert parsed.birth_date == r.birth_date
        assert parsed.sex == r.sex
        assert r.id_number_index == crypto.blind_index(r.id_number)
        if r.phone:
            assert len(r.phone) == 11 and r.phone_index == crypto.blind_index(r.phone)
        seen.add(r.id_number)
    assert len(seen) == len(residents)
    # stored encrypted, as EncryptedCharField stores them
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, id_number, phone FROM residents_resident WHERE phone <> ''")
        pk, stored_id, stored_phone = cursor.fetchone()
    resident = Resident.objects.get(pk=pk)
    assert stored_id.startswith(crypto.PREFIX) and stored_phone.startswith(crypto.PREFIX)
    assert crypto.decrypt(stored_id) == resident.id_number
    assert crypto.decrypt(stored_phone) == resident.phone


def test_ages_and_sexes_follow_the_census_pyramid(county_sample):
    residents = list(Resident.objects.all())
    ages = [age(r) for r in residents]
    assert min(ages) >= 60 and max(ages) <= 100
    n = len(ages)
    bands = Counter(min(a, 99) // 10 * 10 for a in ages)
    assert bands[60] / n == pytest.approx(0.55, abs=0.04)
    assert bands[70] / n == pytest.approx(0.30, abs=0.04)
    assert bands[80] / n == pytest.approx(0.13, abs=0.03)
    assert bands[90] / n == pytest.approx(0.02, abs=0.015)
    assert sum(a >= 65 for a in ages) / n == pytest.approx(0.72, abs=0.04)

    def female_share(low: int, high: int) -> float:
        group = [r for r in residents if low <= age(r) <= high]
        return sum(r.sex == "F" for r in group) / len(group)

    assert female_share(80, 100) > 0.52
    assert female_share(80, 100) > female_share(60, 69)


def test_shares_of_phones_care_settings_and_special_groups(county_sample):
    residents = list(Resident.objects.select_related("institution__region", "grid"))
    n = len(residents)

    def share(pred, group=residents) -> float:
        return sum(1 for r in group if pred(r)) / len(group)

    assert share(lambda r: bool(r.phone)) == pytest.approx(0.70, abs=0.04)
    assert share(lambda r: r.care_setting == "home") == pytest.approx(0.90, abs=0.03)
    assert share(lambda r: r.care_setting == "community") == pytest.approx(0.07, abs=0.02)
    institutional = [r for r in residents if r.care_setting == "institution"]
    assert 0.015 < len(institutional) / n < 0.06
    for r in institutional:
        assert not r.living_alone
        assert r.institution.type in {InstitutionType.NURSING_HOME, InstitutionType.HAPPINESS_HOME}
        assert r.institution.region.code[:6] == r.region_code[:6]
    rural = [r for r in residents if r.region_code[9:] >= "200"]
    assert share(lambda r: r.empty_nest, rural) == pytest.approx(0.5, abs=0.08)
    assert share(lambda r: r.living_alone) == pytest.approx(0.12, abs=0.04)
    assert all(r.empty_nest for r in residents if r.living_alone)
    assert share(lambda r: r.minimum_allowance) == pytest.approx(0.05, abs=0.02)
    assert 0.003 < share(lambda r: r.extreme_poverty) < 0.03
    assert 0.003 < share(lambda r: r.veteran) < 0.02
    assert share(lambda r: r.insurance == "urban_rural") > 0.6
    # grids only where the village has them, and the grid lies in the resident's village
    assert 0.75 < share(lambda r: r.grid is not None) < 0.95
    for r in residents:
        if r.grid is not None:
            assert r.grid.village_id == r.region_id
    # couples share a household; some moved out or died (with a date)
    sizes = Counter(Resident.objects.values_list("household_id", flat=True))
    assert 0.45 < sum(c for c in sizes.values() if c == 2) / n < 0.65
    assert set(sizes.values()) <= {1, 2}
    deceased = [r for r in residents if r.status == ResidentStatus.DECEASED]
    assert deceased and all(r.birth_date < r.deceased_on <= TODAY for r in deceased)
    assert any(r.status == ResidentStatus.MOVED_OUT and not r.permanent_resident for r in residents)


def test_diseases_at_realistic_rates_with_matching_medicines(county_sample):
    residents = {r.pk: r for r in Resident.objects.all()}
    diagnoses: dict[int, set[str]] = defaultdict(set)
    for resident_id, code in Condition.objects.values_list("resident_id", "icd10"):
        diagnoses[resident_id].add(code)
    older = [pk for pk, r in residents.items() if age(r) >= 65]
    hypertension = sum("I10" in diagnoses[pk] for pk in older) / len(older)
    diabetes = sum("E11" in diagnoses[pk] for pk in residents) / len(residents)
    assert hypertension == pytest.approx(0.50, abs=0.05)
    assert diabetes == pytest.approx(0.20, abs=0.03)
    for code in ("I25.1", "I69.3", "J44.9", "F03"):
        rate = sum(code in diagnoses[pk] for pk in residents) / len(residents)
        assert 0.01 < rate < 0.15, code
    medicines: dict[int, set[str]] = defaultdict(set)
    for resident_id, name, long_term in Medication.objects.values_list(
        "resident_id", "name", "long_term"
    ):
        assert long_term
        medicines[resident_id].add(name)
    for disease in DISEASES:
        names = {m[0] for m in disease.medicines}
        for pk, codes in diagnoses.items():
            if disease.icd10 in codes:
                assert medicines[pk] & names, (disease.icd10, medicines[pk])
    amlodipine = Medication.objects.filter(name="氨氯地平片").first()
    assert (amlodipine.dose, amlodipine.frequency) == ("5mg", "qd")
    metformin = Medication.objects.filter(name="二甲双胍片").first()
    assert (metformin.dose, metformin.frequency) == ("0.5g", "tid")


def test_consents_and_contacts(county_sample):
    n = Resident.objects.count()
    active = Consent.objects.filter(withdrawn_at__isnull=True)
    health = active.filter(purpose=ConsentPurpose.HEALTH_DATA).count()
    assert health / n == pytest.approx(0.91, abs=0.03)
    assert Consent.objects.filter(withdrawn_at__isnull=False).exists()
    sharing = active.filter(purpose=ConsentPurpose.FAMILY_SHARING)
    assert sharing.exists()
    # family sharing only with family recorded; a guardian consent names a guardian contact
    with_contacts = set(Contact.objects.values_list("resident_id", flat=True))
    assert set(sharing.values_list("resident_id", flat=True)) <= with_contacts
    for consent in Consent.objects.filter(given_by="guardian").select_related("guardian"):
        assert consent.guardian.is_guardian and consent.guardian.resident_id == consent.resident_id
    relations = Counter(Contact.objects.values_list("relation", flat=True))
    assert set(relations) <= {Relation.SON, Relation.DAUGHTER}


def test_observations_are_bp_panels_and_glucose_in_canonical_units(county_sample):
    observed = Observation.objects.values("resident_id").distinct().count()
    assert observed > 0
    panels: dict = defaultdict(set)
    for o in Observation.objects.all()[:5000]:
        assert o.unit == loinc.CODES[o.code].unit
        assert loinc.CODES[o.code].in_range(o.value)
        assert TODAY - datetime.timedelta(days=366) <= o.effective_at.date() <= TODAY
        if o.code in (loinc.SYSTOLIC, loinc.DIASTOLIC, loinc.HEART_RATE):
            assert o.panel is not None
            panels[o.panel].add(o.code)
        else:
            assert o.code in (loinc.GLUCOSE_FASTING, loinc.GLUCOSE_RANDOM)
    complete = [codes for codes in panels.values() if len(codes) == 3]
    assert len(complete) >= len(panels) - 2  # the slice may cut the last panel
