"""New SOS and fall alerts open their emergency calls through the devices hook
``ALARM_ALERTS_OPENED`` (subscribed in ``yiyang.emergency.plugin``), inside the ingestion
transaction; a failure there is logged and rolled back to its savepoint, never losing the
alert."""

from __future__ import annotations

import logging

from yiyang.audit.models import AuditEvent
from yiyang.devices.events import ALARM_ALERTS_OPENED
from yiyang.devices.models import Alert, AlertEvent, AlertState
from yiyang.emergency import plugin, services
from yiyang.emergency.models import CallSource, CallState, EmergencyCall


def test_the_emergency_app_subscribes_to_the_alarm_hook():
    assert plugin.open_calls in ALARM_ALERTS_OPENED.handlers()


def test_an_sos_opens_an_emergency_call(scene):
    # Moved from yiyang/devices/tests/test_escalation.py (devices no longer knows of calls).
    scene.send(scene.sos, "sos")
    scene.send(scene.meter, "glucose", {"mmol": 2.8, "context": "fasting"})
    call = EmergencyCall.objects.get()
    assert call.alert == Alert.objects.get(rule__code="sos")
    assert (call.source, call.state, call.resident, call.opened_by) == (
        CallSource.SOS_DEVICE,
        CallState.OPEN,
        scene.resident,
        None,
    )
    assert AuditEvent.objects.filter(action="emergency.call.open").count() == 1


def test_a_fall_opens_one_too(scene):
    scene.send(scene.sos, "fall")
    assert EmergencyCall.objects.get().alert == Alert.objects.get(rule__code="fall")


def test_a_failing_call_opening_never_loses_the_sos(scene, monkeypatch, caplog):
    real = services.open_from_alerts

    def opens_then_fails(alerts):
        real(alerts)  # writes the call and its audit row …
        assert EmergencyCall.objects.exists()
        raise RuntimeError("the call could not be opened")  # … rolled back to the savepoint

    monkeypatch.setattr(services, "open_from_alerts", opens_then_fails)
    caplog.set_level(logging.ERROR, logger="yiyang.common.events")
    scene.send(scene.sos, "sos")  # accepted

    alert = Alert.objects.get(rule__code="sos")
    assert alert.state == AlertState.OPEN and alert.next_escalation_at == alert.opened_at
    assert list(AlertEvent.objects.filter(alert=alert).values_list("kind", flat=True)) == ["opened"]
    assert alert.readings.get().kind == "sos"
    assert not EmergencyCall.objects.exists()
    assert not AuditEvent.objects.filter(action="emergency.call.open").exists()
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        (
            "yiyang.common.events",
            "event devices.alarm_alerts_opened: handler yiyang.emergency.plugin.open_calls "
            f"failed (AlarmAlertsOpened(alerts=[{alert.pk}]))",
        )
    ]
    assert str(caplog.records[0].exc_info[1]) == "the call could not be opened"

    # Opened later (the dispatcher's "Emergency call" on the alert does this).
    monkeypatch.undo()
    [call] = services.open_from_alerts([alert])
    assert call.alert == alert
