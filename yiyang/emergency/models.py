"""Emergency calls (ADR 0022): a call from an SOS or fall device (opened by the alert
engine) or logged by a dispatcher from a phone call, the steps taken and its outcome — a
closed-loop record linked to its alert.

The caller's phone is encrypted at rest and found through a keyed hash (ADR 0003), like
the residents' phones. Writes go through ``services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiyang.common.crypto import mask_phone
from yiyang.common.fields import EncryptedCharField


class CallSource(models.TextChoices):
    SOS_DEVICE = "sos_device", _("SOS or fall device")
    PHONE = "phone", pgettext_lazy("emergency call source", "Phone call")
    ALERT = "alert", _("Opened from an alert")


class CallState(models.TextChoices):
    OPEN = "open", pgettext_lazy("emergency call", "Open")
    CLOSED = "closed", pgettext_lazy("emergency call", "Closed")


class CallOutcome(models.TextChoices):
    FALSE_ALARM = "false_alarm", _("False alarm")
    RESOLVED_BY_PHONE = "resolved_by_phone", _("Resolved by phone")
    TEAM_VISIT = "team_visit", _("Team visited")
    AMBULANCE_120 = "ambulance_120", _("Ambulance (120)")
    HOSPITAL_TRANSFER = "hospital_transfer", _("Transferred to hospital")
    DIED = "died", _("Died")
    OTHER = "other", _("Other")


class StepKind(models.TextChoices):
    CALLED_BACK = "called_back", _("Called back")
    TEAM_SENT = "team_sent", _("Team sent")
    AMBULANCE_120_CALLED = "ambulance_120_called", _("120 called")
    FAMILY_INFORMED = "family_informed", _("Family informed")
    NOTE = "note", pgettext_lazy("call step", "Note")


class EmergencyCall(models.Model):
    source = models.CharField(_("source"), max_length=12, choices=CallSource.choices)
    state = models.CharField(
        _("state"), max_length=6, choices=CallState.choices, default=CallState.OPEN
    )
    caller_phone = EncryptedCharField(_("caller's phone"), blank=True)
    caller_phone_index = models.CharField(max_length=64, blank=True, editable=False)
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="emergency_calls",
        verbose_name=_("resident"),
    )
    # One call per alert: a nullable one-to-one is unique when set.
    alert = models.OneToOneField(
        "devices.Alert",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emergency_call",
        verbose_name=_("alert"),
    )
    opened_at = models.DateTimeField(_("opened"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    taken_at = models.DateTimeField(_("taken"), null=True, blank=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallOutcome.choices, blank=True)
    outcome_note = models.TextField(_("outcome note"), blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("emergency call")
        verbose_name_plural = _("emergency calls")
        indexes = [
            models.Index(fields=["state", "-opened_at"], name="call_state_opened"),
            models.Index(fields=["caller_phone_index"], name="call_phone_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state="open", closed_at__isnull=True, outcome="")
                | (models.Q(state="closed", closed_at__isnull=False) & ~models.Q(outcome="")),
                name="call_closed_iff_outcome",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def caller_phone_masked(self) -> str:
        return mask_phone(self.caller_phone) if self.caller_phone else ""


class CallStep(models.Model):
    """One thing done during a call (called back, team sent, 120 called, …)."""

    call = models.ForeignKey(EmergencyCall, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("step"), max_length=24, choices=StepKind.choices)
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.TextField(pgettext_lazy("call step", "note"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("call step")
        verbose_name_plural = _("call steps")

    def __str__(self) -> str:
        return f"{self.kind} #{self.call_id}"
