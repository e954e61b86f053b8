"""Permission-matrix rules of the notifications app (see ``tests/matrix_support.py``): the
API under ``/api/v1/notifications`` and the pages under ``/notifications/``.

Who: every signed-in user, for her own inbox only. ``build`` delivers one notification to
``account_in`` (``notif_in``) and one to ``account_out`` (``notif_out``); before each call
``notif_in`` is handed to the calling user (``prepare``), so "in scope" is the caller's own
notification and "out of scope" another user's, which answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from tests.matrix_support import Kwargs, Rule, World, rows
from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.notifications.models import Notification, State

EVERYONE = frozenset(Role.values)

READ_STATE = rows(Notification, "recipient_id", "read_at")


def build(w: World) -> None:
    for side, account in (("in", w.account_in), ("out", w.account_out)):
        w.extra[f"notif_{side}"] = Notification.objects.create(
            recipient=account,
            topic="matrix.test",
            params={"side": side},
            state=State.SENT,
            sent_at=timezone.now(),
        )


def own(w: World, user: User) -> None:
    """The caller's own unread notification: ``notif_in``, handed to her."""
    with transaction.atomic():
        Notification.objects.filter(pk=w.extra["notif_in"].pk).update(recipient=user, read_at=None)


def notification(name: str) -> Kwargs:
    return lambda w: {"pk": w.extra[name].pk}


def _form(w: World, user: Any) -> dict[str, str]:
    return {}


RULES: list[Rule] = [
    # --- API -----------------------------------------------------------------------------
    Rule("api:notifications_list", "GET", EVERYONE, prepare=own),
    Rule("api:notifications_list", "GET", EVERYONE, lambda w: {"?unread": "1"}, prepare=own),
    Rule(
        "api:notifications_read",
        "POST",
        EVERYONE,
        notification("notif_in"),
        out=notification("notif_out"),
        prepare=own,
        state=READ_STATE,
    ),
    Rule("api:notifications_read_all", "POST", EVERYONE, prepare=own, state=READ_STATE),
    # --- pages ---------------------------------------------------------------------------
    Rule("notifications:inbox", "GET", EVERYONE, prepare=own),
    Rule("notifications:badge", "GET", EVERYONE, prepare=own),
    Rule(
        "notifications:read",
        "POST",
        EVERYONE,
        notification("notif_in"),
        out=notification("notif_out"),
        body="form",
        data=_form,
        ok=302,
        prepare=own,
        state=READ_STATE,
    ),
    Rule(
        "notifications:read_all",
        "POST",
        EVERYONE,
        body="form",
        data=_form,
        ok=302,
        prepare=own,
        state=READ_STATE,
    ),
]
