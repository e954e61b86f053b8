"""Page login: password and TOTP code in one step, enforced enrolment, idle timeout."""

from __future__ import annotations

import datetime
import re
import time

import pyotp
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from yiyang.accounts.models import LoginFailure, User
from yiyang.accounts.tests.conftest import english_client
from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role, mfa_required_roles
from yiyang.testing.accounts import make_account, totp_code, wrong_code

LOGIN = "/login/"
WRONG = b"Wrong username, password or code."
LOCKED_15 = (
    "This account is locked after too many failed logins from your address. "
    "Try again after 15 minutes."
)


def post_login(client, username, password, code=None, **extra):
    data = {"username": username, "password": password}
    if code is not None:
        data["code"] = code
    return client.post(LOGIN, data, **extra)


def logged_in_as(client) -> str | None:
    response = client.get("/api/v1/auth/me")
    return response.json()["username"] if response.status_code == 200 else None


def actions(*names):
    return list(
        AuditEvent.objects.filter(action__in=names)
        .order_by("seq")
        .values_list("action", "outcome", "actor_username", "object_repr", "details")
    )


def test_the_login_page_renders(client, db):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'id="login-form"' in response.content


def test_login_with_the_right_password_starts_a_session_and_is_audited(client, doctor, password):
    response = post_login(client, "doctor", password)

    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert logged_in_as(client) == "doctor"
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.actor_id, event.outcome, event.address) == (doctor.pk, "success", "127.0.0.1")
    assert event.details == {"channel": "web", "second_factor": False}


def test_a_wrong_password_is_refused_and_audited_as_denied(client, doctor):
    response = post_login(client, "doctor", "Wrong#Pass1")

    assert response.status_code == 200
    assert WRONG in response.content
    assert logged_in_as(client) is None
    assert actions("auth.login_failed") == [
        ("auth.login_failed", "denied", "", "doctor", {"username": "doctor", "reason": "password"})
    ]
    assert LoginFailure.objects.filter(username="doctor", address="127.0.0.1").count() == 1


def test_five_failures_lock_the_username_and_address_even_for_the_right_password(
    client, doctor, password
):
    for _ in range(4):
        assert WRONG in post_login(client, "doctor", "Bad#Pass1").content
    fifth = post_login(client, "doctor", "Bad#Pass1")
    assert LOCKED_15.encode() in fifth.content

    refused = post_login(client, "doctor", password)

    assert refused.status_code == 200
    assert LOCKED_15.encode() in refused.content
    assert logged_in_as(client) is None
    rows = actions("auth.login_failed", "auth.lockout")
    assert [(a, o, d.get("reason", "-")) for a, o, _, _, d in rows] == [
        ("auth.login_failed", "denied", "password"),
        ("auth.login_failed", "denied", "password"),
        ("auth.login_failed", "denied", "password"),
        ("auth.login_failed", "denied", "password"),
        ("auth.login_failed", "denied", "password"),
        ("auth.lockout", "denied", "-"),
        ("auth.login_failed", "denied", "locked"),
    ]
    lockout_row = rows[5][4]
    assert (lockout_row["failures"], lockout_row["minutes"]) == (5, 15)
    # Attempts while locked are not counted: the lock does not extend itself.
    assert LoginFailure.objects.filter(username="doctor").count() == 5


def test_the_lock_holds_for_15_minutes_then_ends(client, doctor, password):
    for _ in range(5):
        post_login(client, "doctor", "Bad#Pass1")

    LoginFailure.objects.update(at=timezone.now() - datetime.timedelta(minutes=14))
    still = post_login(client, "doctor", password)
    assert b"Try again after 1 minute." in still.content
    assert logged_in_as(client) is None

    LoginFailure.objects.update(at=timezone.now() - datetime.timedelta(minutes=15, seconds=1))
    assert post_login(client, "doctor", password).status_code == 302
    assert logged_in_as(client) == "doctor"
    # A complete login clears the pair's failures.
    assert LoginFailure.objects.filter(username="doctor").count() == 0


