"""A family login's rights offered are only those it can use (issue 12): booking services
and bills do not exist yet — not offered on the page, refused through the API; an older
grant that holds them keeps them (they grant nothing) when its other rights change."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from yiyang.common.permissions import Role
from yiyang.residents.models import ProxyGrant
from yiyang.residents.services.people import add_contact, give_consent
from yiyang.residents.services.proxies import grant_proxy, update_proxy
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def nurse(world):
    return make_user(Role.NURSE, scope=world.net.a.county)


@pytest.fixture
def daughter(world, nurse):
    give_consent(nurse, world.zhang, "family_sharing")
    return add_contact(nurse, world.zhang, name="张小红", relation="daughter")


def test_the_grant_form_offers_only_existing_rights(world, nurse, daughter):
    client = client_for(nurse)
    url = reverse("residents:proxy_grant", args=[world.zhang.pk, daughter.pk])
    page = client.get(url).content.decode()
    assert 'name="can_view_readings"' in page and 'name="can_view_alerts"' in page
    assert "can_book_services" not in page and "can_view_bills" not in page
    assert "book services" not in page and "see bills" not in page


def test_the_api_refuses_rights_that_do_not_exist_yet(world, nurse, daughter):
    client = client_for(nurse)
    url = f"/api/v1/residents/{world.zhang.pk}/proxies"
    for right, label in (("can_book_services", "book services"), ("can_view_bills", "see bills")):
        body = {"contact": daughter.pk, right: True}
        response = client.post(url, json.dumps(body), content_type="application/json")
        assert response.status_code == 400, response.content
        assert response.json() == {
            "code": "right_not_available",
            "detail": f"“{label}” is not available yet: a family login cannot do that on the "
            "platform.",
            "field": right,
        }
    assert not ProxyGrant.objects.exists()


def test_an_older_grant_keeps_what_it_holds(world, nurse, daughter):
    grant, _password = grant_proxy(nurse, daughter)
    ProxyGrant.objects.filter(pk=grant.pk).update(can_view_bills=True)  # given before
    grant.refresh_from_db()
    new = update_proxy(nurse, grant, can_view_alerts=True)
    assert (new.can_view_readings, new.can_view_alerts, new.can_view_bills) == (True, True, True)
    page = client_for(nurse).get(reverse("residents:contacts", args=[world.zhang.pk]))
    assert "can_view_bills" not in page.content.decode()
