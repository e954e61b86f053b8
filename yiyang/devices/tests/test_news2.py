"""NEWS2 over the device parameters: every band edge, the lower-bound score, and the
``news2`` rule over a window of readings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yiyang.devices import news2
from yiyang.devices.models import Alert, AlertRule, ResidentRule
from yiyang.devices.services.ingest import process
from yiyang.devices.tests.conftest import http, msg, ts

EDGES = [
    # SpO2 scale 1: ≤ 91 → 3, 92–93 → 2, 94–95 → 1, ≥ 96 → 0.
    ("spo2", 80, 3), ("spo2", 91, 3), ("spo2", "91.9", 3), ("spo2", 92, 2), ("spo2", 93, 2),
    ("spo2", "93.5", 2), ("spo2", 94, 1), ("spo2", 95, 1), ("spo2", 96, 0), ("spo2", 100, 0),
    # Systolic: ≤ 90 → 3, 91–100 → 2, 101–110 → 1, 111–219 → 0, ≥ 220 → 3.
    ("sbp", 70, 3), ("sbp", 90, 3), ("sbp", "90.5", 3), ("sbp", 91, 2), ("sbp", 100, 2),
    ("sbp", 101, 1), ("sbp", 110, 1), ("sbp", 111, 0), ("sbp", 219, 0), ("sbp", "219.5", 3),
    ("sbp", 220, 3), ("sbp", 260, 3),
    # Pulse: ≤ 40 → 3, 41–50 → 1, 51–90 → 0, 91–110 → 1, 111–130 → 2, ≥ 131 → 3.
    ("pulse", 30, 3), ("pulse", 40, 3), ("pulse", 41, 1), ("pulse", 50, 1), ("pulse", 51, 0),
    ("pulse", 90, 0), ("pulse", "90.5", 1), ("pulse", 91, 1), ("pulse", 110, 1),
    ("pulse", 111, 2), ("pulse", 130, 2), ("pulse", "130.5", 3), ("pulse", 131, 3),
    # Temperature: ≤ 35.0 → 3, 35.1–36.0 → 1, 36.1–38.0 → 0, 38.1–39.0 → 1, ≥ 39.1 → 2.
    ("temp", "34.0", 3), ("temp", "35.0", 3), ("temp", "35.05", 1), ("temp", "35.1", 1),
    ("temp", "36.0", 1), ("temp", "36.1", 0), ("temp", "38.0", 0), ("temp", "38.1", 1),
    ("temp", "39.0", 1), ("temp", "39.05", 2), ("temp", "39.1", 2), ("temp", "41.0", 2),
]  # fmt: skip


@pytest.mark.parametrize(("parameter", "value", "expected"), EDGES)
def test_every_band_edge(parameter, value, expected):
    assert news2.points(parameter, value) == expected
    assert news2.points(parameter, Decimal(str(value))) == expected


def test_bad_input():
    with pytest.raises(ValueError, match="respiration"):
        news2.points("respiration", 20)
    for bad in ("NaN", "x", "Infinity", True):
        with pytest.raises(ValueError, match="not a number"):
            news2.points("spo2", bad)


def test_the_standards_worked_example_without_respiration():
    # standards.md §7: RR 22 (2), SpO2 93 (2), SBP 98 (2), HR 112 (2), alert (0),
    # T 38.4 (1) → 9, high. Without the respiration rate devices see 7: still "high".
    score = news2.score({"spo2": 93, "sbp": 98, "pulse": 112, "temp": "38.4"})
    assert score.total == 7 and score.band == "high"
    assert score.parts == {"spo2": 2, "sbp": 2, "pulse": 2, "temp": 1}
    assert "not measured" in score.describe()


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ({"spo2": 97, "sbp": 130, "pulse": 70, "temp": "36.8"}, 0, "low"),
        ({"spo2": 91, "sbp": 130}, 3, "low-medium"),
        ({"spo2": 94, "pulse": 95, "temp": "38.5"}, 3, "low"),
        ({"spo2": 92, "sbp": 95, "pulse": 100}, 5, "medium"),
        ({"spo2": 93, "sbp": 95, "pulse": 115}, 6, "medium"),
        ({}, 0, "low"),
    ],
)
def test_aggregate_bands(values, total, band):
    score = news2.score(values)
    assert (score.total, score.band) == (total, band)


def send(device, *messages):
    [out] = process([http(device, list(messages))])
    assert not out.rejected, out.rejected


def test_the_news2_rule_scores_the_latest_vitals_of_the_window(home):
    rule = AlertRule.objects.get(code="news2")
    assert rule.window_minutes == 60 and rule.unverified and rule.severity == "urgent"
    # SpO2 93 (2) with pulse 112 (2), SBP 98 (2): 6 ≥ 5, while no single-parameter rule
    # fires. The BP was 30 minutes earlier: inside the window.
    send(
        home.device,
        {"seq": 1, "ts": ts(30), "kind": "bp", "values": {"sys": 98, "dia": 60}},
        msg(2, "spo2", {"spo2": 93, "hr": 112}),
    )
    alert = Alert.objects.get()
    assert alert.rule == rule and alert.severity == "urgent"
    assert alert.summary.startswith("NEWS2 ≥ 6")
    assert sorted(alert.readings.values_list("seq", flat=True)) == [1, 2]
    assert alert.events.filter(kind="opened").exists()  # escalating like any other
    # The next reading of the window folds into it.
    send(home.device, msg(3, "temp", {"c": 38.5}))
    alert.refresh_from_db()
    assert alert.count == 2 and Alert.objects.count() == 1


def test_readings_outside_the_window_do_not_count(home):
    send(
        home.device,
        {"seq": 1, "ts": ts(90), "kind": "bp", "values": {"sys": 98, "dia": 60}},
        msg(2, "spo2", {"spo2": 93, "hr": 112}),
    )
    # 2 + 2 (the BP is 90 minutes older than the SpO2): below 5.
    assert not Alert.objects.exists()


def test_only_the_latest_value_of_a_parameter_counts(home):
    send(
        home.device,
        {"seq": 1, "ts": ts(20), "kind": "spo2", "values": {"spo2": 92, "hr": 125}},
        {"seq": 2, "ts": ts(10), "kind": "spo2", "values": {"spo2": 97, "hr": 75}},
        msg(3, "bp", {"sys": 98, "dia": 60}),
    )
    # Latest of each kind: SpO2 97 (0), pulse 75 (0), SBP 98 (2) → 2: nothing.
    assert not Alert.objects.exists()


def test_a_residents_own_news2_threshold(home):
    ResidentRule.objects.create(
        resident=home.resident,
        rule=AlertRule.objects.get(code="news2"),
        conditions=[{"metric": "news2.total", "op": "ge", "value": 3}],
        reason="frail, lower trigger",
    )
    send(home.device, msg(1, "spo2", {"spo2": 94, "hr": 95}), msg(2, "temp", {"c": 38.5}))
    assert Alert.objects.get().rule.code == "news2"
    send(home.other, msg(1, "spo2", {"spo2": 94, "hr": 95}), msg(2, "temp", {"c": 38.5}))
    assert Alert.objects.count() == 1  # the other resident keeps ≥ 5


def test_normal_vitals_are_not_rescored(home):
    """Readings whose parameters all score 0 cannot raise the sum: the window is not
    queried for them, and they do not fold into a live NEWS2 alert as new triggers."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    send(
        home.device,
        {"seq": 1, "ts": ts(30), "kind": "bp", "values": {"sys": 98, "dia": 60}},
        msg(2, "spo2", {"spo2": 93, "hr": 112}),
    )
    alert = Alert.objects.get(rule__code="news2")
    with CaptureQueriesContext(connection) as normal:
        send(home.device, msg(3, "spo2", {"spo2": 97, "hr": 75}), msg(4, "temp", {"c": 36.8}))
    assert not any("latest_spo2" in q["sql"] for q in normal.captured_queries)
    alert.refresh_from_db()
    assert alert.count == 1
    with CaptureQueriesContext(connection) as abnormal:
        send(home.device, msg(5, "spo2", {"spo2": 93, "hr": 112}))
    assert any("latest_spo2" in q["sql"] for q in abnormal.captured_queries)
    alert.refresh_from_db()
    assert alert.count == 2
