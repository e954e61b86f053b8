"""Instrument definitions stored as versioned data (see docs/adr/0015)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class InstrumentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class InstrumentVersion(models.Model):
    """One version of an instrument. Never edited in place: a changed definition is a new
    row with a new ``version``; results keep the version they were scored with."""

    code = models.CharField(max_length=64)
    version = models.CharField(max_length=32)
    name_zh = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    source_document = models.CharField(max_length=300)
    source_edition = models.CharField(max_length=100)
    definition = models.JSONField()
    unverified = models.JSONField(default=list, blank=True)  # the [U] rules, with notes
    status = models.CharField(
        max_length=16, choices=InstrumentStatus.choices, default=InstrumentStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="instrument_code_version")
        ]
        ordering = ["code", "id"]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


# --- assessment sessions (ADR 0017) -----------------------------------------------------


class Reason(models.TextChoices):
    """Why an assessment is done (GB/T 42195-2022 §5 [C])."""

    FIRST = "first", _("First assessment")
    ROUTINE = "routine", _("Routine re-assessment")
    IMMEDIATE = "immediate", _("Immediate (condition changed)")
    DISPUTE = "dispute", _("Re-check on dispute")
    OTHER = "other", _("Other")


class Place(models.TextChoices):
    HOME = "home", pgettext_lazy("place", "Home")
    STATION = "station", _("Village station")
    CENTER = "center", _("Township center")
    INSTITUTION = "institution", _("Care institution")
    HOSPITAL = "hospital", _("Hospital")
    OTHER = "other", _("Other")


class SessionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_SIGNOFF = "pending_signoff", _("Awaiting second assessor")
    FINAL = "final", _("Submitted")
    SUPERSEDED = "superseded", _("Superseded")
    DISCARDED = "discarded", _("Discarded draft")


class Assessment(models.Model):
    """One assessment session of a resident with one instrument version.

    A draft holds partial answers and can be resumed; submitting scores it with the
    engine (all or nothing). A submitted session is immutable (``save`` refuses to change
    its answers or result); a correction is a new session that ``supersedes`` it, with a
    reason, and when that one is final the old one becomes ``superseded``."""

    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, related_name="assessments"
    )
    instrument = models.ForeignKey(
        InstrumentVersion, on_delete=models.PROTECT, related_name="assessments"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    reason_note = models.CharField(_("reason details"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=SessionStatus.choices, default=SessionStatus.DRAFT
    )
    assessed_on = models.DateField(_("assessment date"))
    place = models.CharField(_("place"), max_length=16, choices=Place.choices)
    place_note = models.CharField(_("place details"), max_length=255, blank=True)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assessments_made",
        verbose_name=_("assessor"),
    )
    second_assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assessments_cosigned",
        null=True,
        blank=True,
        verbose_name=_("second assessor"),
    )
    second_signed_at = models.DateTimeField(_("second assessor signed"), null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    # Where pre-filled context came from (``record_context``): key → {from, on, value}.
    context_source = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    # The headline numbers of ``result``, for lists and charts.
    total = models.IntegerField(null=True, blank=True)
    level = models.IntegerField(null=True, blank=True)
    eligibility_before = models.JSONField(default=dict, blank=True)
    eligibility_after = models.JSONField(default=dict, blank=True)
    # At most one correction that is not discarded (``assess_one_correction``); a
    # discarded correction draft stays for the trail and does not block another one.
    supersedes = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
    )
    correction_reason = models.CharField(_("correction reason"), max_length=255, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)

    # Fields frozen once the session left the draft state.
    FROZEN = (
        "resident_id",
        "instrument_id",
        "reason",
        "assessed_on",
        "place",
        "assessor_id",
        "answers",
        "context",
        "result",
        "total",
        "level",
    )

    class Meta:
        ordering = ["-assessed_on", "-id"]
        verbose_name = _("assessment")
        constraints = [
            models.UniqueConstraint(
                fields=["supersedes"],
                condition=~models.Q(status="discarded"),
                name="assess_one_correction",
            )
        ]
        indexes = [
            models.Index(fields=["resident", "status", "-assessed_on"], name="assess_res_status"),
            models.Index(fields=["assessor", "status"], name="assess_assessor_status"),
            models.Index(fields=["second_assessor", "status"], name="assess_second_status"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.instrument.code}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = Assessment.objects.filter(pk=self.pk).values("status", *self.FROZEN).first()
            if stored is not None and stored["status"] != SessionStatus.DRAFT:
                changed = [f for f in self.FROZEN if stored[f] != getattr(self, f)]
                if changed:
                    raise ImmutableAssessment(self.pk, changed)
        super().save(*args, **kwargs)

    @property
    def number(self) -> str:
        return f"PG-{self.pk or 0:06d}"


class ImmutableAssessment(Exception):
    def __init__(self, pk: int, fields: list[str]):
        super().__init__(f"assessment {pk} is submitted; cannot change {', '.join(fields)}")


class Standing(models.Model):
    """A resident's current ability level (GB/T 42195) and LTC disability grade, from her
    latest final assessments, and the next due dates."""

    resident = models.OneToOneField(
        "residents.Resident", on_delete=models.CASCADE, related_name="standing"
    )
    ability_level = models.IntegerField(_("ability level"), null=True, blank=True)
    ability_assessment = models.ForeignKey(
        Assessment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    disability_grade = models.IntegerField(_("disability grade"), null=True, blank=True)
    disability_assessment = models.ForeignKey(
        Assessment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    eligibility = models.JSONField(default=dict, blank=True)  # rule code → bool
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("current standing")


class EligibilityRule(models.Model):
    """A derived eligibility flag whose rule is data, edited by local policy: all the set
    conditions must hold (an unset one is not considered)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    min_ability_level = models.PositiveSmallIntegerField(
        _("minimum ability level (GB/T 42195, 0–4)"), null=True, blank=True
    )
    min_disability_grade = models.PositiveSmallIntegerField(
        _("minimum LTC disability grade (0–5)"), null=True, blank=True
    )
    requires_ltc_insured = models.BooleanField(_("requires LTC insurance enrolment"), default=False)
    source = models.CharField(_("policy source"), max_length=255, blank=True)
    unverified = models.BooleanField(_("unverified"), default=False)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("eligibility rule")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_ability_level__isnull=True)
                | models.Q(min_ability_level__lte=4),
                name="elig_ability_0_4",
            ),
            models.CheckConstraint(
                condition=models.Q(min_disability_grade__isnull=True)
                | models.Q(min_disability_grade__lte=5),
                name="elig_grade_0_5",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class SchedulePolicy(models.Model):
    """Local policy per instrument: how often to re-assess and whether a second assessor
    must sign."""

    instrument_code = models.CharField(_("instrument"), max_length=64, unique=True)
    interval_days = models.PositiveIntegerField(_("re-assess every (days)"), default=365)
    requires_second_assessor = models.BooleanField(_("second assessor required"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["instrument_code"]
        verbose_name = _("schedule policy")

    def __str__(self) -> str:
        return self.instrument_code


class DueReason(models.TextChoices):
    FIRST = "first", _("Never assessed")
    ROUTINE = "routine", _("Routine (interval)")
    CONDITION_CHANGE = "condition_change", _("Condition changed")
    FALL = "fall", _("Fall")
    DISPUTE = "dispute", _("Dispute")


class Due(models.Model):
    """An assessment a resident is due for. Open until a final assessment of that
    instrument dated on or after ``created_on`` closes it."""

    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.CASCADE, related_name="assessments_due"
    )
    instrument_code = models.CharField(_("instrument"), max_length=64)
    due_on = models.DateField(_("due on"))
    reason = models.CharField(_("reason"), max_length=20, choices=DueReason.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_on = models.DateField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done_by = models.ForeignKey(
        Assessment, on_delete=models.SET_NULL, null=True, blank=True, related_name="dues_closed"
    )

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("assessment due")
        indexes = [
            models.Index(
                fields=["due_on"], name="assess_due_open", condition=models.Q(done_by__isnull=True)
            ),
            models.Index(fields=["resident", "instrument_code"], name="assess_due_res"),
        ]
