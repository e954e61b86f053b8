"""One source for a resident's special-group flags: the header, the overview tab and the
list show the same ones (issue 12: the header said 空巢 独居, the overview "—")."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from yiyang.common.permissions import Role
from yiyang.residents.services.registry import update_resident
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user


@pytest.mark.parametrize("htmx", [False, True])
def test_header_overview_and_list_show_the_same_special_groups(world, htmx):
    update_resident(world.registrar, world.zhang, living_alone=True)
    doctor = make_user(Role.DOCTOR, scope=world.net.a.county)
    client = client_for(doctor)
    url = reverse("residents:detail", args=[world.zhang.pk])
    page = client.get(url).content.decode()
    header = page.split('id="resident-header"', 1)[1].split('id="resident-tabs"', 1)[0]
    if htmx:
        page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    overview = page.split('id="resident-flags"', 1)[1].split("</dd>", 1)[0]
    flags = ["empty_nest", "living_alone"]
    assert re.findall(r'data-flag="(\w+)"', header) == flags
    assert re.findall(r'data-flag="(\w+)"', overview) == flags
    assert "empty-nest" in overview and "living alone" in overview
    listing = client.get(reverse("residents:list"), {"q": "张三"}).content.decode()
    row = listing.split(f'id="resident-{world.zhang.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "empty-nest" in row and "living alone" in row
