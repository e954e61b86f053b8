"""Issue 5 "Home devices", walked in a real browser (the "Done when").

On the demo county: the demo dispatcher watches the live alert board while 陈秀英's SOS
button is pressed (a simulated device posting to ``/api/v1/ingest`` with its demo
credentials, as ``yiyang simulate devices`` does); the alert appears within 2 seconds
without a reload; nobody acknowledges, and the escalation timer (``timers.run_due``, run in
a thread the way ``yiyang alert_timers`` runs it) notifies the center's duty doctor and her
daughter, then the dispatcher; the dispatcher opens the emergency call from the alert,
sees the resident's card, records steps and closes the call, which handles and closes the
alert. Then a glucose of 2.8 mmol/L from her glucometer raises an urgent alert that her
team's doctor sees on the board and a station caregiver of another team does not.

The critical escalation schedule is shortened (as data: the steps are rows) so that the
test does not wait minutes.
"""

from __future__ import annotations

import datetime
import random
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import close_old_connections
from playwright.sync_api import expect

from tests.browser.conftest import url
from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.common.scope import ScopeKind
from yiyang.devices.models import Alert, AlertState, Device, EscalationStep, Severity, Tier
from yiyang.devices.services import timers
from yiyang.devices.simulate import HttpTransport, SimDevice, encode
from yiyang.emergency.models import CallState, EmergencyCall
from yiyang.network.models import Team
from yiyang.notifications.models import Notification
from yiyang.residents.models import ProxyGrant, Resident
from yiyang.seed import DEMO_PASSWORD, seed
from yiyang.seed.devices import DEMO_SERIALS, demo_secret

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEED = 2026
CHEN = "陈秀英"
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
BOARD_DEADLINE = 2.0  # seconds from the press to the row on the board


@pytest.fixture
def demo() -> Resident:
    seed("demo", SEED)
    # Critical: station at once, center and family after 3 s, dispatcher after 6 s.
    for tier, minutes in ((Tier.STATION, "0"), (Tier.CENTER, "0.05"), (Tier.DISPATCHER, "0.1")):
        EscalationStep.objects.update_or_create(
            severity=Severity.CRITICAL, tier=tier, defaults={"after_minutes": Decimal(minutes)}
        )
    chen = Device.objects.get(serial=DEMO_SERIALS["sos_button"]).resident
    assert chen is not None and chen.name == CHEN
    return chen


@pytest.fixture
def timer() -> Iterator[threading.Event]:
    """The escalation timer, polling every 0.5 s like ``yiyang alert_timers``."""
    stop = threading.Event()

    def loop() -> None:
        try:
            while not stop.wait(0.5):
                timers.run_due()
        finally:
            close_old_connections()

    thread = threading.Thread(target=loop, name="alert-timers", daemon=True)
    thread.start()
    yield stop
    stop.set()
    thread.join(timeout=10)


def device(kind: str) -> SimDevice:
    serial = DEMO_SERIALS[kind]
    last = Device.objects.get(serial=serial).last_seq
    return SimDevice.create(serial, kind, demo_secret(SEED, serial), last, random.Random(1))


def send(live_server, sim: SimDevice, kind: str, values: dict) -> None:
    message = {
        "seq": sim.seq,
        "ts": datetime.datetime.now(SHANGHAI).isoformat(timespec="seconds"),
        "kind": kind,
        "values": values,
    }
    sim.seq += 1
    transport = HttpTransport(live_server.url)
    transport.send(sim, encode(message))
    assert transport.stats.accepted == 1, dict(transport.stats.codes)


