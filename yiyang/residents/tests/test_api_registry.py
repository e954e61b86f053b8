"""The registry API over HTTP: search and keyset paging inside the scope, registration
with its errors, duplicate warning and consents, audited reads, updates and reveals, and
the "self" scope of resident and family logins."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role
from yiyang.residents.models import (
    Consent,
    ConsentPurpose,
    Contact,
    Resident,
)
from yiyang.residents.tests.conftest import family_login, id_for
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")

API = "/api/v1/residents"
LIST = f"{API}/"  # list and register


def post(client: Client, url: str, data: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def patch(client: Client, url: str, data: Any) -> Any:
    return client.patch(url, json.dumps(data), content_type="application/json")


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["items"]]


@pytest.fixture
def doctor(world):
    """A doctor scoped to county A (view, manage, reveal)."""
    return make_user(Role.DOCTOR, scope=world.net.a.county)


@pytest.fixture
def supervisor(world):
    """A supervisor scoped to county A (view only)."""
    return make_user(Role.SUPERVISOR, scope=world.net.a.county)


# --- list and search --------------------------------------------------------------------


def test_list_is_scoped_masked_and_ordered_by_name(world, supervisor):
    response = client_for(supervisor).get(LIST)
    body = response.json()
    assert sorted(names(response)) == sorted(["张三", "李四", "王五"])
    assert set(body) == {"items", "has_more", "next", "next_after"}
    assert body["has_more"] is False and body["next"] is None
    zhang = next(item for item in body["items"] if item["name"] == "张三")
    assert zhang["id_number_masked"] == world.zhang.id_number_masked
    assert zhang["id_number_masked"].count("*") == 10
    assert zhang["phone_masked"] == "138****0001"
    assert zhang["region"] == {
        "id": world.net.a.villages[0].pk,
        "code": world.net.a.villages[0].code,
        "name": world.net.a.villages[0].name,
    }
    assert zhang["grid"]["id"] == world.net.a.grids[0].pk
    assert zhang["flags"] == ["empty_nest"]
    assert zhang["age"] == world.zhang.age
    assert "id_number" not in zhang and "phone" not in zhang
    assert world.zhang.id_number not in response.content.decode()


def test_search_by_pinyin_initials_full_pinyin_id_number_and_phone(world, supervisor):
    client = client_for(supervisor)
    assert names(client.get(LIST, {"q": "zs"})) == ["张三"]
    assert names(client.get(LIST, {"q": "zhangsan"})) == ["张三"]
    assert names(client.get(LIST, {"q": "张"})) == ["张三"]
    assert names(client.get(LIST, {"q": world.zhang.id_number.lower()})) == ["张三"]
    assert names(client.get(LIST, {"q": "138 0000 0001"})) == ["张三"]
    # 赵六 exists, but in county B: the search does not reach outside the scope.
    assert names(client.get(LIST, {"q": world.zhao.id_number})) == []
    assert names(client.get(LIST, {"q": "zl"})) == []


def test_filters(world, supervisor):
    client = client_for(supervisor)
    a = world.net.a
    assert sorted(names(client.get(LIST, {"region": a.townships[0].code}))) == ["张三", "李四"]
    assert names(client.get(LIST, {"region": a.villages[2].code})) == ["王五"]
    assert names(client.get(LIST, {"grid": a.grids[0].pk})) == ["张三"]
    assert names(client.get(LIST, {"flags": ["empty_nest"]})) == ["张三"]
    assert names(client.get(LIST, {"flags": ["empty_nest", "living_alone"]})) == []
    ages = {r.name: r.age for r in (world.zhang, world.li, world.wang)}
    assert names(client.get(LIST, {"min_age": ages["王五"]})) == ["王五"]
    assert names(client.get(LIST, {"max_age": ages["李四"]})) == ["李四"]
    assert sorted(names(client.get(LIST, {"max_age": ages["张三"]}))) == ["张三", "李四"]
    assert names(client.get(LIST, {"min_age": ages["张三"], "max_age": ages["张三"]})) == ["张三"]
    assert names(client.get(LIST, {"status": "deceased"})) == []
    assert names(client.get(LIST, {"care_setting": "institution"})) == []
    bad = client.get(LIST, {"flags": ["rich"]})
    assert bad.status_code == 400 and bad.json()["field"] == "flags"
    assert client.get(LIST, {"status": "lost"}).status_code == 422


def test_keyset_paging_has_no_total_and_no_count_query(world):
    everyone = make_user(Role.SUPERVISOR, scope="all")
    client = client_for(everyone)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(LIST, {"limit": 2})
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    body = first.json()
    assert len(body["items"]) == 2 and body["has_more"] is True
    assert body["next_after"] == body["items"][-1]["id"]
    seen = [i["id"] for i in body["items"]]
    url = body["next"]
    assert url.startswith(f"{LIST}?") and "after=" in url and "limit=2" in url
    while url:
        page = client.get(url).json()
        seen += [i["id"] for i in page["items"]]
        url = page["next"]
    ordered = list(Resident.objects.order_by("name", "pk").values_list("pk", flat=True))
    assert seen == ordered
    # offset paging is accepted when no cursor is given
    assert [i["id"] for i in client.get(LIST, {"limit": 2, "offset": 2}).json()["items"]] == (
        ordered[2:4]
    )
    assert client.get(LIST, {"limit": 500}).status_code == 422


def test_a_cursor_from_outside_the_scope_gives_no_position_away(world, supervisor):
    client = client_for(supervisor)
    start = names(client.get(LIST))
    assert names(client.get(LIST, {"after": world.zhao.pk})) == start


# --- one resident -----------------------------------------------------------------------


def test_detail_is_masked_and_every_read_is_audited(world, doctor):
    client = client_for(doctor)
    before = AuditEvent.objects.filter(action="residents.resident.read").count()
    for _ in range(2):
        response = client.get(f"{API}/{world.zhang.pk}")
        assert response.status_code == 200
    body = response.json()
    assert body["id_number_masked"] == world.zhang.id_number_masked
    assert world.zhang.id_number not in response.content.decode()
    assert body["household"] is None and body["institution"] is None
    reads = AuditEvent.objects.filter(action="residents.resident.read").order_by("seq")
    assert reads.count() == before + 2
    assert reads.last().actor == doctor
    assert reads.last().object_id == str(world.zhang.pk)


def test_out_of_scope_answers_like_missing(world, doctor):
    client = client_for(doctor)
    before = AuditEvent.objects.count()
    out = client.get(f"{API}/{world.zhao.pk}")
    missing = client.get(f"{API}/999999")
    assert out.status_code == missing.status_code == 404
    assert out.json() == missing.json()
    assert AuditEvent.objects.count() == before


def _link_resident_login(resident: Resident):
    user = make_user(Role.RESIDENT, scope="self")
    Resident.objects.filter(pk=resident.pk).update(account=user)
    return user


def test_resident_and_family_logins_read_their_own_only(world):
    for user in (_link_resident_login(world.zhang), family_login(world, world.zhang)):
        client = client_for(user)
        assert names(client.get(LIST)) == ["张三"]
        assert client.get(f"{API}/{world.zhang.pk}").status_code == 200
        assert client.get(f"{API}/{world.li.pk}").status_code == 404
        assert client.post(f"{API}/{world.zhang.pk}/reveal").status_code == 403
        assert patch(client, f"{API}/{world.zhang.pk}", {"name": "x"}).status_code == 403
        assert post(client, LIST, new_resident(world)).status_code == 403


def test_withdrawn_family_sharing_ends_the_family_login_at_once(world):
    family = family_login(world, world.zhang)
    client = client_for(family)
    assert client.get(f"{API}/{world.zhang.pk}").status_code == 200
    Consent.objects.filter(resident=world.zhang, purpose=ConsentPurpose.FAMILY_SHARING).update(
        withdrawn_at=timezone.now()
    )
    assert client.get(f"{API}/{world.zhang.pk}").status_code == 404
    assert names(client.get(LIST)) == []


# --- register ---------------------------------------------------------------------------


def new_resident(world, **extra: Any) -> dict[str, Any]:
    village = world.net.a.villages[1]
    return {
        "name": "钱淑珍",
        "id_number": id_for(village, datetime.date(1944, 2, 9), 28),
        "region": village.pk,
        **extra,
    }


def test_register_returns_201_with_the_resident_consents_and_no_candidates(world, doctor):
    data = new_resident(
        world,
        phone="13700009999",
        flags=["living_alone", "veteran"],
        insurance="urban_rural",
        consents=["health_data", "device_monitoring"],
    )
    response = post(client_for(doctor), LIST, data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["duplicate_candidates"] == []
    out = body["resident"]
    assert out["name"] == "钱淑珍"
    assert out["sex"] == "F" and out["birth_date"] == "1944-02-09"
    assert out["flags"] == ["living_alone", "veteran"]
    assert out["phone_masked"] == "137****9999"
    resident = Resident.objects.get(pk=out["id"])
    assert resident.id_number == data["id_number"] and resident.name_initials == "qsz"
    consents = Consent.objects.filter(resident=resident).order_by("purpose")
    assert [(c.purpose, c.given_by, c.recorded_by) for c in consents] == [
        ("device_monitoring", "self", doctor),
        ("health_data", "self", doctor),
    ]
    create = AuditEvent.objects.get(action="residents.resident.create", object_id=str(resident.pk))
    assert data["id_number"] not in json.dumps(create.details)
    assert "13700009999" not in json.dumps(create.details)


def test_region_may_be_given_by_its_village_code(world, doctor):
    village = world.net.a.villages[1]
    response = post(client_for(doctor), LIST, new_resident(world, region=village.code))
    assert response.status_code == 201
    assert response.json()["resident"]["region"]["id"] == village.pk
    unknown = post(client_for(doctor), LIST, new_resident(world, region="411521999999"))
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "region" and unknown.json()["code"] == "unknown_reference"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ("checksum", "id_checksum", "id_number"),
        ("birth", "id_birth_date", "id_number"),
        ("sex", "sex_mismatch", "sex"),
        ("birth_date", "birth_date_mismatch", "birth_date"),
        ("duplicate", "duplicate_id_number", "id_number"),
        ("region_out", "unknown_reference", "region"),
        ("no_guardian", "required", "guardian"),
    ],
)
def test_register_errors_name_the_field_and_save_nothing(world, doctor, change, code, field):
    data = new_resident(world)
    good = data["id_number"]
    if change == "checksum":
        data["id_number"] = good[:17] + ("0" if good[17] != "0" else "1")
    elif change == "birth":
        data["id_number"] = good[:6] + "19440230" + good[14:]  # 30 February
    elif change == "sex":
        data["sex"] = "M"
    elif change == "birth_date":
        data["birth_date"] = "1944-02-10"
    elif change == "duplicate":
        data["id_number"] = world.zhang.id_number
    elif change == "region_out":
        data["region"] = world.net.b.villages[0].pk
    elif change == "no_guardian":
        data.update(consents=["health_data"], consent_given_by="guardian")
    residents, consents, contacts = (
        Resident.objects.count(),
        Consent.objects.count(),
        Contact.objects.count(),
    )
    response = post(client_for(doctor), LIST, data)
    assert response.status_code == 400, response.content
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert Resident.objects.count() == residents
    assert Consent.objects.count() == consents
    assert Contact.objects.count() == contacts


def test_possible_duplicates_are_listed_but_the_record_is_saved(world, doctor):
    same_person = {
        "name": "张三",
        "id_number": id_for(world.net.a.villages[0], datetime.date(1950, 3, 15), 77),
        "region": world.net.a.villages[0].pk,
    }
    response = post(client_for(doctor), LIST, same_person)
    assert response.status_code == 201
    candidates = response.json()["duplicate_candidates"]
    assert [c["id"] for c in candidates] == [world.zhang.pk]
    assert candidates[0]["id_number_masked"] == world.zhang.id_number_masked
    same_phone = new_resident(world, phone="13800000001")
    response = post(client_for(doctor), LIST, same_phone)
    assert [c["name"] for c in response.json()["duplicate_candidates"]] == ["张三"]


def test_consent_given_by_a_guardian_records_the_guardian_contact(world, doctor):
    data = new_resident(
        world,
        consents=["health_data", "platform_exchange"],
        consent_given_by="guardian",
        guardian={"name": "钱建国", "relation": "son", "phone": "13600001111"},
    )
    response = post(client_for(doctor), LIST, data)
    assert response.status_code == 201, response.content
    resident = Resident.objects.get(pk=response.json()["resident"]["id"])
    guardian = Contact.objects.get(resident=resident)
    assert (guardian.name, guardian.relation, guardian.is_guardian) == ("钱建国", "son", True)
    assert sorted(
        Consent.objects.filter(resident=resident).values_list("purpose", "given_by", "guardian")
    ) == [
        ("health_data", "guardian", guardian.pk),
        ("platform_exchange", "guardian", guardian.pk),
    ]


def test_register_needs_the_manage_permission(world, supervisor):
    before = Resident.objects.count()
    response = post(client_for(supervisor), LIST, new_resident(world))
    assert response.status_code == 403
    assert Resident.objects.count() == before


# --- update -----------------------------------------------------------------------------


def test_patch_changes_the_given_fields_and_audits(world, doctor):
    client = client_for(doctor)
    url = f"{API}/{world.zhang.pk}"
    response = patch(client, url, {"name": "张三丰", "flags": ["living_alone"], "phone": ""})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "张三丰" and body["flags"] == ["living_alone"]
    assert body["phone_masked"] == ""
    zhang = Resident.objects.get(pk=world.zhang.pk)
    assert (zhang.name_initials, zhang.empty_nest, zhang.living_alone) == ("zsf", False, True)
    assert zhang.region_id == world.zhang.region_id  # untouched
    update = AuditEvent.objects.filter(action="residents.resident.update").last()
    assert update.details["changed"]["name"] == "张三丰"
    assert "13800000001" not in json.dumps(update.details)


def test_patch_errors_and_scope(world, doctor, supervisor):
    client = client_for(doctor)
    url = f"{API}/{world.zhang.pk}"
    bad = patch(
        client, url, {"grid": world.net.a.grids[0].pk, "region": world.net.a.villages[2].pk}
    )
    assert bad.status_code == 400 and bad.json()["field"] == "grid"
    merged = patch(client, url, {"status": "merged"})
    assert merged.status_code == 400 and merged.json()["field"] == "status"
    assert patch(client, f"{API}/{world.zhao.pk}", {"name": "x"}).status_code == 404
    assert patch(client_for(supervisor), url, {"name": "x"}).status_code == 403
    assert Resident.objects.get(pk=world.zhang.pk).name == "张三"
    assert Resident.objects.get(pk=world.zhao.pk).name == "赵六"


# --- reveal -----------------------------------------------------------------------------


def test_reveal_returns_the_full_identifiers_and_is_audited(world, doctor):
    response = client_for(doctor).post(f"{API}/{world.zhang.pk}/reveal")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"  # the full identifiers: never cached
    assert response.json() == {
        "id": world.zhang.pk,
        "id_number": world.zhang.id_number,
        "phone": "13800000001",
    }
    event = AuditEvent.objects.filter(action="residents.resident.reveal").last()
    assert event.actor == doctor and event.object_id == str(world.zhang.pk)
    assert world.zhang.id_number not in json.dumps(event.details)


def test_reveal_needs_the_reveal_permission_and_the_scope(world, doctor):
    assessor = make_user(Role.ASSESSOR, scope=world.net.a.county)  # manages, may not reveal
    before = AuditEvent.objects.filter(action="residents.resident.reveal").count()
    assert client_for(assessor).post(f"{API}/{world.zhang.pk}/reveal").status_code == 403
    assert client_for(doctor).post(f"{API}/{world.zhao.pk}/reveal").status_code == 404
    assert AuditEvent.objects.filter(action="residents.resident.reveal").count() == before


def test_openapi_schema_lists_the_registry_operations(db):
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert set(paths[LIST]) == {"get", "post"}
    assert set(paths[f"{API}/{{pk}}"]) == {"get", "patch"}
    assert set(paths[f"{API}/{{pk}}/reveal"]) == {"post"}