def test_failures_spread_over_more_than_the_window_do_not_lock(client, doctor, password):
    for _ in range(5):
        post_login(client, "doctor", "Bad#Pass1")
    oldest = LoginFailure.objects.order_by("at").first()
    oldest.at = timezone.now() - datetime.timedelta(minutes=16)
    oldest.save(update_fields=["at"])

    assert post_login(client, "doctor", password).status_code == 302


def test_another_address_is_not_locked(client, doctor, password):
    for _ in range(5):
        post_login(client, "doctor", "Bad#Pass1")

    response = post_login(client, "doctor", password, REMOTE_ADDR="10.20.30.40")

    assert response.status_code == 302
    assert logged_in_as(client) == "doctor"
    # The locked address stays locked.
    assert LoginFailure.objects.filter(username="doctor", address="127.0.0.1").count() == 5


def test_unknown_usernames_are_locked_too(client, db):
    for _ in range(5):
        post_login(client, "nobody", "Bad#Pass1")
    response = post_login(client, "nobody", "Bad#Pass1")
    assert LOCKED_15.encode() in response.content


def test_security_admin_unlock_clears_the_failures(client, doctor, secadmin, password):
    for _ in range(5):
        post_login(client, "doctor", "Bad#Pass1")
    admin_client = english_client()
    admin_client.force_login(secadmin)

    listing = admin_client.get(reverse("accounts:locked"))
    assert listing.status_code == 200
    assert [(lock.username, lock.address, lock.failures) for lock in listing.context["locks"]] == [
        ("doctor", "127.0.0.1", 5)
    ]
    response = admin_client.post(
        reverse("accounts:unlock"), {"username": "doctor", "address": "127.0.0.1"}
    )
    assert response.status_code == 302
    assert LoginFailure.objects.count() == 0
    event = AuditEvent.objects.get(action="accounts.unlock")
    assert (event.actor_username, event.object_repr, event.details) == (
        "secadmin",
        "doctor",
        {"username": "doctor", "address": "127.0.0.1", "failures_cleared": 5},
    )
    assert admin_client.get(reverse("accounts:locked")).context["locks"] == []

    assert post_login(client, "doctor", password).status_code == 302


def test_an_inactive_user_cannot_log_in(client, doctor, password):
    User.objects.filter(pk=doctor.pk).update(is_active=False)
    response = post_login(client, "doctor", password)
    assert WRONG in response.content


# --- TOTP: the code with the password, one answer for every refusal ---------------------


@pytest.fixture
def totp_doctor(place) -> User:
    return make_account(Role.DOCTOR, place.township_hospital, username="totpdoc", totp=True)


def test_the_login_form_asks_for_the_code_up_front(client, db):
    page = client.get(LOGIN).content.decode()
    assert 'id="login-form"' in page
    assert 'name="code"' in page
    assert 'autocomplete="one-time-code"' in page


def test_an_enrolled_user_logs_in_with_password_and_code_in_one_step(client, totp_doctor, password):
    response = post_login(client, "totpdoc", password, code=totp_code(totp_doctor))

    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert logged_in_as(client) == "totpdoc"
    event = AuditEvent.objects.get(action="auth.login")
    assert event.details == {"channel": "web", "second_factor": True}


def test_a_user_without_totp_may_leave_the_code_empty_or_fill_it(client, doctor, password):
    assert post_login(client, "doctor", password, code="")["Location"] == reverse("web:home")
    client.post(reverse("web:logout"))
    assert post_login(client, "doctor", password, code="123456").status_code == 302


def test_a_right_password_without_or_with_a_wrong_code_reads_like_a_wrong_password(
    client, totp_doctor, password
):
    """No password oracle: the page after a wrong password, after the right password
    without a code and after the right password with a wrong code is the same."""
    wrong_password = post_login(client, "totpdoc", "Bad#Pass1", code=totp_code(totp_doctor))
    no_code = post_login(client, "totpdoc", password)
    wrong = post_login(client, "totpdoc", password, code=wrong_code(totp_doctor))

    bodies = set()
    for response in (wrong_password, no_code, wrong):
        assert response.status_code == 200
        assert WRONG in response.content
        bodies.add(
            re.sub(rb'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', b"", response.content)
        )
    assert len(bodies) == 1
    assert logged_in_as(client) is None
    # Each counted towards the lockout; the trail keeps what was wrong.
    assert LoginFailure.objects.filter(username="totpdoc").count() == 3
    assert [d["reason"] for *_, d in actions("auth.login_failed")] == [
        "password",
        "totp_missing",
        "totp",
    ]


