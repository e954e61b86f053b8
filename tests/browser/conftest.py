"""Browser test harness: Playwright driving Debian's Chromium against pytest-django's
``live_server``.

Never downloads a browser: it launches /usr/bin/chromium (``apt-get install chromium
chromium-driver``). ``yiyang.tools.runtests`` deselects the ``browser`` marker when
Chromium is absent (and fails under CI=true instead).

Playwright's sync API keeps an asyncio event loop in the main thread from the first
browser test to the end of the session, which makes Django refuse ORM calls from that
thread ("You cannot call this from an async context") — in these tests and in every test
that runs after them. No test code here is async, so DJANGO_ALLOW_ASYNC_UNSAFE is set for
the process as soon as the browser tests are collected.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from django.urls import reverse

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Where a failing test leaves a screenshot of its page.
FAILURE_DIR = Path(os.environ.get("YIYANG_BROWSER_ARTIFACTS", "/tmp/yiyang-browser"))
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, request) -> Iterator:
    """A fresh browser context (no cookies). Its browser asks for English
    (``Accept-Language: en-US``): the console must still speak Chinese until the user
    picks another language with the switch."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        FAILURE_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        page.screenshot(path=str(FAILURE_DIR / f"{name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


def url(live_server, name: str, *args) -> str:
    return live_server.url + reverse(name, args=args)


def log_in(page, live_server, username: str, password: str, totp_secret: str = "") -> None:
    """Log in through the real login form; when ``totp_secret`` is given, type the current
    TOTP code into the form's code field too (one step). Ends on the page the login leads
    to."""
    page.goto(url(live_server, "web:login"))
    form = page.locator("#login-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    if totp_secret:
        form.locator("input[name=code]").fill(pyotp.TOTP(totp_secret).now())
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
