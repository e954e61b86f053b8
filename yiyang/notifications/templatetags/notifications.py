"""``{% notification_badge %}``: the unread badge of the page header (signed-in users).

The header renders only the bell, without a query: the badge fetches its count from
``/notifications/badge/`` as soon as the page has loaded and then every 5 s (htmx), so
every page of the console keeps its query count (pinned in tests for hot pages). The
inbox page, which counts anyway, passes its count in (``notification_badge``) and shows it at once.

Not shown (and so not polled) while the security policy holds the user on the password or
Security page (``accounts.middleware``): there every poll would be redirected back to the
page she is on.
"""

from __future__ import annotations

from typing import Any

from django import template

from yiyang.accounts.models import User
from yiyang.common.permissions import mfa_required

register = template.Library()


def badge_allowed(user: User) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.must_change_password:
        return False
    return not (mfa_required(user.role) and not user.totp_confirmed)


@register.inclusion_tag("notifications/_badge.html", takes_context=True)
def notification_badge(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not badge_allowed(user):
        return {"hidden": True}
    counted = context.get("notification_badge")
    if isinstance(counted, dict):
        return counted
    return {"unread": None}
