"""Seeded residents: deterministic per seed; the demo's resident and family logins wired to
one resident (her own record, a proxy grant for her daughter: readings and alerts) whom the demo
team sees; presets without demo staff record consents by an inactive seed account. The
shares and validity at a county's shape are in ``test_residents_shares``."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from yiyang.accounts.models import User
from yiyang.network.models import Grid
from yiyang.residents import loinc
from yiyang.residents.models import (
    Condition,
    Consent,
    ConsentPurpose,
    Contact,
    Medication,
    Observation,
    ProxyGrant,
    Relation,
    Resident,
)
from yiyang.residents.selectors.registry import residents_for
from yiyang.seed import seed

TODAY = datetime.date(2026, 3, 1)


def fingerprint() -> tuple:
    residents = [
        (
            r.id_number,
            r.name,
            r.name_pinyin,
            r.sex,
            r.birth_date,
            r.phone,
            r.region_code,
            r.grid.code if r.grid else None,
            r.household.address if r.household else None,
            r.status,
            r.care_setting,
            tuple(r.flags),
            r.insurance,
            r.ltc_insured,
        )
        for r in Resident.objects.select_related("grid", "household")
    ]
    by_pk = {r.pk: r.id_number for r in Resident.objects.all()}
    conditions = sorted((by_pk[c.resident_id], c.icd10, c.onset) for c in Condition.objects.all())
    medicines = sorted((by_pk[m.resident_id], m.name, m.dose) for m in Medication.objects.all())
    contacts = sorted((by_pk[c.resident_id], c.name, c.phone) for c in Contact.objects.all())
    readings = sorted(
        (by_pk[o.resident_id], o.code, o.effective_at, o.value)
        for o in Observation.objects.all()[:2000]
    )
    return sorted(residents), conditions, medicines, contacts, readings


def seeded_fingerprint(seed_no: int) -> tuple:
    """Seed the demo preset (120 residents: a quick run of the same code) inside a
    savepoint, read it back, roll it back."""
    with transaction.atomic():
        seed("demo", seed_no, TODAY, residents=120)
        found = fingerprint()
        transaction.set_rollback(True)
    return found


@pytest.mark.django_db
def test_same_seed_same_residents_other_seed_other_residents():
    first = seeded_fingerprint(7)
    assert Resident.objects.count() == 0  # rolled back
    again = seeded_fingerprint(7)
    other = seeded_fingerprint(8)
    assert len(first[0]) == 120
    assert first == again
    assert [r[1] for r in first[0]] != [r[1] for r in other[0]]
    assert {r[0] for r in first[0]}.isdisjoint({r[0] for r in other[0]})


@pytest.mark.django_db
def test_demo_resident_and_family_logins_see_her():
    report = seed("demo", 2026, TODAY)
    assert report.counts["residents"] == 300
    users = {u.username: u for u in User.objects.all()}
    resident = Resident.objects.get(account=users["resident"])
    assert list(residents_for(users["resident"])) == [resident]
    assert list(residents_for(users["family"])) == [resident]
    grant = ProxyGrant.objects.get(user=users["family"])
    assert grant.resident == resident and grant.active
    assert grant.contact.relation == Relation.DAUGHTER
    assert grant.contact.account == users["family"]
    assert (grant.can_view_readings, grant.can_view_alerts) == (True, True)
    assert (grant.can_book_services, grant.can_view_bills) == (False, False)
    assert grant.consent.purpose == ConsentPurpose.PROXY_ACCESS
    purposes = set(
        resident.consents.filter(withdrawn_at__isnull=True).values_list("purpose", flat=True)
    )
    assert {ConsentPurpose.HEALTH_DATA, ConsentPurpose.FAMILY_SHARING} <= purposes
    assert users["resident"].display_name == resident.name
    assert users["family"].display_name == grant.contact.name
    # her health record: hypertension and diabetes, a year of weekly BP panels
    assert {"I10", "E11"} <= set(resident.conditions.values_list("icd10", flat=True))
    systolic = resident.observations.filter(code=loinc.SYSTOLIC)
    assert systolic.count() == 52
    assert resident.observations.filter(panel=systolic.first().panel).count() == 3
    # the demo team sees her and the residents of its grids, not the whole county
    team_grids = Grid.objects.filter(teams=users["doctor"].scope_team)
    for username in ("doctor", "nurse"):
        seen = residents_for(users[username])
        assert seen.filter(pk=resident.pk).exists()
        assert 10 < seen.count() < 300
        assert not seen.exclude(grid__in=team_grids).exists()
    # the caregiver (the township's nursing home) sees the township and her home's residents
    caregiver_seen = residents_for(users["caregiver"])
    assert caregiver_seen.filter(pk=resident.pk).exists()
    assert 10 < caregiver_seen.count() < 300
    assert residents_for(users["supervisor"]).count() == 300
    # withdrawing the family-sharing consent hides her from the family login at once
    resident.consents.filter(purpose=ConsentPurpose.FAMILY_SHARING).update(
        withdrawn_at=grant.created_at
    )
    assert not residents_for(users["family"]).exists()


@pytest.mark.django_db
def test_seed_command_prints_the_demo_people():
    out = StringIO()
    call_command("seed", "--preset", "demo", "--seed", "9", "--today", "2026-03-01", stdout=out)
    text = out.getvalue()
    assert "residents 300" in text
    resident = Resident.objects.get(account__username="resident")
    line = next(x for x in text.splitlines() if x.startswith("resident "))
    assert f"own record: {resident.name} ({resident.id_number_masked})" in line
    line = next(x for x in text.splitlines() if x.startswith("family "))
    assert f"proxy for {resident.name}" in line and "(readings, alerts)" in line


@pytest.mark.django_db
def test_presets_without_demo_users_record_consents_by_an_inactive_seed_account():
    seed("county", 3, TODAY, residents=50)
    assert Resident.objects.count() == 50
    recorder = User.objects.get(username="seed")
    assert not recorder.is_active and not recorder.has_usable_password()
    assert set(Consent.objects.values_list("recorded_by", flat=True)) == {recorder.pk}
    # a second seed reuses it
    seed("county", 4, TODAY, residents=10)
    assert User.objects.filter(username="seed").count() == 1
    assert Resident.objects.count() == 60
