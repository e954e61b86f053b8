"""Password policy (≥ 8 characters, 3 of 4 character classes), argon2, change password."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yiyang.accounts.models import User
from yiyang.accounts.passwords import character_classes
from yiyang.accounts.services.passwords import change_password
from yiyang.accounts.services.users import create_user
from yiyang.audit.models import AuditEvent
from yiyang.common.errors import ValidationFailed
from yiyang.common.permissions import Role

TOO_SHORT = "This password is too short. It must contain at least 8 characters."
TOO_SIMPLE = (
    "The password must mix at least 3 of: lower-case letters, upper-case letters, digits, symbols."
)


# Messages in English (the root conftest's ``english`` fixture).
pytestmark = pytest.mark.usefixtures("english")


def create(actor, password, username="newuser"):
    return create_user(
        actor, username=username, password=password, role=Role.RESIDENT, scope_kind="self"
    )


@pytest.mark.parametrize(
    ("password", "classes"),
    [("abcdefgh", 1), ("abcd1234", 2), ("Abcd1234", 3), ("Ab#d1234", 4), ("汉字汉字#", 1)],
)
def test_character_classes(password, classes):
    assert character_classes(password) == classes


def test_seven_characters_are_refused(sysadmin):
    with pytest.raises(ValidationFailed) as exc:
        create(sysadmin, "Ab#1234")
    assert (exc.value.code, exc.value.field, exc.value.detail) == (
        "password_policy",
        "password",
        TOO_SHORT,
    )
    assert not User.objects.filter(username="newuser").exists()


def test_two_character_classes_are_refused(sysadmin):
    with pytest.raises(ValidationFailed) as exc:
        create(sysadmin, "plainpassword42")
    assert (exc.value.code, exc.value.detail) == ("password_policy", TOO_SIMPLE)
    assert not User.objects.filter(username="newuser").exists()


def test_a_good_password_is_accepted_and_hashed_with_argon2(sysadmin):
    user = create(sysadmin, "Kang#Yang2026")

    stored = User.objects.get(pk=user.pk).password
    assert stored.startswith("argon2$argon2id$")
    assert "Kang#Yang2026" not in stored
    assert user.check_password("Kang#Yang2026") is True


def test_every_fixture_account_is_argon2(sysadmin, doctor):
    assert {u.password.split("$")[0] for u in User.objects.all()} == {"argon2"}


def test_change_password_checks_the_current_one(doctor, password):
    with pytest.raises(ValidationFailed) as exc:
        change_password(doctor, old_password="Nope#1234", new_password="Fresh#Pass42")
    assert (exc.value.code, exc.value.field) == ("wrong_password", "old_password")


def test_change_password_refuses_the_same_password(doctor, password):
    with pytest.raises(ValidationFailed) as exc:
        change_password(doctor, old_password=password, new_password=password)
    assert exc.value.code == "password_unchanged"


def test_change_password_refuses_a_weak_one(doctor, password):
    before = doctor.password
    with pytest.raises(ValidationFailed) as exc:
        change_password(doctor, old_password=password, new_password="alllowercase")
    assert (exc.value.code, exc.value.detail) == ("password_policy", TOO_SIMPLE)
    doctor.refresh_from_db()
    assert doctor.password == before
    assert not AuditEvent.objects.filter(action="accounts.password_change").exists()


def test_the_change_password_page(client, doctor, password):
    client.force_login(doctor)
    url = reverse("accounts:password")
    assert client.get(url).status_code == 200

    mismatch = client.post(
        url,
        {"old_password": password, "new_password": "Fresh#Pass42", "new_password2": "Other#1"},
    )
    assert b"The two new passwords differ." in mismatch.content

    weak = client.post(
        url, {"old_password": password, "new_password": "Ab#1234", "new_password2": "Ab#1234"}
    )
    assert TOO_SHORT.encode() in weak.content

    done = client.post(
        url,
        {
            "old_password": password,
            "new_password": "Fresh#Pass42",
            "new_password2": "Fresh#Pass42",
        },
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("accounts:security")
    # The session survives the change.
    assert client.get(reverse("web:home")).status_code == 200
    doctor.refresh_from_db()
    assert doctor.check_password("Fresh#Pass42") is True
    assert doctor.password_changed_at is not None
    event = AuditEvent.objects.get(action="accounts.password_change")
    assert (event.actor_id, event.details) == (doctor.pk, {"tokens_revoked": 0})


def test_the_change_password_page_needs_login(client, db):
    response = client.get(reverse("accounts:password"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))