def log_in(page, live_server, username: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(url(live_server, "web:login"))
    form = page.locator("#login-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "/login/" not in page.url, f"{username} could not log in"


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_an_sos_press_reaches_the_board_escalates_and_ends_as_a_closed_call(
    page, live_server, demo, timer
):
    chen = demo
    log_in(page, live_server, "dispatcher")
    page.goto(url(live_server, "devices:alerts"))
    expect(page.locator("#alert-board")).to_be_visible()
    assert page.locator('tr[data-rule="sos"]').count() == 0

    # The press, and the board without a reload.
    sos = device("sos_button")
    pressed = time.monotonic()
    send(live_server, sos, "sos", {})
    row = page.locator('tr[data-rule="sos"]')
    row.wait_for(state="visible", timeout=5000)
    seen_after = time.monotonic() - pressed
    assert seen_after < BOARD_DEADLINE, f"the SOS reached the board after {seen_after:.2f} s"
    expect(row).to_contain_text(CHEN)
    alert = Alert.objects.get(resident=chen, rule__code="sos")
    assert alert.severity == Severity.CRITICAL and alert.state == AlertState.OPEN
    call = EmergencyCall.objects.get(alert=alert)
    assert call.state == CallState.OPEN

    # Nobody acknowledges: station (at once), center + daughter (3 s), dispatcher (6 s).
    daughter = ProxyGrant.objects.get(resident=chen, can_view_alerts=True).user
    dispatcher = User.objects.get(username="dispatcher")
    alert = wait_for(
        lambda: Alert.objects.filter(pk=alert.pk, escalation_level__gte=Tier.DISPATCHER).first(),
        20,
        "the escalation to the dispatcher tier",
    )
    told = set(
        Notification.objects.filter(ref=f"devices.alert:{alert.pk}").values_list(
            "recipient_id", flat=True
        )
    )
    assert {daughter.pk, dispatcher.pk} <= told
    expect(row.locator(".badge.escalation")).to_be_visible()

    # The dispatcher takes it as an emergency call: the resident's card pops up.
    row.locator("a").first.click()
    page.wait_for_url(f"**/devices/alerts/{alert.pk}/")
    page.locator("#emergency-call").click()
    page.wait_for_url(f"**/emergency/{call.pk}/")
    card = page.locator("#call-resident")
    expect(card).to_contain_text(CHEN)
    for part in ("#resident-address", "#resident-team", "#resident-conditions",
                 "#resident-medications", "#resident-allergies", "#resident-readings",
                 "#resident-contacts"):  # fmt: skip
        expect(page.locator(part)).to_be_visible()
    daughter_row = page.locator("#resident-contacts li", has_text="Daughter")
    expect(daughter_row).to_contain_text("****")
    # To call her daughter back, the full number (audited).
    daughter_row.locator("button[data-reveal-contact]").click()
    expect(daughter_row.locator("a[href^='tel:']")).to_be_visible()

    # Steps, then the outcome.
    step = page.locator("#step-form")
    step.locator("textarea, input[name=note]").first.fill("她说按错了，但头晕")
    with page.expect_navigation():
        step.locator('button[value="called_back"]').click()
    step = page.locator("#step-form")
    with page.expect_navigation():
        step.locator('button[value="family_informed"]').click()
    expect(page.locator("#step-list li")).to_have_count(2)
    close = page.locator("#close-form")
    close.locator("select[name=outcome]").select_option("team_visit")
    with page.expect_navigation():
        close.locator("button[type=submit]").click()

    call.refresh_from_db()
    alert.refresh_from_db()
    assert call.state == CallState.CLOSED and call.outcome == "team_visit"
    assert alert.state == AlertState.CLOSED and alert.outcome == "home_visit"
    assert alert.next_escalation_at is None
    expect(page.locator("#call-state")).to_contain_text("Closed")


def test_a_low_glucose_alerts_her_team_only(browser, live_server, demo):
    chen = demo
    team = User.objects.get(username="doctor").scope_team
    assert team is not None and chen.grid_id in set(team.grids.values_list("pk", flat=True))
    other_team = Team.objects.exclude(pk=team.pk).filter(grids__isnull=False).first()
    assert other_team is not None
    outsider = User.objects.create(
        username="other-team-nurse",
        role=Role.NURSE,
        scope_kind=ScopeKind.TEAM,
        scope_team=other_team,
        is_active=True,
    )
    outsider.set_password(DEMO_PASSWORD)
    outsider.save()

    pages = {}
    for username in ("doctor", outsider.username):
        context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
        pages[username] = context.new_page()
        log_in(pages[username], live_server, username)
        pages[username].goto(url(live_server, "devices:alerts"))

    send(live_server, device("glucometer"), "glucose", {"mmol": 2.8, "context": "fasting"})
    timers.run_due()  # one tick of the alert timers: tier 1 (her station staff) is told

    alert = Alert.objects.get(resident=chen, rule__code="glucose_low")
    assert alert.severity == Severity.URGENT and alert.team_id == team.pk
    row = pages["doctor"].locator(f"#alert-{alert.pk}")
    row.wait_for(state="visible", timeout=5000)
    expect(row).to_contain_text("2.8")
    time.sleep(2.5)  # two more polls of the outsider's board
    assert pages[outsider.username].locator(f"#alert-{alert.pk}").count() == 0
    # Tier 1 went to her team's station staff only.
    told = set(
        Notification.objects.filter(ref=f"devices.alert:{alert.pk}").values_list(
            "recipient_id", flat=True
        )
    )
    members = set(
        User.objects.filter(staff__team_memberships__team=team).values_list("pk", flat=True)
    )
    assert told and told <= members, (told, members)
    assert outsider.pk not in told
    for p in pages.values():
        p.context.close()
