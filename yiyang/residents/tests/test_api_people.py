"""The contacts, consent, family proxy and merge API over HTTP."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client

from yiyang.accounts.models import User
from yiyang.accounts.services.passwords import change_password
from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role
from yiyang.residents.models import Consent, Contact, ProxyGrant, Resident
from yiyang.residents.tests.conftest import register
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")

API = "/api/v1/residents"


def send(client: Client, method: str, url: str, data=None):
    return client.generic(method, url, json.dumps(data or {}), content_type="application/json")


@pytest.fixture
def nurse(world):
    return make_user(Role.NURSE, world.net.a.county, username="nurse-a")


@pytest.fixture
def api(nurse) -> Client:
    return client_for(nurse)


def test_contacts_crud(world, api):
    base = f"{API}/{world.zhang.pk}/contacts"
    created = send(
        api,
        "POST",
        base,
        {"name": "李娟", "relation": "daughter", "phone": "13900001111", "is_emergency": True},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["phone"] == "139****1111"
    assert (body["relation"], body["relation_label"], body["family_login"]) == (
        "daughter",
        "Daughter",
        None,
    )
    assert "13900001111" not in created.content.decode()
    cid = body["id"]

    listed = api.get(base)
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()] == [cid]

    patched = send(api, "PATCH", f"{base}/{cid}", {"address": "罗山县城关镇", "is_guardian": True})
    assert patched.status_code == 200
    assert (patched.json()["address"], patched.json()["is_guardian"]) == ("罗山县城关镇", True)
    assert patched.json()["name"] == "李娟"

    bad = send(api, "PATCH", f"{base}/{cid}", {"phone": "12-ab"})
    assert bad.status_code == 400
    assert (bad.json()["code"], bad.json()["field"]) == ("invalid_phone", "phone")

    wrong = send(api, "POST", base, {"name": "李娟", "relation": "cousin"})
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "relation"

    deleted = api.delete(f"{base}/{cid}")
    assert deleted.status_code == 204
    assert not Contact.objects.exists()


def test_object_of_another_resident_is_404(world, api, nurse):
    from yiyang.residents.services.people import add_contact, give_consent

    contact = add_contact(nurse, world.li, name="李明", relation="son")
    response = send(api, "PATCH", f"{API}/{world.zhang.pk}/contacts/{contact.pk}", {"note": "x"})
    assert response.status_code == 404
    assert api.delete(f"{API}/{world.zhang.pk}/contacts/{contact.pk}").status_code == 404
    consent = give_consent(nurse, world.li, "health_data")
    url = f"{API}/{world.zhang.pk}/consents/{consent.pk}/withdraw"
    assert send(api, "POST", url).status_code == 404
    assert Consent.objects.get(pk=consent.pk).active


def test_out_of_scope_resident_is_404(world, api):
    assert api.get(f"{API}/{world.zhao.pk}/contacts").status_code == 404
    response = send(api, "POST", f"{API}/{world.zhao.pk}/consents", {"purpose": "health_data"})
    assert response.status_code == 404
    assert not Consent.objects.exists()


def test_consents_give_withdraw_and_history(world, api):
    base = f"{API}/{world.zhang.pk}/consents"
    given = send(api, "POST", base, {"purpose": "health_data", "given_at": "2025-03-01T10:00:00"})
    assert given.status_code == 201, given.content
    assert (given.json()["given_by"], given.json()["active"]) == ("self", True)
    again = send(api, "POST", base, {"purpose": "health_data"})
    assert again.status_code == 400
    assert again.json()["code"] == "already_given"
    assert "already given" in again.json()["detail"]
    proxy = send(api, "POST", base, {"purpose": "proxy_access"})
    assert proxy.status_code == 400 and proxy.json()["code"] == "proxy_via_grant"

    withdrawn = send(api, "POST", f"{base}/{given.json()['id']}/withdraw", {"note": "本人要求"})
    assert withdrawn.status_code == 200
    assert (withdrawn.json()["active"], withdrawn.json()["withdrawal_note"]) == (False, "本人要求")
    twice = send(api, "POST", f"{base}/{given.json()['id']}/withdraw")
    assert twice.status_code == 400 and twice.json()["code"] == "already_withdrawn"

    second = send(api, "POST", base, {"purpose": "health_data"})
    assert second.status_code == 201
    history = api.get(base).json()
    assert [(c["purpose"], c["active"]) for c in history] == [
        ("health_data", True),
        ("health_data", False),
    ]


def test_grant_then_the_family_login_signs_in_and_sees_her_mother(world, api):
    send(api, "POST", f"{API}/{world.zhang.pk}/consents", {"purpose": "family_sharing"})
    contact = send(
        api,
        "POST",
        f"{API}/{world.zhang.pk}/contacts",
        {"name": "李娟", "relation": "daughter", "phone": "13900001111"},
    ).json()
    created = send(
        api,
        "POST",
        f"{API}/{world.zhang.pk}/proxies",
        {"contact": contact["id"], "can_view_readings": True},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    username, password = body["username"], body["password"]
    assert password and body["grant"]["state"] == "active"
    assert body["grant"]["contact"] == {"id": contact["id"], "name": "李娟"}
    assert (body["grant"]["can_view_readings"], body["grant"]["can_view_alerts"]) == (True, False)
    # The password is in no audit row.
    assert not AuditEvent.objects.filter(details__icontains=password).exists()

    refused = Client().post(
        "/api/v1/auth/token",
        json.dumps({"username": username, "password": password}),
        content_type="application/json",
    )
    # A one-time password: she must choose her own before signing in to the API.
    assert refused.json()["code"] == "password_change_required"
    own = "Lijuan#Mima2027"
    change_password(User.objects.get(username=username), old_password=password, new_password=own)
    token = Client().post(
        "/api/v1/auth/token",
        json.dumps({"username": username, "password": own}),
        content_type="application/json",
    )
    assert token.status_code == 201, token.content
    family = {"HTTP_AUTHORIZATION": f"Bearer {token.json()['token']}"}
    anon = Client()
    assert anon.get(f"{API}/{world.zhang.pk}", **family).status_code == 200
    assert anon.get(f"{API}/{world.li.pk}", **family).status_code == 404
    # She acts for her mother but does not see her mother's other contacts or consents.
    assert anon.get(f"{API}/{world.zhang.pk}/contacts", **family).status_code == 403

    listed = api.get(f"{API}/{world.zhang.pk}/proxies").json()
    assert [(g["username"], g["state"]) for g in listed] == [(username, "active")]
    grant_id = listed[0]["id"]

    # A rights change is a new grant; the old one shows as revoked.
    changed = send(
        api, "PATCH", f"{API}/{world.zhang.pk}/proxies/{grant_id}", {"can_view_alerts": True}
    )
    assert changed.status_code == 200
    new_id = changed.json()["id"]
    assert new_id != grant_id and changed.json()["can_view_alerts"] is True
    states = {g["id"]: g["state"] for g in api.get(f"{API}/{world.zhang.pk}/proxies").json()}
    assert states == {grant_id: "revoked", new_id: "active"}

    revoked = send(api, "POST", f"{API}/{world.zhang.pk}/proxies/{new_id}/revoke", {"note": "x"})
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert anon.get(f"{API}/{world.zhang.pk}", **family).status_code == 404


def test_grant_refused_without_family_sharing(world, api, nurse):
    from yiyang.residents.services.people import add_contact

    contact = add_contact(nurse, world.zhang, name="李娟", relation="daughter")
    response = send(api, "POST", f"{API}/{world.zhang.pk}/proxies", {"contact": contact.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "no_family_sharing"
    assert not ProxyGrant.objects.exists()


def test_withdrawing_family_sharing_shows_grants_suspended(world, api, nurse):
    from yiyang.residents.services.people import add_contact, give_consent
    from yiyang.residents.services.proxies import grant_proxy

    sharing = give_consent(nurse, world.zhang, "family_sharing")
    contact = add_contact(nurse, world.zhang, name="李娟", relation="daughter")
    grant_proxy(nurse, contact)
    send(api, "POST", f"{API}/{world.zhang.pk}/consents/{sharing.pk}/withdraw")
    assert [g["state"] for g in api.get(f"{API}/{world.zhang.pk}/proxies").json()] == ["suspended"]


def test_resident_withdraws_through_the_api(world, nurse):
    from yiyang.residents.services.people import give_consent

    own = make_user(Role.RESIDENT, username="zhang-self")
    Resident.objects.filter(pk=world.zhang.pk).update(account=own)
    consent = give_consent(nurse, world.zhang, "device_monitoring")
    client = client_for(own)
    assert client.get(f"{API}/{world.zhang.pk}/consents").status_code == 200
    given = send(client, "POST", f"{API}/{world.zhang.pk}/consents", {"purpose": "health_data"})
    assert given.status_code == 403
    response = send(client, "POST", f"{API}/{world.zhang.pk}/consents/{consent.pk}/withdraw")
    assert response.status_code == 200 and response.json()["withdrawn_by"] == "zhang-self"


def test_merge_api(world):
    merger = make_user(Role.INSTITUTION_ADMIN, world.net.a.county, username="admin-a")
    dup = register(world.registrar, world.net.a.villages[0], "张三", datetime.date(1950, 3, 15), 77)
    client = client_for(merger)
    url = f"{API}/{world.zhang.pk}/merge"
    missing = send(client, "POST", url, {"remove": dup.pk, "reason": ""})
    assert missing.status_code == 400 and missing.json()["field"] == "reason"
    same = send(client, "POST", url, {"remove": world.zhang.pk, "reason": "重复"})
    assert same.status_code == 400 and same.json()["code"] == "same_record"
    out = send(client, "POST", url, {"remove": world.zhao.pk, "reason": "重复"})
    assert out.status_code == 404
    done = send(client, "POST", url, {"remove": dup.pk, "reason": "重复建档"})
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["keep"], body["removed"]) == (world.zhang.pk, dup.pk)
    assert "id_number" in body["differed"]
    dup.refresh_from_db()
    assert dup.status == "merged"
    nurse = make_user(Role.NURSE, world.net.a.county, username="nurse-m")
    denied = send(client_for(nurse), "POST", url, {"remove": dup.pk, "reason": "重复"})
    assert denied.status_code == 403
