"""Issue 4 "Assessments", walked in a real browser as a new user would (the "Done when").

On a phone-sized window the demo doctor finds the demo resident 陈秀英 (82, GB/T 42195
level 1, re-assessment overdue, not yet eligible for the high-age allowance), runs a
GB/T 42195-2022 assessment at her bedside (every tap autosaved, the sticky running score
following; her diagnoses come pre-filled from her health record), has the demo nurse
co-sign on the same phone (a wrong password first), sees level 3 (the worked example's
level 2, raised by one for the dementia F03 in her record) and the allowance change to
eligible, prints the PDF report and finds the next due date on the team's due list.

Pages are switched to English by the language cookie (what the language switch sets);
elements are found by id, name and data attributes, not by visible text, except where
the templates give no other hook (the running bar's counts, the result's level and the
eligibility's before/after cells).
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Iterator

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import FAILURE_DIR, TIMEOUT_MS, url
from yiyang.accounts.models import User
from yiyang.assessments.models import (
    Assessment,
    Due,
    SessionStatus,
    Standing,
)
from yiyang.assessments.services.base import ABILITY_INSTRUMENT
from yiyang.assessments.services.schedule import policy_for
from yiyang.residents.models import Resident
from yiyang.seed import DEMO_PASSWORD, seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEED = 2026
CHEN = "陈秀英"
ALLOWANCE = "high_age_disability_allowance"
PHONE = {"width": 390, "height": 844}

# standards.md's worked example: 24 + 11 + 21 + 8 = 64 → level 2 (中度失能).
WORKED_EXAMPLE = {
    "B.1": [4, 3, 2, 3, 2, 3, 4, 3],
    "B.2": [4, 3, 3, 1],
    "B.3": [3, 2, 4, 2, 3, 3, 1, 1, 2],
    "B.4": [1, 1, 2, 1, 3],
}
ANSWERS = {
    f"{domain}.{i}": score
    for domain, scores in WORKED_EXAMPLE.items()
    for i, score in enumerate(scores, start=1)
}
DOMAIN_TOTALS = {"B.1": "24 / 32", "B.2": "11 / 15", "B.3": "21 / 28", "B.4": "8 / 15"}


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture
def phone(browser, live_server, request) -> Iterator:
    """A fresh phone-sized (390 x 844) touch-screen browser context asking for English,
    its pages in English by the language cookie. A failing test leaves a screenshot like
    ``page``.

    Not ``is_mobile``: Chromium's mobile emulation widens the layout viewport to the page's
    content when something overflows (``innerWidth`` grows with it, hiding the overflow
    this test measures) and Playwright's taps then miss their targets on such a page."""
    context = browser.new_context(
        locale="en-US",
        viewport=PHONE,
        is_mobile=False,
        has_touch=True,
        device_scale_factor=2,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        FAILURE_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        page.screenshot(path=str(FAILURE_DIR / f"{name}.png"), full_page=True)
    context.close()


def settled(page) -> None:
    """Wait until htmx has finished its requests and swaps (new content is live)."""
    # A function, not an expression string: Playwright evals a string in the page, which
    # the Content-Security-Policy (no 'unsafe-eval') refuses.
    page.wait_for_function(
        "() => !document.querySelector("
        "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


WIDER_THAN_SCREEN = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
         + (typeof e.className === 'string' && e.className.trim()
            ? '.' + e.className.trim().split(/\\s+/).join('.') : ''))
    .slice(0, 8)"""


def overflow(page) -> tuple[int, int, list[str]]:
    """(page width, window width, the first elements reaching past the window)."""
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return scroll, inner, page.evaluate(WIDER_THAN_SCREEN) if scroll > inner else []


def assert_no_horizontal_scroll(page, where: str) -> None:
    scroll, inner, wide = overflow(page)
    assert scroll <= inner, (
        f"{where} scrolls sideways at phone width: {scroll} px wide in a {inner} px "
        f"window, because of {wide}"
    )


def log_in(page, live_server, username: str, password: str) -> None:
    page.goto(url(live_server, "web:login"))
    form = page.locator("#login-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("button[type=submit]").tap()
    assert "/login/" not in page.url, f"{username} could not log in"


def tap_answer(page, code: str, score: int) -> None:
    """Tap the option worth ``score`` of item ``code`` and wait for its autosave: the
    item comes back from the server marked answered, with the option chosen."""
    item = page.locator(f"#answers fieldset.item[data-item='{code}']")
    item.locator(f"label.option:has(input[value='{score}'])").tap()
    expect(item).to_have_class(re.compile(r"\banswered\b"))
    settled(page)
    expect(item.locator(f"input[value='{score}']")).to_be_checked()


def running_shows(page, answered: int, total: int) -> None:
    bar = page.locator("#running")
    expect(bar).to_have_attribute("data-answered", str(answered))
    expect(bar).to_have_attribute("data-count", "26")
    expect(bar).to_have_attribute("data-total", str(total))
    expect(bar.locator(".answered")).to_have_text(re.compile(rf"\b{answered}/26\b"))


# --- the journey ----------------------------------------------------------------------------


def test_new_user_assesses_the_demo_resident_on_a_phone(phone, live_server):
    page = phone
    today = timezone.localdate()
    seed("demo", SEED, today)
    chen = Resident.objects.get(name=CHEN, account__username="resident")
    old_due = Due.objects.get(
        resident=chen, instrument_code=ABILITY_INSTRUMENT, done_by__isnull=True
    )
    assert old_due.due_on < today
    assert Standing.objects.get(resident=chen).ability_level == 1

    # The doctor logs in on her phone and finds 陈秀英 in the registry.
    log_in(page, live_server, "doctor", DEMO_PASSWORD)
    page.goto(url(live_server, "residents:list"))
    search = page.locator("#resident-filters input[name=q]")
    search.fill(CHEN)
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q="))  # the results came back (htmx)
    row = page.locator(f"#resident-list tbody tr#resident-{chen.pk}")
    expect(row).to_be_visible()
    settled(page)
    assert_no_horizontal_scroll(page, "the residents list")
    with page.expect_navigation():
        row.locator(f"a[href='{reverse('residents:detail', args=[chen.pk])}']").tap()
    expect(page.locator("#resident-header h1")).to_have_text(CHEN)

    # Her Assessments tab: level 1, the allowance not eligible, the re-assessment overdue.
    page.locator("#resident-tabs a[data-tab='assessments:resident']").tap()
    expect(page.locator("#tab-content > #assessments-tab")).to_be_visible()
    settled(page)
    expect(page.locator("#standing-ability")).to_have_attribute("data-level", "1")
    allowance = page.locator(f"#assessment-eligibility li[data-rule={ALLOWANCE}]")
    expect(allowance).to_have_attribute("data-eligible", "no")
    open_dues = page.locator("#resident-dues tbody tr[id^=due-]")
    expect(open_dues).to_have_count(1)
    expect(page.locator(f"#resident-dues tr#due-{old_due.pk}")).to_have_attribute(
        "data-state", "overdue"
    )
    assert_no_horizontal_scroll(page, "the resident's Assessments tab")

    # "New assessment": GB/T 42195-2022 is preselected; starting opens the bedside form.
    with page.expect_navigation():
        page.locator("#new-assessment").tap()
    assert page.url == url(live_server, "assessments:start") + f"?resident={chen.pk}"
    start = page.locator("#start-form")
    expect(start.locator("select[name=instrument]")).to_have_value(ABILITY_INSTRUMENT)
    expect(start.locator("input[name=assessed_on]")).to_have_value(today.isoformat())
    with page.expect_navigation(url=re.compile(r"/assessments/\d+/$")):
        start.locator("button[type=submit]").tap()
    session = Assessment.objects.get(resident=chen, status=SessionStatus.DRAFT)
    assert page.url == url(live_server, "assessments:session", session.pk)
    expect(page.locator("#session-form")).to_have_attribute("data-status", "draft")
    expect(page.locator("#answers fieldset.item")).to_have_count(26)
    running_shows(page, 0, 0)
    # Her diagnoses come from her health record (dementia F03 among them), said so.
    expect(page.locator("#ctx-diagnoses")).to_have_value(re.compile(r"\bF03\b"))
    expect(page.locator("#ctx-source-diagnoses")).to_have_text(
        f"From the health record ({today.isoformat()})"
    )
    assert "F03" in session.context["diagnoses"]
    assert_no_horizontal_scroll(page, "the bedside form")

    # Each tap is saved at once (htmx) and the sticky bar follows.
    codes = list(ANSWERS)
    for code in codes[:3]:
        tap_answer(page, code, ANSWERS[code])
    running_shows(page, 3, 4 + 3 + 2)
    session.refresh_from_db()
    assert session.answers == {c: ANSWERS[c] for c in codes[:3]}
    # The bar stays in view while she scrolls down the form.
    tap_answer(page, codes[10], ANSWERS[codes[10]])
    expect(page.locator("#running")).to_be_in_viewport()
    for code in codes[3:10] + codes[11:]:
        tap_answer(page, code, ANSWERS[code])
    running_shows(page, 26, 64)
    expect(page.locator("#running")).to_have_class(re.compile(r"\bcomplete\b"))
    expect(page.locator("#answers fieldset.item.answered")).to_have_count(26)
    session.refresh_from_db()
    assert session.answers == ANSWERS
    assert session.status == SessionStatus.DRAFT
    assert_no_horizontal_scroll(page, "the completed bedside form")

    # The nurse co-signs on the same phone: a wrong password is refused, nothing submitted.
    cosign = page.locator("#cosign-form")
    cosign.locator("input[name=cosign_username]").fill("nurse")
    cosign.locator("input[name=cosign_password]").fill(DEMO_PASSWORD + "-wrong")
    with page.expect_navigation():
        cosign.locator("button[type=submit]").tap()
    expect(page.locator("#submit-error")).to_be_visible()
    expect(page.locator("#session-form")).to_have_attribute("data-status", "draft")
    session.refresh_from_db()
    assert session.status == SessionStatus.DRAFT
    assert session.result is None and session.second_assessor_id is None
    assert Standing.objects.get(resident=chen).ability_level == 1
    expect(cosign.locator("input[name=cosign_username]")).to_have_value("nurse")
    expect(page.locator("#answers fieldset.item.answered")).to_have_count(26)

    cosign.locator("input[name=cosign_password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        cosign.locator("button[type=submit]").tap()

    # The result: 64 → level 2, +1 for dementia → 3 (重度失能); the allowance now eligible.
    result = page.locator("#session-result")
    expect(result).to_have_attribute("data-status", "final")
    assert page.url == url(live_server, "assessments:session", session.pk)
    headline = page.locator("#headline")
    expect(headline).to_have_attribute("data-level", "3")
    expect(headline).to_have_attribute("data-total", "64")
    expect(headline.locator("dl.facts dd").last).to_have_text(re.compile(r"^\s*3\s+重度失能\s*$"))
    bars = page.locator("#domains ul.bars li[data-domain]")
    expect(bars).to_have_count(4)
    for domain, shown in DOMAIN_TOTALS.items():
        expect(page.locator(f"#domains li[data-domain='{domain}'] .bar-value")).to_have_text(shown)
    change = page.locator(f"#eligibility tr[data-rule={ALLOWANCE}]")
    expect(change).to_have_class(re.compile(r"\bchanged\b"))
    expect(change).to_have_attribute("data-before", "no")
    expect(change).to_have_attribute("data-after", "yes")
    expect(change.locator(".badge.changed")).to_be_visible()
    assert_no_horizontal_scroll(page, "the result page")

    session.refresh_from_db()
    assert (session.status, session.total, session.level) == (SessionStatus.FINAL, 64, 3)
    assert session.second_assessor is not None and session.second_assessor.username == "nurse"
    assert session.second_signed_at is not None
    assert session.eligibility_before[ALLOWANCE] is False
    assert session.eligibility_after[ALLOWANCE] is True
    standing = Standing.objects.get(resident=chen)
    assert standing.ability_level == 3
    assert standing.ability_assessment_id == session.pk
    assert standing.eligibility[ALLOWANCE] is True

    # Print: the report is a PDF naming her, her level and the assessors' signature line.
    link = page.locator("#report-link")
    expect(link).to_have_attribute("href", reverse("assessments:report", args=[session.pk]))
    response = page.request.get(live_server.url + link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF")
    text = "".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(body)).pages)
    for expected in (CHEN, "重度失能", "评估员1签名"):
        assert expected in text, f"{expected!r} missing from the PDF report"

    # The team's due list (from the menu): her next routine due, a year on; none overdue.
    next_due_on = session.assessed_on + datetime.timedelta(
        days=policy_for(ABILITY_INSTRUMENT).interval_days
    )
    assert session.assessed_on == today
    new_due = Due.objects.get(resident=chen, instrument_code=ABILITY_INSTRUMENT, done_by=None)
    assert new_due.due_on == next_due_on
    old_due.refresh_from_db()
    assert old_due.done_by_id == session.pk
    expect(page.locator("#next-due")).to_contain_text(next_due_on.isoformat())

    due_link = page.locator(f"nav.mainnav a[href='{reverse('assessments:due')}']")
    with page.expect_navigation():
        due_link.tap()
    doctor = User.objects.get(username="doctor")
    expect(page.locator("#due-filters select[name=team]")).to_have_value(str(doctor.scope_team_id))
    her_rows = page.locator(
        "#due-list tbody tr[id^=due-]",
        has=page.locator(f"a[href='{reverse('residents:detail', args=[chen.pk])}']"),
    )
    expect(page.locator("#due-list tbody tr[id^=due-]").first).to_be_visible()
    expect(her_rows).to_have_count(1)
    expect(her_rows).to_have_id(f"due-{new_due.pk}")
    expect(her_rows.locator("td.mono")).to_have_text(next_due_on.isoformat())
    expect(her_rows.locator("td[data-instrument]")).to_have_attribute(
        "data-instrument", ABILITY_INSTRUMENT
    )
    expect(her_rows).not_to_have_attribute("data-state", "overdue")
    expect(page.locator(f"#due-list tr#due-{old_due.pk}")).to_have_count(0)
    assert_no_horizontal_scroll(page, "the team's due list")
