"""The result page's history chart: a resident's final assessments of one instrument over
time, as inline SVG drawn for a phone first.

The health record's reading chart (``residents.charts.line_chart``) is built for dense
readings over weeks: a 760-unit-wide drawing with a tick every month, which a phone
shrinks to less than half — 5-pixel labels, and over a few years of yearly assessments
the month labels run into each other. Assessments are a few points over years, so this
chart is drawn at about a phone's width (``WIDTH`` units; the page caps it at
``max-width`` so it does not grow huge on a desktop), its date ticks are spaced so that
no two labels can touch (every 1, 2, 3, 6 or 12 months, or more years, whichever first
leaves ``LABEL_GAP`` between labels), and its value axis has whole-number ticks (levels
0–4 for GB/T 42195, 0–5 for the LTC grade; "nice" steps of at least 1 for totals).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from yiyang.residents.charts import nice_step

WIDTH = 360
HEIGHT = 210
FONT = 12  # user units; at 390 px the drawing is shown at about 0.9 × its size
MARGIN_LEFT = 34
MARGIN_RIGHT = 14
MARGIN_TOP = 26
MARGIN_BOTTOM = 28
LABEL_GAP = 8  # at least this much space between two date labels
COLOUR = "#0b6e4f"
STEPS_MONTHS = (1, 2, 3, 6, 12, 24, 60, 120)


@dataclass(frozen=True)
class HistoryPoint:
    day: datetime.date
    value: int
    label: str  # the value said in words, for the hover title (e.g. "1 轻度失能")


def text_width(text: str, size: float = FONT) -> float:
    """A generous estimate of a label's width in a sans-serif font: digits and latin
    0.62 em, CJK 1 em."""
    return sum(size if ord(ch) > 0x2E80 else 0.62 * size for ch in text)


def _months(start: datetime.date, end: datetime.date, step: int) -> list[datetime.date]:
    """The first days of the months in [start, end] whose month index is a multiple of
    ``step`` (January, plus every ``step`` months after it)."""
    out = []
    index = start.year * 12 + start.month - 1
    if start.day > 1:
        index += 1
    last = end.year * 12 + end.month - 1
    while index <= last:
        if index % step == 0:
            out.append(datetime.date(index // 12, index % 12 + 1, 1))
        index += 1
    return out


def date_ticks(
    start: datetime.date, end: datetime.date, plot_width: float
) -> list[tuple[datetime.date, str]]:
    """Ticks and labels for the window whose labels never overlap: the smallest step of
    ``STEPS_MONTHS`` whose labels, centred on their ticks, leave ``LABEL_GAP`` between
    them ("2025" for yearly steps, else "2025-04")."""
    span = max((end - start).days, 1)
    for step in STEPS_MONTHS:
        days = _months(start, end, step)
        labels = [f"{d:%Y}" if step % 12 == 0 else f"{d:%Y-%m}" for d in days]
        if not days:
            continue
        widest = max(text_width(label) for label in labels)
        spacing = plot_width * (step * 30.4) / span  # the closest two ticks can be
        if len(days) == 1 or spacing >= widest + LABEL_GAP:
            return list(zip(days, labels, strict=True))
    return []


def value_ticks(values: Sequence[int], bounds: tuple[int, int] | None) -> list[int]:
    """Whole-number ticks: every level of ``bounds`` (low, high) when given, else a
    nice step (at least 1) over the values."""
    if bounds is not None:
        low, high = bounds
        step = 1 if high - low <= 6 else math.ceil((high - low) / 5)
        return list(range(low, high + 1, step))
    low, high = min(values), max(values)
    if high == low:
        low, high = max(0, low - 1), high + 1
    step = max(1, int(nice_step(high - low, 4)))
    first = (low // step) * step
    return list(range(first, high + step, step))


def history_svg(
    *,
    chart_id: str,
    title: str,
    unit: str,
    points: Sequence[HistoryPoint],
    start: datetime.date,
    end: datetime.date,
    bounds: tuple[int, int] | None = None,
    empty_text: str,
) -> SafeString:
    """The chart as an ``<svg>`` element; every text in it is escaped."""
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    span = max((end - start).days, 1)
    ticks = value_ticks([p.value for p in points] or [0, 1], bounds)
    low, high = ticks[0], ticks[-1]

    def x(day: datetime.date) -> float:
        return MARGIN_LEFT + (day - start).days / span * plot_w

    def y(value: float) -> float:
        return MARGIN_TOP + (high - value) / ((high - low) or 1) * plot_h

    parts: list[str] = []
    add = parts.append
    cid = escape(chart_id)
    add(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{cid}-title {cid}-desc" data-points="{len(points)}" '
        f'font-size="{FONT}" font-family="sans-serif">'
    )
    add(f'<title id="{cid}-title">{escape(title)}</title>')
    add(f'<desc id="{cid}-desc">{escape(_describe(points, unit, start, end))}</desc>')
    add(
        f'<rect x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{plot_w}" height="{plot_h}" '
        f'fill="#fff" stroke="#d9e0e4"/>'
    )
    add('<g class="y-axis" fill="#5d6b75" text-anchor="end">')
    for tick in ticks:
        ty = y(tick)
        add(
            f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="#eef2f4"/><text x="{MARGIN_LEFT - 5}" y="{ty + FONT * 0.35:.1f}">'
            f"{tick}</text>"
        )
    add(f'<text x="{MARGIN_LEFT - 5}" y="{MARGIN_TOP - 9}" text-anchor="start">')
    add(f"{escape(unit)}</text>")
    add("</g>")
    add('<g class="x-axis" fill="#5d6b75" text-anchor="middle">')
    for day, label in date_ticks(start, end, plot_w):
        tx = x(day)
        add(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{MARGIN_TOP}" y2="{MARGIN_TOP + plot_h + 4}" '
            f'stroke="#eef2f4"/>'
        )
        half = text_width(label) / 2
        if tx - half >= 0 and tx + half <= WIDTH:  # a label cut by the edge is left out
            add(f'<text x="{tx:.1f}" y="{MARGIN_TOP + plot_h + FONT + 5}">{escape(label)}</text>')
    add("</g>")
    if points:
        add(f'<g class="series series-history" data-count="{len(points)}">')
        if len(points) > 1:
            coords = " ".join(f"{x(p.day):.1f},{y(p.value):.1f}" for p in points)
            add(
                f'<polyline points="{coords}" fill="none" stroke="{COLOUR}" stroke-width="2.5" '
                f'stroke-linejoin="round"/>'
            )
        for p in points:
            add(
                f'<circle cx="{x(p.day):.1f}" cy="{y(p.value):.1f}" r="4.5" fill="{COLOUR}">'
                f"<title>{p.day.isoformat()}: {escape(p.label)}</title></circle>"
            )
        add("</g>")
    else:
        add(
            f'<text class="empty" x="{MARGIN_LEFT + plot_w / 2:.1f}" '
            f'y="{MARGIN_TOP + plot_h / 2:.1f}" text-anchor="middle" fill="#5d6b75">'
            f"{escape(empty_text)}</text>"
        )
    add("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _describe(
    points: Sequence[HistoryPoint], unit: str, start: datetime.date, end: datetime.date
) -> str:
    text = _("From %(start)s to %(end)s.") % {"start": start.isoformat(), "end": end.isoformat()}
    if not points:
        return text
    latest = points[-1]
    return (
        text
        + " "
        + _("%(unit)s: %(count)d assessments, latest %(value)s on %(date)s.")
        % {
            "unit": unit,
            "count": len(points),
            "value": latest.label,
            "date": latest.day.isoformat(),
        }
    )
