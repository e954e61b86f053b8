"""The session API: draft → answers → submit → sign, 422 naming items with nothing stored,
corrections, standing, dues, scope."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.utils import timezone

from yiyang.assessments.models import Assessment, Due, SessionStatus
from yiyang.assessments.tests.test_scoring import EXAMPLE_GBT
from yiyang.testing.clients import client_for

API = "/api/v1/assessments"


def call(client: Client, method: str, url: str, body: Any = None):
    if method == "get":
        return client.get(API + url)
    return getattr(client, method)(
        API + url, data=json.dumps(body or {}), content_type="application/json"
    )


def open_draft(client: Client, w, **extra) -> dict[str, Any]:
    body = {
        "resident": w.old.pk,
        "instrument": "gbt42195-2022",
        "reason": "first",
        "place": "home",
        "second_assessor": w.nurse.pk,
        **extra,
    }
    response = call(client, "post", "/sessions", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_the_whole_round_trip(w):
    doctor, nurse = client_for(w.doctor), client_for(w.nurse)
    draft = open_draft(doctor, w)
    assert draft["status"] == "draft" and draft["version"] == "1"
    assert draft["assessed_on"] == timezone.localdate().isoformat()
    half = dict(list(EXAMPLE_GBT.items())[:13])
    r = call(doctor, "patch", f"/sessions/{draft['id']}/answers", {"answers": half})
    assert r.status_code == 200
    assert r.json()["progress"]["answered"] == 13
    # Submitting half an assessment: 422 naming each missing item, nothing stored.
    r = call(doctor, "post", f"/sessions/{draft['id']}/submit")
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid_answers"
    assert {e["item"] for e in body["errors"]} == set(list(EXAMPLE_GBT)[13:])
    assert Assessment.objects.get(pk=draft["id"]).result is None
    r = call(
        doctor,
        "patch",
        f"/sessions/{draft['id']}/answers",
        {"answers": EXAMPLE_GBT, "context": {"diagnoses": ["F03"]}},
    )
    r = call(doctor, "post", f"/sessions/{draft['id']}/submit")
    assert r.status_code == 200
    assert r.json()["status"] == "pending_signoff"
    r = call(nurse, "post", f"/sessions/{draft['id']}/sign")
    assert r.status_code == 200
    done = r.json()
    assert done["status"] == "final"
    assert done["result"]["level"] == 3 and done["result"]["total"] == 64
    assert done["eligibility_after"]["high_age_disability_allowance"] is True
    standing = call(doctor, "get", f"/residents/{w.old.pk}/standing").json()
    assert standing["ability_level"] == 3 and standing["ability_assessment"] == draft["id"]
    history = call(doctor, "get", f"/residents/{w.old.pk}/sessions").json()
    assert [s["id"] for s in history] == [draft["id"]]
    # A final session cannot take answers any more.
    r = call(doctor, "patch", f"/sessions/{draft['id']}/answers", {"answers": {"B.1.1": 0}})
    assert r.status_code == 400 and r.json()["code"] == "not_editable"


def test_bad_answers_get_422_naming_each_item_and_nothing_changes(w):
    doctor = client_for(w.doctor)
    draft = open_draft(doctor, w)
    call(doctor, "patch", f"/sessions/{draft['id']}/answers", {"answers": {"B.1.1": 4}})
    r = call(
        doctor,
        "patch",
        f"/sessions/{draft['id']}/answers",
        {"answers": {"B.1.2": "x", "B.2.4": 4, "Z": 1, "B.1.3": 2}},
    )
    assert r.status_code == 422
    errors = {e["item"]: e["code"] for e in r.json()["errors"]}
    assert errors == {"B.1.2": "wrong_type", "B.2.4": "out_of_range", "Z": "unknown_item"}
    assert Assessment.objects.get(pk=draft["id"]).answers == {"B.1.1": 4}


def test_bad_session_input_names_the_field(w):
    doctor = client_for(w.doctor)
    r = call(
        doctor,
        "post",
        "/sessions",
        {"resident": w.old.pk, "instrument": "gbt42195-2022", "reason": "x", "place": "home"},
    )
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = call(doctor, "post", "/sessions", {"resident": w.old.pk})
    assert r.status_code == 422
    assert Assessment.objects.count() == 0


def test_correction_supersedes(w):
    doctor = client_for(w.doctor)
    draft = open_draft(doctor, w)
    call(doctor, "patch", f"/sessions/{draft['id']}/answers", {"answers": EXAMPLE_GBT})
    session = Assessment.objects.get(pk=draft["id"])
    from yiyang.assessments.services.sessions import submit

    submit(w.doctor, session, cosigned_by=w.nurse)
    r = call(doctor, "post", f"/sessions/{draft['id']}/corrections", {"correction_reason": ""})
    assert r.status_code == 400 and r.json()["field"] == "correction_reason"
    r = call(
        doctor,
        "post",
        f"/sessions/{draft['id']}/corrections",
        {"correction_reason": "漏录痴呆诊断", "second_assessor": w.nurse.pk},
    )
    assert r.status_code == 201
    fix = r.json()
    assert fix["supersedes"] == draft["id"] and fix["answers"] == EXAMPLE_GBT
    assert call(doctor, "get", f"/sessions/{draft['id']}").json()["superseded_by"] == fix["id"]


def test_scope_and_permissions(w):
    doctor = client_for(w.doctor)
    draft = open_draft(doctor, w)
    outsider = client_for(w.outsider)
    assert call(outsider, "get", f"/sessions/{draft['id']}").status_code == 404
    assert (
        call(outsider, "patch", f"/sessions/{draft['id']}/answers", {"answers": {}}).status_code
        == 404
    )
    carer = client_for(w.caregiver)
    r = call(
        carer,
        "post",
        "/sessions",
        {"resident": w.old.pk, "instrument": "gbt42195-2022", "reason": "first", "place": "home"},
    )
    assert r.status_code == 403
    assert call(carer, "get", f"/sessions/{draft['id']}").status_code == 200  # may view


def test_report_a_fall_and_list_dues(w):
    doctor = client_for(w.doctor)
    r = call(doctor, "post", f"/residents/{w.old.pk}/due", {"reason": "fall", "note": "夜间跌倒"})
    assert r.status_code == 201
    assert r.json()["due_on"] == timezone.localdate().isoformat()
    r = call(doctor, "get", f"/due?team={w.net.a.team.pk}")
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["resident"] for i in items] == [w.old.pk]
    assert call(client_for(w.outsider), "get", "/due").json()["items"] == []
    r = call(doctor, "post", f"/residents/{w.old.pk}/due", {"reason": "whim"})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    assert Due.objects.count() == 1


def test_instruments_and_rules_are_listed(w):
    doctor = client_for(w.doctor)
    codes = [i["code"] for i in call(doctor, "get", "/instruments").json()]
    assert "gbt42195-2022" in codes and "barthel" in codes
    definition = call(doctor, "get", "/instruments/gbt42195-2022").json()
    assert len(definition["items"]) == 26
    assert call(doctor, "get", "/instruments/nope").status_code == 404
    rules = {r["code"]: r for r in call(doctor, "get", "/rules").json()}
    assert rules["ltc_insurance"]["min_disability_grade"] == 3
    assert rules["high_age_disability_allowance"]["min_age"] == 80
    assert SessionStatus.FINAL == "final"


def test_name_the_second_assessor_later_and_print_the_report(w):
    doctor = client_for(w.doctor)
    draft = open_draft(doctor, w, second_assessor=None)
    assert draft["second_assessor"] is None
    r = call(
        doctor, "put", f"/sessions/{draft['id']}/second-assessor", {"second_assessor": w.doctor.pk}
    )
    assert r.status_code == 400 and r.json()["field"] == "second_assessor"
    r = call(
        doctor, "put", f"/sessions/{draft['id']}/second-assessor", {"second_assessor": w.nurse.pk}
    )
    assert r.status_code == 200 and r.json()["second_assessor"] == w.nurse.username
    assert doctor.get(f"{API}/sessions/{draft['id']}/report.pdf").status_code == 404  # draft
    call(doctor, "patch", f"/sessions/{draft['id']}/answers", {"answers": EXAMPLE_GBT})
    call(doctor, "post", f"/sessions/{draft['id']}/submit")
    call(client_for(w.nurse), "post", f"/sessions/{draft['id']}/sign")
    r = doctor.get(f"{API}/sessions/{draft['id']}/report.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    import io

    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "陈秀英" in text and "中度失能" in text
    assert client_for(w.outsider).get(f"{API}/sessions/{draft['id']}/report.pdf").status_code == 404
