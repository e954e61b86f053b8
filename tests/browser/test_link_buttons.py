"""``button.link`` (a form button that looks like a link) is readable wherever it is: white
on the green top bar (log out), the accent colour on a white card — e.g. the emergency
call's "show number to call back" beside each contact, which was white on white."""

from __future__ import annotations

from pathlib import Path

import pytest

import yiyang

pytestmark = pytest.mark.browser

CSS = (Path(yiyang.__file__).parent / "web" / "static" / "web" / "yiyang.css").read_text()

HTML = f"""<!doctype html><html><head><style>{CSS}</style></head><body>
<header class="topbar"><div class="tools"><form class="inline">
<button type="submit" class="link" id="logout">Log out</button></form></div></header>
<main><section class="card"><ul class="plain"><li>女儿 <span class="mono">138****0000</span>
<button type="button" class="link" id="reveal">Show number to call back</button></li></ul>
<button type="submit" class="link danger" id="remove">Remove</button></section></main>
</body></html>"""


def _colours(page, selector: str) -> tuple[str, str]:
    """(the element's text colour, the first non-transparent background behind it)."""
    found = page.eval_on_selector(
        selector,
        """el => {
            const colour = getComputedStyle(el).color;
            let node = el, bg = 'rgba(0, 0, 0, 0)';
            while (node && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
                bg = getComputedStyle(node).backgroundColor; node = node.parentElement;
            }
            return [colour, bg];
        }""",
    )
    return tuple(found)


def test_link_buttons_are_readable_on_the_top_bar_and_on_cards(browser):
    context = browser.new_context()
    page = context.new_page()
    try:
        page.set_content(HTML)
        assert _colours(page, "#logout") == ("rgb(255, 255, 255)", "rgb(11, 110, 79)")
        assert _colours(page, "#reveal") == ("rgb(11, 110, 79)", "rgb(255, 255, 255)")
        assert _colours(page, "#remove") == ("rgb(185, 28, 28)", "rgb(255, 255, 255)")
    finally:
        context.close()
