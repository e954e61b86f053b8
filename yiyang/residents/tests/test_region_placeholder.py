"""The list page's region-code box shows an example from the user's own area (a township
code of the deployment), not a fixed code of another county."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from yiyang.common.permissions import Role
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")


def region_placeholder(user) -> str | None:
    page = client_for(user).get(reverse("residents:list")).content.decode()
    [box] = re.findall(r'<input[^>]*name="region"[^>]*>', page)
    found = re.search(r'placeholder="([^"]*)"', box)
    return found.group(1) if found else None


def test_the_region_example_is_a_township_of_the_users_own_county(net):
    assert net.b.townships[0].code == "411522102000"
    supervisor_b = make_user(Role.SUPERVISOR, scope=net.b.county)
    assert region_placeholder(supervisor_b) == "411522102000"
    supervisor_a = make_user(Role.SUPERVISOR, scope=net.a.county)
    assert region_placeholder(supervisor_a) == net.a.townships[0].code == "411521101000"
