"""The notification outbox (ADR 0021): one row per recipient and message.

A row is written in the transaction of the action that causes it (``services.notify``) and
delivered after that transaction commits through the adapter of its ``channel``
(``channels.py``). For the in-app channel the row itself is the inbox entry: once it is
``sent`` the recipient sees it on ``/notifications/``. The text is not stored: ``topic``
and ``params`` are rendered in the reader's language when shown (``topics.render``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")


class State(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    topic = models.CharField(_("topic"), max_length=100)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    # What the notification is about, e.g. "devices.alert:123": lets the sender find the
    # notifications of one object (an escalation checks whom it already told).
    ref = models.CharField(_("reference"), max_length=100, blank=True, db_index=True)
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.IN_APP
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveIntegerField(_("delivery attempts"), default=0)
    # When a pending row is due for (another) delivery attempt; while a deliverer holds the
    # row it is pushed forward by the lease, so a crashed deliverer's rows come back.
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    # The claim of the deliverer currently holding the row (cleared when it finishes).
    lease = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The inbox: a recipient's delivered rows, newest first.
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                condition=Q(state="sent"),
                name="notif_inbox",
            ),
            # The unread badge, polled every few seconds.
            models.Index(
                fields=["recipient"],
                condition=Q(state="sent", read_at__isnull=True),
                name="notif_unread",
            ),
            # The deliverer's queue.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(state="pending"),
                name="notif_pending_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sent", "failed"]),
                name="notif_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} → {self.recipient_id} ({self.state})"
