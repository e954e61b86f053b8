"""The permission registry: each app declares its permissions and the roles holding them."""

from __future__ import annotations

from enum import StrEnum

import pytest
from django.core.exceptions import ImproperlyConfigured

from yiyang.common.errors import PermissionDenied
from yiyang.common.permissions import (
    Role,
    perms_for,
    register_permissions,
    registered_permissions,
    require_perm,
    role_permissions,
)
from yiyang.common.tests.conftest import FakeUser

pytestmark = pytest.mark.usefixtures("clean_permissions")


class ParcelPerm(StrEnum):
    VIEW = "parcels.view"
    SEND = "parcels.send"


class OtherPerm(StrEnum):
    VIEW = "other.view"


def test_grants_are_read_back_per_role():
    register_permissions(
        ParcelPerm, {Role.DOCTOR: {ParcelPerm.VIEW, ParcelPerm.SEND}, Role.NURSE: {ParcelPerm.VIEW}}
    )
    assert perms_for(Role.DOCTOR) == {"parcels.view", "parcels.send"}
    assert perms_for(Role.NURSE) == {"parcels.view"}
    assert perms_for(Role.CAREGIVER) == frozenset()
    assert perms_for("no_such_role") == frozenset()
    assert [str(p) for p in registered_permissions()] == ["parcels.send", "parcels.view"]
    matrix = role_permissions()
    assert set(matrix) == set(Role.values) and matrix[Role.NURSE] == {"parcels.view"}


def test_registering_the_same_enum_again_changes_nothing():
    register_permissions(ParcelPerm, {Role.DOCTOR: {ParcelPerm.VIEW}})
    register_permissions(ParcelPerm, {Role.DOCTOR: {ParcelPerm.VIEW}})
    assert perms_for(Role.DOCTOR) == {"parcels.view"}
    assert len(registered_permissions()) == 2


def test_a_code_declared_by_two_enums_is_refused():
    class Clash(StrEnum):
        VIEW = "parcels.view"

    register_permissions(ParcelPerm, {})
    with pytest.raises(ImproperlyConfigured, match="parcels.view"):
        register_permissions(Clash, {})


def test_a_grant_to_an_unknown_role_is_refused():
    with pytest.raises(ImproperlyConfigured, match="unknown role 'pilot'"):
        register_permissions(ParcelPerm, {"pilot": {ParcelPerm.VIEW}})


def test_an_app_cannot_grant_another_apps_permission():
    register_permissions(OtherPerm, {})
    with pytest.raises(ImproperlyConfigured, match="grants 'other.view'"):
        register_permissions(ParcelPerm, {Role.DOCTOR: {OtherPerm.VIEW}})  # type: ignore[arg-type]
    assert perms_for(Role.DOCTOR) == frozenset()


def test_require_perm():
    register_permissions(ParcelPerm, {Role.DOCTOR: {ParcelPerm.VIEW}})
    require_perm(FakeUser(Role.DOCTOR), ParcelPerm.VIEW)  # holds it: no exception
    refused = [
        (None, ParcelPerm.VIEW),
        (FakeUser(Role.DOCTOR, authenticated=False), ParcelPerm.VIEW),
        (FakeUser(Role.DOCTOR, active=False), ParcelPerm.VIEW),
        (FakeUser(Role.DOCTOR), ParcelPerm.SEND),
        (FakeUser(Role.NURSE), ParcelPerm.VIEW),
    ]
    for user, perm in refused:
        with pytest.raises(PermissionDenied):
            require_perm(user, perm)


def test_the_platform_registers_every_apps_permissions(monkeypatch):
    """Without the fixture's empty tables: the apps' own permissions modules registered
    theirs at start-up (``CommonConfig.ready``)."""
    monkeypatch.undo()
    codes = {str(p) for p in registered_permissions()}
    assert {"network.view", "accounts.manage", "audit.view", "residents.view"} <= codes
    assert {"assessments.record", "devices.alert_handle", "emergency.call"} <= codes
    assert perms_for(Role.AUDIT_ADMIN) == {"audit.view"}
