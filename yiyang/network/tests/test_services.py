"""Writes: validation, duplicate licences, scope, and one audit row per successful write."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from yiyang.audit.models import AuditEvent
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.network.models import (
    Agreement,
    ChainNode,
    Institution,
    Staff,
    StaffMembership,
    Team,
    TeamMember,
)
from yiyang.network.services.agreements import create_agreement, update_agreement
from yiyang.network.services.grids import create_grid
from yiyang.network.services.institutions import (
    create_institution,
    institution_licence_conflicts,
    update_institution,
)
from yiyang.network.services.nodes import create_node, update_node
from yiyang.network.services.staff import create_staff, update_staff
from yiyang.network.services.steps import save
from yiyang.network.services.teams import create_team, update_team
from yiyang.testing.network import build_network, in_force, make_user

pytestmark = pytest.mark.usefixtures("english")


def audit_count() -> int:
    return AuditEvent.objects.count()


# --- the test network itself ------------------------------------------------------------


def test_build_network_writes_one_audit_row_per_write(db):
    net = build_network()
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions.count("network.region.create") == 11
    assert actions.count("network.institution.create") == 12
    assert actions.count("network.node.create") == 5
    assert actions.count("network.team.create") == 2
    assert actions.count("network.agreement.create") == 2
    assert set(AuditEvent.objects.values_list("actor_id", flat=True)) == {net.admin.pk}


# --- institutions -----------------------------------------------------------------------


def test_create_institution_records_its_fields(net):
    before = audit_count()
    inst = create_institution(
        net.admin,
        name="罗山县中医院",
        type="lead_hospital",
        region=net.a.county.pk,
        medical_licence_no=" PDY411521-TCM ",
        beds_medical=200,
        tcm_services=True,
    )
    assert inst.medical_licence_no == "PDY411521-TCM"
    assert inst.care_filing_no is None
    assert audit_count() == before + 1
    event = AuditEvent.objects.get(action="network.institution.create", object_id=str(inst.pk))
    assert event.details == {
        "fields": {
            "beds_medical": 200,
            "medical_licence_no": "PDY411521-TCM",
            "name": "罗山县中医院",
            "region": net.a.county.pk,
            "tcm_services": True,
            "type": "lead_hospital",
        }
    }


def test_duplicate_medical_licence_names_the_holder_and_changes_nothing(net):
    before = (Institution.objects.count(), audit_count())
    with pytest.raises(ValidationFailed) as caught:
        create_institution(
            net.admin,
            name="另一家医院",
            type="thc",
            region=net.a.townships[1],
            medical_licence_no=net.a.thc.medical_licence_no,
        )
    assert caught.value.as_dict() == {
        "code": "duplicate_licence",
        "field": "medical_licence_no",
        "detail": f"Medical practice licence no. {net.a.thc.medical_licence_no} is already "
        "held by 周党镇卫生院.",
    }
    assert (Institution.objects.count(), audit_count()) == before


def test_duplicate_care_filing_on_update_changes_nothing(net):
    home = net.a.happiness_homes[0]
    before = audit_count()
    with pytest.raises(ValidationFailed) as caught:
        update_institution(
            net.admin, home, care_filing_no=net.a.care_home.care_filing_no, beds_care=99
        )
    assert (caught.value.code, caught.value.field) == ("duplicate_licence", "care_filing_no")
    assert "周党镇敬老院" in caught.value.detail
    home.refresh_from_db()
    assert (home.care_filing_no, home.beds_care) == ("YLBA4115210201", 10)
    assert audit_count() == before


def test_a_lost_race_on_the_licence_is_still_a_clear_error(net):
    """The check passed, then another transaction took the licence before our insert:
    the unique constraint's IntegrityError becomes the same duplicate_licence error."""
    inst = Institution(
        name="抢注医院", type="thc", region=net.a.townships[1], medical_licence_no="RACE-1"
    )
    Institution.objects.create(
        name="先到医院", type="thc", region=net.a.townships[1], medical_licence_no="RACE-1"
    )
    with pytest.raises(ValidationFailed) as caught:
        save(inst, on_conflict=lambda: institution_licence_conflicts(inst))
    assert caught.value.detail == (
        "Medical practice licence no. RACE-1 is already held by 先到医院."
    )
    assert Institution.objects.filter(medical_licence_no="RACE-1").count() == 1