def test_a_used_code_is_refused_the_second_time(client, totp_doctor, password):
    code = totp_code(totp_doctor)
    assert post_login(client, "totpdoc", password, code=code).status_code == 302
    client.post(reverse("web:logout"))

    replay = post_login(client, "totpdoc", password, code=code)

    assert replay.status_code == 200
    assert WRONG in replay.content
    assert logged_in_as(client) is None
    assert actions("auth.login_failed")[-1][4] == {"username": "totpdoc", "reason": "totp_reused"}


def test_code_failures_lock_the_account_too(client, totp_doctor, password):
    wrong = wrong_code(totp_doctor)
    for _ in range(4):
        post_login(client, "totpdoc", password, code=wrong)
    locked = post_login(client, "totpdoc", password, code=wrong)

    assert LOCKED_15.encode() in locked.content
    # The right password and code do not help while locked.
    right = post_login(client, "totpdoc", password, code=totp_code(totp_doctor))
    assert LOCKED_15.encode() in right.content
    assert logged_in_as(client) is None


def test_the_old_code_step_no_longer_exists(client, totp_doctor, password):
    """A post of only a code (the former second step) is an incomplete login form."""
    response = client.post(LOGIN, {"step": "totp", "code": totp_code(totp_doctor)})
    assert response.status_code == 200
    assert logged_in_as(client) is None


# --- roles that must use TOTP -----------------------------------------------------------


def test_by_default_the_three_administrator_roles_must_use_totp(settings):
    settings.MFA_REQUIRED_ROLES = None
    assert mfa_required_roles() == {"system_admin", "security_admin", "audit_admin"}


def test_the_roles_come_from_the_setting(settings):
    settings.MFA_REQUIRED_ROLES = "doctor, nurse"
    assert mfa_required_roles() == {"doctor", "nurse"}
    settings.MFA_REQUIRED_ROLES = ""
    assert mfa_required_roles() == frozenset()
    settings.MFA_REQUIRED_ROLES = "doctor,wizard"
    with pytest.raises(ImproperlyConfigured, match="unknown roles: wizard"):
        mfa_required_roles()


