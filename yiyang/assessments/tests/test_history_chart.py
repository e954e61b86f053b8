"""The result page's history chart on a phone: drawn at about a phone's width (so its
text is not shrunk to nothing at 390 px), date labels that never overlap nor run off the
drawing, whole-number level ticks."""

from __future__ import annotations

import datetime
import re

from django.urls import reverse
from django.utils import timezone

from yiyang.assessments.history_chart import date_ticks, text_width
from yiyang.assessments.services.sessions import save_answers, start, submit
from yiyang.assessments.tests.test_scoring import EXAMPLE_GBT
from yiyang.testing.clients import client_for


def final(w, days_ago: int):
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    session = start(
        w.doctor, w.old, instrument="gbt42195-2022", reason="routine", assessed_on=day, place="home"
    )
    save_answers(w.doctor, session, EXAMPLE_GBT)
    return submit(w.doctor, session, cosigned_by=w.nurse)


def labels(svg: str, axis: str) -> list[tuple[float, str]]:
    group = re.search(rf'<g class="{axis}"[^>]*>(.*?)</g>', svg, re.S).group(1)
    return [(float(x), t) for x, t in re.findall(r'<text x="([\d.]+)"[^>]*>([^<]*)</text>', group)]


def test_the_history_chart_fits_a_phone_without_overlapping_labels(w):
    final(w, 760)
    final(w, 400)
    latest = final(w, 30)
    page = client_for(w.doctor).get(reverse("assessments:session", args=[latest.pk]))
    svg = re.search(r'<svg[^>]*id="assessment-history".*?</svg>', page.content.decode(), re.S)
    assert svg is not None
    svg_text = svg.group(0)
    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg_text).group(1))
    font = float(re.search(r'font-size="([\d.]+)"', svg_text).group(1))
    # At 390 px the card is about 330 px wide: the drawing is shown at 330/width of its
    # size, so its labels stay at least 10 px high.
    assert font * min(1.0, 330 / width) >= 10
    dates = labels(svg_text, "x-axis")
    assert len(dates) >= 3
    extents = sorted((x - text_width(t, font) / 2, x + text_width(t, font) / 2) for x, t in dates)
    assert extents[0][0] >= 0 and extents[-1][1] <= width
    for (_, right), (left, _) in zip(extents, extents[1:], strict=False):
        assert left - right >= 8, dates
    assert [t for _, t in labels(svg_text, "y-axis")] == ["0", "1", "2", "3", "4", "Level"]
    assert 'data-count="3"' in svg_text


def test_date_ticks_step_up_until_the_labels_fit():
    start, end = datetime.date(2016, 1, 1), datetime.date(2026, 12, 31)
    ticks = date_ticks(start, end, 300)
    assert [label for _, label in ticks] == ["2016", "2018", "2020", "2022", "2024", "2026"]
    short = date_ticks(datetime.date(2026, 9, 10), datetime.date(2026, 12, 20), 300)
    assert [label for _, label in short] == ["2026-10", "2026-11", "2026-12"]