def test_the_database_refuses_a_duplicate_licence_too(net):
    with pytest.raises(IntegrityError), transaction.atomic():
        Institution.objects.create(
            name="x",
            type="thc",
            region=net.a.county,
            medical_licence_no=net.a.lead.medical_licence_no,
        )


def test_update_institution_records_only_changed_fields(net):
    update_institution(
        net.admin, net.a.thc, beds_medical=45, name=net.a.thc.name, elderly_friendly=True
    )
    event = AuditEvent.objects.filter(action="network.institution.update").get()
    assert event.details == {
        "changed": {
            "beds_medical": {"from": 40, "to": 45},
            "elderly_friendly": {"from": False, "to": True},
        }
    }


def test_update_without_change_writes_no_audit_row(net):
    before = audit_count()
    update_institution(net.admin, net.a.thc, beds_medical=40)
    assert audit_count() == before


def test_invalid_type_and_future_founding_are_refused(net):
    with pytest.raises(ValidationFailed) as caught:
        create_institution(net.admin, name="x", type="hospital", region=net.a.county)
    assert (caught.value.code, caught.value.field) == ("invalid", "type")
    with pytest.raises(ValidationFailed) as caught:
        create_institution(
            net.admin,
            name="x",
            type="thc",
            region=net.a.county,
            founded_on=timezone.localdate() + datetime.timedelta(days=1),
        )
    assert (caught.value.code, caught.value.field) == ("date_in_future", "founded_on")


def test_institution_type_must_keep_fitting_its_nodes(net):
    with pytest.raises(ValidationFailed) as caught:
        update_institution(net.admin, net.a.thc, type="nursing_home")
    assert (caught.value.code, caught.value.field) == ("wrong_member_type", "type")
    net.a.thc.refresh_from_db()
    assert net.a.thc.type == "thc"


# --- scope of writes --------------------------------------------------------------------


def test_out_of_scope_update_is_not_found_and_changes_nothing(net):
    admin_a = make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc)
    before = audit_count()
    with pytest.raises(NotFound) as caught:
        update_institution(admin_a, net.b.thc, name="改名")
    assert caught.value.as_dict() == {
        "code": "not_found",
        "detail": "institution not found",
        "field": None,
    }
    net.b.thc.refresh_from_db()
    assert net.b.thc.name == "泼陂河镇卫生院"
    assert audit_count() == before


def test_in_scope_update_by_institution_admin(net):
    admin_a = make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc)
    update_institution(admin_a, net.a.thc.pk, phone="0376-2345678")
    net.a.thc.refresh_from_db()
    assert net.a.thc.phone == "0376-2345678"
    assert AuditEvent.objects.get(action="network.institution.update").actor_id == admin_a.pk


def test_moving_an_institution_out_of_scope_is_refused(net):
    county_admin = make_user(Role.INSTITUTION_ADMIN, scope=net.a.county)
    before = audit_count()
    with pytest.raises(ValidationFailed) as refused:
        update_institution(county_admin, net.a.clinics[0], region=net.b.villages[0])
    assert (refused.value.code, refused.value.field) == ("unknown_reference", "region")
    net.a.clinics[0].refresh_from_db()
    assert net.a.clinics[0].region == net.a.villages[0]
    assert audit_count() == before


def test_creating_outside_scope_is_refused(net):
    county_admin = make_user(Role.INSTITUTION_ADMIN, scope=net.a.county)
    count = Institution.objects.count()
    with pytest.raises(ValidationFailed, match="region"):
        create_institution(county_admin, name="越界卫生院", type="thc", region=net.b.townships[0])
    # the same admin may create inside its county
    create_institution(county_admin, name="龙山乡卫生院", type="thc", region=net.a.townships[1])
    assert Institution.objects.count() == count + 1


