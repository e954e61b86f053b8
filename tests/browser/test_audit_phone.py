"""The audit pages fit a phone: a chain hash (64 hex digits, one long word) used to
widen the verify page at 390 px by about 220 px."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in
from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role
from yiyang.testing.accounts import PASSWORD, make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_the_verify_page_and_an_event_fit_390_px(page, live_server):
    auditor = make_account(Role.AUDIT_ADMIN, scope="all", username="browser-auditor")
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, live_server, auditor.username, PASSWORD, totp_secret=auditor.totp_secret)

    page.goto(live_server.url + "/audit/verify/")
    assert page.locator("#audit-head code").count() == 1  # the chain head's hash is shown
    assert page.evaluate(SIDEWAYS) <= 0

    event = AuditEvent.objects.order_by("-seq").first()
    page.goto(live_server.url + f"/audit/events/{event.seq}/")
    assert page.evaluate(SIDEWAYS) <= 0
