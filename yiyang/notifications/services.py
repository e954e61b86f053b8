"""The notification outbox (ADR 0021).

* ``notify(users, topic=, params=, link=, ref=)`` writes one pending row per distinct
  active recipient in the caller's transaction and delivers them after it commits
  (``transaction.on_commit``): if the caller rolls back, no row remains and nothing is sent.
* ``deliver_pending(limit)`` delivers rows still pending — the after-commit delivery did
  not happen (the process died) or an adapter failed and the row's backoff has passed. A
  worker (``manage.py deliver_notifications``) calls it every second.
* ``mark_read`` / ``mark_all_read`` — the recipient reads her inbox.

Delivery claims rows before sending them: a conditional ``UPDATE … WHERE state='pending'
AND next_attempt_at <= now`` sets the deliverer's lease (a UUID) and pushes
``next_attempt_at`` past ``LEASE``; only the rows carrying its lease are sent by that
deliverer, so two deliverers running at once never send one row twice (on PostgreSQL the
candidates are also picked with ``SELECT … FOR UPDATE SKIP LOCKED`` so they do not queue
behind each other). A deliverer that dies while holding rows leaves them to the next one
after the lease.
"""

from __future__ import annotations

import datetime
import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.notifications import channels
from yiyang.notifications.models import Channel, Notification, State
from yiyang.notifications.selectors import get_notification_for, inbox_for

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # then the row is failed
BACKOFF_BASE = datetime.timedelta(seconds=10)  # after the first failure; doubles each time
BACKOFF_MAX = datetime.timedelta(hours=1)
LEASE = datetime.timedelta(minutes=2)  # how long a claimed row is held by its deliverer
MAX_TOPIC = 100
MAX_LINK = 500
MAX_REF = 100
MAX_PARAMS_CHARS = 4000
MAX_ERROR_CHARS = 1000


