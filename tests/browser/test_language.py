"""The console speaks Simplified Chinese by default; the language switch turns it to
English and back, staying on the same page."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.browser.conftest import log_in, url
from yiyang.common.permissions import Role
from yiyang.testing.network import PASSWORD, build_network, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BRAND = "Yiyang integrated care"
NETWORK = "Network"


def _switch_to(page, language: str) -> None:
    with page.expect_navigation():
        page.locator("#language-switch select").select_option(language)


def test_language_switch_between_chinese_and_english(page, live_server):
    net = build_network()
    doctor = make_user(Role.DOCTOR, scope=net.a.county, username="browser-lang")
    with translation.override("zh-hans"):
        brand_zh = translation.gettext(BRAND)
        network_zh = translation.gettext(NETWORK)
    assert brand_zh != BRAND  # the catalogue translates them
    assert network_zh != NETWORK
    tree_url = url(live_server, "network:tree")

    log_in(page, live_server, doctor.username, PASSWORD)
    page.goto(tree_url)
    html = page.locator("html")
    brand = page.locator(".topbar .brand")
    nav = page.locator(".mainnav")
    assert html.get_attribute("lang") == "zh-hans"
    assert brand.inner_text() == brand_zh
    assert network_zh in nav.inner_text()

    _switch_to(page, "en")
    assert page.url == tree_url
    assert html.get_attribute("lang") == "en"
    assert brand.inner_text() == BRAND
    assert NETWORK in nav.inner_text().split()

    _switch_to(page, "zh-hans")
    assert page.url == tree_url
    assert html.get_attribute("lang") == "zh-hans"
    assert brand.inner_text() == brand_zh
