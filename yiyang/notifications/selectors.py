"""Reading one's own notifications. Nobody reads another person's inbox: every query is
filtered by the recipient, and another user's notification answers ``NotFound`` exactly
like a missing one."""

from __future__ import annotations

from django.db.models import QuerySet

from yiyang.accounts.models import User
from yiyang.common.errors import NotFound
from yiyang.notifications.models import Channel, Notification, State


def inbox_for(user: User) -> QuerySet[Notification]:
    """The user's in-app notifications that were delivered, newest first."""
    return Notification.objects.filter(
        recipient_id=user.pk, channel=Channel.IN_APP, state=State.SENT
    ).order_by("-created_at", "-id")


def unread_count(user: User) -> int:
    return inbox_for(user).filter(read_at__isnull=True).count()


def get_notification_for(user: User, pk: int) -> Notification:
    try:
        return inbox_for(user).get(pk=pk)
    except Notification.DoesNotExist:
        raise NotFound("notification") from None
