"""The network API over HTTP: scope filtering, errors, audit rows, the tree, CSV import."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role
from yiyang.network.models import Agreement, Institution, Region, Staff
from yiyang.network.services.agreements import create_agreement
from yiyang.testing.clients import client_for
from yiyang.testing.network import in_force, make_user

pytestmark = pytest.mark.usefixtures("english")

API = "/api/v1/network"


@pytest.fixture
def admin_client(net):
    net.admin.totp_confirmed = True  # administrators must have enrolled their second factor
    net.admin.save(update_fields=["totp_confirmed"])
    return client_for(net.admin)


# --- every operation is named (the permission matrix enumerates them) --------------------


def test_every_operation_has_a_url_name():
    from yiyang.network.api import router

    names = [
        op.url_name for path_view in router.path_operations.values() for op in path_view.operations
    ]
    assert all(name and name.startswith("network_") for name in names)
    assert len(names) == len(set(names)) == 35
    assert reverse("api:network_institution_detail", args=[1]) == f"{API}/institutions/1"
    assert reverse("api:network_tree") == f"{API}/tree"


# --- reads ------------------------------------------------------------------------------


def test_anonymous_gets_401(net):
    response = Client().get(f"{API}/institutions")
    assert response.status_code == 401


def test_institution_list_is_scoped_and_filtered(net):
    client = client_for(make_user(Role.SUPERVISOR, scope=net.a.county))
    body = client.get(f"{API}/institutions").json()
    assert body["count"] == 7
    assert {i["name"] for i in body["items"]} == {i.name for i in net.a.institutions}
    body = client.get(f"{API}/institutions", {"type": "village_clinic"}).json()
    assert [i["name"] for i in body["items"]] == ["周党村卫生室", "杨店村卫生室"]
    body = client.get(f"{API}/institutions", {"region": "411521101201"}).json()
    assert [i["name"] for i in body["items"]] == ["周党村卫生室", "周党村幸福院"]
    body = client.get(f"{API}/institutions", {"region": "411522"}).json()
    assert body == {"items": [], "count": 0}
    body = client.get(f"{API}/institutions", {"page_size": 2, "page": 2}).json()
    assert (body["count"], len(body["items"])) == (7, 2)


def test_institution_detail_out_of_scope_is_404_like_missing(net):
    client = client_for(make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc))
    ok = client.get(f"{API}/institutions/{net.a.thc.pk}")
    assert ok.status_code == 200
    assert ok.json()["region"] == {
        "id": net.a.townships[0].pk,
        "code": "411521101000",
        "name": "周党镇",
    }
    out = client.get(f"{API}/institutions/{net.b.thc.pk}")
    missing = client.get(f"{API}/institutions/999999")
    assert (out.status_code, missing.status_code) == (404, 404)
    assert (
        out.json()
        == missing.json()
        == {
            "code": "not_found",
            "detail": "institution not found",
            "field": None,
        }
    )


def test_each_list_respects_the_team_scope(net):
    client = client_for(make_user(Role.NURSE, scope=net.a.team))
    counts = {
        name: client.get(f"{API}/{name}").json()["count"]
        for name in [
            "regions",
            "grids",
            "institutions",
            "alliances",
            "nodes",
            "agreements",
            "staff",
            "teams",
        ]
    }
    assert counts == {
        "regions": 3,  # 周党镇 and the two villages of its grids
        "grids": 2,
        "institutions": 6,  # the center's two and the two stations' four
        "alliances": 1,
        "nodes": 3,  # the home center and the stations of its grids' villages
        "agreements": 1,
        "staff": 3,
        "teams": 1,
    }


def test_self_scope_lists_are_empty(net):
    client = client_for(make_user(Role.DOCTOR, scope="self"))
    assert client.get(f"{API}/nodes").json() == {"items": [], "count": 0}
    assert client.get(f"{API}/tree").json() == []


def test_missing_permission_is_403(net):
    client = client_for(make_user(Role.CAREGIVER, scope="all"))
    assert client.get(f"{API}/institutions").status_code == 200
    response = client.get(f"{API}/staff")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    resident = client_for(make_user(Role.RESIDENT, scope="self"))
    assert resident.get(f"{API}/tree").status_code == 403


def test_staff_detail_is_masked_and_audited(net):
    user = make_user(Role.DOCTOR, scope=net.a.thc)
    body = client_for(user).get(f"{API}/staff/{net.a.doctor.pk}").json()
    assert body == {
        "id": net.a.doctor.pk,
        "name": "王建国",
        "sex": "M",
        "phone": "139****0001",
        "profession": "doctor",
        "licence_no": "110411500000001",
        "active": True,
        "skills": ["chronic", "tcm"],
        "memberships": [
            {
                "institution": {"id": net.a.thc.pk, "name": "周党镇卫生院"},
                "position": "全科医生",
                "primary": True,
                "start_on": None,
                "end_on": None,
            }
        ],
    }
    event = AuditEvent.objects.get(action="network.staff.read")
    assert (event.actor_id, event.object_id) == (user.pk, str(net.a.doctor.pk))
    assert event.request_id  # written inside the request, with its context


def test_agreement_list_marks_expiry(net):
    today = timezone.localdate()
    for days, title in [(-1, "过期"), (10, "将到期"), (200, "有效")]:
        create_agreement(
            net.admin,
            kind="referral",
            party_a=net.b.lead,
            party_b=net.b.thc,
            title=title,
            valid_from=today - datetime.timedelta(days=400),
            valid_to=today + datetime.timedelta(days=days),
        )
    client = client_for(make_user(Role.SUPERVISOR, scope=net.b.county))
    items = client.get(f"{API}/agreements", {"institution": net.b.lead.pk}).json()["items"]
    assert [(a["title"], a["expiry"]) for a in items] == [
        ("过期", "expired"),
        ("将到期", "expiring"),
        ("有效", ""),
    ]
    expiring = client.get(f"{API}/agreements", {"expiry": "expiring"}).json()["items"]
    assert [a["title"] for a in expiring] == ["将到期"]


def test_agreement_starting_later_is_not_yet_valid(net):
    """An active agreement whose validity starts after today is not in force: its expiry
    is "not_yet_valid" (even when it also ends within 30 days), the "expiring" filter
    leaves it out and the "not_yet_valid" filter finds it."""
    today = timezone.localdate()
    for starts, ends, title in [(0, 400, "今日生效"), (1, 400, "明日生效"), (5, 20, "短期")]:
        create_agreement(
            net.admin,
            kind="referral",
            party_a=net.b.lead,
            party_b=net.b.thc,
            title=title,
            valid_from=today + datetime.timedelta(days=starts),
            valid_to=today + datetime.timedelta(days=ends),
            status="active",
        )
    client = client_for(make_user(Role.SUPERVISOR, scope=net.b.county))
    items = client.get(f"{API}/agreements", {"institution": net.b.lead.pk}).json()["items"]
    assert [(a["title"], a["status"], a["expiry"]) for a in items] == [
        ("短期", "active", "not_yet_valid"),
        ("今日生效", "active", ""),
        ("明日生效", "active", "not_yet_valid"),
    ]
    pending = client.get(f"{API}/agreements", {"expiry": "not_yet_valid"}).json()["items"]
    assert [a["title"] for a in pending] == ["短期", "明日生效"]
    assert client.get(f"{API}/agreements", {"expiry": "expiring"}).json()["items"] == []
    [detail] = [a for a in items if a["title"] == "明日生效"]
    assert client.get(f"{API}/agreements/{detail['id']}").json()["expiry"] == "not_yet_valid"


def test_tree_endpoint(net):
    client = client_for(make_user(Role.INSTITUTION_ADMIN, scope=net.a.lead))
    [lead] = client.get(f"{API}/tree").json()
    assert lead["institution"] == {
        "id": net.a.lead.pk,
        "name": "罗山县人民医院",
        "type": "lead_hospital",
    }
    assert lead["in_scope"] is True
    [center] = lead["centers"]
    assert [s["name"] for s in center["stations"]] == ["周党村医养服务站", "杨店村医养服务站"]
    assert [g["name"] for g in center["teams"][0]["grids"]] == ["周党村第一网格", "杨店村第一网格"]


# --- writes -----------------------------------------------------------------------------


def test_create_institution_in_scope(net):
    user = make_user(Role.INSTITUTION_ADMIN, scope=net.a.county)
    response = client_for(user).post(
        f"{API}/institutions",
        {
            "name": "龙山乡卫生院",
            "type": "thc",
            "region": net.a.townships[1].pk,
            "medical_licence_no": "PDY-LS-1",
            "beds_medical": 30,
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["type"], body["beds_medical"]) == ("龙山乡卫生院", "thc", 30)
    event = AuditEvent.objects.get(action="network.institution.create", object_id=str(body["id"]))
    assert event.actor_id == user.pk


def test_create_institution_in_an_out_of_scope_region_is_refused_and_nothing_changes(net):
    user = make_user(Role.INSTITUTION_ADMIN, scope=net.a.county)
    before = (Institution.objects.count(), AuditEvent.objects.count())
    client = client_for(user)
    out_of_scope = client.post(
        f"{API}/institutions",
        {"name": "越界", "type": "thc", "region": net.b.townships[0].pk},
        content_type="application/json",
    )
    missing = client.post(
        f"{API}/institutions",
        {"name": "越界", "type": "thc", "region": 987654},
        content_type="application/json",
    )
    assert out_of_scope.status_code == missing.status_code == 400
    assert out_of_scope.json()["code"] == missing.json()["code"] == "unknown_reference"
    assert out_of_scope.json()["field"] == "region"
    # Out of scope and missing read the same (only the id differs).
    assert out_of_scope.json()["detail"].replace(str(net.b.townships[0].pk), "N") == (
        missing.json()["detail"].replace("987654", "N")
    )
    assert (Institution.objects.count(), AuditEvent.objects.count()) == before


def test_update_out_of_scope_is_404_and_nothing_changes(net):
    client = client_for(make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc))
    response = client.patch(
        f"{API}/institutions/{net.b.thc.pk}", {"name": "改名"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert Institution.objects.get(pk=net.b.thc.pk).name == "泼陂河镇卫生院"
    assert not AuditEvent.objects.filter(action="network.institution.update").exists()


def test_patch_changes_only_the_given_fields(net):
    client = client_for(make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc))
    response = client.patch(
        f"{API}/institutions/{net.a.thc.pk}",
        {"beds_home": 12, "elderly_friendly": True},
        content_type="application/json",
    )
    assert response.status_code == 200
    inst = Institution.objects.get(pk=net.a.thc.pk)
    assert (inst.beds_home, inst.elderly_friendly, inst.beds_medical) == (12, True, 40)


def test_duplicate_licence_is_400_and_nothing_changes(net):
    client = client_for(make_user(Role.INSTITUTION_ADMIN, scope=net.a.county))
    count = Institution.objects.count()
    response = client.post(
        f"{API}/institutions",
        {
            "name": "重复",
            "type": "village_clinic",
            "region": net.a.villages[2].pk,
            "medical_licence_no": net.a.clinics[0].medical_licence_no,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "duplicate_licence",
        "field": "medical_licence_no",
        "detail": f"Medical practice licence no. {net.a.clinics[0].medical_licence_no} is "
        "already held by 周党村卫生室.",
    }
    assert Institution.objects.count() == count


def test_invalid_dates_is_400_and_nothing_changes(net):
    client = client_for(make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc))
    response = client.patch(
        f"{API}/agreements/{net.a.agreement.pk}",
        {"valid_from": "2025-03-01", "valid_to": "2025-02-28"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_dates",
        "field": "valid_to",
        "detail": "Valid to (2025-02-28) is before valid from (2025-03-01): an agreement must "
        "end on or after the day it starts.",
    }
    agreement = Agreement.objects.get(pk=net.a.agreement.pk)
    assert (agreement.valid_from, agreement.valid_to) == (
        net.a.agreement.valid_from,
        net.a.agreement.valid_to,
    )
    assert not AuditEvent.objects.filter(action="network.agreement.update").exists()


def test_schema_errors_have_the_same_shape(net):
    client = client_for(make_user(Role.INSTITUTION_ADMIN, scope=net.a.county))
    response = client.post(
        f"{API}/institutions",
        {"name": "x", "type": "hospital", "region": net.a.county.pk},
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["field"]) == ("invalid", "type")
    assert body["detail"].startswith("type: ")


def test_write_without_permission_is_403(net):
    client = client_for(make_user(Role.SUPERVISOR, scope="all"))
    response = client.patch(
        f"{API}/institutions/{net.a.thc.pk}", {"name": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert Institution.objects.get(pk=net.a.thc.pk).name == "周党镇卫生院"


def test_create_staff_and_team_over_http(net):
    client = client_for(make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc))
    response = client.post(
        f"{API}/staff",
        {
            "name": "孙医生",
            "profession": "tcm_doctor",
            "licence_no": "TCM-0009",
            "phone": "13912345678",
            "skills": ["tcm"],
            "memberships": [{"institution": net.a.thc.pk, "position": "中医师", "primary": True}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    staff = response.json()
    assert (staff["phone"], staff["skills"]) == ("139****5678", ["tcm"])
    response = client.patch(
        f"{API}/teams/{net.a.team.pk}",
        {
            "members": [
                {"staff": net.a.doctor.pk, "role": "leader"},
                {"staff": staff["id"], "role": "doctor"},
            ]
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert [(m["staff"]["name"], m["role"]) for m in response.json()["members"]] == [
        ("孙医生", "doctor"),
        ("王建国", "leader"),
    ]
    assert Staff.objects.filter(licence_no="TCM-0009").count() == 1


def test_create_agreement_and_attach_document(net, settings, tmp_path):
    valid_from, valid_to = in_force()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    client = client_for(make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc))
    response = client.post(
        f"{API}/agreements",
        {
            "kind": "referral",
            "party_a": net.a.thc.pk,
            "party_b": net.a.lead.pk,
            "valid_from": valid_from.isoformat(),
            "valid_to": valid_to.isoformat(),
            "status": "active",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    upload = SimpleUploadedFile("转诊协议.pdf", b"%PDF-1.7", content_type="application/pdf")
    response = client.post(f"{API}/agreements/{pk}/document", {"file": upload})
    assert response.status_code == 200, response.json()
    assert response.json()["document"].startswith("/media/agreements/")
    assert Agreement.objects.get(pk=pk).document.read() == b"%PDF-1.7"


# --- regions ----------------------------------------------------------------------------


def test_region_import_over_http(admin_client, net):
    csv = "code,name\n411521200202,龙山二村\n411521200203,龙山三村\n".encode()
    response = admin_client.post(
        f"{API}/regions/import",
        {"file": SimpleUploadedFile("r.csv", csv, content_type="text/csv"), "year": 2024},
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "ok": True,
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "errors": [],
    }
    assert Region.objects.get(code="411521200203").parent == net.a.townships[1]


def test_bad_region_file_is_400_with_the_report_and_nothing_imported(admin_client, net):
    csv = "411521200204,龙山四村\n411521500000,坏乡\n".encode()
    count = Region.objects.count()
    response = admin_client.post(
        f"{API}/regions/import", {"file": SimpleUploadedFile("r.csv", csv)}
    )
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("invalid_region_file", "file")
    assert body["report"]["errors"] == [
        {
            "line": 2,
            "code": "411521500000",
            "reason": "township_out_of_range",
            "message": "Region code 411521500000 has township part 500; township parts run "
            "from 001 to 399.",
        }
    ]
    assert Region.objects.count() == count


def test_region_import_needs_the_permission(net):
    client = client_for(make_user(Role.INSTITUTION_ADMIN, scope="all"))
    response = client.post(
        f"{API}/regions/import", {"file": SimpleUploadedFile("r.csv", b"410000000000,x\n")}
    )
    assert response.status_code == 403


def test_create_region_with_a_bad_code_is_400(admin_client, net):
    response = admin_client.post(
        f"{API}/regions",
        {"code": "41152120020", "name": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_region_code",
        "field": "code",
        "detail": "Region code 41152120020 has 11 characters; it must have exactly 12 digits.",
    }


def test_openapi_schema_lists_the_network_operations(db):
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/network/tree" in schema["paths"]
    assert set(schema["paths"]["/api/v1/network/institutions/{pk}"]) == {"get", "patch"}
    assert "TreeNodeOut" in schema["components"]["schemas"]