def test_a_required_role_without_totp_is_sent_to_enrol_and_held_there(client, db, password):
    make_account(Role.SYSTEM_ADMIN, "all", username="newadmin", totp=False)

    response = post_login(client, "newadmin", password)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:security")
    for path in [reverse("web:home"), reverse("accounts:users")]:
        held = client.get(path)
        assert (held.status_code, held["Location"]) == (302, reverse("accounts:security"))
    api = client.get("/api/v1/auth/me")
    assert api.status_code == 403
    assert api.json()["code"] == "mfa_enrolment_required"
    htmx = client.get(reverse("accounts:users"), HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == reverse("accounts:security")

    page = client.get(reverse("accounts:security"))
    assert page.status_code == 200
    assert b'id="mfa-required"' in page.content

    client.post(reverse("accounts:security"), {"action": "start"})
    user = User.objects.get(username="newadmin")
    assert user.totp_secret and not user.totp_confirmed
    shown = client.get(reverse("accounts:security"))
    assert user.totp_secret.encode() in shown.content
    uri = f"otpauth://totp/Yiyang:newadmin?secret={user.totp_secret}&issuer=Yiyang"
    assert escape(uri).encode() in shown.content

    wrong = client.post(
        reverse("accounts:security"), {"action": "confirm", "code": wrong_code(user)}
    )
    assert b"Wrong or expired code." in wrong.content

    confirmed = client.post(
        reverse("accounts:security"),
        {"action": "confirm", "code": pyotp.TOTP(user.totp_secret).now()},
    )
    assert confirmed.status_code == 302
    user.refresh_from_db()
    assert user.totp_confirmed is True
    assert client.get(reverse("accounts:users")).status_code == 200
    assert [a for a, *_ in actions("accounts.totp_enrol_start", "accounts.totp_enrol")] == [
        "accounts.totp_enrol_start",
        "accounts.totp_enrol",
    ]


def test_a_role_made_mfa_required_by_setting_is_held(client, doctor, password, settings):
    settings.MFA_REQUIRED_ROLES = "doctor"
    assert post_login(client, "doctor", password)["Location"] == reverse("accounts:security")
    assert client.get(reverse("web:home"))["Location"] == reverse("accounts:security")


def test_a_role_that_need_not_use_totp_is_not_held(client, doctor, password):
    assert post_login(client, "doctor", password)["Location"] == reverse("web:home")
    assert client.get(reverse("web:home")).status_code == 200


# --- idle timeout and logout ------------------------------------------------------------


def _age_session(client, seconds: int) -> None:
    session = client.session
    session["last_seen"] = int(time.time()) - seconds
    session.save()


def test_an_idle_session_is_logged_out(client, doctor, password, settings):
    post_login(client, "doctor", password)
    client.get(reverse("web:home"))
    _age_session(client, settings.SESSION_IDLE_TIMEOUT + 1)

    response = client.get(reverse("web:home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))
    assert logged_in_as(client) is None
    event = AuditEvent.objects.get(action="auth.logout")
    assert (event.actor_id, event.details, event.address) == (
        doctor.pk,
        {"reason": "idle"},
        "127.0.0.1",
    )
    assert b'id="idle-logout"' in client.get(LOGIN).content


def test_a_session_used_within_the_timeout_stays(client, doctor, password, settings):
    post_login(client, "doctor", password)
    _age_session(client, settings.SESSION_IDLE_TIMEOUT - 60)

    assert client.get(reverse("web:home")).status_code == 200
    assert abs(client.session["last_seen"] - int(time.time())) <= 2


def test_logout_is_audited(client, doctor, password):
    post_login(client, "doctor", password)

    response = client.post(reverse("web:logout"))

    assert response.status_code == 302
    assert logged_in_as(client) is None
    assert actions("auth.logout") == [
        ("auth.logout", "success", "doctor", "doctor", {"reason": "user"})
    ]


class _Clock:
    """A stand-in for ``time`` in the middleware: the test moves ``now`` by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


def test_a_user_active_every_5_seconds_stays_logged_in_with_a_20_second_timeout(
    client, doctor, password, settings, monkeypatch
):
    from yiyang.accounts import middleware

    settings.SESSION_IDLE_TIMEOUT = 20
    clock = _Clock()
    monkeypatch.setattr(middleware, "time", clock)
    post_login(client, "doctor", password)

    for _ in range(24):  # two minutes of a request every 5 s
        clock.now += 5
        response = client.get(reverse("web:home"))
        assert response.status_code == 200, f"logged out at +{clock.now - time.time():.0f} s"

    # 21 s without a request ends the session.
    clock.now += 21
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert logged_in_as(client) is None


def test_the_session_is_refreshed_well_within_the_timeout_but_not_on_every_request(
    client, doctor, password, settings, monkeypatch
):
    from yiyang.accounts import middleware

    settings.SESSION_IDLE_TIMEOUT = 1800
    assert middleware.touch_interval() == 60
    settings.SESSION_IDLE_TIMEOUT = 20
    assert middleware.touch_interval() == 2
    clock = _Clock()
    monkeypatch.setattr(middleware, "time", clock)
    post_login(client, "doctor", password)
    client.get(reverse("web:home"))
    seen = client.session["last_seen"]

    clock.now += 1  # within the interval: the session is not written again
    client.get(reverse("web:home"))
    assert client.session["last_seen"] == seen
    clock.now += 1
    client.get(reverse("web:home"))
    assert client.session["last_seen"] == seen + 2
