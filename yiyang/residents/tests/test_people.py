"""Contacts, consent, family proxy grants and merge — the services and selectors."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.audit.models import AuditEvent
from yiyang.common import crypto
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.residents import access
from yiyang.residents.models import (
    Condition,
    Consent,
    ConsentPurpose,
    Contact,
    Household,
    ProxyGrant,
    Resident,
    ResidentStatus,
)
from yiyang.residents.selectors.people import consents_for, contacts_for, grant_state, grants_for
from yiyang.residents.selectors.registry import get_resident_for, residents_for
from yiyang.residents.services.merge import merge_residents, resident_links
from yiyang.residents.services.people import (
    add_contact,
    give_consent,
    remove_contact,
    update_contact,
    withdraw_consent,
)
from yiyang.residents.services.proxies import (
    grant_proxy,
    one_time_password,
    revoke_proxy,
    update_proxy,
)
from yiyang.residents.tests.conftest import World, register
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")


@dataclass
class Staff:
    nurse: User  # residents.manage in county A
    nurse_b: User  # the same in county B
    supervisor: User  # residents.view only, county A
    merger: User  # institution admin (residents.merge) in county A


@pytest.fixture
def staff(world: World) -> Staff:
    a, b = world.net.a, world.net.b
    return Staff(
        nurse=make_user(Role.NURSE, a.county, username="nurse-a"),
        nurse_b=make_user(Role.NURSE, b.county, username="nurse-b"),
        supervisor=make_user(Role.SUPERVISOR, a.county, username="super-a"),
        merger=make_user(Role.INSTITUTION_ADMIN, a.county, username="admin-a"),
    )


def last_audit(action: str) -> AuditEvent:
    event = AuditEvent.objects.filter(action=action).order_by("-seq").first()
    assert event is not None, f"no audit row {action}"
    return event


def daughter_of(actor: User, resident: Resident, **extra) -> Contact:
    fields = {"name": "李娟", "relation": "daughter", "phone": "139 0000-1111", **extra}
    return add_contact(actor, resident, **fields)


def sharing(actor: User, resident: Resident) -> Consent:
    return give_consent(actor, resident, ConsentPurpose.FAMILY_SHARING)


# --- contacts ---------------------------------------------------------------------------


def test_add_contact_encrypts_and_masks_the_phone(world, staff):
    contact = daughter_of(staff.nurse, world.zhang, is_emergency=True)
    assert contact.phone == "13900001111"
    assert contact.phone_index == crypto.blind_index("13900001111")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM residents_contact WHERE id = %s", [contact.pk])
        stored = cursor.fetchone()[0]
    assert "13900001111" not in stored
    event = last_audit("residents.contact.create")
    assert event.actor_id == staff.nurse.pk
    assert event.details["resident"] == world.zhang.pk
    assert event.details["fields"]["phone"] == "139****1111"
    assert "13900001111" not in str(event.details)


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"name": "", "relation": "daughter"}, "required", "name"),
        ({"name": "李娟", "relation": ""}, "required", "relation"),
        ({"name": "李娟", "relation": "cousin"}, "invalid_relation", "relation"),
        ({"name": "李娟", "relation": "son", "phone": "abc"}, "invalid_phone", "phone"),
        ({"name": "李娟", "relation": "son", "is_guardian": "yes"}, "invalid", "is_guardian"),
        ({"name": "李" * 101, "relation": "son"}, "too_long", "name"),
        ({"name": "李娟", "relation": "son", "email": "x@y"}, "unknown_field", "email"),
    ],
)
def test_add_contact_refuses_bad_input(world, staff, fields, code, field):
    with pytest.raises(ValidationFailed) as exc:
        add_contact(staff.nurse, world.zhang, **fields)
    assert (exc.value.code, exc.value.field) == (code, field)
    assert not Contact.objects.exists()


def test_contacts_need_manage_permission_and_scope(world, staff):
    with pytest.raises(PermissionDenied):
        daughter_of(staff.supervisor, world.zhang)
    with pytest.raises(NotFound):
        daughter_of(staff.nurse, world.zhao)  # county B
    contact = daughter_of(staff.nurse_b, world.zhao)
    with pytest.raises(NotFound):
        update_contact(staff.nurse, contact, note="x")
    with pytest.raises(NotFound):
        remove_contact(staff.nurse, contact)
    # An id of another resident's contact under this resident is not found either.
    mine = daughter_of(staff.nurse, world.zhang)
    with pytest.raises(NotFound):
        update_contact(staff.nurse, mine, resident=world.li, note="x")


def test_update_contact_changes_only_given_fields(world, staff):
    contact = daughter_of(staff.nurse, world.zhang, address="罗山县城关镇")
    update_contact(staff.nurse, contact.pk, phone="13900002222", is_guardian=True)
    contact.refresh_from_db()
    assert (contact.phone, contact.is_guardian, contact.address) == (
        "13900002222",
        True,
        "罗山县城关镇",
    )
    assert contact.phone_index == crypto.blind_index("13900002222")
    assert last_audit("residents.contact.update").details["changed"] == {
        "phone": "139****2222",
        "is_guardian": True,
    }
    count = AuditEvent.objects.count()
    update_contact(staff.nurse, contact, name="李娟")  # unchanged: no audit row
    assert AuditEvent.objects.count() == count


def test_guardian_with_active_consent_stays_guardian(world, staff):
    guardian = daughter_of(staff.nurse, world.zhang, is_guardian=True)
    give_consent(staff.nurse, world.zhang, "health_data", given_by="guardian", guardian=guardian)
    with pytest.raises(ValidationFailed) as exc:
        update_contact(staff.nurse, guardian, is_guardian=False)
    assert exc.value.code == "guardian_has_consents"
    with pytest.raises(ValidationFailed) as exc:
        remove_contact(staff.nurse, guardian)
    assert exc.value.code == "contact_gave_consents"


def test_remove_contact(world, staff):
    contact = daughter_of(staff.nurse, world.zhang)
    remove_contact(staff.nurse, contact, note="号码停用")
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert last_audit("residents.contact.delete").details["note"] == "号码停用"


def test_remove_contact_with_active_grant_is_refused_until_revoked(world, staff):
    sharing(staff.nurse, world.zhang)
    contact = daughter_of(staff.nurse, world.zhang)
    grant, _ = grant_proxy(staff.nurse, contact)
    with pytest.raises(ValidationFailed) as exc:
        remove_contact(staff.nurse, contact)
    assert exc.value.code == "contact_has_active_grant"
    revoke_proxy(staff.nurse, grant)
    remove_contact(staff.nurse, contact)
    assert not ProxyGrant.objects.exists()
    # The (withdrawn) consent of the grant stays on record.
    kept = Consent.objects.get(purpose=ConsentPurpose.PROXY_ACCESS)
    assert kept.withdrawn_at is not None
    assert last_audit("residents.contact.delete").details["revoked_grants_removed"] == [grant.pk]


# --- consent ----------------------------------------------------------------------------


def test_give_consent_self(world, staff):
    consent = give_consent(staff.nurse, world.zhang, "health_data", note="纸质签字")
    assert (consent.given_by, consent.guardian, consent.recorded_by) == ("self", None, staff.nurse)
    assert consent.active
    assert access.has_consent(world.zhang, "health_data")
    event = last_audit("residents.consent.give")
    assert event.details["purpose"] == "health_data"
    assert event.details["given_by"] == "self"


def test_give_consent_by_guardian_needs_a_guardian_contact(world, staff):
    son = add_contact(staff.nurse, world.zhang, name="张强", relation="son")
    with pytest.raises(ValidationFailed) as exc:
        give_consent(staff.nurse, world.zhang, "health_data", given_by="guardian")
    assert (exc.value.code, exc.value.field) == ("guardian_required", "guardian")
    with pytest.raises(ValidationFailed) as exc:
        give_consent(staff.nurse, world.zhang, "health_data", given_by="guardian", guardian=son)
    assert exc.value.code == "not_guardian"
    other = add_contact(staff.nurse, world.li, name="李明", relation="son", is_guardian=True)
    with pytest.raises(ValidationFailed) as exc:
        give_consent(
            staff.nurse, world.zhang, "health_data", given_by="guardian", guardian=other.pk
        )
    assert exc.value.code == "unknown_reference"
    with pytest.raises(ValidationFailed) as exc:
        give_consent(staff.nurse, world.zhang, "health_data", guardian=son)
    assert exc.value.code == "guardian_not_allowed"
    update_contact(staff.nurse, son, is_guardian=True)
    consent = give_consent(
        staff.nurse, world.zhang, "health_data", given_by="guardian", guardian=son.pk
    )
    assert consent.guardian == son
    assert not Consent.objects.exclude(pk=consent.pk).exists()


def test_one_active_consent_per_purpose(world, staff):
    first = give_consent(staff.nurse, world.zhang, "device_monitoring")
    with pytest.raises(ValidationFailed) as exc:
        give_consent(staff.nurse, world.zhang, "device_monitoring")
    assert exc.value.code == "already_given"
    assert "already given" in exc.value.detail
    withdraw_consent(staff.nurse, first)
    again = give_consent(staff.nurse, world.zhang, "device_monitoring")
    rows = Consent.objects.filter(resident=world.zhang)
    assert [(c.pk, c.active) for c in rows] == [(again.pk, True), (first.pk, False)]


@pytest.mark.parametrize(
    ("purpose", "kwargs", "code", "field"),
    [
        ("proxy_access", {}, "proxy_via_grant", "purpose"),
        ("marketing", {}, "invalid_purpose", "purpose"),
        ("", {}, "required", "purpose"),
        ("health_data", {"given_by": "neighbour"}, "invalid", "given_by"),
        ("health_data", {"given_at": "yesterday"}, "invalid_datetime", "given_at"),
        ("health_data", {"note": "x" * 256}, "too_long", "note"),
    ],
)
def test_give_consent_refuses_bad_input(world, staff, purpose, kwargs, code, field):
    with pytest.raises(ValidationFailed) as exc:
        give_consent(staff.nurse, world.zhang, purpose, **kwargs)
    assert (exc.value.code, exc.value.field) == (code, field)
    assert not Consent.objects.exists()


def test_consent_given_at_may_be_the_paper_date_but_not_the_future(world, staff):
    consent = give_consent(staff.nurse, world.zhang, "health_data", given_at="2025-03-01")
    assert timezone.localtime(consent.given_at).date() == datetime.date(2025, 3, 1)
    future = timezone.now() + datetime.timedelta(days=1)
    with pytest.raises(ValidationFailed) as exc:
        give_consent(staff.nurse, world.zhang, "device_monitoring", given_at=future)
    assert exc.value.code == "given_at_future"


def test_consent_permission_and_scope(world, staff):
    with pytest.raises(PermissionDenied):
        give_consent(staff.supervisor, world.zhang, "health_data")
    with pytest.raises(NotFound):
        give_consent(staff.nurse, world.zhao, "health_data")
    consent_b = give_consent(staff.nurse_b, world.zhao, "health_data")
    with pytest.raises(NotFound):
        withdraw_consent(staff.nurse, consent_b)
    with pytest.raises(PermissionDenied):
        withdraw_consent(staff.supervisor, consent_b)


def test_withdraw_health_data_blocks_health_record_writes_at_once(world, staff):
    consent = give_consent(staff.nurse, world.zhang, "health_data")
    access.require_health_consent(world.zhang)  # no error
    withdrawn = withdraw_consent(staff.nurse, consent.pk, "本人要求")
    assert (withdrawn.withdrawn_by, withdrawn.withdrawal_note) == (staff.nurse, "本人要求")
    with pytest.raises(ValidationFailed) as exc:
        access.require_health_consent(world.zhang)
    assert exc.value.code == "no_consent"
    assert last_audit("residents.consent.withdraw").details["health_record_writes_blocked"]
    with pytest.raises(ValidationFailed) as exc:
        withdraw_consent(staff.nurse, consent)
    assert exc.value.code == "already_withdrawn"


def test_resident_withdraws_her_own_consent(world, staff):
    own = make_user(Role.RESIDENT, username="zhang-self")
    Resident.objects.filter(pk=world.zhang.pk).update(account=own)
    consent = give_consent(staff.nurse, world.zhang, "platform_exchange")
    other = give_consent(staff.nurse, world.li, "platform_exchange")
    with pytest.raises(PermissionDenied):
        give_consent(own, world.zhang, "device_monitoring")
    with pytest.raises(NotFound):
        withdraw_consent(own, other)
    withdraw_consent(own, consent, "不再同意")
    consent.refresh_from_db()
    assert consent.withdrawn_by == own
    assert last_audit("residents.consent.withdraw").actor_id == own.pk


# --- family proxies ---------------------------------------------------------------------


def test_grant_proxy_creates_a_family_login_with_a_one_time_password(world, staff):
    sharing(staff.nurse, world.zhang)
    contact = daughter_of(staff.nurse, world.zhang)
    grant, password = grant_proxy(staff.nurse, contact)
    assert password is not None and len(password) == 19
    user = grant.user
    assert (user.role, user.scope_kind, user.display_name) == (Role.FAMILY, "self", "李娟")
    assert user.username.startswith("fam") and user.check_password(password)
    assert password not in user.password
    contact.refresh_from_db()
    assert contact.account == user
    assert grant.consent.purpose == ConsentPurpose.PROXY_ACCESS
    assert (grant.can_view_readings, grant.can_view_alerts) == (True, False)
    event = last_audit("residents.proxy.grant")
    assert event.details["login_created"] is True
    assert event.details["user"] == user.pk
    assert password not in str(event.details)
    assert last_audit("accounts.user_create").details["via"] == "residents.proxy_grant"
    # She can log in with it, and sees her mother — only her.
    assert authenticate(username=user.username, password=password) == user
    assert list(residents_for(user)) == [world.zhang]


def test_one_time_passwords_pass_the_policy_and_differ():
    from django.contrib.auth.password_validation import validate_password

    seen = {one_time_password() for _ in range(50)}
    assert len(seen) == 50
    for password in list(seen)[:5]:
        validate_password(password)


def test_grant_needs_family_sharing_consent(world, staff):
    contact = daughter_of(staff.nurse, world.zhang)
    with pytest.raises(ValidationFailed) as exc:
        grant_proxy(staff.nurse, contact)
    assert exc.value.code == "no_family_sharing"
    assert not User.objects.filter(role=Role.FAMILY).exists()
    assert not Consent.objects.exists()


def test_grant_refusals(world, staff):
    sharing(staff.nurse, world.zhang)
    contact = daughter_of(staff.nurse, world.zhang)
    with pytest.raises(ValidationFailed) as exc:
        grant_proxy(staff.nurse, contact, can_view_readings=False)
    assert exc.value.code == "no_rights"
    with pytest.raises(PermissionDenied):
        grant_proxy(staff.supervisor, contact)
    with pytest.raises(NotFound):
        grant_proxy(staff.nurse_b, contact)
    with pytest.raises(ValidationFailed) as exc:
        grant_proxy(staff.nurse, contact, username=staff.nurse.username)
    assert exc.value.code == "username_taken"
    assert not ProxyGrant.objects.exists()
    grant_proxy(staff.nurse, contact, username="lijuan")
    with pytest.raises(ValidationFailed) as exc:
        grant_proxy(staff.nurse, contact)
    assert exc.value.code == "already_granted"


def test_the_same_family_login_serves_both_parents(world, staff):
    """The daughter is a contact of both parents: the second grant reuses her login when
    it is named and the phone numbers match."""
    sharing(staff.nurse, world.zhang)
    sharing(staff.nurse, world.li)
    mother = daughter_of(staff.nurse, world.zhang)
    grant, password = grant_proxy(staff.nurse, mother)
    father = daughter_of(staff.nurse, world.li)
    second, none = grant_proxy(staff.nurse, father, username=grant.user.username)
    assert none is None and second.user == grant.user
    assert set(residents_for(grant.user)) == {world.zhang, world.li}
    assert last_audit("residents.proxy.grant").details["login_created"] is False
    # A different phone: the name is someone else's login.
    stranger = add_contact(
        staff.nurse, world.wang, name="王丽", relation="daughter", phone="13700000000"
    )
    sharing(staff.nurse, world.wang)
    with pytest.raises(ValidationFailed) as exc:
        grant_proxy(staff.nurse, stranger, username=grant.user.username)
    assert exc.value.code == "username_taken"


def test_grant_by_guardian(world, staff):
    sharing(staff.nurse, world.zhang)
    guardian = add_contact(staff.nurse, world.zhang, name="张强", relation="son", is_guardian=True)
    contact = daughter_of(staff.nurse, world.zhang)
    grant, _ = grant_proxy(staff.nurse, contact, given_by="guardian", guardian=guardian)
    assert (grant.consent.given_by, grant.consent.guardian) == ("guardian", guardian)


def test_revoke_cuts_access_at_once(world, staff):
    sharing(staff.nurse, world.zhang)
    contact = daughter_of(staff.nurse, world.zhang)
    grant, _ = grant_proxy(staff.nurse, contact)
    family = grant.user
    assert get_resident_for(family, world.zhang.pk) == world.zhang
    assert access.can_view_health(family, world.zhang)
    revoke_proxy(staff.nurse, grant, "女儿要求")
    with pytest.raises(NotFound):
        get_resident_for(family, world.zhang.pk)
    assert not access.can_view_health(family, world.zhang)
    assert list(residents_for(family)) == []
    with pytest.raises(ValidationFailed) as exc:
        revoke_proxy(staff.nurse, grant)
    assert exc.value.code == "already_revoked"
    event = last_audit("residents.proxy.revoke")
    assert (event.details["user"], event.details["consent"]) == (family.pk, grant.consent_id)


def test_withdrawing_family_sharing_suspends_every_grant(world, staff):
    consent = sharing(staff.nurse, world.zhang)
    first, _ = grant_proxy(staff.nurse, daughter_of(staff.nurse, world.zhang))
    son = add_contact(staff.nurse, world.zhang, name="张强", relation="son")
    second, _ = grant_proxy(staff.nurse, son, can_view_alerts=True)
    withdraw_consent(staff.nurse, consent)
    for grant in (first, second):
        assert list(residents_for(grant.user)) == []
        assert grant_state(grant, access.has_consent(world.zhang, "family_sharing")) == (
            "suspended"
        )
    assert last_audit("residents.consent.withdraw").details["proxy_grants_suspended"] == sorted(
        [first.pk, second.pk]
    )
    # Giving it again resumes the grants that were not revoked (the audit row says which).
    sharing(staff.nurse, world.zhang)
    assert list(residents_for(first.user)) == [world.zhang]
    assert last_audit("residents.consent.give").details["proxy_grants_resumed"] == sorted(
        [first.pk, second.pk]
    )


def test_resident_revokes_her_daughters_access(world, staff):
    own = make_user(Role.RESIDENT, username="zhang-self")
    Resident.objects.filter(pk=world.zhang.pk).update(account=own)
    sharing(staff.nurse, world.zhang)
    grant, _ = grant_proxy(staff.nurse, daughter_of(staff.nurse, world.zhang))
    with pytest.raises(PermissionDenied):
        revoke_proxy(grant.user, grant)  # the family login cannot
    revoke_proxy(own, grant)
    assert not grants_for(staff.nurse, world.zhang.pk).get().active


def test_update_proxy_rights_is_a_new_grant_and_consent(world, staff):
    sharing(staff.nurse, world.zhang)
    grant, _ = grant_proxy(staff.nurse, daughter_of(staff.nurse, world.zhang))
    assert not access.proxy_right(grant.user, world.zhang, "can_view_alerts")
    new = update_proxy(staff.nurse, grant, can_view_alerts=True)
    assert new.pk != grant.pk and new.consent_id != grant.consent_id
    assert (new.contact, new.user, new.can_view_readings, new.can_view_alerts) == (
        grant.contact,
        grant.user,
        True,
        True,
    )
    grant.consent.refresh_from_db()
    assert grant.consent.withdrawal_note == "rights changed"
    assert access.proxy_right(grant.user, world.zhang, "can_view_alerts")
    event = last_audit("residents.proxy.update")
    assert event.details["before"]["can_view_alerts"] is False
    assert event.details["after"]["can_view_alerts"] is True
    assert event.details["replaces"] == grant.pk
    # Unchanged rights: the same grant back, nothing written.
    assert update_proxy(staff.nurse, new, can_view_alerts=True) == new
    with pytest.raises(ValidationFailed) as exc:
        update_proxy(staff.nurse, grant, can_view_bills=True)
    assert exc.value.code == "grant_revoked"
    with pytest.raises(ValidationFailed) as exc:
        update_proxy(staff.nurse, new, can_view_readings=False, can_view_alerts=False)
    assert exc.value.code == "no_rights"


def test_family_login_sees_health_only_with_the_readings_right(world, staff):
    sharing(staff.nurse, world.zhang)
    grant, _ = grant_proxy(
        staff.nurse,
        daughter_of(staff.nurse, world.zhang),
        can_view_readings=False,
        can_view_alerts=True,
    )
    family = grant.user
    resident = get_resident_for(family, world.zhang.pk)
    assert not access.can_view_health(family, resident)
    update_proxy(staff.nurse, grant, can_view_readings=True)
    assert access.can_view_health(family, resident)


# --- selectors --------------------------------------------------------------------------


def test_selectors_staff_and_own_login_but_not_family(world, staff):
    sharing(staff.nurse, world.zhang)
    contact = daughter_of(staff.nurse, world.zhang)
    grant, _ = grant_proxy(staff.nurse, contact)
    assert list(contacts_for(staff.supervisor, world.zhang.pk)) == [contact]
    assert [c.purpose for c in consents_for(staff.supervisor, world.zhang)] == [
        "family_sharing",
        "proxy_access",
    ]
    assert list(grants_for(staff.supervisor, world.zhang.pk)) == [grant]
    own = make_user(Role.RESIDENT, username="zhang-self")
    Resident.objects.filter(pk=world.zhang.pk).update(account=own)
    assert list(contacts_for(own, world.zhang.pk)) == [contact]
    with pytest.raises(PermissionDenied):
        contacts_for(grant.user, world.zhang.pk)
    with pytest.raises(NotFound):
        consents_for(staff.nurse, world.zhao.pk)
    with pytest.raises(NotFound):
        contacts_for(own, world.li.pk)
    doctor_no_view = make_user(Role.SYSTEM_ADMIN, "all", username="sysadmin")
    with pytest.raises(PermissionDenied):
        contacts_for(doctor_no_view, world.zhang.pk)


# --- merge ------------------------------------------------------------------------------


@pytest.fixture
def duplicate(world, staff) -> Resident:
    """A second record of 张三 (same name, birth date and village, another ID number)."""
    return register(
        world.registrar,
        world.net.a.villages[0],
        "张三",
        datetime.date(1950, 3, 15),
        77,
        address="周党村3组",
        ethnicity="汉族",
        living_alone=True,
    )


def test_merge_moves_every_linked_row(world, staff, duplicate):
    keep, remove = world.zhang, duplicate
    give_consent(staff.nurse, keep, "health_data", given_at="2025-01-01")
    newer_dup = give_consent(staff.nurse, remove, "health_data", given_at="2025-06-01")
    give_consent(staff.nurse, remove, "family_sharing")
    contact = daughter_of(staff.nurse, remove)
    grant, _ = grant_proxy(staff.nurse, contact)
    Condition.objects.create(resident=remove, icd10="I10", name="原发性高血压")
    older = register(
        world.registrar, world.net.a.villages[0], "张三", datetime.date(1950, 3, 15), 88
    )
    Resident.objects.filter(pk=older.pk).update(status=ResidentStatus.MERGED, merged_into=remove)
    own = make_user(Role.RESIDENT, username="zhang-dup")
    Resident.objects.filter(pk=remove.pk).update(account=own)
    remove.refresh_from_db()

    result = merge_residents(staff.merger, keep, remove.pk, "同一人重复建档")

    assert result.moved == {
        "residents.condition": 1,
        "residents.consent": 3,
        "residents.contact": 1,
        "residents.proxygrant": 1,
        "residents.resident": 1,
    }
    assert result.consents_withdrawn == [newer_dup.pk]
    assert set(Consent.objects.values_list("resident_id", flat=True)) == {keep.pk}
    active = Consent.objects.filter(withdrawn_at__isnull=True).order_by("purpose")
    assert [c.purpose for c in active] == ["family_sharing", "health_data", "proxy_access"]
    newer_dup.refresh_from_db()
    assert newer_dup.withdrawal_note == "merged"
    contact.refresh_from_db()
    grant.refresh_from_db()
    assert contact.resident_id == keep.pk and grant.resident_id == keep.pk
    assert list(residents_for(grant.user)) == [keep]  # the daughter follows the record
    remove.refresh_from_db()
    keep.refresh_from_db()
    assert (remove.status, remove.merged_into_id, remove.account_id) == ("merged", keep.pk, None)
    assert keep.account_id == own.pk and result.account_moved
    older.refresh_from_db()
    assert older.merged_into_id == keep.pk  # chains are flattened
    # keep's fields win; its blank ones are filled; differences are reported.
    assert (keep.address, keep.ethnicity, keep.living_alone, keep.phone) == (
        "周党村3组",
        "汉族",
        False,
        "13800000001",
    )
    assert result.filled == ["address", "ethnicity"]
    assert {"id_number", "phone", "living_alone", "empty_nest", "grid"} <= set(result.differed)
    event = last_audit("residents.resident.merge")
    assert event.actor_id == staff.merger.pk
    assert event.object_id == str(keep.pk)
    assert event.details["removed"] == remove.pk
    assert event.details["moved"] == result.moved
    assert event.details["reason"] == "同一人重复建档"
    assert remove.id_number not in str(event.details)
    # Lists leave the merged record out; an old link still finds it.
    assert remove not in residents_for(staff.merger)
    assert get_resident_for(staff.merger, remove.pk).merged_into_id == keep.pk


def test_merge_keeps_the_older_consent_even_when_it_is_on_the_duplicate(world, staff, duplicate):
    newer = give_consent(staff.nurse, world.zhang, "health_data", given_at="2025-06-01")
    older = give_consent(staff.nurse, duplicate, "health_data", given_at="2025-01-01")
    merge_residents(staff.merger, world.zhang, duplicate, "重复")
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.active and older.resident_id == world.zhang.pk
    assert not newer.active and newer.withdrawal_note == "merged"


def test_merge_fills_grid_and_household_only_from_the_same_village(world, staff):
    a = world.net.a
    household = Household.objects.create(address="周党村1组5号", region=a.villages[0])
    keep = register(world.registrar, a.villages[0], "陈一", datetime.date(1944, 2, 2), 61)
    dup = register(
        world.registrar,
        a.villages[0],
        "陈一",
        datetime.date(1944, 2, 2),
        62,
        grid=a.grids[0],
        household=household,
        phone="13600000000",
    )
    result = merge_residents(staff.merger, keep, dup, "重复")
    keep.refresh_from_db()
    assert (keep.grid, keep.household, keep.phone) == (a.grids[0], household, "13600000000")
    assert keep.phone_index == crypto.blind_index("13600000000")
    assert result.filled == ["phone", "grid", "household"]
    elsewhere = register(world.registrar, a.villages[1], "陈二", datetime.date(1944, 2, 2), 63)
    dup2 = register(
        world.registrar, a.villages[0], "陈二", datetime.date(1944, 2, 2), 64, grid=a.grids[0]
    )
    result = merge_residents(staff.merger, elsewhere, dup2, "重复")
    elsewhere.refresh_from_db()
    assert elsewhere.grid is None and "grid" not in result.filled
    assert {"grid", "region"} <= set(result.differed)


def test_merge_refusals(world, staff, duplicate):
    with pytest.raises(PermissionDenied):
        merge_residents(staff.nurse, world.zhang, duplicate, "重复")
    with pytest.raises(ValidationFailed) as exc:
        merge_residents(staff.merger, world.zhang, world.zhang, "重复")
    assert exc.value.code == "same_record"
    with pytest.raises(ValidationFailed) as exc:
        merge_residents(staff.merger, world.zhang, duplicate, "  ")
    assert (exc.value.code, exc.value.field) == ("required", "reason")
    with pytest.raises(NotFound):
        merge_residents(staff.merger, world.zhang, world.zhao, "重复")  # county B
    with pytest.raises(NotFound):
        merge_residents(staff.merger, world.zhang, 999999, "重复")
    for name, resident in (("a", world.zhang), ("b", duplicate)):
        user = make_user(Role.RESIDENT, username=f"own-{name}")
        Resident.objects.filter(pk=resident.pk).update(account=user)
    with pytest.raises(ValidationFailed) as exc:
        merge_residents(staff.merger, world.zhang, duplicate, "重复")
    assert exc.value.code == "both_have_login"
    Resident.objects.filter(pk=duplicate.pk).update(account=None)
    merge_residents(staff.merger, world.zhang, duplicate, "重复")
    with pytest.raises(ValidationFailed) as exc:
        merge_residents(staff.merger, world.zhang, duplicate, "重复")
    assert exc.value.code == "already_merged"
    with pytest.raises(ValidationFailed) as exc:
        merge_residents(staff.merger, duplicate, world.li, "重复")
    assert exc.value.code == "already_merged"
    # Nothing can be added to the merged record any more.
    with pytest.raises(ValidationFailed) as exc:
        daughter_of(staff.nurse, duplicate)
    assert exc.value.code == "resident_merged"


def test_merge_of_a_deceased_duplicate(world, staff, duplicate):
    Resident.objects.filter(pk=duplicate.pk).update(
        status=ResidentStatus.DECEASED, deceased_on=datetime.date(2025, 1, 1)
    )
    merge_residents(staff.merger, world.zhang, duplicate, "重复")
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.deceased_on) == ("merged", None)
    assert last_audit("residents.resident.merge").details["removed_before"] == {
        "status": "deceased",
        "deceased_on": "2025-01-01",
    }
    assert "status" in last_audit("residents.resident.merge").details["differed"]


def test_resident_links_cover_every_relation_to_resident():
    labels = {(link.label, link.field) for link in resident_links()}
    assert {
        ("residents.contact", "resident"),
        ("residents.consent", "resident"),
        ("residents.proxygrant", "resident"),
        ("residents.condition", "resident"),
        ("residents.observation", "resident"),
        ("residents.document", "resident"),
        ("residents.resident", "merged_into"),
    } <= labels
    # Every concrete relation to Resident anywhere in the project is in the list.
    from django.apps import apps

    expected = {
        (model._meta.label_lower, f.name)
        for model in apps.get_models(include_auto_created=True)
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is Resident
    }
    assert expected == labels


def test_merge_query_count_is_bounded(world, staff, duplicate):
    with CaptureQueriesContext(connection) as ctx:
        merge_residents(staff.merger, world.zhang, duplicate, "重复")
    # Two per linked table (check + move) plus a fixed part; not per moved row.
    assert len(ctx.captured_queries) <= 2 * len(resident_links()) + 40