def test_writes_need_the_permission(net):
    supervisor = make_user(Role.SUPERVISOR, scope="all")
    before = audit_count()
    with pytest.raises(PermissionDenied):
        update_institution(supervisor, net.a.thc, name="x")
    with pytest.raises(PermissionDenied):
        create_staff(supervisor, name="x", profession="doctor")
    doctor = make_user(Role.DOCTOR, scope=net.a.thc)
    with pytest.raises(PermissionDenied):
        update_team(doctor, net.a.team, name="x")
    assert audit_count() == before


# --- agreements -------------------------------------------------------------------------


def test_agreement_dates_in_the_wrong_order_are_refused(net):
    before = (Agreement.objects.count(), audit_count())
    with pytest.raises(ValidationFailed) as caught:
        create_agreement(
            net.admin,
            kind="cooperation",
            party_a=net.a.clinics[0],
            party_b=net.a.happiness_homes[0],
            valid_from=datetime.date(2025, 6, 1),
            valid_to=datetime.date(2025, 5, 31),
        )
    assert caught.value.as_dict() == {
        "code": "invalid_dates",
        "field": "valid_to",
        "detail": "Valid to (2025-05-31) is before valid from (2025-06-01): an agreement must "
        "end on or after the day it starts.",
    }
    assert (Agreement.objects.count(), audit_count()) == before


def test_agreement_update_with_bad_dates_changes_nothing(net):
    valid_from, valid_to = net.a.agreement.valid_from, net.a.agreement.valid_to
    with pytest.raises(ValidationFailed) as caught:
        update_agreement(
            net.admin, net.a.agreement, valid_to=valid_from - datetime.timedelta(days=1)
        )
    assert caught.value.code == "invalid_dates"
    net.a.agreement.refresh_from_db()
    assert net.a.agreement.valid_to == valid_to


def test_agreement_one_day_long_is_fine(net):
    agreement = create_agreement(
        net.admin,
        kind="referral",
        party_a=net.a.lead,
        party_b=net.a.thc,
        valid_from=datetime.date(2025, 1, 1),
        valid_to=datetime.date(2025, 1, 1),
    )
    assert agreement.status == "draft"


def test_agreement_needs_two_parties(net):
    with pytest.raises(ValidationFailed) as caught:
        create_agreement(
            net.admin,
            kind="referral",
            party_a=net.a.thc,
            party_b=net.a.thc,
            valid_from=datetime.date(2025, 1, 1),
            valid_to=datetime.date(2025, 12, 31),
        )
    assert (caught.value.code, caught.value.field) == ("same_party", "party_b")


