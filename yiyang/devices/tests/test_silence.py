"""Silent devices: a device quiet for longer than its expected interval raises one alert
(per device) that a later reading does not close; only active, bound, watched devices."""

from __future__ import annotations

import datetime

from django.utils import timezone

from yiyang.common.permissions import Role
from yiyang.devices.models import (
    Alert,
    AlertRule,
    AlertState,
    Binding,
    Device,
    DeviceStatus,
    ResidentRule,
)
from yiyang.devices.services import alerts, timers
from yiyang.devices.services.ingest import process
from yiyang.devices.tests.conftest import _device, http, msg
from yiyang.testing.network import make_user

MIN = datetime.timedelta(minutes=1)


def watch(device: Device, minutes: int, *, seen_ago: int | None) -> None:
    now = timezone.now()
    Device.objects.filter(pk=device.pk).update(
        expected_interval_minutes=minutes,
        last_seen_at=None if seen_ago is None else now - seen_ago * MIN,
    )


def test_a_silent_device_raises_one_alert_that_a_reading_does_not_close(home):
    watch(home.device, 30, seen_ago=31)
    watch(home.other, 30, seen_ago=29)  # not yet
    [alert] = timers.check_silence()
    assert alert.device == home.device and alert.resident == home.resident
    assert alert.rule.code == "device_silent" and alert.severity == "warning"
    assert home.device.serial in alert.summary and "30 min" in alert.summary
    assert alert.events.filter(kind="opened").exists()
    assert timers.check_silence() == []  # still silent: no second alert
    # The device speaks again: the alert stays for a human to close.
    [out] = process([http(home.device, msg(1))])
    assert out.accepted == 1
    assert Alert.objects.get(pk=alert.pk).state == AlertState.OPEN
    # Handled and closed while the device is quiet again → a new alert next time.
    nurse = make_user(Role.NURSE, "all", username="nurse-all")
    alerts.handle(nurse, alert, outcome="phoned_fine")
    alerts.close(nurse, alert)
    Device.objects.filter(pk=home.device.pk).update(last_seen_at=timezone.now() - 45 * MIN)
    [again] = timers.check_silence()
    assert again.pk != alert.pk and again.device == home.device


def test_never_seen_counts_from_the_binding(home):
    watch(home.device, 60, seen_ago=None)
    assert timers.check_silence() == []  # bound just now
    Binding.objects.filter(device=home.device).update(bound_at=timezone.now() - 61 * MIN)
    [alert] = timers.check_silence()
    assert alert.device == home.device


def test_several_silent_devices_of_one_resident_are_one_alert_each(home):
    second = _device("BP-TEST-0009", home.device.institution, home.resident)
    watch(home.device, 10, seen_ago=11)
    watch(second, 5, seen_ago=6)
    opened = timers.check_silence()
    assert {a.device for a in opened} == {home.device, second}
    # And they do not block the reading alerts of the same resident.
    [out] = process([http(home.device, msg(1, "sos", {}))])
    assert Alert.objects.filter(resident=home.resident).count() == 3


def test_only_active_bound_watched_devices(home):
    watch(home.device, 0, seen_ago=10_000)  # not watched
    watch(home.loose, 10, seen_ago=60)  # not bound
    watch(home.other, 10, seen_ago=60)
    Device.objects.filter(pk=home.other.pk).update(status=DeviceStatus.RETIRED)
    assert timers.check_silence() == []
    # The rule switched off, or for one resident.
    Device.objects.filter(pk=home.other.pk).update(status=DeviceStatus.ACTIVE)
    ResidentRule.objects.create(
        resident=home.other.resident,
        rule=AlertRule.objects.get(code="device_silent"),
        disabled=True,
        reason="device kept in a drawer on purpose",
    )
    assert timers.check_silence() == []
    ResidentRule.objects.all().delete()
    AlertRule.objects.filter(code="device_silent").update(active=False)
    assert timers.check_silence() == []
    AlertRule.objects.filter(code="device_silent").update(active=True)
    assert len(timers.check_silence()) == 1
