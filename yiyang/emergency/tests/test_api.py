"""The emergency API: the loop through HTTP, the resident summary, lookups, clear 4xx."""

from __future__ import annotations

import pytest

from yiyang.devices.models import Alert, AlertState
from yiyang.emergency import services
from yiyang.emergency.models import EmergencyCall
from yiyang.emergency.tests.conftest import DAUGHTER_PHONE, RESIDENT_PHONE

BASE = "/api/v1/emergency"


@pytest.fixture
def api(client, scene):
    client.force_login(scene.dispatcher)
    return client


def post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def test_the_loop_through_the_api(api, scene):
    alert = scene.sos_alert()
    services.open_from_alerts([alert])
    [listed] = api.get(f"{BASE}/calls").json()["items"]
    call = EmergencyCall.objects.get(alert=alert)
    assert listed["id"] == call.pk and listed["source"] == "sos_device"
    assert (
        listed["alert"]["severity"] == "critical" and listed["resident"]["id"] == scene.resident.pk
    )

    detail = api.get(f"{BASE}/calls/{call.pk}").json()
    summary = detail["resident_summary"]
    assert summary["name"] == "陈秀英" and summary["address"] == "幸福路 8 号"
    assert summary["phone"] == "139****0001"
    assert summary["teams"] and summary["grid"]
    assert [c["name"] for c in summary["conditions"]] == ["原发性高血压"]
    assert [m["name"] for m in summary["medications"]] == ["氨氯地平"]
    assert summary["allergies"][0]["substance"] == "青霉素"
    assert {r["kind"] for r in summary["readings"]} == {"sos"}
    assert summary["contacts"] == [
        {"name": "王芳", "relation": "daughter", "phone": "138****5678",
         "is_guardian": False, "is_emergency": True}
    ]  # fmt: skip

    assert post(api, f"{BASE}/calls/{call.pk}/take").status_code == 200
    response = post(api, f"{BASE}/calls/{call.pk}/steps", {"kind": "team_sent", "note": "李医生"})
    assert response.status_code == 201
    assert [s["kind"] for s in response.json()["steps"]] == ["team_sent"]
    response = post(api, f"{BASE}/calls/{call.pk}/close", {"outcome": "team_visit"})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "closed"
    alert.refresh_from_db()
    assert (alert.state, alert.outcome) == (AlertState.CLOSED, "home_visit")
    assert api.get(f"{BASE}/calls").json()["items"] == []
    assert [c["id"] for c in api.get(f"{BASE}/calls?state=closed").json()["items"]] == [call.pk]


def test_logging_and_lookup(api, scene):
    found = api.get(f"{BASE}/lookup", {"phone": DAUGHTER_PHONE}).json()
    assert [m["resident"]["id"] for m in found] == [scene.resident.pk]
    assert found[0]["own_phone"] is False and "王芳" in found[0]["reasons"][0]
    assert api.get(f"{BASE}/lookup", {"phone": "13600000000"}).json() == []
    bad = api.get(f"{BASE}/lookup", {"phone": "12ab"})
    assert bad.status_code == 400 and bad.json()["field"] == "phone"

    response = post(
        api, f"{BASE}/calls", {"caller_phone": RESIDENT_PHONE, "resident": scene.resident.pk}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["caller_phone"] == "139****0001" and body["taken_by"] == "dispatcher-a"
    assert RESIDENT_PHONE not in response.content.decode()


def test_clear_errors(api, scene):
    alert = scene.sos_alert()
    services.open_from_alerts([alert])
    call = EmergencyCall.objects.get(alert=alert)
    no_steps = post(api, f"{BASE}/calls/{call.pk}/close", {"outcome": "false_alarm"})
    assert no_steps.status_code == 400 and no_steps.json()["code"] == "no_steps"
    no_outcome = post(api, f"{BASE}/calls/{call.pk}/close", {})
    assert no_outcome.json() == {
        "code": "required",
        "detail": no_outcome.json()["detail"],
        "field": "outcome",
    }
    out = post(api, f"{BASE}/calls", {"caller_phone": "13600000000", "resident": scene.other.pk})
    assert out.status_code == 400 and out.json()["code"] == "unknown_reference"
    assert post(api, f"{BASE}/calls/999999/take").status_code == 404
    assert Alert.objects.get().state == AlertState.OPEN
    assert EmergencyCall.objects.count() == 1


def test_out_of_scope_and_unprivileged(client, scene):
    alert = scene.sos_alert()
    services.open_from_alerts([alert])
    call = EmergencyCall.objects.get(alert=alert)
    client.force_login(scene.dispatcher_b)
    assert client.get(f"{BASE}/calls/{call.pk}").status_code == 404
    assert post(client, f"{BASE}/calls/{call.pk}/take").status_code == 404
    assert client.get(f"{BASE}/calls").json()["items"] == []
    client.force_login(scene.caregiver)
    assert client.get(f"{BASE}/calls").status_code == 403
    assert client.get(f"{BASE}/lookup", {"phone": RESIDENT_PHONE}).status_code == 403
    call.refresh_from_db()
    assert call.taken_by is None