def test_agreement_with_a_partner_outside_scope(net):
    """An institution signs with a partner outside its own scope; it must be a party."""
    admin_a = make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc)
    valid_from, valid_to = in_force()
    agreement = create_agreement(
        admin_a,
        kind="referral",
        party_a=net.a.thc,
        party_b=net.a.lead,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    assert agreement.party_b == net.a.lead
    with pytest.raises(NotFound):
        create_agreement(
            admin_a,
            kind="referral",
            party_a=net.b.thc,
            party_b=net.b.lead,
            valid_from=valid_from,
            valid_to=valid_to,
        )


def test_agreement_document_is_attached_and_checked(net, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    pdf = SimpleUploadedFile("协议.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    agreement = update_agreement(net.admin, net.a.agreement, document=pdf)
    assert agreement.document.name.startswith("agreements/")
    assert agreement.document.read() == b"%PDF-1.4 test"
    exe = SimpleUploadedFile("virus.exe", b"MZ")
    with pytest.raises(ValidationFailed) as caught:
        update_agreement(net.admin, net.a.agreement, document=exe)
    assert (caught.value.code, caught.value.field) == ("invalid_document", "document")


def test_expiry_marker():
    agreement = Agreement(valid_from=datetime.date(2024, 1, 1), valid_to=datetime.date(2025, 6, 30))
    assert agreement.expiry_marker(datetime.date(2025, 5, 30)) == ""
    assert agreement.expiry_marker(datetime.date(2025, 5, 31)) == "expiring"
    assert agreement.expiry_marker(datetime.date(2025, 6, 30)) == "expiring"
    assert agreement.expiry_marker(datetime.date(2025, 7, 1)) == "expired"


# --- chain nodes ------------------------------------------------------------------------


def node_values(net, **overrides):
    values = {
        "level": "center",
        "name": "龙山乡医养服务中心",
        "region": net.a.townships[1],
        "medical_member": net.a.thc,
        "care_member": net.a.care_home,
        "integration_mode": "contracted",
        "lead": net.a.lead,
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"region": "county"}, "wrong_region_level", "region"),
        ({"medical_member": "care_home"}, "wrong_member_type", "medical_member"),
        ({"care_member": "thc"}, "wrong_member_type", "care_member"),
        ({"lead": "thc_b"}, "invalid_lead", "lead"),
        ({"lead": None}, "required", "lead"),
    ],
)
def test_center_rules(net, overrides, code, field):
    objects = {
        "county": net.a.county,
        "care_home": net.a.care_home,
        "thc": net.a.thc,
        "thc_b": net.b.happiness_homes[0],
    }
    values = node_values(net, **{k: objects.get(v, v) for k, v in overrides.items()})
    count = ChainNode.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        create_node(net.admin, **values)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert ChainNode.objects.count() == count


def test_alliance_member_may_lead_a_center(net):
    """Not a lead hospital, but a medical institution of the county's alliance."""
    node = create_node(net.admin, **node_values(net, lead=net.a.thc))
    assert node.lead == net.a.thc


def test_station_must_be_a_village_inside_the_centers_township(net):
    values = {
        "level": "station",
        "name": "龙山村医养服务站",
        "region": net.a.villages[2],  # 龙山村 is in 龙山乡, not in 周党镇
        "medical_member": net.a.clinics[0],
        "care_member": net.a.happiness_homes[0],
        "integration_mode": "contracted",
        "center": net.a.center,
    }
    with pytest.raises(ValidationFailed) as caught:
        create_node(net.admin, **values)
    assert caught.value.as_dict() == {
        "code": "outside_region",
        "field": "region",
        "detail": "龙山村 is not inside the center's township 周党镇.",
    }
    with pytest.raises(ValidationFailed) as caught:
        create_node(net.admin, **{**values, "region": net.a.townships[0]})
    assert (caught.value.code, caught.value.field) == ("wrong_region_level", "region")
    with pytest.raises(ValidationFailed) as caught:
        create_node(net.admin, **{**values, "center": net.a.stations[0]})
    assert (caught.value.code, caught.value.field) == ("invalid_center", "center")


def test_node_level_cannot_change(net):
    with pytest.raises(ValidationFailed) as caught:
        update_node(net.admin, net.a.stations[0], level="center")
    assert (caught.value.code, caught.value.field) == ("immutable", "level")


# --- staff ------------------------------------------------------------------------------


def test_create_staff_with_memberships_and_skills(net):
    staff = create_staff(
        net.admin,
        name="周敏",
        sex="F",
        phone="13800001111",
        profession="rehab_therapist",
        licence_no="R-0001",
        skills=["rehab", net.skills["tcm"].pk],
        memberships=[
            {"institution": net.a.thc, "position": "康复师", "primary": True},
            {"institution": net.a.care_home.pk, "position": "兼职"},
        ],
    )
    assert sorted(staff.skills.values_list("code", flat=True)) == ["rehab", "tcm"]
    assert list(
        StaffMembership.objects.filter(staff=staff)
        .order_by("pk")
        .values_list("institution__name", "primary")
    ) == [("周党镇卫生院", True), ("周党镇敬老院", False)]
    assert Staff.objects.get(pk=staff.pk).phone == "13800001111"
    event = AuditEvent.objects.get(action="network.staff.create", object_id=str(staff.pk))
    assert event.details["fields"]["phone"] == "***"
    assert event.details["fields"]["skills"] == ["rehab", "tcm"]


