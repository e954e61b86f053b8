"""Instrument definitions stored as versioned data (see docs/adr/0015)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


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
