"""A device's readings are the health data of the resident they belong to: every read of a
device, its binding history, its readings and its refused messages is scoped by the
resident, not only by the device's owner institution (matrix style: each endpoint × each
team-scoped role).

The world: county A's township hospital owns two devices; ``mine`` is bound to 张三, who
lives in a grid team A serves, ``hers`` to 王芳 in 龙山村, which no grid of team A covers —
she belongs to another team. A team-A user manages the hospital's devices by scope (the
team's home node), but 王芳 is outside her scope: the resident answers 404, so must her
device, its readings, its quarantine and her name anywhere.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.matrix_support import holders
from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.devices.models import Device, Quarantine, Reading
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.services import registry
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import Resident
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.services.registry import register_resident
from yiyang.testing.network import Network, build_network, make_user

pytestmark = pytest.mark.django_db

# Team-scoped roles that see devices (``devices.view``).
TEAM_ROLES = sorted(holders(DevicePerm.VIEW) - {Role.SUPERVISOR})


@dataclass
class World:
    net: Network
    zhang: Resident  # in team A's grid
    wang: Resident  # county A, outside team A's grids
    mine: Device  # bound to 张三
    hers: Device  # bound to 王芳
    moved: Device  # bound to 王芳 before, to 张三 now


def _reading(device: Device, resident: Resident, seq: int) -> None:
    now = timezone.now()
    Reading.objects.create(
        device=device,
        seq=seq,
        resident=resident,
        kind="bp",
        measured_at=now,
        values={"sys": 150 + seq, "dia": 90},
        source="http",
        received_at=now,
    )


@pytest.fixture
def w() -> World:
    net = build_network()
    registrar = make_user(Role.INSTITUTION_ADMIN, scope="all", username="registrar")
    people = []
    for village, grid, name, seq in (
        (net.a.villages[0], net.a.grids[0], "张三", 11),
        (net.a.villages[2], None, "王芳", 22),
    ):
        resident, _ = register_resident(
            registrar,
            name=name,
            id_number=make_id_number(village.code[:6], datetime.date(1948, 5, 6), seq),
            region=village,
            grid=grid,
        )
        people.append(resident)
    zhang, wang = people
    devices = []
    for kind in ("bp_monitor", "bp_monitor", "bp_monitor"):
        device, _ = registry.register_device(registrar, kind=kind, institution=net.a.thc)
        devices.append(device)
    mine, hers, moved = devices
    registry.bind(registrar, mine, zhang)
    registry.bind(registrar, hers, wang)
    registry.bind(registrar, moved, wang)
    _reading(mine, zhang, 1)
    _reading(hers, wang, 1)
    _reading(moved, wang, 1)
    registry.bind(registrar, moved, zhang)
    _reading(moved, zhang, 2)
    for device in (mine, hers):
        Quarantine.objects.create(
            device=device,
            serial=device.serial,
            source="http",
            code="out_of_range",
            detail="bp.sys 400",
            seq=9,
            payload=f'{{"seq": 9, "who": "{device.serial}"}}',
            received_at=timezone.now(),
        )
    return World(net, zhang, wang, mine, hers, moved)


def _user(w: World, role: str) -> User:
    return make_user(role, w.net.a.team, username=f"team-{role}")


def _client(user: User) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", TEAM_ROLES)
def test_the_resident_is_out_of_the_team_scope(w, role):
    client = _client(_user(w, role))
    assert client.get(f"/api/v1/residents/{w.wang.pk}").status_code == 404
    assert client.get(f"/api/v1/residents/{w.zhang.pk}").status_code == 200


@pytest.mark.parametrize("role", TEAM_ROLES)
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/devices/{pk}",
        "/api/v1/devices/{pk}/readings",
        "/devices/{pk}/",
    ],
)
def test_a_device_of_a_resident_out_of_scope_answers_404(w, role, url):
    client = _client(_user(w, role))
    response = client.get(url.format(pk=w.hers.pk))
    assert response.status_code == 404, response.content[:300]
    assert "王芳" not in response.content.decode()
    ok = client.get(url.format(pk=w.mine.pk))
    expected = 403 if "readings" in url and not _health(role) else 200
    assert ok.status_code == expected


def _health(role: str) -> bool:
    return role in holders(ResidentPerm.HEALTH_VIEW)


@pytest.mark.parametrize("role", TEAM_ROLES)
def test_the_device_list_leaves_out_a_resident_out_of_scope(w, role):
    client = _client(_user(w, role))
    api = client.get("/api/v1/devices")
    assert api.status_code == 200
    rows = api.json()
    rows = rows["items"] if isinstance(rows, dict) else rows
    serials = {row["serial"] for row in rows}
    assert w.hers.serial not in serials
    assert {w.mine.serial, w.moved.serial} <= serials
    assert "王芳" not in api.content.decode()
    page = client.get(reverse("devices:list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert w.hers.serial not in text and "王芳" not in text
    assert w.mine.serial in text and "张三" in text


@pytest.mark.parametrize("role", TEAM_ROLES)
def test_a_rebound_device_shows_only_the_readings_and_bindings_in_scope(w, role):
    client = _client(_user(w, role))
    detail = client.get(f"/api/v1/devices/{w.moved.pk}")
    assert detail.status_code == 200
    assert [b["resident"]["name"] for b in detail.json()["bindings"]] == ["张三"]
    page = client.get(f"/devices/{w.moved.pk}/")
    assert page.status_code == 200 and "王芳" not in page.content.decode()
    readings = client.get(f"/api/v1/devices/{w.moved.pk}/readings")
    if not _health(role):
        assert readings.status_code == 403
        return
    assert [(r["seq"], r["resident"]) for r in readings.json()] == [(2, w.zhang.pk)]


@pytest.mark.parametrize("role", sorted(holders(DevicePerm.QUARANTINE)))
def test_the_quarantine_leaves_out_a_resident_out_of_scope(w, role):
    client = _client(_user(w, role))
    api = client.get("/api/v1/devices/quarantine")
    assert api.status_code == 200
    rows = api.json()
    rows = rows["items"] if isinstance(rows, dict) else rows
    assert [row["serial"] for row in rows] == [w.mine.serial]
    page = client.get(reverse("devices:quarantine"))
    assert w.hers.serial not in page.content.decode()


def test_a_scope_holding_both_residents_sees_every_device(w):
    admin = make_user(Role.INSTITUTION_ADMIN, w.net.a.county, username="county-admin")
    client = _client(admin)
    rows = client.get("/api/v1/devices").json()
    rows = rows["items"] if isinstance(rows, dict) else rows
    assert {row["serial"] for row in rows} == {w.mine.serial, w.hers.serial, w.moved.serial}


def test_an_unbound_device_of_the_team_home_institution_stays_visible(w):
    loose: Any
    loose, _ = registry.register_device(
        make_user(Role.INSTITUTION_ADMIN, scope="all", username="reg2"),
        kind="scale",
        institution=w.net.a.thc,
    )
    client = _client(_user(w, Role.DOCTOR))
    assert client.get(f"/api/v1/devices/{loose.pk}").status_code == 200
