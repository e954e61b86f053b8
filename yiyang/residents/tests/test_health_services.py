"""Health-record writes: ICD-10 codes, dates, references, observation ranges and units, BMI
derivation, consent, permission and scope, audit rows. (``setup_health`` is shared with the
other ``test_health*`` / ``test_*_health`` modules.)"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.audit.models import AuditEvent
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.residents import icd10, loinc
from yiyang.residents.models import (
    Allergy,
    Condition,
    Consent,
    ConsentGiver,
    ConsentPurpose,
    Contact,
    Encounter,
    Medication,
    Observation,
    ProxyGrant,
    Relation,
    Resident,
)
from yiyang.residents.selectors.health import (
    conditions_for,
    latest_vitals,
    observation_series,
    observations_for,
    recent_readings,
)
from yiyang.residents.services.health import (
    add_allergy,
    add_condition,
    add_encounter,
    add_medication,
    remove_allergy,
    remove_condition,
    update_allergy,
    update_condition,
    update_encounter,
    update_medication,
)
from yiyang.residents.services.observations import record_bp, record_observation, remove_observation
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")


# --- shared set-up ----------------------------------------------------------------------


@dataclass
class H:
    world: object
    resident: Resident  # 张三, county A, consent to health data on record
    other: Resident  # 王五, county A, no consent on record
    outside: Resident  # 赵六, county B, consent on record
    nurse: User  # county A: HEALTH_VIEW, HEALTH_MANAGE, OBSERVATION_RECORD
    caregiver: User  # county A: HEALTH_VIEW, OBSERVATION_RECORD
    dispatcher: User  # county A: HEALTH_VIEW only
    supervisor: User  # county A: residents but not the health record
    outsider: User  # a nurse of county B
    own: User  # 张三's own login
    family: User  # 张三's daughter, proxy with can_view_readings


def consent(resident: Resident, purpose: str, by: User) -> Consent:
    return Consent.objects.create(
        resident=resident,
        purpose=purpose,
        given_by=ConsentGiver.SELF,
        given_at=timezone.now(),
        recorded_by=by,
    )


def setup_health(world) -> H:
    net = world.net
    a, b = net.a.county, net.b.county
    nurse = make_user(Role.NURSE, a, username="h-nurse")
    resident = world.zhang
    for purpose in (ConsentPurpose.HEALTH_DATA, ConsentPurpose.FAMILY_SHARING):
        consent(resident, purpose, world.registrar)
    consent(world.zhao, ConsentPurpose.HEALTH_DATA, world.registrar)
    own = make_user(Role.RESIDENT, None, username="h-own")
    Resident.objects.filter(pk=resident.pk).update(account=own)
    resident.refresh_from_db()
    family = make_user(Role.FAMILY, None, username="h-family")
    daughter = Contact.objects.create(
        resident=resident, name="张梅", relation=Relation.DAUGHTER, account=family
    )
    ProxyGrant.objects.create(
        resident=resident,
        contact=daughter,
        user=family,
        consent=consent(resident, ConsentPurpose.PROXY_ACCESS, world.registrar),
        can_view_readings=True,
    )
    return H(
        world=world,
        resident=resident,
        other=world.wang,
        outside=world.zhao,
        nurse=nurse,
        caregiver=make_user(Role.CAREGIVER, a, username="h-caregiver"),
        dispatcher=make_user(Role.DISPATCHER, a, username="h-dispatcher"),
        supervisor=make_user(Role.SUPERVISOR, a, username="h-supervisor"),
        outsider=make_user(Role.NURSE, b, username="h-outsider"),
        own=own,
        family=family,
    )


def ago(**kw) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**kw)


@pytest.fixture
def h(world) -> H:
    return setup_health(world)


def audit(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def raises(code: str, field: str | None = None):
    """Context manager: a ValidationFailed with ``code`` (and ``field``)."""

    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(ValidationFailed)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            assert self.info.value.code == code, self.info.value.as_dict()
            if field is not None:
                assert self.info.value.field == field, self.info.value.as_dict()
            return handled

    return _Check()


# --- ICD-10 -----------------------------------------------------------------------------


def test_icd10_normalise_and_format():
    assert icd10.normalise(" i10.X00 ") == "I10.x00"
    assert icd10.normalise("e11.9") == "E11.9"
    for good in ("I10", "E11.9", "I10.x00", "E11.900", "I25.1x01", "U07.1"):
        assert icd10.is_valid(icd10.normalise(good)), good
    for bad in ("", "I1", "110", "II0", "I10.", "I10.12345", "I10-1", "高血压"):
        assert not icd10.is_valid(icd10.normalise(bad)), bad


def test_icd10_catalogue_lookup():
    assert 80 <= len(icd10.CATALOGUE) <= 200
    assert all(icd10.is_valid(code) for code in icd10.CATALOGUE)
    assert icd10.find("I10").zh == "原发性高血压"
    assert icd10.find("I10.x00").code == "I10"  # the category names an extension
    assert icd10.find("E11.900").code == "E11.9"
    assert icd10.find("F03").zh == "痴呆"
    assert icd10.find("Q99") is None
    assert [d.code for d in icd10.search("I6")][:3] == ["I60", "I61", "I63"]
    assert "J44" in [d.code for d in icd10.search("阻塞")]
    assert "G20" in [d.code for d in icd10.search("parkinson")]


def test_add_condition_fills_the_chinese_name(h):
    before = AuditEvent.objects.count()
    condition = add_condition(h.nurse, h.resident, icd10=" i10 ", onset="2015-06-01")
    stored = Condition.objects.get(pk=condition.pk)
    assert (stored.icd10, stored.name, stored.onset, stored.status) == (
        "I10",
        "原发性高血压",
        datetime.date(2015, 6, 1),
        "active",
    )
    assert stored.recorded_by == h.nurse
    rows = audit("residents.condition.create")
    assert len(rows) == 1 and AuditEvent.objects.count() == before + 1
    assert rows[0].details == {
        "resident": h.resident.pk,
        "code": "I10",
        "fields": ["icd10", "onset"],
    }
    assert "原发性高血压" not in rows[0].object_repr


def test_condition_code_outside_the_catalogue_needs_a_name(h):
    with raises("required", "name"):
        add_condition(h.nurse, h.resident, icd10="Q87.4")
    condition = add_condition(h.nurse, h.resident, icd10="Q87.4", name="马方综合征")
    assert condition.name == "马方综合征"


def test_condition_rules(h):
    with raises("invalid_icd10", "icd10") as info:
        add_condition(h.nurse, h.resident, icd10="高血压")
    assert "高血压 is not an ICD-10 code" in info.value.detail
    with raises("required", "icd10"):
        add_condition(h.nurse, h.resident, icd10="")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with raises("future_date", "onset"):
        add_condition(h.nurse, h.resident, icd10="I10", onset=tomorrow)
    with raises("before_birth", "onset") as info:
        add_condition(h.nurse, h.resident, icd10="I10", onset="1949-01-01")
    assert "1950-03-15" in info.value.detail
    with raises("invalid", "status"):
        add_condition(h.nurse, h.resident, icd10="I10", status="cured")
    with raises("invalid_date", "onset"):
        add_condition(h.nurse, h.resident, icd10="I10", onset="2015-02-30")
    with raises("unknown_field", "severity"):
        add_condition(h.nurse, h.resident, icd10="I10", severity="high")
    assert Condition.objects.count() == 0


def test_update_condition_new_code_takes_the_catalogue_name(h):
    condition = add_condition(h.nurse, h.resident, icd10="I10")
    update_condition(h.nurse, h.resident, condition.pk, icd10="E11")
    condition.refresh_from_db()
    assert (condition.icd10, condition.name) == ("E11", "2型糖尿病")
    update_condition(h.nurse, h.resident, condition, status="remission", note="控制良好")
    condition.refresh_from_db()
    assert (condition.status, condition.note, condition.name) == (
        "remission",
        "控制良好",
        "2型糖尿病",
    )
    row = audit("residents.condition.update")[-1]
    assert row.details == {
        "resident": h.resident.pk,
        "code": "E11",
        "fields": ["status", "note"],
    }
    # nothing changed: no audit row
    count = AuditEvent.objects.count()
    update_condition(h.nurse, h.resident, condition, status="remission")
    assert AuditEvent.objects.count() == count


def test_remove_condition(h):
    condition = add_condition(h.nurse, h.resident, icd10="J44")
    remove_condition(h.nurse, h.resident, condition.pk)
    assert not Condition.objects.exists()
    assert audit("residents.condition.delete")[0].details == {
        "resident": h.resident.pk,
        "code": "J44",
    }


def test_entry_of_another_resident_is_not_found(h):
    other = add_condition(h.nurse, h.resident, icd10="I10")
    consent(h.other, ConsentPurpose.HEALTH_DATA, h.world.registrar)
    with pytest.raises(NotFound):
        update_condition(h.nurse, h.other, other.pk, note="x")
    with pytest.raises(NotFound):
        remove_condition(h.nurse, h.other, other.pk)
    assert Condition.objects.get(pk=other.pk).note == ""


# --- permission, scope, consent ---------------------------------------------------------


def test_permission_scope_and_consent(h):
    with pytest.raises(PermissionDenied):
        add_condition(h.caregiver, h.resident, icd10="I10")
    with pytest.raises(PermissionDenied):
        record_bp(h.dispatcher, h.resident, 120, 80)
    with pytest.raises(PermissionDenied):
        add_allergy(h.own, h.resident, substance="青霉素")
    with pytest.raises(PermissionDenied):
        record_observation(h.family, h.resident, "spo2", 97)
    with pytest.raises(NotFound):
        add_condition(h.outsider, h.resident, icd10="I10")
    with pytest.raises(NotFound):
        record_bp(h.nurse, h.outside, 120, 80)
    # the caregiver records measurements
    assert len(record_bp(h.caregiver, h.resident, 120, 80)) == 2
    with raises("no_consent", "consent") as info:
        add_condition(h.nurse, h.other, icd10="I10")
    assert "王五 has not consented" in info.value.detail
    assert Condition.objects.count() == 0


def test_withdrawn_consent_stops_every_write(h):
    condition = add_condition(h.nurse, h.resident, icd10="I10")
    rows = record_bp(h.nurse, h.resident, 130, 85)
    Consent.objects.filter(resident=h.resident, purpose=ConsentPurpose.HEALTH_DATA).update(
        withdrawn_at=timezone.now()
    )
    before = (Condition.objects.count(), Observation.objects.count(), AuditEvent.objects.count())
    attempts = [
        lambda: add_condition(h.nurse, h.resident, icd10="E11"),
        lambda: update_condition(h.nurse, h.resident, condition, note="x"),
        lambda: remove_condition(h.nurse, h.resident, condition),
        lambda: add_medication(h.nurse, h.resident, name="氨氯地平"),
        lambda: add_allergy(h.nurse, h.resident, substance="青霉素"),
        lambda: add_encounter(h.nurse, h.resident, kind="phone", date="2024-01-01"),
        lambda: record_bp(h.nurse, h.resident, 120, 80),
        lambda: record_observation(h.nurse, h.resident, "weight", 60),
        lambda: remove_observation(h.nurse, h.resident, rows[0]),
    ]
    for attempt in attempts:
        with raises("no_consent"):
            attempt()
    after = (Condition.objects.count(), Observation.objects.count(), AuditEvent.objects.count())
    assert after == before


def test_merged_record_takes_no_entries(h):
    Resident.objects.filter(pk=h.resident.pk).update(status="merged", merged_into=h.other)
    with raises("merged"):
        record_bp(h.nurse, h.resident.pk, 120, 80)
    assert not Observation.objects.exists()


# --- medications, allergies, encounters -------------------------------------------------


def test_medication_dates(h):
    with raises("end_before_start", "end") as info:
        add_medication(h.nurse, h.resident, name="二甲双胍", start="2024-03-01", end="2024-02-01")
    assert "2024-02-01" in info.value.detail and "2024-03-01" in info.value.detail
    with raises("required", "name"):
        add_medication(h.nurse, h.resident, name="  ")
    medication = add_medication(
        h.nurse,
        h.resident,
        name="二甲双胍",
        dose="0.5 g",
        frequency="每日三次",
        route="口服",
        long_term="on",
        start="2024-03-01",
        end="2024-03-01",
    )
    stored = Medication.objects.get(pk=medication.pk)
    assert (stored.long_term, stored.start, stored.end, stored.dose) == (
        True,
        datetime.date(2024, 3, 1),
        datetime.date(2024, 3, 1),
        "0.5 g",
    )
    with raises("end_before_start", "end"):
        update_medication(h.nurse, h.resident, medication, end="2024-01-01")
    update_medication(h.nurse, h.resident, medication, end=None, long_term=False)
    stored.refresh_from_db()
    assert (stored.end, stored.long_term) == (None, False)


def test_allergy(h):
    with raises("invalid", "severity"):
        add_allergy(h.nurse, h.resident, substance="青霉素", severity="deadly")
    allergy = add_allergy(
        h.nurse, h.resident, substance="青霉素", reaction="皮疹", severity="severe"
    )
    update_allergy(h.nurse, h.resident, allergy, reaction="过敏性休克")
    assert Allergy.objects.get().reaction == "过敏性休克"
    remove_allergy(h.nurse, h.resident, allergy)
    assert not Allergy.objects.exists()


def test_encounter_rules_and_references(h):
    a, b = h.world.net.a, h.world.net.b
    encounter = add_encounter(
        h.nurse,
        h.resident,
        kind="hospital_stay",
        date="2024-05-01",
        end_date="2024-05-10",
        institution=a.lead.pk,
        practitioner=a.doctor.pk,
        reason="肺炎",
    )
    stored = Encounter.objects.get(pk=encounter.pk)
    assert (stored.institution, stored.practitioner, stored.end_date) == (
        a.lead,
        a.doctor,
        datetime.date(2024, 5, 10),
    )
    with raises("unknown_reference", "institution") as info:
        add_encounter(h.nurse, h.resident, kind="clinic", date="2024-05-01", institution=b.lead.pk)
    missing = Encounter.objects.count()
    with raises("unknown_reference", "institution") as other:
        add_encounter(h.nurse, h.resident, kind="clinic", date="2024-05-01", institution=999999)
    assert info.value.detail.replace(str(b.lead.pk), "N") == other.value.detail.replace(
        "999999", "N"
    )
    with raises("unknown_reference", "practitioner"):
        add_encounter(
            h.nurse, h.resident, kind="clinic", date="2024-05-01", practitioner=b.doctor.pk
        )
    with raises("end_date_not_allowed", "end_date"):
        add_encounter(h.nurse, h.resident, kind="clinic", date="2024-05-01", end_date="2024-05-02")
    with raises("end_before_start", "end_date"):
        update_encounter(h.nurse, h.resident, encounter, end_date="2024-04-30")
    future = timezone.localdate() + datetime.timedelta(days=3)
    with raises("future_date", "date"):
        add_encounter(h.nurse, h.resident, kind="phone", date=future)
    with raises("required", "kind"):
        add_encounter(h.nurse, h.resident, date="2024-05-01")
    with raises("invalid", "kind"):
        add_encounter(h.nurse, h.resident, kind="video", date="2024-05-01")
    assert Encounter.objects.count() == missing == 1
    update_encounter(h.nurse, h.resident, encounter, institution=None, practitioner=None)
    stored.refresh_from_db()
    assert (stored.institution, stored.practitioner) == (None, None)
    assert audit("residents.encounter.update")[-1].details == {
        "resident": h.resident.pk,
        "kind": "hospital_stay",
        "fields": ["institution", "practitioner"],
    }


# --- observations -----------------------------------------------------------------------


def test_loinc_conversions():
    glucose = loinc.CODES[loinc.GLUCOSE_FASTING]
    assert loinc.convert(glucose, Decimal("126"), "mg/dL") == Decimal("7.0")
    assert loinc.convert(glucose, Decimal("6.14"), "mmol/l") == Decimal("6.1")
    assert loinc.convert(glucose, Decimal("6"), "g/L") is None
    assert loinc.convert(loinc.CODES[loinc.TEMPERATURE], Decimal("98.6"), "°F") == Decimal("37.0")
    assert loinc.convert(loinc.CODES[loinc.WEIGHT], Decimal("121"), "斤") == Decimal("60.5")
    assert loinc.convert(loinc.CODES[loinc.SYSTOLIC], Decimal("16"), "kPa") == Decimal("120")
    assert loinc.lookup("systolic") is loinc.CODES[loinc.SYSTOLIC]
    assert loinc.lookup(" 8480-6 ") is loinc.CODES[loinc.SYSTOLIC]
    assert loinc.lookup("8480") is None


def test_record_bp_panel(h):
    when = ago(hours=2)
    rows = record_bp(h.nurse, h.resident, "135", 85, heart_rate=72, effective_at=when)
    stored = list(Observation.objects.order_by("pk"))
    assert [(o.code, o.value, o.unit) for o in stored] == [
        (loinc.SYSTOLIC, Decimal("135.00"), "mmHg"),
        (loinc.DIASTOLIC, Decimal("85.00"), "mmHg"),
        (loinc.HEART_RATE, Decimal("72.00"), "/min"),
    ]
    assert len({o.panel for o in stored}) == 1 and stored[0].panel is not None
    assert all(o.effective_at == when and o.source == "manual" for o in stored)
    assert [r.pk for r in rows] == [o.pk for o in stored]
    row = audit("residents.observation.create")[0]
    assert row.details == {
        "resident": h.resident.pk,
        "ids": [o.pk for o in stored],
        "codes": [loinc.SYSTOLIC, loinc.DIASTOLIC, loinc.HEART_RATE],
        "source": "manual",
        "panel": str(stored[0].panel),
    }
    assert "135" not in row.object_repr


def test_bp_rules(h):
    with raises("bp_order", "diastolic") as info:
        record_bp(h.nurse, h.resident, 80, 80)
    assert info.value.detail == "Systolic pressure (80) must be higher than diastolic (80)."
    with raises("out_of_range", "systolic") as info:
        record_bp(h.nurse, h.resident, 1200, 80)
    assert info.value.detail == (
        "Systolic blood pressure 1200 mmHg is outside the plausible range 50–300 mmHg: "
        "check the reading."
    )
    with raises("out_of_range", "heart_rate"):
        record_bp(h.nurse, h.resident, 120, 80, heart_rate=300)
    with raises("invalid_number", "diastolic"):
        record_bp(h.nurse, h.resident, 120, "eighty")
    with raises("required", "systolic"):
        record_bp(h.nurse, h.resident, None, 80)
    with raises("invalid_unit", "systolic"):
        record_bp(h.nurse, h.resident, 120, 80, unit="cmH2O")
    assert not Observation.objects.exists()
    rows = record_bp(h.nurse, h.resident, 16, 10.6, unit="kPa")
    assert [r.value for r in rows] == [Decimal(120), Decimal(80)]


@pytest.mark.parametrize(
    ("code", "value", "unit", "stored"),
    [
        ("glucose_fasting", "6.1", None, Decimal("6.1")),
        (loinc.GLUCOSE_RANDOM, "200", "mg/dL", Decimal("11.1")),
        ("spo2", 96, "%", Decimal(96)),
        ("temperature", "36.84", "℃", Decimal("36.8")),
        ("heart_rate", 64, "bpm", Decimal(64)),
        ("height", "1.62", "m", Decimal("162.0")),
    ],
)
def test_record_observation_units(h, code, value, unit, stored):
    rows = record_observation(h.nurse, h.resident, code, value, unit=unit)
    assert len(rows) == 1
    row = Observation.objects.get()
    spec = loinc.lookup(code)
    assert (row.code, row.value, row.unit, row.panel) == (spec.code, stored, spec.unit, None)


def test_observation_ranges_name_the_value_and_the_range(h):
    cases = [
        (
            "spo2",
            101,
            None,
            "Oxygen saturation (SpO2) 101 % is outside the plausible range 50–100 %",
        ),
        (
            "temperature",
            47,
            None,
            "Body temperature 47.0 °C is outside the plausible range 30.0–45.0 °C",
        ),
        (
            "glucose_fasting",
            900,
            "mg/dL",
            "Fasting blood glucose 50.0 mmol/L (900 mg/dL) is outside the plausible range "
            "1.0–40.0 mmol/L",
        ),
        ("weight", 15, None, "Body weight 15.0 kg is outside the plausible range 20.0–300.0 kg"),
        ("height", 250, None, "Body height 250.0 cm is outside the plausible range 100.0–230.0 cm"),
    ]
    for code, value, unit, message in cases:
        with raises("out_of_range", "value") as info:
            record_observation(h.nurse, h.resident, code, value, unit=unit)
        assert info.value.detail.startswith(message), info.value.detail
    with raises("invalid_unit", "unit") as info:
        record_observation(h.nurse, h.resident, "weight", 60, unit="stone")
    assert info.value.detail == "stone is not a unit for Body weight (use kg, 斤, lb)."
    with raises("unknown_code", "code"):
        record_observation(h.nurse, h.resident, "1234-5", 1)
    with raises("bp_panel", "code"):
        record_observation(h.nurse, h.resident, loinc.SYSTOLIC, 120)
    with raises("derived_code", "code"):
        record_observation(h.nurse, h.resident, "bmi", 22)
    with raises("invalid_number", "value"):
        record_observation(h.nurse, h.resident, "spo2", "NaN")
    with raises("invalid_source", "source"):
        record_observation(h.nurse, h.resident, "spo2", 97, source="derived")
    assert not Observation.objects.exists()


def test_effective_time(h):
    soon = timezone.now() + datetime.timedelta(minutes=2)  # clock skew is allowed
    record_observation(h.nurse, h.resident, "spo2", 97, effective_at=soon)
    later = timezone.now() + datetime.timedelta(minutes=30)
    with raises("future_time", "effective_at"):
        record_observation(h.nurse, h.resident, "spo2", 97, effective_at=later)
    with raises("future_time", "effective_at"):
        record_bp(h.nurse, h.resident, 120, 80, effective_at=later.isoformat())
    with raises("before_birth", "effective_at"):
        record_observation(h.nurse, h.resident, "spo2", 97, effective_at="1950-03-14T08:00")
    with raises("invalid_datetime", "effective_at"):
        record_observation(h.nurse, h.resident, "spo2", 97, effective_at="yesterday")
    # a time without zone is local time (Asia/Shanghai)
    rows = record_observation(h.nurse, h.resident, "spo2", 95, effective_at="2024-01-02T08:30")
    assert rows[0].effective_at == datetime.datetime(2024, 1, 2, 0, 30, tzinfo=datetime.UTC)
    Resident.objects.filter(pk=h.resident.pk).update(status="deceased", deceased_on="2024-06-01")
    with raises("after_death", "effective_at"):
        record_observation(h.nurse, h.resident, "spo2", 95, effective_at="2024-06-02T08:00")
    assert Observation.objects.count() == 2


def bmi_rows(resident) -> list[tuple]:
    return list(
        Observation.objects.filter(resident=resident, code=loinc.BMI)
        .order_by("effective_at")
        .values_list("value", "effective_at", "source")
    )


def test_bmi_from_weight_with_a_height_in_two_years(h):
    record_observation(h.nurse, h.resident, "height", 160, effective_at=ago(days=700))
    when = ago(hours=1)
    rows = record_observation(h.nurse, h.resident, "weight", "64.0", effective_at=when)
    assert [r.code for r in rows] == [loinc.WEIGHT, loinc.BMI]
    assert bmi_rows(h.resident) == [(Decimal("25.0"), when, "derived")]  # 64 / 1.6²
    weight, bmi = rows
    assert weight.panel is not None and bmi.panel == weight.panel
    assert bmi.unit == "kg/m2"
    assert audit("residents.observation.create")[-1].details["codes"] == [loinc.WEIGHT, loinc.BMI]


def test_no_bmi_with_an_old_height_or_none(h):
    record_observation(h.nurse, h.resident, "weight", 60, effective_at=ago(days=10))
    assert bmi_rows(h.resident) == []
    record_observation(h.nurse, h.resident, "height", 160, effective_at=ago(days=800))
    assert bmi_rows(h.resident) == []  # the weight is newer than 30 days after the height
    rows = record_observation(h.nurse, h.resident, "weight", 61, effective_at=ago(days=1))
    assert len(rows) == 1  # the height is 799 days older: beyond two years


def test_bmi_from_height_with_a_recent_weight_and_replacement(h):
    t = ago(hours=3)
    record_observation(h.nurse, h.resident, "weight", 50, effective_at=ago(days=20))
    record_observation(h.nurse, h.resident, "height", 158, effective_at=ago(days=900))
    # weight and height measured together: weight first (old height is too old: no BMI)
    assert len(record_observation(h.nurse, h.resident, "weight", 55, effective_at=t)) == 1
    rows = record_observation(h.nurse, h.resident, "height", 1.5, unit="m", effective_at=t)
    assert [r.code for r in rows] == [loinc.HEIGHT, loinc.BMI]
    assert bmi_rows(h.resident) == [(Decimal("24.4"), t, "derived")]  # 55 / 1.5²
    # a corrected weight at the same time replaces the derived BMI
    record_observation(h.nurse, h.resident, "weight", 54, effective_at=t)
    assert bmi_rows(h.resident) == [(Decimal("24.0"), t, "derived")]


def test_weight_recorded_after_a_height_without_recent_weight(h):
    record_observation(h.nurse, h.resident, "weight", 70, effective_at=ago(days=45))
    rows = record_observation(h.nurse, h.resident, "height", 170, effective_at=ago(days=1))
    assert len(rows) == 1  # the weight is 44 days older: beyond 30 days
    assert bmi_rows(h.resident) == []


def test_remove_observation(h):
    panel = record_bp(h.nurse, h.resident, 150, 95, heart_rate=80)
    single = record_observation(h.nurse, h.resident, "spo2", 97)[0]
    record_observation(h.nurse, h.resident, "height", 160, effective_at=ago(days=3))
    weight, bmi = record_observation(h.nurse, h.resident, "weight", 60)
    ids = remove_observation(h.caregiver, h.resident, panel[1].pk)
    assert sorted(ids) == sorted(r.pk for r in panel)
    assert audit("residents.observation.delete")[0].details == {
        "resident": h.resident.pk,
        "ids": [r.pk for r in panel],
        "codes": [loinc.SYSTOLIC, loinc.DIASTOLIC, loinc.HEART_RATE],
        "panel": str(panel[0].panel),
    }
    with raises("derived_reading", "source"):
        remove_observation(h.nurse, h.resident, bmi)
    assert remove_observation(h.nurse, h.resident, weight) == [weight.pk, bmi.pk]
    assert remove_observation(h.nurse, h.resident, single.pk) == [single.pk]
    assert list(Observation.objects.values_list("code", flat=True)) == [loinc.HEIGHT]


def test_device_readings_cannot_be_deleted_by_hand(h):
    rows = record_bp(h.nurse, h.resident, 128, 82, source="device", device_serial="BP-001")
    assert rows[0].source == "device" and rows[0].device_serial == "BP-001"
    with raises("device_reading", "source"):
        remove_observation(h.nurse, h.resident, rows[0])
    assert Observation.objects.count() == 2
    with pytest.raises(NotFound):
        remove_observation(h.nurse, h.outside, rows[0])


# --- reads ------------------------------------------------------------------------------


def test_reads_need_the_right_to_see_the_health_record(h):
    record_bp(h.nurse, h.resident, 120, 80)
    for user in (h.nurse, h.caregiver, h.dispatcher, h.own, h.family):
        assert observations_for(user, h.resident).count() == 2
    with pytest.raises(PermissionDenied):
        conditions_for(h.supervisor, h.resident)
    ProxyGrant.objects.update(can_view_readings=False)
    with pytest.raises(PermissionDenied):
        observations_for(h.family, h.resident)


def test_series_latest_and_readings(h):
    for days, (s, d) in enumerate([(150, 95), (140, 90), (130, 85)]):
        record_bp(h.nurse, h.resident, s, d, effective_at=ago(days=10 - days))
    record_observation(h.nurse, h.resident, "glucose_fasting", "7.2", effective_at=ago(days=2))
    record_observation(h.nurse, h.resident, "spo2", 97, effective_at=ago(days=40))
    series = observation_series(h.nurse, h.resident, loinc.SYSTOLIC, ago(days=30), ago())
    assert [v for _, v in series] == [Decimal(150), Decimal(140), Decimal(130)]
    assert [t for t, _ in series] == sorted(t for t, _ in series)
    latest = {item.code.key: item.value for item in latest_vitals(h.nurse, h.resident)}
    assert latest == {
        "systolic": Decimal(130),
        "diastolic": Decimal(85),
        "glucose_fasting": Decimal("7.2"),
        "spo2": Decimal(97),
    }
    readings = recent_readings(h.nurse, h.resident, ago(days=30))
    assert [[p["value"] for p in r.parts] for r in readings] == [
        ["7.2"],
        ["130/85"],
        ["140/90"],
        ["150/95"],
    ]


def test_update_condition_code_with_the_old_name(h):
    """A page posts the whole form: a new code with the old name left in the field."""
    condition = add_condition(h.nurse, h.resident, icd10="E11")
    update_condition(h.nurse, h.resident, condition, icd10="I10", name="2型糖尿病")
    condition.refresh_from_db()
    assert (condition.icd10, condition.name) == ("I10", "原发性高血压")
    assert audit("residents.condition.update")[-1].details["fields"] == ["icd10", "name"]
    with raises("required", "name"):
        update_condition(h.nurse, h.resident, condition, icd10="Q87.4", name="原发性高血压")
    update_condition(h.nurse, h.resident, condition, icd10="Q87.4", name="马方综合征")
    with raises("required", "name"):  # outside the catalogue a name cannot be cleared
        update_condition(h.nurse, h.resident, condition, name="")
    condition.refresh_from_db()
    assert (condition.icd10, condition.name) == ("Q87.4", "马方综合征")
