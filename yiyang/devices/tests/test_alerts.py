"""Alerts: the default rules fire on the readings they should, fold while live, follow
the resident's own thresholds, land on the responsible team; the state machine."""

from __future__ import annotations

import pytest
from django.utils import timezone

from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.devices.conditions import check_conditions
from yiyang.devices.models import Alert, AlertRule, AlertState, Reading, ResidentRule
from yiyang.devices.services import alerts
from yiyang.devices.services.ingest import process
from yiyang.devices.tests.conftest import http, msg, send
from yiyang.testing.network import make_user


def codes(resident) -> dict[str, int]:
    return {a.rule.code: a.count for a in Alert.objects.filter(resident=resident)}


@pytest.mark.parametrize(
    ("kind", "values", "rule"),
    [
        ("bp", {"sys": 186, "dia": 100}, "bp_high"),
        ("bp", {"sys": 150, "dia": 112}, "bp_high"),
        ("bp", {"sys": 88, "dia": 60}, "bp_low"),
        ("glucose", {"mmol": 2.8, "context": "fasting"}, "glucose_low"),
        ("glucose", {"mmol": 3.9, "context": "random"}, "glucose_low"),
        ("glucose", {"mmol": 16.7, "context": "random"}, "glucose_high"),
        ("spo2", {"spo2": 91}, "spo2_low"),
        ("spo2", {"spo2": 95, "hr": 135}, "hr_extreme"),
        ("hr", {"hr": 38}, "hr_extreme"),
        ("temp", {"c": 39.1}, "temp_extreme"),
        ("temp", {"c": 34.8}, "temp_extreme"),
        ("battery", {"pct": 12}, "battery_low"),
        ("sos", {}, "sos"),
        ("fall", {}, "fall"),
    ],
)
def test_default_rules_fire(home, kind, values, rule):
    send(home.device, msg(1, kind, values))
    assert codes(home.resident) == {rule: 1}
    alert = Alert.objects.get()
    assert alert.severity == AlertRule.objects.get(code=rule).severity
    assert list(alert.readings.all()) == list(Reading.objects.all())
    assert alert.state == AlertState.OPEN and alert.summary


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("bp", {"sys": 179, "dia": 109, "hr": 80}),
        ("glucose", {"mmol": 4.0, "context": "fasting"}),
        ("glucose", {"mmol": 16.6, "context": "random"}),
        ("spo2", {"spo2": 92, "hr": 130}),
        ("temp", {"c": 39.0}),
        ("battery", {"pct": 16}),
        ("weight", {"kg": 60}),
    ],
)
def test_normal_readings_raise_nothing(home, kind, values):
    send(home.device, msg(1, kind, values))
    assert not Alert.objects.exists()


def test_duplicates_fold_into_the_live_alert_until_it_is_handled(home):
    send(home.device, msg(1, "glucose", {"mmol": 2.8, "context": "fasting"}))
    send(
        home.device,
        msg(2, "glucose", {"mmol": 3.1, "context": "random"}),
        msg(3, "glucose", {"mmol": 3.0, "context": "random"}),
    )
    alert = Alert.objects.get()
    assert alert.count == 3 and alert.readings.count() == 3
    assert "3" in alert.summary
    nurse = make_user(Role.NURSE, "all", username="nurse-all")
    alerts.acknowledge(nurse, alert)
    send(home.device, msg(4, "glucose", {"mmol": 2.9, "context": "random"}))
    assert Alert.objects.get().count == 4  # acknowledged still folds
    alerts.handle(nurse, alert, outcome="phoned_fine", note="ate late")
    send(home.device, msg(5, "glucose", {"mmol": 2.7, "context": "random"}))
    assert Alert.objects.count() == 2  # a new one once the last was handled
    # A redelivered reading does not count twice.
    send(home.device, msg(5, "glucose", {"mmol": 2.7, "context": "random"}))
    assert Alert.objects.order_by("-id").first().count == 1


