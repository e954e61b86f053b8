"""Every role logs in through the real login form and lands on the home page; the roles
that must use two-step login are asked for their TOTP code."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.browser.conftest import log_in, url
from yiyang.common.permissions import Role, mfa_required
from yiyang.testing.accounts import PASSWORD, make_account
from yiyang.testing.network import Network, build_network

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def scope_for(role: str, net: Network):
    """A realistic data scope per role: administrators see everything, the supervisor a
    city, the dispatcher and assessor a county, clinical staff their institution or team,
    residents and family members their own records."""
    return {
        Role.SYSTEM_ADMIN: "all",
        Role.SECURITY_ADMIN: "all",
        Role.AUDIT_ADMIN: "all",
        Role.SUPERVISOR: net.city,
        Role.INSTITUTION_ADMIN: net.a.thc,
        Role.DOCTOR: net.a.team,
        Role.NURSE: net.a.thc,
        Role.CAREGIVER: net.a.care_home,
        Role.DISPATCHER: net.a.county,
        Role.ASSESSOR: net.a.county,
        Role.RESIDENT: None,
        Role.FAMILY: None,
    }[Role(role)]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_logs_in_and_sees_its_role(page, live_server, role):
    net = build_network()
    user = make_account(
        role,
        scope=scope_for(role, net),
        username=f"browser-{role}",
        display_name=f"Tester {role}",
    )
    assert user.totp_confirmed == mfa_required(role)

    log_in(page, live_server, user.username, PASSWORD, totp_secret=user.totp_secret)

    assert page.url == url(live_server, "web:home")
    who = page.locator(".who")
    assert who.get_attribute("data-role") == role
    with translation.override("zh-hans"):
        role_label = str(Role(role).label)
    assert who.inner_text() == f"Tester {role} · {role_label}"


def test_admin_without_a_code_is_refused_like_a_wrong_password(page, live_server):
    make_account(Role.AUDIT_ADMIN, scope="all", username="browser-2fa")

    log_in(page, live_server, "browser-2fa", PASSWORD)

    assert page.url == url(live_server, "web:login")
    assert page.locator("#login-form input[name=code]").count() == 1
    assert page.locator("#login-form [role=alert]").inner_text() == "用户名、密码或验证码错误。"
    assert page.locator(".who").count() == 0
    page.goto(url(live_server, "web:home"))
    assert page.url.startswith(url(live_server, "web:login"))


def test_wrong_password_stays_on_the_login_page(page, live_server):
    make_account(Role.RESIDENT, username="browser-wrong")

    log_in(page, live_server, "browser-wrong", PASSWORD + "x")

    assert page.url == url(live_server, "web:login")
    assert page.locator(".who").count() == 0
    assert page.locator("#login-form [role=alert]").count() == 1
