"""Server-rendered line charts as inline SVG (no script, no CDN, nothing downloaded).

``line_chart`` draws one or more series over a time window with value and date axes,
dashed reference lines (140/90 mmHg, 7.0/11.1 mmol/L) and a legend. It is accessible
(``role="img"`` with a ``<title>`` and a ``<desc>`` summarising each series) and
readable at any size of data: no readings → the axes and "no readings" text; one reading
→ a marker; up to ``MARKER_LIMIT`` readings per series → line and markers with a hover
title each; more → the line alone, and beyond ``MAX_POINTS`` the series is averaged into
time buckets so the SVG stays small (a year of four readings a day is ~60 KB).

``bp_chart`` and ``glucose_chart`` build the two charts of the observations tab from
``Observation`` rows.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from yiyang.residents import loinc

WIDTH = 760
HEIGHT = 280
MARGIN_LEFT = 52
MARGIN_RIGHT = 64
MARGIN_TOP = 30
MARGIN_BOTTOM = 34
MARKER_LIMIT = 62
MAX_POINTS = 600

COLOURS = {
    "systolic": "#b91c1c",
    "diastolic": "#1d4ed8",
    "heart_rate": "#6b7280",
    "glucose_fasting": "#7c3aed",
    "glucose_random": "#0e7490",
}
REF_COLOUR = "#b45309"


@dataclass(frozen=True)
class Point:
    at: datetime.datetime
    value: float


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    points: Sequence[Point]
    colour: str = "#0b6e4f"


@dataclass(frozen=True)
class RefLine:
    value: float
    label: str


def nice_step(span: float, target: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 × 10^k) giving about ``target`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def value_axis(values: Iterable[float]) -> tuple[float, float, float]:
    """(low, high, step) of a value axis covering ``values`` with round ticks."""
    items = list(values)
    low, high = min(items), max(items)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.08
    step = nice_step(high - low + 2 * pad)
    return math.floor((low - pad) / step) * step, math.ceil((high + pad) / step) * step, step


def date_ticks(
    start: datetime.datetime, end: datetime.datetime
) -> list[tuple[datetime.datetime, str]]:
    """Tick positions (local midnights) and labels for the window: weekly up to 45 days,
    fortnightly up to 120 days, else the first of each month."""
    first = timezone.localtime(start).date()
    last = timezone.localtime(end).date()
    span = (last - first).days
    days: list[tuple[datetime.date, str]] = []
    if span <= 120:
        every = 7 if span <= 45 else 14
        day = first + datetime.timedelta(days=1)
        while day <= last:
            days.append((day, day.strftime("%m-%d")))
            day += datetime.timedelta(days=every)
    else:
        month = datetime.date(first.year, first.month, 1)
        while month <= last:
            if month > first:
                text = month.strftime("%Y-%m") if month.month == 1 or not days else f"{month:%m}"
                days.append((month, text))
            month = datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    tz = timezone.get_current_timezone()
    return [(datetime.datetime.combine(d, datetime.time(), tzinfo=tz), text) for d, text in days]


def downsample(
    points: Sequence[Point], start: datetime.datetime, end: datetime.datetime
) -> list[Point]:
    """At most ``MAX_POINTS`` points: the mean of each equal time bucket (at its mean
    time) when there are more."""
    if len(points) <= MAX_POINTS:
        return list(points)
    width = (end - start).total_seconds() / MAX_POINTS or 1.0
    buckets: dict[int, list[Point]] = {}
    for p in points:
        index = min(int((p.at - start).total_seconds() / width), MAX_POINTS - 1)
        buckets.setdefault(index, []).append(p)
    out = []
    for index in sorted(buckets):
        group = buckets[index]
        mean_ts = sum(p.at.timestamp() for p in group) / len(group)
        at = datetime.datetime.fromtimestamp(mean_ts, tz=datetime.UTC)
        out.append(Point(at, sum(p.value for p in group) / len(group)))
    return out


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:g}"


def _num(value: float) -> str:
    return f"{value:.1f}"


def line_chart(
    *,
    chart_id: str,
    title: str,
    unit: str,
    series: Sequence[Series],
    refs: Sequence[RefLine] = (),
    start: datetime.datetime,
    end: datetime.datetime,
    empty_text: str | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> SafeString:
    """The chart as an ``<svg>`` element (safe to insert into a page)."""
    plot_w = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = height - MARGIN_TOP - MARGIN_BOTTOM
    span = (end - start).total_seconds() or 1.0
    drawn = [
        Series(
            s.key,
            s.label,
            downsample([p for p in s.points if start <= p.at <= end], start, end),
            s.colour,
        )
        for s in series
    ]
    total = sum(len(s.points) for s in drawn)
    values = [p.value for s in drawn for p in s.points] + [r.value for r in refs]
    low, high, step = value_axis(values or [0.0, 1.0])

    def x(at: datetime.datetime) -> float:
        return MARGIN_LEFT + (at - start).total_seconds() / span * plot_w

    def y(value: float) -> float:
        return MARGIN_TOP + (high - value) / (high - low) * plot_h

    parts: list[str] = []
    add = parts.append
    add(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {height}" role="img" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'data-points="{total}" font-size="11" font-family="sans-serif">'
    )
    add(f'<title id="{escape(chart_id)}-title">{escape(title)}</title>')
    add(f'<desc id="{escape(chart_id)}-desc">{escape(_describe(drawn, unit, start, end))}</desc>')
    # plot frame and value grid
    add(
        f'<rect x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{plot_w}" height="{plot_h}" '
        f'fill="#fff" stroke="#d9e0e4"/>'
    )
    add('<g class="y-axis" fill="#5d6b75" text-anchor="end">')
    tick = low
    while tick <= high + step / 1000:
        ty = y(tick)
        add(
            f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + plot_w}" y1="{_num(ty)}" '
            f'y2="{_num(ty)}" stroke="#eef2f4"/>'
        )
        add(f'<text x="{MARGIN_LEFT - 6}" y="{_num(ty + 4)}">{_fmt(tick)}</text>')
        tick += step
    add(f'<text x="{MARGIN_LEFT - 6}" y="{MARGIN_TOP - 10}">{escape(unit)}</text>')
    add("</g>")
    # date axis
    add('<g class="x-axis" fill="#5d6b75" text-anchor="middle">')
    for at, text in date_ticks(start, end):
        tx = x(at)
        if tx < MARGIN_LEFT or tx > MARGIN_LEFT + plot_w:
            continue
        add(
            f'<line x1="{_num(tx)}" x2="{_num(tx)}" y1="{MARGIN_TOP}" '
            f'y2="{MARGIN_TOP + plot_h + 4}" stroke="#eef2f4"/>'
        )
        add(f'<text x="{_num(tx)}" y="{MARGIN_TOP + plot_h + 18}">{escape(text)}</text>')
    add("</g>")
    # reference lines
    for ref in refs:
        ry = y(ref.value)
        add(
            f'<g class="ref"><line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + plot_w}" '
            f'y1="{_num(ry)}" y2="{_num(ry)}" stroke="{REF_COLOUR}" stroke-dasharray="5 4"/>'
            f'<text x="{MARGIN_LEFT + plot_w + 4}" y="{_num(ry + 4)}" fill="{REF_COLOUR}">'
            f"{escape(ref.label)}</text></g>"
        )
    # series
    for s in drawn:
        if not s.points:
            continue
        add(f'<g class="series series-{escape(s.key)}" data-count="{len(s.points)}">')
        coords = " ".join(f"{_num(x(p.at))},{_num(y(p.value))}" for p in s.points)
        if len(s.points) > 1:
            add(
                f'<polyline points="{coords}" fill="none" stroke="{s.colour}" '
                f'stroke-width="2" stroke-linejoin="round"/>'
            )
        if len(s.points) <= MARKER_LIMIT:
            for p in s.points:
                when = timezone.localtime(p.at).strftime("%Y-%m-%d %H:%M")
                add(
                    f'<circle cx="{_num(x(p.at))}" cy="{_num(y(p.value))}" r="3.5" '
                    f'fill="{s.colour}"><title>{escape(s.label)} {when}: '
                    f"{_fmt(p.value)} {escape(unit)}</title></circle>"
                )
        add("</g>")
    # legend
    add('<g class="legend">')
    lx = MARGIN_LEFT
    for s in drawn:
        add(
            f'<line x1="{lx}" x2="{lx + 18}" y1="{MARGIN_TOP - 12}" y2="{MARGIN_TOP - 12}" '
            f'stroke="{s.colour}" stroke-width="3"/>'
            f'<text x="{lx + 22}" y="{MARGIN_TOP - 8}" fill="#1d2a33">{escape(s.label)}</text>'
        )
        lx += 30 + 7 * len(s.label) + (6 * sum(1 for ch in s.label if ord(ch) > 0x2E80))
    add("</g>")
    if total == 0:
        add(
            f'<text class="empty" x="{MARGIN_LEFT + plot_w / 2:.1f}" '
            f'y="{MARGIN_TOP + plot_h / 2:.1f}" text-anchor="middle" font-size="14" '
            f'fill="#5d6b75">{escape(empty_text or _("No readings in this period."))}</text>'
        )
    add("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text above is escaped


def _describe(
    series: Sequence[Series], unit: str, start: datetime.datetime, end: datetime.datetime
) -> str:
    first = timezone.localtime(start).date().isoformat()
    last = timezone.localtime(end).date().isoformat()
    parts = [_("From %(start)s to %(end)s.") % {"start": first, "end": last}]
    if not any(s.points for s in series):
        parts.append(_("No readings in this period."))
    for s in series:
        if not s.points:
            continue
        values = [p.value for p in s.points]
        latest = s.points[-1]
        parts.append(
            _(
                "%(label)s: %(count)d readings, %(low)s to %(high)s %(unit)s, latest "
                "%(latest)s on %(date)s."
            )
            % {
                "label": s.label,
                "count": len(values),
                "low": _fmt(min(values)),
                "high": _fmt(max(values)),
                "unit": unit,
                "latest": _fmt(latest.value),
                "date": timezone.localtime(latest.at).date().isoformat(),
            }
        )
    return " ".join(parts)


# --- the observation charts -------------------------------------------------------------


def _points(rows: Iterable[tuple[datetime.datetime, Decimal]]) -> list[Point]:
    return sorted((Point(at, float(value)) for at, value in rows), key=lambda p: p.at)


def bp_chart(
    series: Mapping[str, Sequence[tuple[datetime.datetime, Decimal]]],
    start: datetime.datetime,
    end: datetime.datetime,
) -> SafeString:
    """Systolic and diastolic pressure over the window, with the 140/90 mmHg lines.
    ``series``: LOINC code → [(effective_at, value)]."""
    sys_limit, dia_limit = loinc.BP_LIMITS
    return line_chart(
        chart_id="chart-bp",
        title=_("Blood pressure over time"),
        unit="mmHg",
        series=[
            Series(
                "systolic",
                str(loinc.CODES[loinc.SYSTOLIC].short),
                _points(series.get(loinc.SYSTOLIC, ())),
                COLOURS["systolic"],
            ),
            Series(
                "diastolic",
                str(loinc.CODES[loinc.DIASTOLIC].short),
                _points(series.get(loinc.DIASTOLIC, ())),
                COLOURS["diastolic"],
            ),
        ],
        refs=[RefLine(float(sys_limit), f"{sys_limit}"), RefLine(float(dia_limit), f"{dia_limit}")],
        start=start,
        end=end,
        empty_text=_("No blood pressure readings in this period."),
    )


def glucose_chart(
    series: Mapping[str, Sequence[tuple[datetime.datetime, Decimal]]],
    start: datetime.datetime,
    end: datetime.datetime,
) -> SafeString:
    """Fasting and random glucose over the window, with the 7.0 and 11.1 mmol/L lines."""
    fasting_limit, random_limit = loinc.GLUCOSE_LIMITS
    return line_chart(
        chart_id="chart-glucose",
        title=_("Blood glucose over time"),
        unit="mmol/L",
        series=[
            Series(
                "glucose_fasting",
                str(loinc.CODES[loinc.GLUCOSE_FASTING].short),
                _points(series.get(loinc.GLUCOSE_FASTING, ())),
                COLOURS["glucose_fasting"],
            ),
            Series(
                "glucose_random",
                str(loinc.CODES[loinc.GLUCOSE_RANDOM].short),
                _points(series.get(loinc.GLUCOSE_RANDOM, ())),
                COLOURS["glucose_random"],
            ),
        ],
        refs=[
            RefLine(float(fasting_limit), f"{fasting_limit}"),
            RefLine(float(random_limit), f"{random_limit}"),
        ],
        start=start,
        end=end,
        empty_text=_("No glucose readings in this period."),
    )
