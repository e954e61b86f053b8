"""Account management: roles and scopes, the three-way split of administrators, deactivation,
unlock and second-factor reset — through the actions, the API and the pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yiyang.accounts import lockout, selectors
from yiyang.accounts.models import ApiToken, LoginFailure, User
from yiyang.accounts.permissions import AccountPerm
from yiyang.accounts.services.security import reset_totp, unlock
from yiyang.accounts.services.users import (
    create_user,
    deactivate_user,
    reactivate_user,
    update_user_role_scope,
)
from yiyang.audit.models import AuditEvent
from yiyang.audit.permissions import AuditPerm
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role, role_permissions
from yiyang.testing.accounts import PASSWORD, make_account, totp_code

# Messages in English (the root conftest's ``english`` fixture).
pytestmark = pytest.mark.usefixtures("english")


def counts() -> tuple[int, int]:
    return User.objects.count(), AuditEvent.objects.count()


def new_user(actor, **kwargs):
    args = {"username": "newbie", "password": PASSWORD, "role": Role.DOCTOR}
    args.update(kwargs)
    return create_user(actor, **args)


# --- who may do what (三员分立) -------------------------------------------------------


def test_the_three_administrators_hold_disjoint_powers():
    system, security, audit = (
        role_permissions()[Role.SYSTEM_ADMIN],
        role_permissions()[Role.SECURITY_ADMIN],
        role_permissions()[Role.AUDIT_ADMIN],
    )
    assert AccountPerm.MANAGE in system
    assert security == {AccountPerm.SECURITY}
    assert audit == {AuditPerm.VIEW}
    assert not (system & security) and not (system & audit) and not (security & audit)


@pytest.mark.parametrize("who", ["secadmin", "auditor", "doctor"])
def test_only_the_system_admin_creates_users(request, place, who):
    actor = request.getfixturevalue(who)
    before = counts()
    with pytest.raises(PermissionDenied):
        new_user(actor, scope_kind="institution", institution_id=place.hospital.pk)
    assert counts() == before


@pytest.mark.parametrize("who", ["secadmin", "auditor"])
def test_only_the_system_admin_assigns_roles(request, doctor, who):
    actor = request.getfixturevalue(who)
    with pytest.raises((PermissionDenied, NotFound)):
        update_user_role_scope(actor, doctor, role=Role.SYSTEM_ADMIN, scope_kind="all")
    doctor.refresh_from_db()
    assert doctor.role == Role.DOCTOR


@pytest.mark.parametrize("who", ["sysadmin", "auditor", "doctor"])
def test_only_the_security_admin_unlocks(request, who):
    actor = request.getfixturevalue(who)
    lockout.note_failure("victim", "127.0.0.1")
    with pytest.raises(PermissionDenied):
        unlock(actor, username="victim")
    assert LoginFailure.objects.count() == 1


@pytest.mark.parametrize("who", ["sysadmin", "auditor", "doctor"])
def test_only_the_security_admin_resets_totp(request, place, who):
    actor = request.getfixturevalue(who)
    target = make_account(Role.NURSE, place.hospital, username="target", totp=True)
    with pytest.raises(PermissionDenied):
        reset_totp(actor, target)
    target.refresh_from_db()
    assert target.totp_confirmed is True


def test_the_security_admin_resets_totp_and_revokes_tokens(client, secadmin, place):
    target = make_account(Role.NURSE, place.hospital, username="target", totp=True)
    issued = client.post(
        "/api/v1/auth/token",
        {"username": "target", "password": PASSWORD, "totp": totp_code(target)},
        content_type="application/json",
    )
    assert issued.status_code == 201

    reset_totp(secadmin, target)

    target.refresh_from_db()
    assert (target.totp_secret, target.totp_confirmed) == ("", False)
    assert ApiToken.objects.get().revoked is True
    event = AuditEvent.objects.get(action="accounts.totp_reset")
    assert (event.actor_username, event.object_id, event.details) == (
        "secadmin",
        str(target.pk),
        {"was_confirmed": True, "tokens_revoked": 1},
    )
    with pytest.raises(ValidationFailed) as exc:
        reset_totp(secadmin, target)
    assert exc.value.code == "totp_not_enrolled"


def test_no_administrator_resets_their_own_factor_or_changes_their_own_role(sysadmin, secadmin):
    with pytest.raises(PermissionDenied):
        reset_totp(secadmin, secadmin)
    with pytest.raises(PermissionDenied):
        update_user_role_scope(sysadmin, sysadmin, role=Role.SECURITY_ADMIN, scope_kind="all")
    with pytest.raises(PermissionDenied):
        deactivate_user(sysadmin, sysadmin)


# --- roles and scopes -----------------------------------------------------------------


def test_create_a_staff_user_with_an_institution_scope(sysadmin, place):
    user = new_user(
        sysadmin,
        scope_kind="institution",
        institution_id=place.hospital.pk,
        display_name="李医生",
        email="li@example.cn",
    )

    user = User.objects.get(pk=user.pk)
    assert (user.role, user.scope_kind, user.scope_institution_id, user.display_name) == (
        "doctor",
        "institution",
        place.hospital.pk,
        "李医生",
    )
    assert user.password_changed_at is not None
    event = AuditEvent.objects.get(action="accounts.user_create", actor_id=sysadmin.pk)
    assert (event.actor_id, event.object_id, event.details) == (
        sysadmin.pk,
        str(user.pk),
        {
            "role": "doctor",
            "scope": {
                "kind": "institution",
                "region": None,
                "institution": place.hospital.pk,
                "team": None,
            },
        },
    )


@pytest.mark.parametrize(
    ("role", "kwargs", "code", "field"),
    [
        (Role.DOCTOR, {}, "scope_required", "scope_kind"),
        (Role.DOCTOR, {"scope_kind": "all"}, "scope_required", "scope_kind"),
        (Role.NURSE, {"scope_kind": "self"}, "scope_required", "scope_kind"),
        (Role.RESIDENT, {"scope_kind": "region"}, "scope_not_allowed", "scope_kind"),
        (Role.SYSTEM_ADMIN, {"scope_kind": "team"}, "scope_not_allowed", "scope_kind"),
        (Role.DOCTOR, {"scope_kind": "region"}, "scope_region_missing", "scope_region"),
        (
            Role.DOCTOR,
            {"scope_kind": "institution"},
            "scope_institution_missing",
            "scope_institution",
        ),
        (Role.DOCTOR, {"scope_kind": "team"}, "scope_team_missing", "scope_team"),
        (
            Role.DOCTOR,
            {"scope_kind": "region", "region_code": "999999000000"},
            "unknown_region",
            "scope_region",
        ),
        (
            Role.DOCTOR,
            {"scope_kind": "institution", "institution_id": 999999},
            "unknown_institution",
            "scope_institution",
        ),
        ("wizard", {"scope_kind": "self"}, "invalid_role", "role"),
    ],
)
def test_role_and_scope_rules(sysadmin, place, role, kwargs, code, field):
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        new_user(sysadmin, role=role, **kwargs)
    assert (exc.value.code, exc.value.field) == (code, field)
    assert counts() == before


def test_residents_get_the_self_scope(sysadmin):
    user = new_user(sysadmin, username="grandma", role=Role.RESIDENT)
    assert (user.scope_kind, user.scope_region, user.scope_institution, user.scope_team) == (
        "self",
        None,
        None,
        None,
    )


def test_a_team_scope(sysadmin, place):
    user = new_user(sysadmin, role=Role.CAREGIVER, scope_kind="team", team_id=place.team.pk)
    assert (user.scope_kind, user.scope_team_id) == ("team", place.team.pk)


@pytest.mark.parametrize(
    ("username", "code"),
    [("sysadmin", "username_taken"), ("has space", "username_invalid"), ("", "username_missing")],
)
def test_usernames(sysadmin, place, username, code):
    with pytest.raises(ValidationFailed) as exc:
        new_user(sysadmin, username=username, scope_kind="region", region_code="411521000000")
    assert (exc.value.code, exc.value.field) == (code, "username")


def test_a_region_scoped_admin_works_inside_their_region_only(place):
    admin = make_account(Role.SYSTEM_ADMIN, place.county, username="countyadmin")
    inside = new_user(admin, scope_kind="institution", institution_id=place.township_hospital.pk)
    assert inside.scope_institution_id == place.township_hospital.pk

    # Outside the region answers exactly like a missing target.
    with pytest.raises(ValidationFailed) as exc:
        new_user(admin, username="x1", scope_kind="region", region_code="411522000000")
    assert exc.value.code == "unknown_region"
    assert exc.value.detail == "There is no region with code 411522000000."
    with pytest.raises(ValidationFailed) as exc:
        new_user(
            admin,
            username="x2",
            scope_kind="institution",
            institution_id=place.other_hospital.pk,
        )
    assert exc.value.code == "unknown_institution"
    with pytest.raises(ValidationFailed) as exc:
        new_user(admin, username="x3", role=Role.SECURITY_ADMIN, scope_kind="all")
    assert exc.value.code == "scope_outside"
    # Resident accounts are not tied to a place yet: only a deployment-wide admin.
    with pytest.raises(ValidationFailed) as exc:
        new_user(admin, username="x4", role=Role.RESIDENT)
    assert exc.value.code == "scope_outside"


def test_a_region_scoped_admin_sees_and_edits_accounts_of_their_region_only(sysadmin, place):
    admin = make_account(Role.SYSTEM_ADMIN, place.county, username="countyadmin")
    mine = make_account(Role.DOCTOR, place.team, username="mine")
    theirs = make_account(Role.DOCTOR, place.other_hospital, username="theirs")

    assert list(selectors.users_for(admin).values_list("username", flat=True)) == [
        "countyadmin",
        "mine",
    ]
    with pytest.raises(NotFound):
        selectors.get_user_for(admin, theirs.pk)
    with pytest.raises(NotFound):
        update_user_role_scope(
            admin, theirs, role=Role.NURSE, scope_kind="region", region_code="411521000000"
        )
    with pytest.raises(NotFound):
        deactivate_user(admin, theirs)

    update_user_role_scope(
        admin, mine, role=Role.NURSE, scope_kind="region", region_code="411521101000"
    )
    mine.refresh_from_db()
    assert (mine.role, mine.scope_kind, mine.scope_region.code, mine.scope_team) == (
        "nurse",
        "region",
        "411521101000",
        None,
    )
    event = AuditEvent.objects.get(action="accounts.user_update")
    assert event.details == {
        "before": {
            "role": "doctor",
            "scope": {"kind": "team", "region": None, "institution": None, "team": place.team.pk},
        },
        "after": {
            "role": "nurse",
            "scope": {
                "kind": "region",
                "region": "411521101000",
                "institution": None,
                "team": None,
            },
        },
    }
    assert {u.username for u in selectors.users_for(sysadmin)} >= {"countyadmin", "mine", "theirs"}


def test_deactivation_ends_sessions_and_tokens(client, sysadmin, doctor):
    issued = client.post(
        "/api/v1/auth/token",
        {"username": "doctor", "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    client.force_login(doctor)

    deactivate_user(sysadmin, doctor)

    assert client.get("/api/v1/auth/me").status_code == 401
    assert ApiToken.objects.get().revoked is True
    with pytest.raises(ValidationFailed):
        deactivate_user(sysadmin, doctor)
    reactivate_user(sysadmin, doctor)
    doctor.refresh_from_db()
    assert doctor.is_active is True
    client.logout()
    assert (
        client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {issued}").status_code == 401
    )  # a revoked token stays revoked
    assert list(
        AuditEvent.objects.filter(object_type="accounts.user", object_id=str(doctor.pk))
        .filter(action__startswith="accounts.user_")
        .order_by("seq")
        .values_list("action", "details")
    ) == [
        (
            "accounts.user_create",
            {
                "role": "doctor",
                "scope": {
                    "kind": "institution",
                    "region": None,
                    "institution": doctor.scope_institution_id,
                    "team": None,
                },
                "via": "test",
            },
        ),
        ("accounts.user_deactivate", {"tokens_revoked": 1}),
        ("accounts.user_reactivate", {"tokens_revoked": 0}),
    ]


def test_unlock_of_every_address_and_of_nothing(secadmin, doctor):
    lockout.note_failure("doctor", "10.0.0.1")
    lockout.note_failure("doctor", "10.0.0.2")
    assert unlock(secadmin, username="doctor") == 2
    with pytest.raises(ValidationFailed) as exc:
        unlock(secadmin, username="doctor")
    assert exc.value.code == "not_locked"
    with pytest.raises(ValidationFailed) as exc:
        unlock(secadmin, username="doctor", address="not-an-ip")
    assert (exc.value.code, exc.value.field) == ("invalid_address", "address")


# --- the API --------------------------------------------------------------------------


def test_users_api(client, sysadmin, secadmin, place):
    client.force_login(sysadmin)
    created = client.post(
        "/api/v1/auth/users",
        {
            "username": "apiuser",
            "password": PASSWORD,
            "role": "nurse",
            "scope_kind": "region",
            "region_code": "411521000000",
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["username"], body["role"], body["scope"]["region_prefix"]) == (
        "apiuser",
        "nurse",
        "411521",
    )
    bad = client.post(
        "/api/v1/auth/users",
        {"username": "apiuser2", "password": "short", "role": "nurse", "scope_kind": "self"},
        content_type="application/json",
    )
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (
        400,
        "scope_required",
        "scope_kind",
    )
    listing = client.get("/api/v1/auth/users?role=nurse")
    assert listing.status_code == 200
    assert [u["username"] for u in listing.json()["items"]] == ["apiuser"]
    patched = client.patch(
        f"/api/v1/auth/users/{body['id']}",
        {"role": "caregiver", "scope_kind": "team", "team_id": place.team.pk},
        content_type="application/json",
    )
    assert patched.status_code == 200
    assert (patched.json()["role"], patched.json()["scope"]["team_id"]) == (
        "caregiver",
        place.team.pk,
    )
    assert client.post(f"/api/v1/auth/users/{body['id']}/deactivate").json()["is_active"] is False
    assert client.post(f"/api/v1/auth/users/{body['id']}/reactivate").json()["is_active"] is True
    assert client.get("/api/v1/auth/users/999999").status_code == 404
    assert client.get("/api/v1/auth/lockouts").status_code == 403

    client.force_login(secadmin)
    denied = client.post(
        "/api/v1/auth/users",
        {"username": "x", "password": PASSWORD, "role": "nurse", "scope_kind": "self"},
        content_type="application/json",
    )
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    assert client.get(f"/api/v1/auth/users/{body['id']}").status_code == 200
    lockout.note_failure("apiuser", "10.0.0.9")
    assert client.get("/api/v1/auth/lockouts").json() == []
    for _ in range(4):
        lockout.note_failure("apiuser", "10.0.0.9")
    locks = client.get("/api/v1/auth/lockouts").json()
    assert [(x["username"], x["address"], x["failures"]) for x in locks] == [
        ("apiuser", "10.0.0.9", 5)
    ]
    unlocked = client.post(
        "/api/v1/auth/lockouts/unlock",
        {"username": "apiuser", "address": "10.0.0.9"},
        content_type="application/json",
    )
    assert unlocked.json() == {"username": "apiuser", "failures_cleared": 5}
    reset = client.post(f"/api/v1/auth/users/{body['id']}/reset-totp")
    assert (reset.status_code, reset.json()["code"]) == (400, "totp_not_enrolled")


# --- the pages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("accounts:users", []),
        ("accounts:user_create", []),
        ("accounts:locked", []),
        ("accounts:mfa", []),
    ],
)
@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("sysadmin", {"accounts:users", "accounts:user_create"}),
        ("secadmin", {"accounts:locked", "accounts:mfa"}),
        ("auditor", set()),
        ("doctor", set()),
    ],
)
def test_page_access(request, client, name, args, who, allowed):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse(name, args=args))
    assert response.status_code == (200 if name in allowed else 403)


def test_pages_need_login(client, db):
    for name in ["accounts:users", "accounts:locked", "accounts:mfa", "accounts:security"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:login"))


def test_user_pages(client, sysadmin, place):
    client.force_login(sysadmin)
    created = client.post(
        reverse("accounts:user_create"),
        {
            "username": "pageuser",
            "display_name": "张护士",
            "password": PASSWORD,
            "role": "nurse",
            "scope_kind": "institution",
            "scope_institution": place.care_home.pk,
        },
    )
    user = User.objects.get(username="pageuser")
    assert created.status_code == 302
    assert created["Location"] == reverse("accounts:user_edit", args=[user.pk])
    assert (user.scope_kind, user.scope_institution_id) == ("institution", place.care_home.pk)

    refused = client.post(
        reverse("accounts:user_create"),
        {"username": "weak", "password": "weakweak", "role": "nurse", "scope_kind": "self"},
    )
    assert refused.status_code == 200
    assert b"Staff roles need a region, institution or team as data scope." in refused.content
    assert not User.objects.filter(username="weak").exists()

    edit = client.post(
        reverse("accounts:user_edit", args=[user.pk]),
        {"role": "doctor", "scope_kind": "region", "scope_region": "411521000000"},
    )
    assert edit.status_code == 302
    user.refresh_from_db()
    assert (user.role, user.scope_region.code) == ("doctor", "411521000000")

    listing = client.get(reverse("accounts:users"), {"q": "pageuser"})
    assert [u.username for u in listing.context["page_obj"]] == ["pageuser"]
    fragment = client.get(reverse("accounts:users"), {"role": "doctor"}, HTTP_HX_REQUEST="true")
    assert fragment.content.startswith(b'<div id="users-table">')
    assert [u.username for u in fragment.context["page_obj"]] == ["pageuser"]

    client.post(reverse("accounts:user_deactivate", args=[user.pk]))
    user.refresh_from_db()
    assert user.is_active is False
    assert client.get(reverse("accounts:user_deactivate", args=[user.pk])).status_code == 405
    assert client.get(reverse("accounts:user_edit", args=[999999])).status_code == 404


def test_mfa_reset_page(client, secadmin, place):
    target = make_account(Role.NURSE, place.hospital, username="lostphone", totp=True)
    client.force_login(secadmin)

    listing = client.get(reverse("accounts:mfa"), {"q": "lostphone"})
    assert [u.username for u in listing.context["page_obj"]] == ["lostphone"]
    response = client.post(reverse("accounts:totp_reset", args=[target.pk]))

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.totp_confirmed is False


# --- the command line -----------------------------------------------------------------


def test_create_account_command(db, monkeypatch, capsys):
    from django.core.management import CommandError, call_command

    monkeypatch.setenv("YIYANG_NEW_PASSWORD", PASSWORD)
    call_command("create_account", "--username", "root", "--role", "system_admin", "--scope", "all")

    user = User.objects.get(username="root")
    assert (user.role, user.scope_kind, user.check_password(PASSWORD)) == (
        "system_admin",
        "all",
        True,
    )
    assert "Created root (system_admin, scope all)." in capsys.readouterr().out
    assert AuditEvent.objects.get(action="accounts.user_create").details["via"] == "cli"

    monkeypatch.setenv("YIYANG_NEW_PASSWORD", "weak")
    with pytest.raises(CommandError, match=r"too short.*\(password\)"):
        call_command("create_account", "--username", "x", "--role", "resident")
