"""Home devices, their bindings to residents, the readings they send and what was refused
(ADR 0018, docs/device-protocol.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DeviceKind(models.TextChoices):
    BP_MONITOR = "bp_monitor", _("Blood-pressure monitor")
    GLUCOMETER = "glucometer", _("Glucometer")
    PULSE_OXIMETER = "pulse_oximeter", _("Pulse oximeter")
    THERMOMETER = "thermometer", _("Thermometer")
    SCALE = "scale", _("Scale")
    SMART_WATCH = "smart_watch", _("Smart watch")
    SOS_BUTTON = "sos_button", _("SOS button")
    FALL_SENSOR = "fall_sensor", _("Fall sensor")
    BED_SENSOR = "bed_sensor", _("Bed / presence sensor")


class DeviceStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("device status", "Active")
    INACTIVE = "inactive", _("In stock")
    RETIRED = "retired", pgettext_lazy("device status", "Retired")


class Device(models.Model):
    serial = models.CharField(_("serial"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=DeviceKind.choices)
    model = models.CharField(_("model"), max_length=100, blank=True)
    firmware = models.CharField(_("firmware"), max_length=50, blank=True)
    institution = models.ForeignKey(
        "network.Institution",
        on_delete=models.PROTECT,
        related_name="devices",
        verbose_name=_("owner institution"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeviceStatus.choices, default=DeviceStatus.ACTIVE
    )
    # The per-device secret, encrypted with the field key (yiyang.common.crypto): the
    # platform needs it in clear to check MQTT message signatures.
    secret = models.TextField(editable=False)
    secret_issued_at = models.DateTimeField(_("secret issued"))
    # The resident it is bound to now (denormalised from the open ``Binding``).
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="devices",
        verbose_name=_("resident"),
    )
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    last_seq = models.BigIntegerField(_("last sequence number"), null=True, blank=True)
    battery_pct = models.PositiveSmallIntegerField(_("battery (%)"), null=True, blank=True)
    # How often it should report; silence longer than this raises an alert (0: never).
    expected_interval_minutes = models.PositiveIntegerField(
        _("expected reporting interval (minutes)"), default=0
    )
    readings_count = models.PositiveBigIntegerField(_("readings"), default=0)
    rejected_count = models.PositiveBigIntegerField(_("rejected messages"), default=0)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)

    class Meta:
        ordering = ["serial"]
        verbose_name = _("device")

    def __str__(self) -> str:
        return self.serial


class Binding(models.Model):
    """A device bound to a resident for a while (history kept; at most one open)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="bindings")
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.CASCADE, related_name="device_bindings"
    )
    bound_at = models.DateTimeField(_("bound"))
    unbound_at = models.DateTimeField(_("unbound"), null=True, blank=True)
    bound_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    unbound_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-bound_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device"],
                condition=models.Q(unbound_at__isnull=True),
                name="device_one_open_binding",
            )
        ]


class Source(models.TextChoices):
    MQTT = "mqtt", "MQTT"
    HTTP = "http", "HTTP"


class Reading(models.Model):
    """One accepted message, stored once per (device, seq)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="readings")
    seq = models.BigIntegerField()
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.CASCADE, related_name="device_readings"
    )
    kind = models.CharField(max_length=10)
    measured_at = models.DateTimeField()
    values = models.JSONField(default=dict)
    source = models.CharField(max_length=4, choices=Source.choices)
    received_at = models.DateTimeField()
    panel = models.UUIDField(null=True, blank=True)  # the observations made from it

    class Meta:
        ordering = ["-measured_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["device", "seq"], name="reading_device_seq")]
        indexes = [models.Index(fields=["resident", "-measured_at"], name="reading_resident")]


class Quarantine(models.Model):
    """A refused message (or part of a batch) with its reason; never a reading."""

    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, null=True, blank=True, related_name="quarantined"
    )
    serial = models.CharField(max_length=64, blank=True)  # as claimed (topic or login)
    source = models.CharField(max_length=4, choices=Source.choices)
    code = models.CharField(max_length=20)
    detail = models.CharField(max_length=255)
    seq = models.BigIntegerField(null=True, blank=True)
    payload = models.TextField(blank=True)  # the message as received (first 4 KiB)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["-received_at"], name="quarantine_received"),
            models.Index(fields=["device", "-received_at"], name="quarantine_device"),
        ]