def test_duplicate_staff_licence_names_the_institution(net):
    count = Staff.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        create_staff(
            net.admin, name="冒名", profession="doctor", licence_no=net.a.doctor.licence_no
        )
    assert caught.value.as_dict() == {
        "code": "duplicate_licence",
        "field": "licence_no",
        "detail": f"Licence no. {net.a.doctor.licence_no} is already registered to another "
        "staff member of 周党镇卫生院.",
    }
    assert Staff.objects.count() == count


def test_staff_update_replaces_memberships_within_scope(net):
    admin_a = make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc)
    update_staff(
        admin_a,
        net.a.nurse,
        memberships=[{"institution": net.a.thc, "position": "护士长", "primary": True}],
    )
    assert list(net.a.nurse.memberships.values_list("position", flat=True)) == ["护士长"]
    # a membership elsewhere would take the record out of this admin's scope
    with pytest.raises(ValidationFailed) as refused:
        update_staff(
            admin_a, net.a.nurse, memberships=[{"institution": net.b.thc, "primary": True}]
        )
    assert (refused.value.code, refused.value.field) == ("unknown_reference", "institution")
    assert list(net.a.nurse.memberships.values_list("institution", flat=True)) == [net.a.thc.pk]


def test_staff_of_another_scope_is_not_found(net):
    admin_a = make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc)
    with pytest.raises(NotFound):
        update_staff(admin_a, net.b.doctor, name="x")
    net.b.doctor.refresh_from_db()
    assert net.b.doctor.name == "陈立"


# --- teams ------------------------------------------------------------------------------


def test_team_leader_must_be_a_member(net):
    count = Team.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        create_team(
            net.admin,
            name="新团队",
            node=net.a.center,
            leader=net.a.doctor,
            members=[{"staff": net.a.nurse, "role": "nurse"}],
        )
    assert caught.value.as_dict() == {
        "code": "leader_not_member",
        "field": "leader",
        "detail": "The leader 王建国 must also be a member of the team.",
    }
    assert Team.objects.count() == count


def test_team_grids_must_lie_in_the_nodes_region(net):
    with pytest.raises(ValidationFailed) as caught:
        update_team(net.admin, net.a.team, grids=[net.b.grids[0]])
    assert (caught.value.code, caught.value.field) == ("outside_region", "grids")


def test_update_team_members_records_the_change(net):
    update_team(
        net.admin,
        net.a.team,
        members=[
            {"staff": net.a.doctor, "role": "leader"},
            {"staff": net.a.nurse, "role": "nurse"},
        ],
    )
    assert sorted(
        TeamMember.objects.filter(team=net.a.team).values_list("staff__name", "role")
    ) == [
        ("李秀英", "nurse"),
        ("王建国", "leader"),
    ]
    event = AuditEvent.objects.get(action="network.team.update")
    assert event.details["changed"]["members"]["to"] == sorted(
        [
            {"staff": net.a.doctor.pk, "role": "leader"},
            {"staff": net.a.nurse.pk, "role": "nurse"},
        ],
        key=lambda m: m["staff"],
    )
    # removing the leader from the members is refused
    with pytest.raises(ValidationFailed):
        update_team(net.admin, net.a.team, members=[{"staff": net.a.nurse, "role": "nurse"}])
    assert TeamMember.objects.filter(team=net.a.team).count() == 2


# --- grids ------------------------------------------------------------------------------


def test_grid_must_be_in_a_village_with_a_unique_code(net):
    with pytest.raises(ValidationFailed) as caught:
        create_grid(net.admin, village=net.a.townships[0], code="G-X", name="x")
    assert (caught.value.code, caught.value.field) == ("wrong_region_level", "village")
    with pytest.raises(ValidationFailed) as caught:
        create_grid(net.admin, village=net.a.villages[0], code=net.a.grids[0].code, name="x")
    assert (caught.value.code, caught.value.field) == ("duplicate_code", "code")
