"""Run by ``tests/test_plugin_example.py`` in a child pytest with this package's settings
(the platform plus the example app): what a new app registered reaches every user-facing
place — the role's permissions, the navigation, the resident page's tabs, page routes, the
API and its published schema."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from yiyang.common.permissions import Role, perms_for, registered_permissions
from yiyang.residents.services.registry import register_resident
from yiyang.testing.accounts import bearer_token
from yiyang.testing.network import build_network, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    net = build_network()
    doctor = make_user(Role.DOCTOR, scope="all", username="doc")
    caregiver = make_user(Role.CAREGIVER, scope="all", username="carer")
    village = net.a.villages[0]
    resident, _ = register_resident(
        doctor,
        name="王芳",
        id_number=_id_number(village.code[:6], datetime.date(1950, 3, 1)),
        region=village,
    )
    return doctor, caregiver, resident


def _id_number(area: str, born: datetime.date) -> str:
    body = f"{area}{born:%Y%m%d}123"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def _client(user) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(user)
    return client


def test_the_permission_is_registered_with_its_role():
    assert "plugin_example.view" in [str(p) for p in registered_permissions()]
    assert "plugin_example.view" in perms_for(Role.DOCTOR)
    assert "plugin_example.view" not in perms_for(Role.CAREGIVER)


def test_the_navigation_entry_shows_to_the_role_holding_the_permission(world):
    doctor, caregiver, _ = world
    assert ">Example notes</a>" in _client(doctor).get("/").content.decode()
    assert "Example notes" not in _client(caregiver).get("/").content.decode()
    assert "example index" in _client(doctor).get("/example/").content.decode()
    assert _client(caregiver).get("/example/").status_code == 403


def test_the_resident_tab_shows_and_serves(world):
    doctor, caregiver, resident = world
    page = _client(doctor).get(f"/residents/{resident.pk}/").content.decode()
    assert f'href="/example/residents/{resident.pk}/"' in page and "Example tab" in page
    tab = _client(doctor).get(f"/example/residents/{resident.pk}/").content.decode()
    assert '<p id="example-tab">王芳: hello</p>' in tab and 'id="resident-tabs"' in tab
    carer_page = _client(caregiver).get(f"/residents/{resident.pk}/").content.decode()
    assert "Example tab" not in carer_page
    assert _client(caregiver).get(f"/example/residents/{resident.pk}/").status_code == 403


def test_the_api_router_is_mounted_checked_and_published(world):
    doctor, caregiver, _ = world
    client = Client()
    ok = client.get("/api/v1/example/ping", HTTP_AUTHORIZATION=f"Bearer {bearer_token(doctor)}")
    assert (ok.status_code, ok.json()) == (200, {"pong": "doc"})
    denied = client.get(
        "/api/v1/example/ping", HTTP_AUTHORIZATION=f"Bearer {bearer_token(caregiver)}"
    )
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/example/ping" in schema["paths"]
