"""Escalation until acknowledged (ADR 0020): the schedule as data, who each tier is, the
outbox, the event log, acknowledging stops it, overdue escalations after a restart run
once, and an SOS opens an emergency call."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.translation import gettext

from yiyang.audit.models import AuditEvent
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.devices.models import (
    Alert,
    AlertEvent,
    AlertState,
    EscalationStep,
    EventKind,
    Tier,
)
from yiyang.devices.services import alerts, escalation, timers
from yiyang.devices.services.ingest import process
from yiyang.devices.tests.conftest import events, http, msg, notified, send_ticked
from yiyang.network.models import DutyShift, Region
from yiyang.network.services import duty
from yiyang.notifications.models import Notification
from yiyang.testing.network import make_user

MIN = datetime.timedelta(minutes=1)


def test_the_default_schedule_is_data(db):
    got = {(s.severity, s.tier): s.after_minutes for s in EscalationStep.objects.all()}
    assert got == {
        ("critical", 1): Decimal("0"), ("critical", 2): Decimal("2"),
        ("critical", 3): Decimal("5"), ("urgent", 1): Decimal("0"),
        ("urgent", 2): Decimal("10"), ("urgent", 3): Decimal("30"),
        ("warning", 1): Decimal("0"), ("warning", 2): Decimal("60"), ("info", 1): Decimal("0"),
    }  # fmt: skip


def test_an_sos_escalates_tier_by_tier_until_acknowledged(
    world, django_capture_on_commit_callbacks
):
    w = world
    with django_capture_on_commit_callbacks(execute=True):
        send_ticked(w.home.device, msg(1, "sos", {}))
    alert = Alert.objects.get()
    # Tier 1 at once: the team's users (staff members and the team-scoped carer).
    assert notified(alert, 1) == {"team-nurse", "team-leader", "team-carer"}
    assert alert.escalation_level == 1
    assert alert.next_escalation_at == alert.opened_at + 2 * MIN
    assert events(alert) == [("opened", None), ("notified", 1)]
    row = Notification.objects.filter(recipient=w.nurse).get()
    assert row.state == "sent"  # delivered after the ingestion transaction committed
    assert row.link == f"/devices/alerts/{alert.pk}/"
    assert row.params["rule_code"] == "sos" and row.params["severity"] == "critical"
    assert row.params["resident"] == w.home.resident.name

    # Nothing more before the center's time.
    assert timers.run_due(alert.opened_at + 1 * MIN) == 0
    assert not notified(alert, 2)

    # Center tier: nobody on the roster → the township hospital's doctors (the team
    # leader by staff membership, the duty doctor by scope); the daughter has the right,
    # the son does not.
    assert timers.run_due(alert.opened_at + 2 * MIN) == 1
    assert notified(alert, 2) == {"team-leader", "duty-doctor", "daughter"}
    # The daughter follows her mother's alerts read-only: her notification opens the alert.
    told = Notification.objects.get(recipient=w.daughter)
    assert told.link == f"/devices/alerts/{alert.pk}/"
    alert.refresh_from_db()
    assert alert.escalation_level == 2
    assert alert.next_escalation_at == alert.opened_at + 5 * MIN
    assert alert.escalated_at == alert.opened_at + 2 * MIN
    assert timers.run_due(alert.opened_at + 3 * MIN) == 0

    # Acknowledged: escalation stops, the dispatcher is never called.
    alerts.acknowledge(w.nurse, alert)
    alert.refresh_from_db()
    assert alert.next_escalation_at is None
    assert timers.run_due(alert.opened_at + 60 * MIN) == 0
    assert not notified(alert, 3)
    assert events(alert) == [
        ("opened", None), ("notified", 1), ("notified", 2), ("acknowledged", None),
    ]  # fmt: skip
    ack = AlertEvent.objects.get(alert=alert, kind=EventKind.ACKNOWLEDGED)
    assert ack.actor == w.nurse
    assert AuditEvent.objects.filter(
        action="devices.alert.escalate", object_id=str(alert.pk), actor_id=None
    ).exists()


def test_the_duty_roster_decides_the_center_tier(world):
    w = world
    thc = w.team.node.medical_member
    now = timezone.now()
    duty.set_duty(
        w.manager, institution=thc, user=w.duty, starts_at=now - 60 * MIN,
        ends_at=now + 600 * MIN,
    )  # fmt: skip
    send_ticked(w.home.device, msg(1, "fall", {}))
    alert = Alert.objects.get()
    timers.run_due(alert.opened_at + 2 * MIN)
    assert notified(alert, 2) == {"duty-doctor", "daughter"}  # not the off-duty leader
    # The roster is checked: a doctor, a real shift, an institution in scope.
    with pytest.raises(ValidationFailed):
        duty.set_duty(w.manager, institution=thc, user=w.nurse, starts_at=now,
                            ends_at=now + MIN)  # fmt: skip
    with pytest.raises(ValidationFailed):
        duty.set_duty(w.manager, institution=thc, user=w.duty, starts_at=now,
                            ends_at=now)  # fmt: skip
    with pytest.raises(PermissionDenied):
        duty.set_duty(w.nurse, institution=thc, user=w.duty, starts_at=now,
                            ends_at=now + MIN)  # fmt: skip
    outsider = make_user(Role.INSTITUTION_ADMIN, Region.objects.get(code="411522000000"))
    with pytest.raises(NotFound):
        duty.set_duty(outsider, institution=thc, user=w.duty, starts_at=now,
                            ends_at=now + MIN)  # fmt: skip
    assert DutyShift.objects.count() == 1


def test_an_overdue_escalation_after_a_restart_runs_each_tier_once(world):
    w = world
    send_ticked(w.home.device, msg(1, "sos", {}))
    alert = Alert.objects.get()
    # The timer process was down for 10 minutes: both the center and the dispatcher are
    # overdue. The first run (a fresh process: the management command) catches up.
    Alert.objects.filter(pk=alert.pk).update(
        opened_at=alert.opened_at - 10 * MIN, next_escalation_at=alert.opened_at - 8 * MIN
    )
    call_command("alert_timers", "--once")
    alert.refresh_from_db()
    assert alert.escalation_level == 3 and alert.next_escalation_at is None
    assert notified(alert, 2) == {"team-leader", "duty-doctor", "daughter"}
    assert notified(alert, 3) == {"dispatch-a"}  # not county B's dispatcher
    count = Notification.objects.filter(ref=f"devices.alert:{alert.pk}").count()
    # A second run (another restart) notifies nobody again.
    call_command("alert_timers", "--once")
    assert timers.run_due(timezone.now() + 60 * MIN) == 0
    assert Notification.objects.filter(ref=f"devices.alert:{alert.pk}").count() == count
    assert [t for k, t in events(alert) if k == "notified"] == [1, 2, 3]


def test_a_tier_with_nobody_hands_over_to_the_next_at_once(home):
    # No grid: no team, so no station and no center; no family: the dispatcher at once.
    dispatcher = make_user(Role.DISPATCHER, "all", username="dispatch-all")
    send_ticked(home.device, msg(1, "sos", {}))
    alert = Alert.objects.get()
    assert alert.team is None
    assert notified(alert, 3) == {dispatcher.username}
    assert alert.escalation_level == 3 and alert.next_escalation_at is None
    nobody = AlertEvent.objects.filter(alert=alert, tier__in=[1, 2])
    assert [(e.tier, e.recipients) for e in nobody] == [(1, []), (2, [])]
    said = gettext("nobody to notify at this tier: the next tier is due now")
    assert all(e.detail == said for e in nobody)


def test_warning_and_info_schedules(world):
    w = world
    send_ticked(w.home.device, msg(1, "battery", {"pct": 10}))  # info: the station only
    info = Alert.objects.get()
    assert info.severity == "info" and info.next_escalation_at is None
    assert notified(info, 1) == {"team-nurse", "team-leader", "team-carer"}
    EscalationStep.objects.filter(severity="urgent", tier=2).update(after_minutes=Decimal("0.05"))
    send_ticked(w.home.device, msg(2, "glucose", {"mmol": 2.8, "context": "fasting"}))
    urgent = Alert.objects.get(rule__code="glucose_low")
    assert urgent.next_escalation_at == urgent.opened_at + datetime.timedelta(seconds=3)
    assert timers.run_due(urgent.opened_at + datetime.timedelta(seconds=3)) == 1
    urgent.refresh_from_db()
    assert urgent.escalation_level == 2
    assert urgent.next_escalation_at == urgent.opened_at + 30 * MIN


def test_handling_an_open_alert_stops_it_and_closing_is_logged(world):
    w = world
    send_ticked(w.home.device, msg(1, "sos", {}))
    alert = Alert.objects.get()
    alerts.handle(w.leader, alert, outcome="false_alarm")
    alerts.close(w.leader, alert)
    alert.refresh_from_db()
    assert alert.state == AlertState.CLOSED and alert.next_escalation_at is None
    assert events(alert)[-3:] == [("acknowledged", None), ("handled", None), ("closed", None)]
    assert timers.run_due(alert.opened_at + 60 * MIN) == 0


def test_schedules_are_validated_and_audited(world):
    assert escalation.check_schedule({1: 0, "2": "0.05", 3: 5.5}) == {
        1: Decimal("0"), 2: Decimal("0.05"), 3: Decimal("5.5"),
    }  # fmt: skip
    for bad in ({}, [], {4: 1}, {"x": 1}, {1: -1}, {1: True}, {1: "nan"}, {1: 0.001},
                {1: 10, 2: 5}, {1: None}):  # fmt: skip
        with pytest.raises(ValidationFailed):
            escalation.check_schedule(bad)
    policy = make_user(Role.SUPERVISOR, "all", username="policy")  # devices.alert_policy
    for refused in (world.nurse, world.manager):  # devices.manage is not enough
        with pytest.raises(PermissionDenied):
            escalation.set_schedule(refused, "critical", {1: 0})
    with pytest.raises(ValidationFailed):
        escalation.set_schedule(policy, "severe", {1: 0})
    escalation.set_schedule(policy, "critical", {1: 0, 3: 1})
    assert list(
        EscalationStep.objects.filter(severity="critical").values_list("tier", "after_minutes")
    ) == [(1, Decimal("0")), (3, Decimal("1"))]
    assert AuditEvent.objects.filter(action="devices.escalation.set").count() == 1
    # Tier 2 skipped: after tier 1 the dispatcher, a minute after opening.
    send_ticked(world.home.device, msg(1, "sos", {}))
    alert = Alert.objects.get()
    assert alert.next_escalation_at == alert.opened_at + MIN
    timers.run_due(alert.opened_at + MIN)
    assert notified(alert, 3) == {"dispatch-a"} and not notified(alert, 2)


def test_tiers_are_ordered():
    assert [t.value for t in Tier] == [1, 2, 3]


def test_ingestion_only_makes_the_first_tier_due(world):
    """The ingestion transaction logs the new alert and makes tier 1 due at once; the
    alert timers notify it (within a second in production) once that has committed."""
    [out] = process([http(world.home.device, msg(1, "sos", {}))])
    assert out.accepted == 1
    alert = Alert.objects.get()
    assert (alert.escalation_level, alert.next_escalation_at) == (0, alert.opened_at)
    assert events(alert) == [("opened", None)]
    assert not Notification.objects.exists()

    assert timers.run_due(timezone.now()) == 1

    assert notified(alert, 1) == {"team-nurse", "team-leader", "team-carer"}
    alert.refresh_from_db()
    assert alert.escalation_level == 1
