"""The audit trail: append-only, hash-chained (ADR 0004)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditOutcome(models.TextChoices):
    """(Named for the API schema, where an alert's ``Outcome`` has the short name.)"""

    SUCCESS = "success", _("Success")
    DENIED = "denied", _("Denied")
    FAILURE = "failure", _("Failure")


Outcome = AuditOutcome


class AuditEvent(models.Model):
    """Who did what to which object, when, from where, with what outcome.

    ``seq`` is gap-free; ``hash`` = HMAC(prev_hash ‖ canonical row). Rows are never
    updated or deleted (database triggers refuse it); ``yiyang audit verify`` recomputes
    the chain and reports the first broken link.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    request_id = models.CharField(max_length=36, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    @property
    def actor_role_label(self) -> str:
        """The actor's role as the UI names it (the stored code if no longer a role)."""
        from yiyang.common.permissions import Role

        return (
            str(Role(self.actor_role).label) if self.actor_role in Role.values else self.actor_role
        )


class AuditHead(models.Model):
    """The chain's head (single row): the last seq and hash, so truncation is detected."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
