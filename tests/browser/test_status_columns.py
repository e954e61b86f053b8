"""Status words in table columns stay on one line on a phone and on a desktop: 有效 on the
agreements list, 启用 on the alert rules page used to stand one character a line."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.browser.conftest import log_in, url
from yiyang.common.permissions import Role
from yiyang.network.models import AgreementKind
from yiyang.network.services.agreements import create_agreement
from yiyang.testing.network import PASSWORD, build_network, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The number of text lines in each status cell (its content's height over its line height).
LINES = """(selector) => [...document.querySelectorAll(selector)].map((cell) => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  const rects = [...range.getClientRects()].filter((r) => r.width > 0);
  return [cell.innerText.trim(), new Set(rects.map((r) => Math.round(r.top))).size];
})"""


@pytest.mark.parametrize("width", [390, 1024])
def test_status_cells_hold_on_one_line(page, live_server, width):
    net = build_network()
    today = timezone.localdate()
    for n, days in enumerate((10, 200, 400)):
        create_agreement(
            net.admin,
            kind=AgreementKind.COOPERATION,
            party_a=net.a.clinics[n % len(net.a.clinics)],
            party_b=net.a.happiness_homes[n % len(net.a.happiness_homes)],
            title=f"{net.a.clinics[0].name}与{net.a.happiness_homes[0].name}医养签约合作协议{n}",
            valid_from=today - datetime.timedelta(days=300),
            valid_to=today + datetime.timedelta(days=days),
            status="active",
        )
    supervisor = make_user(Role.SUPERVISOR, scope=net.a.county, username="browser-supervisor")
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, supervisor.username, PASSWORD)

    page.goto(url(live_server, "network:agreements"))
    cells = page.evaluate(LINES, "#agreement-list td.status")
    assert len(cells) == 4 and {text for text, _ in cells} == {"有效"}
    assert [lines for _, lines in cells] == [1, 1, 1, 1], cells

    page.goto(url(live_server, "devices:rules"))
    cells = page.evaluate(LINES, "#rules-summary td.status")
    assert cells and all(text.startswith("启用") for text, _ in cells)
    assert {lines for _, lines in cells} == {1}, cells
