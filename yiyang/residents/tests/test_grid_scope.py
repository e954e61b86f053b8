"""A resident without a grid (ADR 0010): a team-scoped user files every resident under one
of the team's grids — on the form, through the API and in an import — so that she finds
her again; residents without a grid are the "waiting for a grid" work list of those who
assign grids."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse

from yiyang.common.permissions import Role
from yiyang.residents.models import Resident
from yiyang.residents.search import search_residents
from yiyang.residents.services.imports.jobs import import_data
from yiyang.residents.services.registry import update_resident
from yiyang.residents.tests.conftest import id_for
from yiyang.residents.tests.test_import import person, results, xlsx
from yiyang.residents.tests.test_pages_registry import field_errors, form_data, listed
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")

GRID_REQUIRED = (
    "Choose her grid: you see the residents of the grids your team serves, so a resident "
    "registered without a grid would not be on your lists."
)


@pytest.fixture
def team_doctor(world):
    """A doctor scoped to county A's family-doctor team (grids of villages 0 and 1)."""
    return make_user(Role.DOCTOR, scope=world.net.a.team)


def test_team_user_must_choose_a_grid_on_the_form(world, team_doctor):
    client = client_for(team_doctor)
    village = world.net.a.villages[1]
    response = client.post(reverse("residents:create"), form_data(world))
    assert response.status_code == 200
    assert field_errors(response, "grid") == [GRID_REQUIRED]
    assert not Resident.objects.filter(name="钱淑珍").exists()

    grid = world.net.a.grids[1]
    assert grid.village_id == village.pk
    response = client.post(reverse("residents:create"), form_data(world, grid=grid.pk))
    resident = Resident.objects.get(name="钱淑珍")
    assert response.status_code == 302
    assert response["Location"] == reverse("residents:detail", args=[resident.pk])
    assert client.get(response["Location"]).status_code == 200
    assert "钱淑珍" in listed(client.get(reverse("residents:list"), {"q": "钱淑珍"}))


def test_team_user_must_choose_a_grid_through_the_api(world, team_doctor):
    client = client_for(team_doctor)
    village = world.net.a.villages[1]
    payload = {
        "name": "钱淑珍",
        "id_number": id_for(village, datetime.date(1944, 2, 9), 28),
        "region": village.pk,
    }
    response = client.post("/api/v1/residents/", json.dumps(payload), "application/json")
    assert response.status_code == 400
    assert response.json() == {"code": "grid_required", "detail": GRID_REQUIRED, "field": "grid"}
    assert not Resident.objects.filter(name="钱淑珍").exists()

    payload["grid"] = world.net.a.grids[1].pk
    response = client.post("/api/v1/residents/", json.dumps(payload), "application/json")
    assert response.status_code == 201, response.content
    pk = response.json()["resident"]["id"]
    assert client.get(f"/api/v1/residents/{pk}").status_code == 200


def test_team_user_cannot_clear_the_grid(world, team_doctor):
    from yiyang.common.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        update_resident(team_doctor, world.zhang, grid=None)
    assert (caught.value.code, caught.value.field) == ("grid_required", "grid")
    assert Resident.objects.get(pk=world.zhang.pk).grid_id == world.net.a.grids[0].pk


def test_team_user_import_rows_without_grid_are_rejected(world, team_doctor):
    a = world.net.a
    v1 = a.villages[1]
    data = xlsx(
        [
            person(v1, "无网格", datetime.date(1950, 1, 2), 100),
            person(v1, "有网格", datetime.date(1951, 1, 2), 102, grid=a.grids[1].code),
        ]
    )
    outcome = import_data(team_doctor, data, "residents.xlsx")
    got = results(outcome)
    assert got[2] == ("rejected", ["grid:grid_required"])
    assert got[3] == ("imported", [])
    assert outcome.results[0].reason == GRID_REQUIRED
    assert [r.name for r in search_residents(team_doctor, "有网格")] == ["有网格"]
    assert not Resident.objects.filter(name="无网格").exists()


def test_residents_without_grid_are_a_work_list_for_who_assigns_grids(world):
    # 李四 (village 1) has no grid; the township hospital's admin assigns grids there.
    admin = make_user(Role.INSTITUTION_ADMIN, scope=world.net.a.thc)
    client = client_for(admin)
    page = client.get(reverse("residents:list"))
    assert 'id="no-grid-link"' in page.content.decode()
    assert listed(client.get(reverse("residents:list"), {"grid": "none"})) == ["李四"]
    # a region-scoped import without grid codes lands on the same list
    v0 = world.net.a.villages[0]
    importer = make_user(Role.NURSE, scope=world.net.a.county)
    data = xlsx([person(v0, "待分配", datetime.date(1950, 1, 2), 100)])
    outcome = import_data(importer, data, "r.xlsx")
    assert results(outcome)[2] == ("imported", [])
    assert [r.name for r in search_residents(importer, "待分配")] == ["待分配"]
    assert sorted(listed(client.get(reverse("residents:list"), {"grid": "none"}))) == sorted(
        ["李四", "待分配"]
    )
    # the team's doctor has no such list (nobody without a grid is in her scope)
    team_doctor = make_user(Role.DOCTOR, scope=world.net.a.team)
    doctor_client = client_for(team_doctor)
    assert 'id="no-grid-link"' not in doctor_client.get(reverse("residents:list")).content.decode()
    response = doctor_client.get(reverse("residents:list"), {"grid": "none"})
    assert "Select a valid choice" in response.content.decode()


def test_the_work_list_exports_too(world):
    from yiyang.residents.tests.test_export import export

    supervisor = make_user(Role.SUPERVISOR, scope=world.net.a.county)
    assert [row["姓名"] for row in export(supervisor, "?grid=none")] == ["李四", "王五"]