def backoff(attempts: int) -> datetime.timedelta:
    """The wait before the next attempt after ``attempts`` failed ones: 10 s, 20 s, 40 s …
    at most an hour."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


# --- validation -------------------------------------------------------------------------


def _recipient_ids(users: Iterable[User | int]) -> set[int]:
    if isinstance(users, User | int | str | bytes):
        raise ValidationFailed(
            CommonError.INVALID, _("Recipients must be a list of users or user ids."), field="users"
        )
    ids: set[int] = set()
    for user in users:
        if isinstance(user, User) and user.pk is not None:
            ids.add(user.pk)
        elif isinstance(user, int) and not isinstance(user, bool):
            ids.add(user)
        else:
            raise ValidationFailed(
                CommonError.INVALID,
                _("Each recipient must be a saved user or a user id, not %(value)r.")
                % {"value": user},
                field="users",
            )
    return ids


def _check(topic: str, params: dict[str, Any], link: str, ref: str) -> None:
    if not isinstance(topic, str) or not topic.strip() or len(topic) > MAX_TOPIC:
        raise ValidationFailed(
            CommonError.INVALID,
            _("The topic must be a name of 1 to %(max)d characters.") % {"max": MAX_TOPIC},
            field="topic",
        )
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise ValidationFailed(
            CommonError.INVALID,
            _("The parameters must be a mapping with text keys."),
            field="params",
        )
    try:
        encoded = json.dumps(params, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            CommonError.INVALID,
            _("The parameters must be JSON-serialisable: %(error)s") % {"error": exc},
            field="params",
        ) from None
    if len(encoded) > MAX_PARAMS_CHARS:
        raise ValidationFailed(
            CommonError.INVALID,
            _("The parameters are too long (at most %(max)d characters as JSON).")
            % {"max": MAX_PARAMS_CHARS},
            field="params",
        )
    if not isinstance(link, str) or len(link) > MAX_LINK:
        raise ValidationFailed(
            CommonError.INVALID,
            _("The link must be text of at most %(max)d characters.") % {"max": MAX_LINK},
            field="link",
        )
    # Only a path on this site: the inbox must not send anyone to another site or run a
    # "javascript:" URL.
    if link and (
        not link.startswith("/")
        or link.startswith("//")
        or "\\" in link
        or any(c.isspace() for c in link)
    ):
        raise ValidationFailed(
            CommonError.INVALID,
            _("The link must be a path on this site starting with “/”, not %(link)r.")
            % {"link": link},
            field="link",
        )
    if not isinstance(ref, str) or len(ref) > MAX_REF:
        raise ValidationFailed(
            CommonError.INVALID,
            _("The reference must be text of at most %(max)d characters.") % {"max": MAX_REF},
            field="ref",
        )


# --- sending ----------------------------------------------------------------------------


def notify(
    users: Iterable[User | int],
    *,
    topic: str,
    params: dict[str, Any],
    link: str = "",
    ref: str = "",
) -> list[Notification]:
    """Write one in-app notification per distinct active user among ``users`` (users or
    ids; inactive and unknown ones are skipped) in the caller's transaction; they are
    delivered after it commits. Returns the rows, in recipient id order."""
    ids = _recipient_ids(users)
    _check(topic, params, link, ref)
    with transaction.atomic():
        recipients = list(
            User.objects.filter(pk__in=ids, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not recipients:
            return []
        now = timezone.now()
        rows = Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=pk,
                    topic=topic,
                    params=params,
                    link=link,
                    ref=ref,
                    channel=Channel.IN_APP,
                    created_at=now,
                    next_attempt_at=now,
                )
                for pk in recipients
            ]
        )
        pks = [row.pk for row in rows]
        transaction.on_commit(lambda: deliver(pks), robust=True)
    return rows


def _claim(limit: int, pks: list[int] | None = None) -> list[Notification]:
    """Claim up to ``limit`` due pending rows (of ``pks`` if given) for this deliverer."""
    now = timezone.now()
    lease = uuid.uuid4()
    due = Notification.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
    if pks is not None:
        due = due.filter(pk__in=pks)
    with transaction.atomic():
        candidates: QuerySet[Any] = due.order_by("next_attempt_at", "pk").values_list(
            "pk", flat=True
        )[:limit]
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        picked = list(candidates)
        if not picked:
            return []
        # The same conditions again: a row another deliverer claimed meanwhile (its
        # next_attempt_at now lies in the future) is not taken twice.
        due.filter(pk__in=picked).update(
            lease=lease, next_attempt_at=now + LEASE, attempts=F("attempts") + 1
        )
    return list(Notification.objects.filter(lease=lease).order_by("pk"))


def _failed(row: Notification, error: BaseException) -> None:
    text = f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
    changes: dict[str, Any] = {"lease": None, "last_error": text}
    if row.attempts >= MAX_ATTEMPTS:
        changes["state"] = State.FAILED
    else:
        changes["next_attempt_at"] = timezone.now() + backoff(row.attempts)
    Notification.objects.filter(pk=row.pk, state=State.PENDING, lease=row.lease).update(**changes)
    logger.warning(
        "notification %s (%s, attempt %d) failed: %s", row.pk, row.channel, row.attempts, text
    )


def _send(rows: list[Notification]) -> int:
    delivered = 0
    for row in rows:
        try:
            channels.adapter_for(row.channel).send(row)
        except Exception as exc:  # noqa: BLE001 — any adapter failure is retried
            _failed(row, exc)
            continue
        # The in-app adapter has marked the row itself; an external one leaves it to us.
        if channels.mark_sent(row) or row.state == State.SENT:
            delivered += 1
    return delivered


def deliver(pks: list[int]) -> int:
    """Deliver the rows ``pks`` now (the after-commit step of ``notify``)."""
    if not pks:
        return 0
    return _send(_claim(len(pks), pks))


def deliver_pending(limit: int = 500) -> int:
    """Deliver up to ``limit`` due pending rows; returns how many were delivered."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return _send(_claim(limit))


# --- reading ----------------------------------------------------------------------------


def mark_read(user: User, pk: int) -> Notification:
    """Mark one of the user's notifications read (again: no change). Another user's or a
    missing one: ``NotFound``."""
    row = get_notification_for(user, pk)
    if row.read_at is None:
        now = timezone.now()
        if Notification.objects.filter(pk=row.pk, read_at__isnull=True).update(read_at=now):
            row.read_at = now
        else:
            row.refresh_from_db(fields=["read_at"])
    return row


def mark_all_read(user: User) -> int:
    """Mark all the user's unread notifications read; returns how many."""
    return inbox_for(user).filter(read_at__isnull=True).update(read_at=timezone.now())