def test_a_residents_own_threshold(home):
    rule = AlertRule.objects.get(code="spo2_low")
    ResidentRule.objects.create(
        resident=home.resident,
        rule=rule,
        conditions=[{"metric": "spo2.spo2", "op": "le", "value": 87}],
        reason="COPD: target 88–92 %",
    )
    send(home.device, msg(1, "spo2", {"spo2": 89}))
    assert not Alert.objects.exists()
    send(home.device, msg(2, "spo2", {"spo2": 86}))
    assert codes(home.resident) == {"spo2_low": 1}
    # The other resident keeps the default.
    send(home.other, msg(1, "spo2", {"spo2": 89}))
    assert Alert.objects.filter(resident=home.other.resident).count() == 1
    ResidentRule.objects.filter(resident=home.resident).update(disabled=True)
    Alert.objects.all().delete()
    send(home.device, msg(3, "spo2", {"spo2": 80}))
    assert not Alert.objects.filter(resident=home.resident).exists()


def test_the_alert_goes_to_the_team_serving_her_grid(home):
    from yiyang.network.models import Grid, Team

    grid = Grid.objects.first()
    team = Team.objects.filter(grids=grid).order_by("pk").first()
    home.resident.grid = grid
    home.resident.save(update_fields=["grid"])
    send(home.device, msg(1, "sos", {}))
    assert Alert.objects.get().team == team
    send(home.other, msg(1, "sos", {}))  # no grid: no team yet
    assert Alert.objects.get(resident=home.other.resident).team is None


def test_state_machine_permissions_and_scope(home):
    send(home.device, msg(1, "fall", {}))
    alert = Alert.objects.get()
    carer = make_user(Role.CAREGIVER, "all", username="carer-all")
    with pytest.raises(ValidationFailed):
        alerts.close(carer, alert)  # not handled yet
    with pytest.raises(ValidationFailed) as exc:
        alerts.handle(carer, alert, outcome="nothing")
    assert exc.value.field == "outcome"
    alerts.handle(carer, alert, outcome="home_visit")
    alert.refresh_from_db()
    assert alert.state == AlertState.HANDLED and alert.acknowledged_by == carer
    with pytest.raises(ValidationFailed):
        alerts.acknowledge(carer, alert)
    alerts.close(carer, alert)
    assert Alert.objects.get().state == AlertState.CLOSED
    send(home.device, msg(2, "fall", {}))
    fresh = Alert.objects.get(state=AlertState.OPEN)
    outsider = make_user(Role.NURSE, home_county_b(), username="nurse-b")
    with pytest.raises(NotFound):
        alerts.acknowledge(outsider, fresh)
    supervisor = make_user(Role.SUPERVISOR, "all", username="sup")
    with pytest.raises(PermissionDenied):
        alerts.acknowledge(supervisor, fresh)
    assert Alert.objects.get(pk=fresh.pk).state == AlertState.OPEN


def home_county_b():
    from yiyang.network.models import Region

    return Region.objects.get(code="411522000000")


def test_conditions_are_checked(db):
    assert check_conditions([{"metric": "hr", "op": "ge", "value": 120}])
    for bad in ("x", [{"metric": "hr"}], [{"metric": "pulse", "op": "ge", "value": 1}],
                [{"metric": "hr", "op": "eq", "value": 1}],
                [{"metric": "hr", "op": "ge", "value": True}]):  # fmt: skip
        with pytest.raises(ValidationFailed):
            check_conditions(bad)
    assert timezone.now()


def test_evaluation_costs_the_same_queries_for_a_small_and_a_large_batch(home, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    real = alerts.evaluate
    counts: list[int] = []

    def counted(readings):
        with CaptureQueriesContext(connection) as ctx:
            opened = real(readings)
        counts.append(len(ctx.captured_queries))
        return opened

    monkeypatch.setattr(alerts, "evaluate", counted)

    def batch(first_seq: int, size: int) -> None:
        body = []
        for i in range(size):
            seq = first_seq + i
            body.append(msg(seq, "spo2", {"spo2": 93, "hr": 112}) if i % 3 == 0 else
                        msg(seq, "bp", {"sys": 98, "dia": 60, "hr": 115}) if i % 3 == 1 else
                        msg(seq, "temp", {"c": 34.8}))  # fmt: skip
        outs = process([http(home.device, body), http(home.other, body)])
        assert all(o.accepted == size for o in outs)

    batch(1, 3)
    opened = set(Alert.objects.values_list("resident_id", "rule__code"))
    assert {code for _, code in opened} == {"temp_extreme", "news2"}
    Alert.objects.all().delete()
    batch(100, 60)
    assert set(Alert.objects.values_list("resident_id", "rule__code")) == opened
    small, large = counts
    assert large == small
