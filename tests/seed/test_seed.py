"""``yiyang seed``: determinism, the demo preset's shape, valid codes, unique licences,
and a clean refusal to seed the same region twice (the network only: the residents are
tested in ``test_residents``)."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command

from yiyang.accounts.models import User
from yiyang.audit.models import AuditEvent
from yiyang.common.errors import ValidationFailed
from yiyang.common.permissions import Role
from yiyang.common.scope import ScopeKind
from yiyang.network.models import (
    LEVEL_DIGITS,
    Agreement,
    Alliance,
    ChainNode,
    Grid,
    Institution,
    InstitutionType,
    Region,
    RegionLevel,
    Staff,
    Team,
    TeamMember,
)
from yiyang.network.regions import check_code
from yiyang.seed import DEMO_PASSWORD, seed
from yiyang.seed.network.builder import plan_network
from yiyang.seed.presets import PRESETS

TODAY = datetime.date(2026, 3, 1)
PARENT_LEVEL = {
    RegionLevel.CITY: RegionLevel.PROVINCE,
    RegionLevel.COUNTY: RegionLevel.CITY,
    RegionLevel.TOWNSHIP: RegionLevel.COUNTY,
    RegionLevel.VILLAGE: RegionLevel.TOWNSHIP,
}


def fingerprint(seed_no: int) -> tuple:
    plan = plan_network(PRESETS["demo"], seed_no, TODAY)
    return (
        [(r.code, r.name) for level in plan.regions.values() for r in level],
        [(i.name, i.medical_licence_no, i.care_filing_no) for i in plan.institutions],
        [(s.name, s.profession, s.licence_no, s.phone) for s in plan.staff],
        [g.code for g in plan.grids],
        [(a.title, a.valid_to) for a in plan.agreements],
    )


def test_same_seed_same_data_different_seed_different_data():
    assert fingerprint(7) == fingerprint(7)
    regions_7, _, staff_7, _, _ = fingerprint(7)
    regions_8, _, staff_8, _, _ = fingerprint(8)
    assert [name for _, name in regions_7] != [name for _, name in regions_8]
    assert [s[0] for s in staff_7] != [s[0] for s in staff_8]


@pytest.mark.django_db
def test_database_holds_exactly_the_planned_names_and_codes():
    plan = plan_network(PRESETS["demo"], 7, TODAY)
    seed("demo", 7, TODAY, residents=0)
    planned = sorted((r.code, r.name) for level in plan.regions.values() for r in level)
    assert sorted(Region.objects.values_list("code", "name")) == planned
    assert sorted(Staff.objects.values_list("licence_no", flat=True), key=str) == sorted(
        (s.licence_no for s in plan.staff), key=str
    )


@pytest.mark.django_db
def test_demo_preset_counts():
    report = seed("demo", 1, TODAY, residents=0)
    levels = Counter(Region.objects.values_list("level", flat=True))
    assert levels == {"province": 1, "city": 1, "county": 1, "township": 3, "village": 20}
    assert ChainNode.objects.filter(level="center").count() == 3
    assert ChainNode.objects.filter(level="station").count() == 20
    assert Institution.objects.filter(type=InstitutionType.LEAD_HOSPITAL).count() == 1
    # lead + a medical and a care member per center and per station
    assert Institution.objects.count() == 1 + 2 * 3 + 2 * 20
    assert Alliance.objects.get().members.count() == 3 + 20
    assert Team.objects.count() == 6
    # three agreements per center (membership, cooperation, referral), one per station
    assert Agreement.objects.count() == 3 * 3 + 20
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert User.objects.count() == 12
    assert report.counts["villages"] == 20
    assert report.counts["users"] == 12
    # every village has grids, every team serves some and has a leader among its members
    assert set(Grid.objects.values_list("village__level", flat=True)) == {"village"}
    assert Region.objects.filter(level="village", grids__isnull=True).count() == 0
    for team in Team.objects.all():
        assert team.grids.count() > 0
        assert TeamMember.objects.get(team=team, staff=team.leader).role == "leader"
    # every profession is staffed
    assert {p for (p,) in Staff.objects.values_list("profession").distinct()} == {
        "doctor",
        "tcm_doctor",
        "nurse",
        "rehab_therapist",
        "public_health",
        "caregiver",
        "housekeeping",
        "dispatcher",
        "assessor",
    }


@pytest.mark.django_db
def test_demo_agreements_show_both_expiry_markers():
    seed("demo", 1, TODAY, residents=0)
    markers = Counter(a.expiry_marker(TODAY) for a in Agreement.objects.all())
    assert markers["expiring"] >= 1
    assert markers["expired"] >= 1
    assert markers[""] >= 1


@pytest.mark.django_db
def test_region_codes_are_valid_and_consistent():
    seed("demo", 3, TODAY, residents=0)
    by_code = {r.code: r for r in Region.objects.select_related("parent")}
    for region in by_code.values():
        assert len(region.code) == 12 and region.code.isdigit()
        assert check_code(region.code) == region.level
        significant = LEVEL_DIGITS[RegionLevel(region.level)]
        assert region.code[significant:] == "0" * (12 - significant)
        if region.level == RegionLevel.PROVINCE:
            assert region.parent is None
            continue
        parent = region.parent
        assert parent is not None and parent.code in by_code
        assert parent.level == PARENT_LEVEL[RegionLevel(region.level)]
        assert region.code.startswith(parent.prefix)
        if region.level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
            assert "001" <= region.code[6:9] <= "399"
        if region.level == RegionLevel.VILLAGE:
            assert "001" <= region.code[9:] <= "399"


@pytest.mark.django_db
def test_licence_numbers_are_unique_across_presets():
    seed("demo", 1, TODAY, residents=0)
    seed("county", 2, TODAY, residents=0)
    licences = [n for n in Staff.objects.values_list("licence_no", flat=True) if n]
    assert len(licences) == len(set(licences))
    assert len(licences) > 1000
    medical = [n for n in Institution.objects.values_list("medical_licence_no", flat=True) if n]
    assert len(medical) == len(set(medical))
    assert Region.objects.filter(level="township").count() == 3 + 15


@pytest.mark.django_db
def test_seeding_the_same_region_twice_is_refused_and_changes_nothing():
    seed("demo", 1, TODAY, residents=0)
    before = (Region.objects.count(), Staff.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as caught:
        seed("demo", 1, TODAY, residents=0)
    assert caught.value.code == "seed_region_exists"
    assert "already has region" in caught.value.detail
    with pytest.raises(CommandError, match="Use another --seed or an empty database"):
        call_command("seed", "--preset", "demo", "--seed", "1")
    assert (Region.objects.count(), Staff.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_one_audit_row_summarises_the_seed():
    seed("demo", 1, TODAY, residents=0)
    event = AuditEvent.objects.get(action="seed.run")
    assert event.details["preset"] == "demo"
    assert event.details["seed"] == 1
    assert event.details["counts"]["stations"] == 20
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_demo_logins_have_the_password_scopes_and_totp():
    seed("demo", 1, TODAY, residents=0)
    users = {u.username: u for u in User.objects.all()}
    # one argon2 hash shared by all (hashing is deliberately slow): check it once
    assert len({u.password for u in users.values()}) == 1
    assert users["doctor"].check_password(DEMO_PASSWORD)
    for user in users.values():
        validate_password(DEMO_PASSWORD, user)  # meets the password policy
    admins = {"sysadmin", "secadmin", "auditor"}
    assert {n for n, u in users.items() if u.totp_confirmed and u.totp_secret} == admins
    assert {n for n, u in users.items() if u.scope_kind == ScopeKind.ALL} == admins
    assert users["supervisor"].scope_region.level == "county"
    assert users["dispatcher"].scope_region.level == "township"
    doctor, nurse = users["doctor"], users["nurse"]
    assert doctor.scope_kind == nurse.scope_kind == ScopeKind.TEAM
    assert doctor.scope_team == nurse.scope_team
    assert doctor.scope_team.leader == doctor.staff
    assert doctor.scope_team.members.filter(pk=nurse.staff.pk).exists()
    assert users["instadmin"].scope_institution.type in {"thc", "chc"}
    assert users["caregiver"].scope_institution.type == "nursing_home"
    assert users["caregiver"].staff.profession == "caregiver"
    assert users["resident"].scope_kind == users["family"].scope_kind == ScopeKind.SELF
    # the team's township is one of three: the others are outside the doctor's scope
    team_township = doctor.scope_team.node.region
    assert Region.objects.filter(level="township").exclude(pk=team_township.pk).count() == 2


@pytest.mark.django_db
def test_seed_command_prints_counts_and_logins():
    from io import StringIO

    out = StringIO()
    call_command("seed", "--preset", "demo", "--seed", "5", "--today", "2026-03-01", stdout=out)
    text = out.getvalue()
    assert "Seeded preset demo (seed 5)" in text
    assert "stations 20" in text
    assert text.count("TOTP secret:") == 3
    assert "doctor       Yiyang#2026   doctor" in text
