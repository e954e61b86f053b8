"""Home devices, their bindings to residents, the readings they send and what was refused
(ADR 0018, docs/device-protocol.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiyang.devices.kinds import DeviceKind
from yiyang.devices.summaries import render


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

    # No single-column indexes on the foreign keys: "reading_device_seq" (device, seq) and
    # "reading_resident" (resident, measured_at) serve their lookups, and every index costs
    # each insert (thousands a second).
    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="readings", db_index=False
    )
    seq = models.BigIntegerField()
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.CASCADE,
        related_name="device_readings",
        db_index=False,
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


# --- alerts (ADR 0019) --------------------------------------------------------------------


class Severity(models.TextChoices):
    """In escalation order, most urgent first."""

    CRITICAL = "critical", _("Critical")
    URGENT = "urgent", _("Urgent")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Information")


SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.URGENT: 1, Severity.WARNING: 2, Severity.INFO: 3}


class AlertRule(models.Model):
    """A rule as data. ``conditions`` is a list of ``{"metric", "op", "value"}`` of which
    ANY must hold (e.g. SBP ≥ 180 or DBP ≥ 110); an ``event`` rule fires on a reading kind
    (``sos``, ``fall``). Metrics: ``bp.sys``, ``bp.dia``, ``hr`` (any heart rate),
    ``glucose.mmol``, ``spo2.spo2``, ``temp.c``, ``weight.kg``, ``battery.pct``.
    Residents may have their own conditions (``ResidentRule``)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    event = models.CharField(_("event kind"), max_length=10, blank=True)  # sos | fall
    conditions = models.JSONField(
        pgettext_lazy("alert rule", "conditions"), default=list, blank=True
    )
    suggests_referral = models.BooleanField(_("suggests referral"), default=False)
    source = models.CharField(_("source"), max_length=255, blank=True)
    unverified = models.BooleanField(_("unverified"), default=False)
    # A rule over a window of readings (NEWS2, ``news2.*`` metrics): the vitals measured
    # within this many minutes before the newest reading count together (0: per reading).
    window_minutes = models.PositiveIntegerField(_("window (minutes)"), default=0)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("alert rule")

    def __str__(self) -> str:
        return self.code


class ResidentRule(models.Model):
    """A resident's own version of a rule (e.g. a COPD patient's SpO2 target), or the rule
    switched off for her."""

    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.CASCADE, related_name="alert_rules"
    )
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="overrides")
    conditions = models.JSONField(
        pgettext_lazy("alert rule", "conditions"), default=list, blank=True
    )
    disabled = models.BooleanField(_("switched off"), default=False)
    reason = models.CharField(_("reason"), max_length=255)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resident", "rule"], name="resident_rule_once")
        ]


class AlertState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    HANDLED = "handled", _("Handled")
    CLOSED = "closed", _("Closed")


class Outcome(models.TextChoices):
    FALSE_ALARM = "false_alarm", _("False alarm")
    PHONED_FINE = "phoned_fine", _("Phoned, fine")
    HOME_VISIT = "home_visit", _("Home visit arranged")
    REFERRED = "referred", _("Referred")
    EMERGENCY = "emergency", _("Emergency services called")


class Alert(models.Model):
    """One alert of a resident by one rule; while it is open or acknowledged, new triggers
    of the same rule fold into it (``count``)."""

    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.CASCADE, related_name="alerts"
    )
    rule = models.ForeignKey(AlertRule, on_delete=models.PROTECT, related_name="alerts")
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    state = models.CharField(
        _("state"), max_length=12, choices=AlertState.choices, default=AlertState.OPEN
    )
    team = models.ForeignKey(
        "network.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("responsible team"),
    )
    # The summary's facts (the triggering reading's kind and values, or the silent
    # device): rendered in the reader's language by ``summary_text``. ``summary`` is the
    # English rendering, kept for logs, audit details and alerts without facts.
    summary = models.CharField(_("summary"), max_length=255)
    facts = models.JSONField(_("facts"), default=dict, blank=True)
    count = models.PositiveIntegerField(_("triggers"), default=1)
    opened_at = models.DateTimeField(_("opened"))
    last_triggered_at = models.DateTimeField(_("last triggered"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    readings = models.ManyToManyField(Reading, related_name="alerts", blank=True)
    # The device the alert is about (a silent device); readings' alerts leave it empty —
    # their readings name their devices.
    device = models.ForeignKey(
        Device,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("device"),
    )
    # Escalation (ADR 0020): the highest tier notified so far (0: none yet; 1 station,
    # 2 center and family, 3 dispatcher), when the next tier is due (None: nothing due —
    # acknowledged, or the last tier reached) and when the last tier was notified.
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    next_escalation_at = models.DateTimeField(
        _("next escalation"), null=True, blank=True, db_index=True
    )
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("alert")
        constraints = [
            # At most one live alert per resident and rule: the fold target. Alerts about
            # one device (a silent device) are one live alert per device instead.
            models.UniqueConstraint(
                fields=["resident", "rule"],
                condition=models.Q(state__in=["open", "acknowledged"], device__isnull=True),
                name="alert_one_live_per_rule",
            ),
            models.UniqueConstraint(
                fields=["resident", "rule", "device"],
                condition=models.Q(state__in=["open", "acknowledged"], device__isnull=False),
                name="alert_one_live_per_device",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "-opened_at"], name="alert_state_opened"),
            models.Index(fields=["team", "state"], name="alert_team_state"),
        ]

    def __str__(self) -> str:
        return f"{self.rule.code} {self.resident_id}"

    @property
    def summary_text(self) -> str:
        """The summary in the active language (``summaries.render`` of the facts), or the
        stored English text for an alert without facts."""
        return render(self.facts) or self.summary


# --- escalation (ADR 0020) ----------------------------------------------------------------


class Tier(models.IntegerChoices):
    """Who is notified, in escalation order."""

    STATION = 1, _("Station staff")
    CENTER = 2, _("Center duty doctor and family")
    DISPATCHER = 3, _("Dispatcher")


class EscalationStep(models.Model):
    """One step of a severity's escalation schedule: ``tier`` is notified ``after_minutes``
    after the alert opened unless someone acknowledged it first. A severity without a step
    for a tier skips that tier."""

    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices)
    after_minutes = models.DecimalField(_("after (minutes)"), max_digits=8, decimal_places=2)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["severity", "tier"]
        verbose_name = _("escalation step")
        constraints = [
            models.UniqueConstraint(fields=["severity", "tier"], name="escalation_step_once"),
            models.CheckConstraint(
                condition=models.Q(after_minutes__gte=0), name="escalation_step_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(tier__gte=1, tier__lte=3), name="escalation_step_tier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.severity} {self.tier} +{self.after_minutes} min"


class EventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    NOTIFIED = "notified", _("Notified")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    HANDLED = "handled", _("Handled")
    CLOSED = "closed", _("Closed")


class AlertEvent(models.Model):
    """What happened to an alert, in order: opened, each tier notified (whom), then what
    people did. ``actor`` is None for the system (the escalation timer)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("kind"), max_length=12, choices=EventKind.choices)
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices, null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    # The users notified (ids), for a ``notified`` event.
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("alert event")
        indexes = [models.Index(fields=["alert", "at"], name="alert_event_alert_at")]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.kind} {self.tier or ''}".strip()
