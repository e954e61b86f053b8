"""API sign-in: bearer tokens (valid, expired, revoked), TOTP, lockout, /me, password."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.utils import timezone

from yiyang.accounts.models import ApiToken, LoginFailure
from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role
from yiyang.testing.accounts import make_account, totp_code, wrong_code

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"


def get_token(client, username, password, totp=None, **extra):
    body = {"username": username, "password": password}
    if totp is not None:
        body["totp"] = totp
    return client.post(TOKEN, body, content_type="application/json", **extra)


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_a_token_is_issued_once_and_only_its_hash_is_stored(client, doctor, password, settings):
    settings.API_TOKEN_DAYS = 7
    response = get_token(client, "doctor", password)

    assert response.status_code == 201
    body = response.json()
    key = body["token"]
    assert (body["token_type"], body["prefix"]) == ("Bearer", key[:8])
    row = ApiToken.objects.get()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {row.key_hash, row.prefix}
    assert abs(row.expires_at - row.created_at - datetime.timedelta(days=7)) < datetime.timedelta(
        seconds=5
    )
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.actor_id, event.details) == (
        doctor.pk,
        {"channel": "api", "second_factor": False, "token_id": row.pk},
    )


def test_me_with_a_valid_token(client, doctor, password, place):
    key = get_token(client, "doctor", password).json()["token"]

    response = client.get(ME, **bearer(key))

    assert response.status_code == 200
    assert response.json() == {
        "id": doctor.pk,
        "username": "doctor",
        "display_name": "",
        "role": "doctor",
        "role_label": "Doctor",
        "scope": {
            "kind": "institution",
            "region_code": None,
            "region_prefix": None,
            "region_name": None,
            "institution_id": place.township_hospital.pk,
            "institution_name": "周党镇卫生院",
            "team_id": None,
            "team_name": None,
        },
        "permissions": [
            "assessments.record",
            "assessments.score",
            "devices.alert_handle",
            "devices.view",
            "emergency.call",
            "network.staff_view",
            "network.view",
            "residents.export",
            "residents.health_manage",
            "residents.health_view",
            "residents.import",
            "residents.manage",
            "residents.observation_record",
            "residents.reveal",
            "residents.view",
        ],
        "mfa_enrolled": False,
        "mfa_required": False,
    }
    assert ApiToken.objects.get().last_used_at is not None


def test_me_of_a_region_scoped_supervisor_over_the_session(client, place):
    supervisor = make_account(Role.SUPERVISOR, place.county, username="super")
    client.force_login(supervisor)

    body = client.get(ME).json()

    assert body["scope"] == {
        "kind": "region",
        "region_code": "411521000000",
        "region_prefix": "411521",
        "region_name": "罗山县",
        "institution_id": None,
        "institution_name": None,
        "team_id": None,
        "team_name": None,
    }
    assert body["permissions"] == [
        "assessments.policy",
        "assessments.score",
        "devices.alert_policy",
        "devices.quarantine",
        "devices.view",
        "network.staff_view",
        "network.view",
        "residents.export",
        "residents.view",
    ]


def test_anonymous_and_unknown_tokens_are_refused(client, db):
    assert client.get(ME).status_code == 401
    assert client.get(ME, **bearer("not-a-token")).status_code == 401


def test_an_expired_token_is_refused(client, doctor, password):
    key = get_token(client, "doctor", password).json()["token"]
    ApiToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    assert client.get(ME, **bearer(key)).status_code == 401


@pytest.mark.parametrize("method", ["delete", "post"])
def test_a_revoked_token_is_refused(client, doctor, password, method):
    key = get_token(client, "doctor", password).json()["token"]
    other = get_token(client, "doctor", password).json()["token"]

    if method == "delete":
        response = client.delete(TOKEN, **bearer(key))
    else:
        response = client.post(TOKEN + "/revoke", **bearer(key))

    assert response.status_code == 200
    assert response.json() == {"revoked": True, "prefix": key[:8]}
    assert client.get(ME, **bearer(key)).status_code == 401
    assert client.get(ME, **bearer(other)).status_code == 200
    event = AuditEvent.objects.get(action="auth.token_revoke")
    assert (event.actor_id, event.object_repr) == (doctor.pk, f"token {key[:8]}…")


def test_revoking_over_the_session_needs_the_token(client, doctor):
    client.force_login(doctor)
    response = client.delete(TOKEN)
    assert response.status_code == 400
    assert response.json()["code"] == "no_bearer_token"


def test_a_deactivated_users_token_is_refused(client, doctor, password):
    key = get_token(client, "doctor", password).json()["token"]
    doctor.is_active = False
    doctor.save(update_fields=["is_active"])
    assert client.get(ME, **bearer(key)).status_code == 401


def test_a_wrong_password_gets_401_and_counts(client, doctor):
    response = get_token(client, "doctor", "Bad#Pass1")

    assert response.status_code == 401
    assert response.json() == {
        "code": "invalid_credentials",
        "detail": "Wrong username, password or code.",
        "field": None,
    }
    assert LoginFailure.objects.filter(username="doctor").count() == 1


def test_the_api_shares_the_lockout(client, doctor, password):
    for _ in range(5):
        get_token(client, "doctor", "Bad#Pass1")

    response = get_token(client, "doctor", password)

    assert response.status_code == 403
    assert response.json() == {
        "code": "account_locked",
        "detail": "This account is locked after too many failed logins from your address. "
        "Try again after 15 minutes.",
        "field": None,
    }
    assert get_token(client, "doctor", password, REMOTE_ADDR="10.9.8.7").status_code == 201
    assert ApiToken.objects.count() == 1


INVALID = {
    "code": "invalid_credentials",
    "detail": "Wrong username, password or code.",
    "field": None,
}


def test_an_enrolled_user_needs_a_code_for_a_token(client, place, password):
    """A missing, wrong or reused code answers exactly like a wrong password: no oracle
    for the password of an account with two-step login."""
    user = make_account(Role.NURSE, place.team, username="nurse", totp=True)

    wrong_password = get_token(client, "nurse", "Bad#Pass1", totp=totp_code(user))
    missing = get_token(client, "nurse", password)
    wrong = get_token(client, "nurse", password, totp=wrong_code(user))
    for response in (wrong_password, missing, wrong):
        assert (response.status_code, response.json()) == (401, INVALID)

    code = totp_code(user)
    assert get_token(client, "nurse", password, totp=code).status_code == 201

    replay = get_token(client, "nurse", password, totp=code)
    assert (replay.status_code, replay.json()) == (401, INVALID)
    assert ApiToken.objects.count() == 1
    # The failures counted, the success cleared them, the replay counts again.
    assert LoginFailure.objects.filter(username="nurse").count() == 1
    reasons = [
        e.details["reason"]
        for e in AuditEvent.objects.filter(action="auth.login_failed").order_by("seq")
    ]
    assert reasons == ["password", "totp_missing", "totp", "totp_reused"]


def test_code_failures_over_the_api_lock_the_account(client, place, password):
    user = make_account(Role.NURSE, place.team, username="nurse", totp=True)
    for _ in range(5):
        get_token(client, "nurse", password)

    response = get_token(client, "nurse", password, totp=totp_code(user))

    assert (response.status_code, response.json()["code"]) == (403, "account_locked")
    assert ApiToken.objects.count() == 0


def test_a_required_role_without_totp_gets_no_token(client, db, password):
    make_account(Role.AUDIT_ADMIN, "all", username="aud", totp=False)

    response = get_token(client, "aud", password)

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_enrolment_required"
    assert ApiToken.objects.count() == 0


def test_an_enrolled_admin_gets_a_token_with_the_code(client, sysadmin, password):
    response = get_token(client, "sysadmin", password, totp=totp_code(sysadmin))
    assert response.status_code == 201
    me = client.get(ME, **bearer(response.json()["token"])).json()
    assert (me["role"], me["scope"]["kind"], me["mfa_enrolled"], me["mfa_required"]) == (
        "system_admin",
        "all",
        True,
        True,
    )
    assert me["permissions"] == [
        "accounts.manage",
        "network.manage",
        "network.region_import",
        "network.staff_manage",
        "network.staff_view",
        "network.view",
    ]


def test_totp_enrolment_over_the_api(client, doctor, password):
    key = get_token(client, "doctor", password).json()["token"]

    started = client.post("/api/v1/auth/totp/enrol", **bearer(key))
    assert started.status_code == 200
    doctor.refresh_from_db()
    assert started.json() == {
        "secret": doctor.totp_secret,
        "uri": f"otpauth://totp/Yiyang:doctor?secret={doctor.totp_secret}&issuer=Yiyang",
    }
    bad = client.post(
        "/api/v1/auth/totp/confirm",
        {"code": wrong_code(doctor)},
        content_type="application/json",
        **bearer(key),
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "totp_invalid")
    ok = client.post(
        "/api/v1/auth/totp/confirm",
        {"code": totp_code(doctor)},
        content_type="application/json",
        **bearer(key),
    )
    assert ok.status_code == 200
    doctor.refresh_from_db()
    assert doctor.totp_confirmed is True
    again = client.post("/api/v1/auth/totp/enrol", **bearer(key))
    assert (again.status_code, again.json()["code"]) == (400, "totp_enrolled")


def test_change_password_over_the_api_keeps_this_token_and_revokes_the_others(
    client, doctor, password
):
    key = get_token(client, "doctor", password).json()["token"]
    other = get_token(client, "doctor", password).json()["token"]

    response = client.post(
        "/api/v1/auth/password",
        {"old_password": password, "new_password": "Fresh#Pass42"},
        content_type="application/json",
        **bearer(key),
    )

    assert response.status_code == 200
    assert client.get(ME, **bearer(key)).status_code == 200
    assert client.get(ME, **bearer(other)).status_code == 401
    assert get_token(client, "doctor", password).status_code == 401
    assert get_token(client, "doctor", "Fresh#Pass42").status_code == 201
    event = AuditEvent.objects.get(action="accounts.password_change")
    assert event.details == {"tokens_revoked": 1}


def test_change_password_over_the_api_reports_the_policy(client, doctor, password):
    key = get_token(client, "doctor", password).json()["token"]
    response = client.post(
        "/api/v1/auth/password",
        {"old_password": password, "new_password": "short1A"},
        content_type="application/json",
        **bearer(key),
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "password_policy",
        "detail": "This password is too short. It must contain at least 8 characters.",
        "field": "new_password",
    }


def test_the_security_page_lists_and_revokes_the_users_tokens(client, doctor, password):
    key = get_token(client, "doctor", password).json()["token"]
    row = ApiToken.objects.get()
    client.force_login(doctor)

    page = client.get("/account/security/")
    assert [t.pk for t in page.context["tokens"]] == [row.pk]
    assert f"<code>{key[:8]}…</code>".encode() in page.content

    response = client.post("/account/security/", {"action": "revoke_token", "token": row.pk})

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked is True
    assert list(client.get("/account/security/").context["tokens"]) == []
