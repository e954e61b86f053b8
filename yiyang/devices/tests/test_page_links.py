"""No link on the devices, alerts and emergency pages leads to a 403: a page shows a link
only when the reader may follow it (the system administrator's "‹ Alerts" on the duty
roster was a 403). Every role opens every page it may, and follows every internal link on
it."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client, override_settings

from yiyang.common.permissions import Role, role_permissions
from yiyang.devices.models import Alert
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.tests.conftest import msg, send
from yiyang.emergency.permissions import EmergencyPerm
from yiyang.network.permissions import NetworkPerm
from yiyang.testing.network import make_user

pytestmark = pytest.mark.django_db

STAFF = [
    r
    for r in Role.values
    if r not in (Role.RESIDENT, Role.FAMILY, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)
]
FOLLOWED = re.compile(r'href="(/(?:devices|emergency|notifications)/[^"#?]*)[^"]*"')


def _pages(place, alert: Alert) -> list[str]:
    return [
        "/devices/",
        "/devices/quarantine/",
        "/devices/alerts/",
        f"/devices/alerts/{alert.pk}/",
        "/devices/duty/",
        "/devices/escalation/",
        "/devices/rules/",
        f"/devices/{place.chen_bp.pk}/",
        f"/devices/residents/{place.chen.pk}/alerts/",
        "/emergency/",
    ]


@override_settings(MFA_REQUIRED_ROLES="")  # the system administrator without TOTP here
@pytest.mark.parametrize("role", STAFF)
def test_no_link_on_a_devices_page_is_forbidden(place, role):
    send(place.chen_bp, msg(1, "bp", {"sys": 186, "dia": 118}))
    alert = Alert.objects.get(resident=place.chen)
    scope = "all" if role == Role.SYSTEM_ADMIN else place.net.a.county
    user = make_user(role, scope, username=f"links-{role}")
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    opened = 0
    for url in _pages(place, alert):
        response = client.get(url)
        if response.status_code != 200:
            continue
        opened += 1
        for link in sorted(set(FOLLOWED.findall(response.content.decode()))):
            followed = client.get(link)
            assert followed.status_code != 403, f"{role} on {url}: {link} is a 403"
    may_see_something = role_permissions()[role] & {
        DevicePerm.VIEW,
        NetworkPerm.STAFF_VIEW,
        EmergencyPerm.CALL,
    }
    assert opened > 0 or not may_see_something
