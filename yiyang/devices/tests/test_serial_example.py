"""The register page's example of a generated serial carries the county code of the user's
own institutions (as the serial generated for them would), not a fixed county's."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from yiyang.common.permissions import Role
from yiyang.testing.network import build_network, make_user

pytestmark = pytest.mark.django_db


def serial_help(user, language: str = "zh-hans") -> str:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    page = client.get(reverse("devices:create")).content.decode()
    block = page.split('id="field-serial"', 1)[1].split('id="field-', 1)[0]
    [help_text] = re.findall(r'<small class="muted">(.*?)</small>', block, re.S)
    return help_text.strip()


def test_the_example_serial_has_the_users_own_county_code():
    net = build_network()
    admin_b = make_user(Role.INSTITUTION_ADMIN, net.b.county, username="dev-admin-b")
    assert serial_help(admin_b) == "留空则自动生成，例如 BP-411522-000123。"
    assert serial_help(admin_b, "en") == "Leave empty to have one generated, e.g. BP-411522-000123."
    admin_a = make_user(Role.INSTITUTION_ADMIN, net.a.county, username="dev-admin-a")
    assert serial_help(admin_a) == "留空则自动生成，例如 BP-411521-000123。"
