"""A password chosen by someone else (a family login's one-time password) must be changed
before anything else: pages lead to the password page, the API refuses, tokens are not
issued; changing it lifts the rule."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yiyang.accounts.services.passwords import change_password
from yiyang.accounts.services.users import bootstrap_user
from yiyang.common.permissions import Role
from yiyang.common.scope import ScopeKind

pytestmark = pytest.mark.django_db

ONE_TIME = "Yici#Mima2026"
OWN = "Ziji#Mima2027"


@pytest.fixture
def family():
    user = bootstrap_user(
        username="fam0000001",
        password=ONE_TIME,
        role=Role.FAMILY,
        scope_kind=ScopeKind.SELF,
        via="test",
    )
    user.must_change_password = True
    user.save(update_fields=["must_change_password"])
    return user


def test_pages_lead_to_the_password_page_until_changed(client, family):
    client.force_login(family)
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password")
    page = client.get(reverse("accounts:password"))
    assert page.status_code == 200
    assert b'id="must-change-password"' in page.content
    assert client.get("/api/v1/auth/me").json()["code"] == "password_change_required"

    response = client.post(
        reverse("accounts:password"),
        {"old_password": ONE_TIME, "new_password": OWN, "new_password2": OWN},
    )
    assert response.status_code == 302
    family.refresh_from_db()
    assert family.must_change_password is False
    assert client.get(reverse("web:home")).status_code == 200


def test_no_api_token_before_the_password_is_changed(client, family):
    response = client.post(
        "/api/v1/auth/token",
        {"username": family.username, "password": ONE_TIME},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"
    change_password(family, old_password=ONE_TIME, new_password=OWN)
    response = client.post(
        "/api/v1/auth/token",
        {"username": family.username, "password": OWN},
        content_type="application/json",
    )
    assert response.status_code == 201
