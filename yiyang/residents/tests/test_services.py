"""Registry writes: validation, uniqueness, duplicate candidates, scope, audit, reveal."""

from __future__ import annotations

import datetime
import json

import pytest

from yiyang.audit.models import AuditEvent
from yiyang.common import crypto
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.residents.models import Resident
from yiyang.residents.services.registry import (
    name_pinyin,
    register_resident,
    reveal_id_number,
    update_resident,
)
from yiyang.testing.network import make_user

from .conftest import id_for

pytestmark = pytest.mark.usefixtures("english")

BORN = datetime.date(1948, 5, 20)


def test_name_pinyin():
    assert name_pinyin("张三") == ("zhangsan", "zs")
    assert name_pinyin("欧阳娜娜") == ("ouyangnana", "oynn")
    assert name_pinyin("吕 Li") == ("lvli", "ll")


def test_register_resident(net):
    doctor = make_user(Role.DOCTOR, scope=net.a.county)
    village = net.a.villages[0]
    number = id_for(village, BORN, 123)
    before = AuditEvent.objects.count()

    resident, candidates = register_resident(
        doctor,
        name=" 张三 ",
        id_number=number,
        region=village,
        grid=net.a.grids[0],
        phone="138-0000-0001",
        insurance="urban_rural",
        ltc_insured=True,
        widowed_childless=True,
    )

    assert candidates == []
    stored = Resident.objects.get(pk=resident.pk)
    assert (stored.name, stored.name_pinyin, stored.name_initials) == ("张三", "zhangsan", "zs")
    assert (stored.id_number, stored.sex, stored.birth_date) == (number, "M", BORN)
    assert stored.id_number_index == crypto.blind_index(number)
    assert (stored.phone, stored.phone_index) == ("13800000001", crypto.blind_index("13800000001"))
    assert (stored.region, stored.grid, stored.status, stored.care_setting) == (
        village,
        net.a.grids[0],
        "active",
        "home",
    )
    assert (stored.insurance, stored.ltc_insured, stored.widowed_childless) == (
        "urban_rural",
        True,
        True,
    )
    assert stored.permanent_resident is True
    assert stored.id_number_masked == number[:4] + "**********" + number[-4:]

    events = list(AuditEvent.objects.filter(seq__gt=before))
    assert [e.action for e in events] == ["residents.resident.create"]
    event = events[0]
    assert (event.actor_id, event.object_type, event.object_id) == (
        doctor.pk,
        "residents.resident",
        str(resident.pk),
    )
    assert event.details["fields"]["id_number"] == number[:4] + "**********" + number[-4:]
    assert event.details["fields"]["phone"] == "138****0001"
    assert number not in json.dumps(event.details, ensure_ascii=False)
    assert number[6:14] not in json.dumps(event.details, ensure_ascii=False)


def test_lower_case_x_is_stored_upper_case(net):
    doctor = make_user(Role.DOCTOR, scope=net.a.county)
    # Find a sequence whose check character is X.
    number = next(n for s in range(1000) if (n := id_for(net.a.villages[0], BORN, s)).endswith("X"))
    resident, _ = register_resident(
        doctor, name="李四", id_number=number.lower(), region=net.a.villages[0]
    )
    stored = Resident.objects.get(pk=resident.pk)
    assert stored.id_number == number
    assert stored.id_number_index == crypto.blind_index(number)


def test_bad_id_number_is_refused_and_nothing_written(net):
    doctor = make_user(Role.DOCTOR, scope=net.a.county)
    good = id_for(net.a.villages[0], BORN, 7)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        register_resident(doctor, name="张三", id_number=bad, region=net.a.villages[0])
    assert (refused.value.code, refused.value.field) == ("id_checksum", "id_number")
    assert Resident.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_sex_and_birth_date_must_match_the_id_number(net):
    doctor = make_user(Role.DOCTOR, scope=net.a.county)
    number = id_for(net.a.villages[0], BORN, 123)  # odd sequence: male
    with pytest.raises(ValidationFailed) as sex:
        register_resident(doctor, name="张三", id_number=number, region=net.a.villages[0], sex="F")
    assert (sex.value.code, sex.value.field) == ("sex_mismatch", "sex")
    assert sex.value.detail == "Sex F does not match the ID number, which implies male (M)."

    with pytest.raises(ValidationFailed) as birth:
        register_resident(
            doctor,
            name="张三",
            id_number=number,
            region=net.a.villages[0],
            birth_date=datetime.date(1948, 5, 21),
        )
    assert (birth.value.code, birth.value.field) == ("birth_date_mismatch", "birth_date")
    assert birth.value.detail == (
        "Birth date 1948-05-21 does not match the ID number, which implies 1948-05-20."
    )
    assert Resident.objects.count() == 0

    resident, _ = register_resident(
        doctor, name="张三", id_number=number, region=net.a.villages[0], sex="M", birth_date=BORN
    )
    assert (resident.sex, resident.birth_date) == ("M", BORN)


