"""The alerts API (``/api/v1/alerts``): scoped lists with filters and paging, one alert
with its readings and events, and the state machine's steps with their errors — on real
alerts raised by ingested readings."""

from __future__ import annotations

import json

import pytest

from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role
from yiyang.devices.models import Alert, AlertState
from yiyang.devices.services import alerts
from yiyang.devices.tests.conftest import msg, send
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.django_db

ALERTS = "/api/v1/alerts"


def post(client, url: str, body: dict | None = None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_list_is_scoped_ordered_and_filtered(place):
    send(place.chen_bp, msg(1, "glucose", {"mmol": 2.8, "context": "fasting"}))
    send(place.wang_bp, msg(1, "sos", {}))
    send(place.zhao_bp, msg(1, "sos", {}))  # county B
    low = Alert.objects.get(rule__code="glucose_low")
    sos = Alert.objects.get(rule__code="sos", resident=place.wang)
    client = client_for(place.dispatcher)
    listed = client.get(ALERTS).json()
    assert listed["count"] == 2
    # Newest first without a live filter; critical first when live.
    assert [a["id"] for a in listed["items"]] == [sos.pk, low.pk]
    assert ids(client.get(ALERTS, {"state": "live"})) == [sos.pk, low.pk]
    first = listed["items"][0]
    assert first["resident"] == {"id": place.wang.pk, "name": "王桂芳"}
    assert first["rule"]["code"] == "sos" and first["rule"]["name"] == sos.rule.name_en
    assert first["severity"] == "critical" and first["state"] == "open"
    assert first["team"] == {"id": place.team2.pk, "name": place.team2.name}
    assert first["count"] == 1 and first["outcome"] is None
    assert "escalation_level" in first
    assert ids(client.get(ALERTS, {"severity": "urgent"})) == [low.pk]
    assert ids(client.get(ALERTS, {"team": place.team.pk})) == [low.pk]
    assert ids(client.get(ALERTS, {"resident": place.wang.pk})) == [sos.pk]
    assert ids(client.get(ALERTS, {"resident": place.zhao.pk})) == []  # out of scope
    alerts.handle(place.dispatcher, low, outcome="phoned_fine")
    assert ids(client.get(ALERTS, {"state": "handled"})) == [low.pk]
    assert ids(client.get(ALERTS, {"state": "live"})) == [sos.pk]
    paged = client.get(ALERTS, {"page_size": 1, "page": 2}).json()
    assert paged["count"] == 2 and len(paged["items"]) == 1


def test_bad_filters_answer_422_naming_the_field(place):
    client = client_for(place.dispatcher)
    bad = client.get(ALERTS, {"state": "asleep"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid" and bad.json()["field"] == "state"
    assert client.get(ALERTS, {"team": "x"}).json()["field"] == "team"


def test_a_team_sees_its_residents_alerts_only(place):
    send(place.chen_bp, msg(1, "sos", {}))
    send(place.wang_bp, msg(1, "fall", {}))
    chen = Alert.objects.get(resident=place.chen)
    wang = Alert.objects.get(resident=place.wang)
    carer = client_for(place.carer)
    assert ids(carer.get(ALERTS)) == [chen.pk]
    assert carer.get(f"{ALERTS}/{wang.pk}").status_code == 404
    refused = post(carer, f"{ALERTS}/{wang.pk}/acknowledge")
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert Alert.objects.get(pk=wang.pk).state == AlertState.OPEN
    assert ids(client_for(place.nurse2).get(ALERTS)) == [wang.pk]


def test_detail_with_readings_for_health_viewers_only(place):
    send(place.chen_bp, msg(1, "bp", {"sys": 186, "dia": 100, "hr": 80}))
    send(place.chen_bp, msg(2, "bp", {"sys": 190, "dia": 101, "hr": 81}))
    alert = Alert.objects.get()
    body = client_for(place.dispatcher).get(f"{ALERTS}/{alert.pk}").json()
    assert body["id"] == alert.pk and body["count"] == 2
    assert [r["values"]["sys"] for r in body["readings"]] == [190, 186]
    assert {r["device"] for r in body["readings"]} == {"BP-TEST-0001"}
    assert isinstance(body["events"], list)
    supervisor = client_for(place.supervisor).get(f"{ALERTS}/{alert.pk}").json()
    assert supervisor["readings"] is None and supervisor["summary"] == alert.summary
    assert client_for(place.outsider).get(f"{ALERTS}/{alert.pk}").status_code == 404
    assert client_for(place.dispatcher).get(f"{ALERTS}/999999").status_code == 404


def test_acknowledge_handle_close(place):
    send(place.chen_bp, msg(1, "fall", {}))
    alert = Alert.objects.get()
    client = client_for(place.carer)
    acked = post(client, f"{ALERTS}/{alert.pk}/acknowledge")
    assert acked.status_code == 200
    assert acked.json()["state"] == "acknowledged"
    assert acked.json()["acknowledged_by"] == "carer-team1"
    handled = post(
        client, f"{ALERTS}/{alert.pk}/handle", {"outcome": "referred", "note": "to county"}
    )
    assert handled.status_code == 200
    assert (handled.json()["state"], handled.json()["outcome"]) == ("handled", "referred")
    assert handled.json()["note"] == "to county"
    closed = post(client, f"{ALERTS}/{alert.pk}/close")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert closed.json()["closed_by"] == "carer-team1"
    assert AuditEvent.objects.filter(action="devices.alert.close", object_id=str(alert.pk)).exists()


def test_refused_steps_name_the_problem_and_change_nothing(place):
    send(place.chen_bp, msg(1, "sos", {}))
    alert = Alert.objects.get()
    client = client_for(place.dispatcher)
    early = post(client, f"{ALERTS}/{alert.pk}/close")
    assert early.status_code == 400
    assert early.json()["code"] == "wrong_state" and early.json()["field"] == "state"
    assert "Open" in early.json()["detail"]
    bad = post(client, f"{ALERTS}/{alert.pk}/handle", {"outcome": "shrug"})
    assert bad.status_code == 422 and bad.json()["field"] == "outcome"
    missing = post(client, f"{ALERTS}/{alert.pk}/handle", {})
    assert missing.status_code == 422 and missing.json()["field"] == "outcome"
    assert Alert.objects.get(pk=alert.pk).state == AlertState.OPEN
    # Without devices.alert_handle: 403; without devices.view at all: 403 for reads too.
    supervisor = post(client_for(place.supervisor), f"{ALERTS}/{alert.pk}/acknowledge")
    assert supervisor.status_code == 403 and supervisor.json()["code"] == "permission_denied"
    assessor = make_user(Role.ASSESSOR, place.net.a.county, username="assessor-a")
    assert client_for(assessor).get(ALERTS).status_code == 403
    assert Alert.objects.get(pk=alert.pk).state == AlertState.OPEN
    alerts.handle(place.dispatcher, alert, outcome="false_alarm")
    again = post(client, f"{ALERTS}/{alert.pk}/acknowledge")
    assert again.status_code == 400 and again.json()["code"] == "wrong_state"
