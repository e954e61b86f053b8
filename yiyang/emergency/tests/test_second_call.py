"""A second call for a resident who already has an open call: never refused (a dispatcher
must be able to open a call in an emergency, and a second call may well be a new event),
but flagged — the API answers a ``warnings`` entry naming the open call(s), and the call
screen shows a warning with a link to each (ADR 0022)."""

from __future__ import annotations

from django.urls import reverse

from yiyang.emergency import services
from yiyang.emergency.models import EmergencyCall
from yiyang.emergency.tests.conftest import DAUGHTER_PHONE

BASE = "/api/v1/emergency"


def test_the_api_accepts_a_second_call_and_warns_of_the_open_one(client, scene):
    client.force_login(scene.dispatcher)
    first = client.post(
        f"{BASE}/calls",
        {"caller_phone": DAUGHTER_PHONE, "resident": scene.resident.pk},
        content_type="application/json",
    )
    assert first.status_code == 201
    assert first.json()["warnings"] == []
    second = client.post(
        f"{BASE}/calls",
        {"caller_phone": "13600000000", "resident": scene.resident.pk},
        content_type="application/json",
    )
    assert second.status_code == 201
    [warning] = second.json()["warnings"]
    assert warning["code"] == "open_call"
    assert warning["calls"] == [first.json()["id"]]
    assert f"#{first.json()['id']}" in warning["detail"]
    assert EmergencyCall.objects.filter(resident=scene.resident, state="open").count() == 2
    # The first one warns of the second as well; a closed call is no longer named.
    again = client.get(f"{BASE}/calls/{first.json()['id']}").json()
    assert [w["calls"] for w in again["warnings"]] == [[second.json()["id"]]]


def test_a_call_without_a_resident_warns_of_nothing(client, scene):
    client.force_login(scene.dispatcher)
    services.log_call(scene.dispatcher, caller_phone=DAUGHTER_PHONE, resident=scene.resident.pk)
    response = client.post(
        f"{BASE}/calls", {"caller_phone": "13600000000"}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["warnings"] == []


def test_the_call_screen_warns_and_links_to_the_open_call(client, scene):
    client.force_login(scene.dispatcher)
    first = services.log_call(
        scene.dispatcher, caller_phone=DAUGHTER_PHONE, resident=scene.resident.pk
    )
    response = client.post(
        reverse("emergency:log"),
        {"caller_phone": "13600000000", "resident": str(scene.resident.pk), "note": ""},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'id="open-call-warning"' in page
    assert f'href="{reverse("emergency:detail", args=[first.pk])}"' in page
    # Not on the first one's screen once the second is closed … and never on a lone call.
    lone = services.log_call(scene.dispatcher, caller_phone="13700000000")
    page = client.get(reverse("emergency:detail", args=[lone.pk])).content.decode()
    assert 'id="open-call-warning"' not in page