def test_duplicate_id_number_is_refused(world):
    before = (Resident.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as refused:
        register_resident(
            world.registrar,
            name="张三丰",
            id_number=world.zhang.id_number.lower(),
            region=world.net.a.villages[1],
        )
    assert (refused.value.code, refused.value.field) == ("duplicate_id_number", "id_number")
    assert (Resident.objects.count(), AuditEvent.objects.count()) == before


def test_duplicate_candidates_are_returned(world):
    village = world.net.a.villages[0]
    same_person, candidates = register_resident(
        world.registrar,
        name="张三",
        id_number=id_for(village, datetime.date(1950, 3, 15), 13),
        region=village,
    )
    assert candidates == [world.zhang]
    same_phone, candidates = register_resident(
        world.registrar,
        name="张三妻",
        id_number=id_for(village, datetime.date(1952, 1, 1), 14),
        region=village,
        phone="13800000001",
    )
    assert candidates == [world.zhang]
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert event.details["duplicate_candidates"] == [world.zhang.pk]
    assert Resident.objects.filter(pk__in=[same_person.pk, same_phone.pk]).count() == 2


def test_region_out_of_scope_is_refused_like_a_missing_one(net):
    doctor = make_user(Role.DOCTOR, scope=net.a.county)
    number = id_for(net.b.villages[0], BORN, 9)
    with pytest.raises(ValidationFailed) as outside:
        register_resident(doctor, name="赵六", id_number=number, region=net.b.villages[0])
    with pytest.raises(ValidationFailed) as missing:
        register_resident(doctor, name="赵六", id_number=number, region=999999)
    assert (outside.value.code, outside.value.field) == ("unknown_reference", "region")
    assert outside.value.detail == (
        f"village: id {net.b.villages[0].pk} does not exist in your data scope."
    )
    assert missing.value.detail == "village: id 999999 does not exist in your data scope."
    assert Resident.objects.count() == 0


def test_region_must_be_a_village_and_grid_in_it(net):
    doctor = make_user(Role.DOCTOR, scope=net.a.county)
    number = id_for(net.a.villages[0], BORN, 9)
    with pytest.raises(ValidationFailed) as township:
        register_resident(doctor, name="王五", id_number=number, region=net.a.townships[0])
    assert (township.value.code, township.value.field) == ("region_not_village", "region")
    with pytest.raises(ValidationFailed) as grid:
        register_resident(
            doctor, name="王五", id_number=number, region=net.a.villages[1], grid=net.a.grids[0]
        )
    assert (grid.value.code, grid.value.field) == ("grid_outside_village", "grid")
    assert Resident.objects.count() == 0


def test_status_and_care_setting_rules(net):
    doctor = make_user(Role.DOCTOR, scope=net.a.county)
    village = net.a.villages[0]
    with pytest.raises(ValidationFailed) as no_date:
        register_resident(
            doctor,
            name="王五",
            id_number=id_for(village, BORN, 1),
            region=village,
            status="deceased",
        )
    assert (no_date.value.code, no_date.value.field) == ("required", "deceased_on")
    with pytest.raises(ValidationFailed) as no_inst:
        register_resident(
            doctor,
            name="王五",
            id_number=id_for(village, BORN, 1),
            region=village,
            care_setting="institution",
        )
    assert (no_inst.value.code, no_inst.value.field) == ("required", "institution")
    with pytest.raises(ValidationFailed) as bad_choice:
        register_resident(
            doctor,
            name="王五",
            id_number=id_for(village, BORN, 1),
            region=village,
            insurance="private",
        )
    assert (bad_choice.value.code, bad_choice.value.field) == ("invalid", "insurance")
    assert Resident.objects.count() == 0


def test_register_needs_the_permission(net):
    caregiver = make_user(Role.CAREGIVER, scope=net.a.county)
    with pytest.raises(PermissionDenied):
        register_resident(
            caregiver,
            name="张三",
            id_number=id_for(net.a.villages[0], BORN, 1),
            region=net.a.villages[0],
        )
    assert Resident.objects.count() == 0


def test_update_resident(world):
    nurse = make_user(Role.NURSE, scope=world.net.a.county)
    before = AuditEvent.objects.count()
    updated = update_resident(
        nurse, world.li, name="李思", status="deceased", deceased_on=datetime.date(2025, 1, 2)
    )
    stored = Resident.objects.get(pk=world.li.pk)
    assert (stored.name, stored.name_pinyin, stored.name_initials) == ("李思", "lisi", "ls")
    assert (stored.status, stored.deceased_on) == ("deceased", datetime.date(2025, 1, 2))
    assert updated.pk == world.li.pk
    event = AuditEvent.objects.get(seq=before + 1)
    assert event.action == "residents.resident.update"
    assert event.details["changed"] == {  # 李四 and 李思 are both "lisi"
        "name": "李思",
        "status": "deceased",
        "deceased_on": "2025-01-02",
    }


def test_update_id_number_rechecks_uniqueness_and_masks_it(world):
    with pytest.raises(ValidationFailed) as taken:
        update_resident(world.registrar, world.li, id_number=world.zhang.id_number)
    assert (taken.value.code, taken.value.field) == ("duplicate_id_number", "id_number")
    with pytest.raises(ValidationFailed) as sex:
        update_resident(world.registrar, world.li, sex="M")  # sequence 22: female
    assert (sex.value.code, sex.value.field) == ("sex_mismatch", "sex")

    new = id_for(world.net.a.villages[1], datetime.date(1961, 6, 1), 23)
    update_resident(world.registrar, world.li, id_number=new)
    stored = Resident.objects.get(pk=world.li.pk)
    assert (stored.id_number, stored.sex, stored.birth_date) == (
        new,
        "M",
        datetime.date(1961, 6, 1),
    )
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert event.details["changed"]["id_number"] == new[:4] + "**********" + new[-4:]
    assert new not in json.dumps(event.details)


def test_update_out_of_scope_is_not_found(world):
    nurse = make_user(Role.NURSE, scope=world.net.a.county)
    with pytest.raises(NotFound):
        update_resident(nurse, world.zhao, name="赵七")
    assert Resident.objects.get(pk=world.zhao.pk).name == "赵六"


def test_reveal_needs_the_permission_and_is_audited(world):
    caregiver = make_user(Role.CAREGIVER, scope=world.net.a.county)
    with pytest.raises(PermissionDenied):
        reveal_id_number(caregiver, world.zhang)
    doctor = make_user(Role.DOCTOR, scope=world.net.a.county)
    before = AuditEvent.objects.count()
    assert reveal_id_number(doctor, world.zhang) == world.zhang.id_number
    event = AuditEvent.objects.get(seq=before + 1)
    assert (event.action, event.actor_id, event.object_id) == (
        "residents.resident.reveal",
        doctor.pk,
        str(world.zhang.pk),
    )
    with pytest.raises(NotFound):
        reveal_id_number(doctor, world.zhao)
    assert AuditEvent.objects.count() == before + 1


def test_start_household_puts_her_in_a_new_household_at_her_address(world, english):
    from yiyang.residents.models import Household
    from yiyang.residents.services.registry import start_household

    update_resident(world.registrar, world.li, address="杨店村2组5号")
    before = AuditEvent.objects.count()
    household = start_household(world.registrar, world.li)
    world.li.refresh_from_db()
    assert world.li.household == household
    assert (household.address, household.region_id) == ("杨店村2组5号", world.li.region_id)
    assert (
        AuditEvent.objects.filter(seq__gt=before, action="residents.household.create").count() == 1
    )
    # A second one is refused, and a resident without an address needs one given.
    with pytest.raises(ValidationFailed) as again:
        start_household(world.registrar, world.li)
    assert again.value.code == "already_in_household"
    with pytest.raises(ValidationFailed) as no_address:
        start_household(world.registrar, world.wang)
    assert no_address.value.field == "address"
    assert Household.objects.count() == 1
    # Out of scope answers like missing.
    doctor_b = make_user(Role.DOCTOR, scope=world.net.b.county)
    with pytest.raises(NotFound):
        start_household(doctor_b, world.wang, address="龙山村1号")
