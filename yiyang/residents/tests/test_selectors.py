"""Scoped reads of residents: every scope kind, NotFound out of scope, audited reads."""

from __future__ import annotations

import pytest

from yiyang.audit.models import AuditEvent
from yiyang.common.errors import NotFound, PermissionDenied
from yiyang.common.permissions import Role
from yiyang.residents.selectors.registry import get_resident_for, residents_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")


def names(user) -> list[str]:
    return sorted(residents_for(user).values_list("name", flat=True))


def test_scope_all_and_region(world):
    a = world.net.a
    assert names(make_user(Role.SUPERVISOR, scope="all")) == sorted(
        ["张三", "李四", "王五", "赵六", "孙七"]
    )
    assert names(make_user(Role.SUPERVISOR, scope=a.county)) == sorted(["张三", "李四", "王五"])
    assert names(make_user(Role.SUPERVISOR, scope=a.townships[1])) == ["王五"]
    assert names(make_user(Role.SUPERVISOR, scope=world.net.b.county)) == sorted(["赵六", "孙七"])


def test_scope_institution_by_its_region_level_and_care(world):
    a = world.net.a
    assert names(make_user(Role.DOCTOR, scope=a.lead)) == sorted(["张三", "李四", "王五"])
    assert names(make_user(Role.DOCTOR, scope=a.thc)) == sorted(["张三", "李四"])
    assert names(make_user(Role.DOCTOR, scope=a.clinics[0])) == ["张三"]
    # The nursing home sees its township and the residents in its care (孙七 lives in B).
    assert names(make_user(Role.NURSE, scope=a.care_home)) == sorted(["张三", "李四", "孙七"])


def test_scope_team_and_self(world):
    assert names(make_user(Role.CAREGIVER, scope=world.net.a.team)) == ["张三"]
    assert names(make_user(Role.CAREGIVER, scope=world.net.b.team)) == ["赵六"]
    assert names(make_user(Role.DOCTOR, scope="self")) == []


def test_residents_need_the_view_permission(world):
    for role in (Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN):
        with pytest.raises(PermissionDenied):
            residents_for(make_user(role, scope="all"))


def test_resident_and_family_logins_are_held_to_self_whatever_their_scope(world):
    for role in (Role.RESIDENT, Role.FAMILY):
        assert list(residents_for(make_user(role, scope="all"))) == []


def test_get_resident_for_is_audited_and_not_found_out_of_scope(world):
    doctor = make_user(Role.DOCTOR, scope=world.net.a.county)
    before = AuditEvent.objects.count()
    assert get_resident_for(doctor, world.zhang.pk) == world.zhang
    event = AuditEvent.objects.get(seq=before + 1)
    assert (event.action, event.actor_id, event.object_id) == (
        "residents.resident.read",
        doctor.pk,
        str(world.zhang.pk),
    )
    with pytest.raises(NotFound) as outside:
        get_resident_for(doctor, world.zhao.pk)
    with pytest.raises(NotFound) as missing:
        get_resident_for(doctor, 999999)
    assert (
        outside.value.as_dict()
        == missing.value.as_dict()
        == {
            "code": "not_found",
            "detail": "resident not found",
            "field": None,
        }
    )
    assert AuditEvent.objects.count() == before + 1
