"""Pages refuse control characters in query parameters and form fields with the 400 page
(many views read ``request.GET`` directly: on PostgreSQL a NUL reached the database, 500)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from yiyang.common.permissions import Role
from yiyang.testing.network import build_network, make_user

MESSAGE = "control characters are not allowed (only tab, line feed and carriage return)."


@pytest.fixture
def supervisor(db):
    net = build_network()
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(make_user(Role.SUPERVISOR, scope=net.a.county))
    with translation.override("en"):
        yield client


@pytest.mark.parametrize(
    "url",
    [
        "/residents/?q=%E7%8E%8B%00",  # the residents search (its own access check)
        "/network/institutions/?q=%00",  # a page(...) view
        "/residents/?region=4115%01",
    ],
)
def test_a_control_character_in_a_query_parameter_is_the_400_page(supervisor, url):
    response = supervisor.get(url)
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    assert 'id="error-400"' in response.content.decode()


def test_a_control_character_in_a_form_field_is_the_400_page(supervisor):
    response = supervisor.post("/network/institutions/new/", {"name": "卫生院\x00"})
    assert response.status_code == 400
    assert f"name: {MESSAGE}" in response.content.decode()


def test_tab_and_line_breaks_are_text(supervisor):
    assert supervisor.get("/residents/", {"q": "王\t"}).status_code == 200
