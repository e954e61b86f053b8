"""The server-rendered SVG charts: axes, reference lines, accessibility, 0/1/many points."""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.utils import timezone

from yiyang.residents import charts, loinc

pytestmark = pytest.mark.usefixtures("english")

SVG = "{http://www.w3.org/2000/svg}"
END = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.UTC)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def texts(root: ET.Element, group: str) -> list[str]:
    found = root.find(f".//{SVG}g[@class='{group}']")
    assert found is not None, group
    return [t.text or "" for t in found.iter(f"{SVG}text")]


def bp(n: int, days: int) -> dict[str, list[tuple[datetime.datetime, Decimal]]]:
    step = datetime.timedelta(days=days) / max(n, 1)
    sys = [(END - step * i, Decimal(120 + i % 40)) for i in range(n)]
    dia = [(END - step * i, Decimal(70 + i % 25)) for i in range(n)]
    return {loinc.SYSTOLIC: sys, loinc.DIASTOLIC: dia}


def test_empty_chart_has_axes_and_says_so():
    start = END - datetime.timedelta(days=30)
    svg = charts.bp_chart({}, start, END)
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-bp-title chart-bp-desc"
    assert root.find(f"{SVG}title").text == "Blood pressure over time"
    assert "No readings in this period." in root.find(f"{SVG}desc").text
    assert root.find(f".//{SVG}text[@class='empty']").text == (
        "No blood pressure readings in this period."
    )
    assert root.find(f".//{SVG}polyline") is None and root.find(f".//{SVG}circle") is None
    assert root.get("data-points") == "0"
    # reference lines labelled 140 and 90, and a value axis covering them
    assert [
        t
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "ref"
        for t in [g.find(f"{SVG}text").text]
    ] == ["140", "90"]
    values = [float(t) for t in texts(root, "y-axis")[:-1]]
    assert values[0] <= 90 and values[-1] >= 140
    assert texts(root, "y-axis")[-1] == "mmHg"


def test_one_point_is_a_marker_with_a_title():
    start = END - datetime.timedelta(days=30)
    one = {
        loinc.SYSTOLIC: [(END - datetime.timedelta(days=3), Decimal(152))],
        loinc.DIASTOLIC: [(END - datetime.timedelta(days=3), Decimal(96))],
    }
    root = parse(charts.bp_chart(one, start, END))
    circles = list(root.iter(f"{SVG}circle"))
    assert len(circles) == 2 and root.find(f".//{SVG}polyline") is None
    when = timezone.localtime(END - datetime.timedelta(days=3)).strftime("%Y-%m-%d %H:%M")
    assert circles[0].find(f"{SVG}title").text == f"Systolic {when}: 152 mmHg"
    desc = root.find(f"{SVG}desc").text
    assert "Systolic: 1 readings, 152 to 152 mmHg" in desc
    assert root.find(f".//{SVG}text[@class='empty']") is None
    # the marker lies inside the plot area
    x, y = float(circles[0].get("cx")), float(circles[0].get("cy"))
    assert charts.MARGIN_LEFT <= x <= charts.WIDTH - charts.MARGIN_RIGHT
    assert charts.MARGIN_TOP <= y <= charts.HEIGHT - charts.MARGIN_BOTTOM


def test_a_year_of_two_readings_a_day():
    start = END - datetime.timedelta(days=365)
    data = bp(730, 365)
    svg = charts.bp_chart(data, start, END)
    root = parse(svg)
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    assert len(lines[0].get("points").split()) == 600  # averaged into buckets beyond 600
    assert root.find(f".//{SVG}circle") is None  # too many for markers
    assert root.get("data-points") == "1200"
    # monthly date ticks, the first with its year
    ticks = texts(root, "x-axis")
    assert 11 <= len(ticks) <= 13
    assert re.fullmatch(r"\d{4}-\d{2}", ticks[0])
    assert len(svg) < 60_000


def test_ninety_days_has_fortnightly_ticks_and_markers():
    start = END - datetime.timedelta(days=90)
    root = parse(charts.bp_chart(bp(30, 80), start, END))
    ticks = texts(root, "x-axis")
    assert len(ticks) == 7 and all(re.fullmatch(r"\d{2}-\d{2}", t) for t in ticks)
    assert len(list(root.iter(f"{SVG}circle"))) == 60
    series = {g.get("class"): g.get("data-count") for g in root.iter(f"{SVG}g")}
    assert series["series series-systolic"] == "30"


def test_glucose_chart_reference_lines_and_escaping():
    start = END - datetime.timedelta(days=30)
    data = {loinc.GLUCOSE_FASTING: [(END - datetime.timedelta(days=1), Decimal("6.4"))]}
    root = parse(charts.glucose_chart(data, start, END))
    refs = [g.find(f"{SVG}text").text for g in root.iter(f"{SVG}g") if g.get("class") == "ref"]
    assert refs == ["7.0", "11.1"]
    svg = charts.line_chart(
        chart_id="c<1>",
        title='a "quoted" <title>',
        unit="u&v",
        series=[charts.Series("x", "<b>", [charts.Point(END, 1.0)])],
        start=start,
        end=END,
    )
    root = parse(svg)
    assert root.find(f"{SVG}title").text == 'a "quoted" <title>'
    assert "<b>" not in svg


def test_points_outside_the_window_are_left_out():
    start = END - datetime.timedelta(days=30)
    data = {loinc.SYSTOLIC: [(END - datetime.timedelta(days=40), Decimal(150))]}
    root = parse(charts.bp_chart(data, start, END))
    assert root.get("data-points") == "0"


def test_nice_steps():
    assert charts.nice_step(100) == 20
    assert charts.nice_step(12) == 2.5
    assert charts.nice_step(0.9) == 0.2
    assert charts.value_axis([6.1, 7.0, 11.1]) == (4, 12, 2)
    assert charts.value_axis([90, 140, 152]) == (80, 160, 20)
    assert charts.value_axis([5.0]) == (3.5, 6.5, 0.5)
