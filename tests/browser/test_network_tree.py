"""The network tree in a real browser shows exactly the stations of the user's scope."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in, url
from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.network.models import ChainNode, NodeLevel
from yiyang.seed import DEMO_PASSWORD, seed
from yiyang.testing.network import PASSWORD, build_network, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STATIONS = "#network-tree li.node[data-level=station]"


def shown_station_ids(page) -> set[str]:
    return {
        page.locator(STATIONS).nth(i).get_attribute("id")
        for i in range(page.locator(STATIONS).count())
    }


def test_doctor_sees_the_stations_of_their_township_only(page, live_server):
    net = build_network()
    township = net.a.townships[0]
    doctor = make_user(Role.DOCTOR, scope=township, username="browser-doctor", staff=net.a.doctor)

    log_in(page, live_server, doctor.username, PASSWORD)
    page.goto(url(live_server, "network:tree"))

    assert shown_station_ids(page) == {f"node-{s.pk}" for s in net.a.stations}
    text = page.locator("#network-tree").inner_text()
    assert net.a.center.name in text
    for station in net.a.stations:
        assert station.name in text
        assert station.medical_member.name in text
        assert station.care_member.name in text
    assert net.a.team.name in text
    assert net.b.center.name not in text
    assert net.b.stations[0].name not in text
    assert net.b.lead.name not in text
    page.screenshot(path="/tmp/yiyang-network-tree.png", full_page=True)


def test_demo_dispatcher_sees_the_stations_of_their_township(page, live_server):
    seed("demo", 2026)
    dispatcher = User.objects.get(username="dispatcher")
    prefix = dispatcher.scope_region.prefix
    stations = ChainNode.objects.filter(level=NodeLevel.STATION)
    expected = {
        f"node-{pk}"
        for pk in stations.filter(region__code__startswith=prefix).values_list("pk", flat=True)
    }
    assert 0 < len(expected) < stations.count()

    log_in(page, live_server, "dispatcher", DEMO_PASSWORD)
    page.goto(url(live_server, "network:tree"))

    assert shown_station_ids(page) == expected
