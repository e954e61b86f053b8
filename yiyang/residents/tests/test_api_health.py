"""The health-record API over HTTP: every operation, errors as {code, detail, field},
access for staff, the resident and her family, scope, audit of reads."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yiyang.audit.models import AuditEvent
from yiyang.residents import loinc
from yiyang.residents.models import Condition, Document, Observation
from yiyang.residents.services.health import add_condition
from yiyang.residents.services.observations import record_observation
from yiyang.testing.clients import client_for

from .test_health_documents import EXE, PDF
from .test_health_services import H, ago, setup_health

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def h(world, tmp_path, settings) -> H:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return setup_health(world)


def base(resident) -> str:
    return f"/api/v1/residents/{resident.pk}"


def send(client: Client, method: str, url: str, body=None):
    return client.generic(method, url, json.dumps(body or {}), content_type="application/json")


def test_every_operation_is_named():
    from yiyang.residents.api.health import router

    names = [
        op.url_name for path_view in router.path_operations.values() for op in path_view.operations
    ]
    assert len(names) == len(set(names)) == 23
    assert all(name.startswith("residents_") for name in names)
    assert reverse("api:residents_observation_list", args=[5]) == "/api/v1/residents/5/observations"
    assert (
        reverse("api:residents_document_download", args=[5, 7]) == "/api/v1/residents/5/documents/7"
    )


def test_conditions_crud(h):
    nurse = client_for(h.nurse)
    url = f"{base(h.resident)}/conditions"
    response = send(nurse, "POST", url, {"icd10": "i63", "onset": "2021-11-02"})
    assert response.status_code == 201, response.content
    created = response.json()
    assert {k: created[k] for k in ("icd10", "name", "onset", "status", "note")} == {
        "icd10": "I63",
        "name": "脑梗死",
        "onset": "2021-11-02",
        "status": "active",
        "note": "",
    }
    item = f"{url}/{created['id']}"
    response = send(nurse, "PATCH", item, {"status": "resolved", "onset": None})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["onset"]) == ("resolved", None)
    listed = nurse.get(url).json()
    assert [c["icd10"] for c in listed] == ["I63"]
    assert send(nurse, "DELETE", item).status_code == 204
    assert send(nurse, "DELETE", item).status_code == 404
    assert not Condition.objects.exists()


def test_condition_errors(h):
    nurse = client_for(h.nurse)
    url = f"{base(h.resident)}/conditions"
    response = send(nurse, "POST", url, {"icd10": "hypertension"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_icd10"
    assert response.json()["field"] == "icd10"
    response = send(nurse, "POST", url, {"icd10": "I10", "status": "cured"})
    assert response.status_code == 422 and response.json()["field"] == "status"
    response = send(nurse, "POST", f"{base(h.other)}/conditions", {"icd10": "I10"})
    assert (response.status_code, response.json()["code"]) == (400, "no_consent")
    response = send(nurse, "POST", f"{base(h.outside)}/conditions", {"icd10": "I10"})
    assert response.status_code == 404
    response = send(client_for(h.caregiver), "POST", url, {"icd10": "I10"})
    assert response.status_code == 403
    assert Client().get(url).status_code == 401
    assert not Condition.objects.exists()


def test_reads_by_role(h):
    add_condition(h.nurse, h.resident, icd10="I10")
    url = f"{base(h.resident)}/conditions"
    for user in (h.nurse, h.caregiver, h.dispatcher, h.own, h.family):
        response = client_for(user).get(url)
        assert response.status_code == 200, user.role
        assert [c["name"] for c in response.json()] == ["原发性高血压"]
    assert client_for(h.supervisor).get(url).status_code == 403
    assert client_for(h.outsider).get(url).status_code == 404
    assert client_for(h.own).get(f"{base(h.outside)}/conditions").status_code == 404
    # every read of the record is in the audit trail
    reads = AuditEvent.objects.filter(action="residents.resident.read", object_id=h.resident.pk)
    assert reads.filter(actor=h.family).count() == 1


def test_medications_allergies_encounters(h):
    nurse = client_for(h.nurse)
    a, b = h.world.net.a, h.world.net.b
    r = send(
        nurse,
        "POST",
        f"{base(h.resident)}/medications",
        {"name": "硝苯地平控释片", "dose": "30 mg", "frequency": "每日一次", "long_term": True},
    )
    assert r.status_code == 201 and r.json()["long_term"] is True
    r = send(
        nurse,
        "PATCH",
        f"{base(h.resident)}/medications/{r.json()['id']}",
        {"start": "2024-02-01", "end": "2024-01-01"},
    )
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (400, "end_before_start", "end")
    r = send(
        nurse,
        "POST",
        f"{base(h.resident)}/allergies",
        {"substance": "磺胺", "severity": "moderate"},
    )
    assert r.status_code == 201 and r.json()["severity"] == "moderate"
    assert (
        send(nurse, "DELETE", f"{base(h.resident)}/allergies/{r.json()['id']}").status_code == 204
    )
    body = {
        "kind": "home_visit",
        "date": "2024-06-03",
        "institution": a.clinics[0].pk,
        "practitioner": a.doctor.pk,
        "reason": "随访",
    }
    r = send(nurse, "POST", f"{base(h.resident)}/encounters", body)
    assert r.status_code == 201, r.content
    assert r.json()["institution"] == {"id": a.clinics[0].pk, "name": a.clinics[0].name}
    assert r.json()["practitioner"] == {"id": a.doctor.pk, "name": a.doctor.name}
    r = send(nurse, "POST", f"{base(h.resident)}/encounters", {**body, "institution": b.lead.pk})
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (
        400,
        "unknown_reference",
        "institution",
    )
    listed = nurse.get(f"{base(h.resident)}/encounters").json()
    assert [e["kind"] for e in listed] == ["home_visit"]
    r = send(
        nurse,
        "PATCH",
        f"{base(h.resident)}/encounters/{listed[0]['id']}",
        {"end_date": "2024-06-04"},
    )
    assert (r.status_code, r.json()["code"]) == (400, "end_date_not_allowed")


def test_observations(h):
    caregiver = client_for(h.caregiver)
    url = f"{base(h.resident)}/observations"
    r = send(caregiver, "POST", url, {"systolic": 142, "diastolic": "91", "heart_rate": 70})
    assert r.status_code == 201, r.content
    panel = r.json()
    assert [(o["code"], o["label"], o["value"], o["unit"]) for o in panel] == [
        (loinc.SYSTOLIC, "Systolic blood pressure", 142.0, "mmHg"),
        (loinc.DIASTOLIC, "Diastolic blood pressure", 91.0, "mmHg"),
        (loinc.HEART_RATE, "Heart rate", 70.0, "/min"),
    ]
    assert len({o["panel"] for o in panel}) == 1 and panel[0]["panel"]
    assert panel[0]["source"] == "manual"
    r = send(
        caregiver,
        "POST",
        url,
        {
            "code": "glucose_random",
            "value": 180,
            "unit": "mg/dL",
            "effective_at": "2026-01-05T07:30",
        },
    )
    assert r.status_code == 201
    assert (r.json()[0]["value"], r.json()[0]["unit"]) == (10.0, "mmol/L")
    measured = datetime.datetime.fromisoformat(r.json()[0]["effective_at"].replace("Z", "+00:00"))
    assert measured == datetime.datetime(2026, 1, 4, 23, 30, tzinfo=datetime.UTC)  # 07:30 local
    r = send(caregiver, "POST", url, {"code": "spo2", "value": 45})
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (400, "out_of_range", "value")
    future = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    r = send(caregiver, "POST", url, {"systolic": 120, "diastolic": 80, "effective_at": future})
    assert (r.status_code, r.json()["code"]) == (400, "future_time")
    r = send(caregiver, "POST", url, {"code": "spo2", "value": 97, "systolic": 120})
    assert (r.status_code, r.json()["code"]) == (400, "ambiguous")
    r = send(caregiver, "POST", url, {})
    assert (r.status_code, r.json()["code"]) == (400, "required")
    assert (
        send(client_for(h.dispatcher), "POST", url, {"code": "spo2", "value": 97}).status_code
        == 403
    )

    listed = caregiver.get(url).json()
    assert listed["count"] == 4 and len(listed["items"]) == 4
    only = caregiver.get(url, {"code": "systolic,8462-4"}).json()
    assert sorted(o["code"] for o in only["items"]) == sorted([loinc.SYSTOLIC, loinc.DIASTOLIC])
    since = caregiver.get(url, {"since": ago(days=1).isoformat()}).json()
    assert since["count"] == 3
    until = caregiver.get(url, {"until": "2026-01-06T00:00:00+08:00"}).json()
    assert [o["code"] for o in until["items"]] == [loinc.GLUCOSE_RANDOM]
    local = caregiver.get(url, {"since": "2026-01-05T07:30", "until": "2026-01-05T07:30"}).json()
    assert [o["code"] for o in local["items"]] == [loinc.GLUCOSE_RANDOM]  # naive = local time
    r = caregiver.get(url, {"code": "cholesterol"})
    assert (r.status_code, r.json()["code"]) == (400, "unknown_code")
    assert client_for(h.family).get(url).json()["count"] == 4

    item = f"{url}/{panel[1]['id']}"
    assert send(caregiver, "DELETE", item).status_code == 204
    assert Observation.objects.filter(resident=h.resident).count() == 1
    device = record_observation(h.nurse, h.resident, "spo2", 96, source="device")[0]
    r = send(caregiver, "DELETE", f"{url}/{device.pk}")
    assert (r.status_code, r.json()["code"]) == (400, "device_reading")
    assert send(client_for(h.outsider), "DELETE", f"{url}/{device.pk}").status_code == 404


def test_bmi_is_returned_with_the_weight(h):
    nurse = client_for(h.nurse)
    url = f"{base(h.resident)}/observations"
    send(
        nurse,
        "POST",
        url,
        {"code": "height", "value": 155, "effective_at": ago(days=30).isoformat()},
    )
    r = send(nurse, "POST", url, {"code": "weight", "value": 120, "unit": "斤"})
    assert [(o["code"], o["value"], o["source"]) for o in r.json()] == [
        (loinc.WEIGHT, 60.0, "manual"),
        (loinc.BMI, 25.0, "derived"),
    ]


def test_documents(h):
    nurse = client_for(h.nurse)
    url = f"{base(h.resident)}/documents"
    r = nurse.post(
        url,
        {"file": SimpleUploadedFile("化验单.pdf", PDF, "application/pdf"), "kind": "lab"},
    )
    assert r.status_code == 201, r.content
    created = r.json()
    assert (created["title"], created["content_type"], created["size"]) == (
        "化验单",
        "application/pdf",
        len(PDF),
    )
    r = nurse.post(
        url, {"file": SimpleUploadedFile("virus.pdf", EXE, "application/pdf"), "kind": "lab"}
    )
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (400, "file_type", "file")
    assert [d["id"] for d in client_for(h.family).get(url).json()] == [created["id"]]

    download = client_for(h.own).get(f"{url}/{created['id']}")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E5%8C%96%E9%AA%8C%E5%8D%95.pdf" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == PDF
    assert AuditEvent.objects.filter(action="residents.document.read", actor=h.own).count() == 1
    assert client_for(h.outsider).get(f"{url}/{created['id']}").status_code == 404
    assert client_for(h.supervisor).get(f"{url}/{created['id']}").status_code == 403
    assert nurse.get(f"{base(h.outside)}/documents/{created['id']}").status_code == 404

    assert send(client_for(h.caregiver), "DELETE", f"{url}/{created['id']}").status_code == 403
    assert send(nurse, "DELETE", f"{url}/{created['id']}").status_code == 204
    assert not Document.objects.exists()
