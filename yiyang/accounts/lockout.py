"""Lockout after repeated failures, counted per (username, client address).

``settings.LOCKOUT_MAX_FAILURES`` failures within ``settings.LOCKOUT_MINUTES`` lock the pair
for ``LOCKOUT_MINUTES`` counted from the failure that reached the limit. Attempts while
locked are refused without being counted, so the lock does not extend itself. Another
address is not affected (an attacker cannot lock a user out everywhere). A successful
login or a security administrator's unlock deletes the pair's failures.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from yiyang.accounts.models import LoginFailure
from yiyang.audit.middleware import client_address


def address_of(request) -> str | None:
    return client_address(request) if request is not None else None


def _window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.LOCKOUT_MINUTES)


def failures(username: str, address: str | None) -> int:
    """Failures of the pair within the last ``LOCKOUT_MINUTES``."""
    return LoginFailure.objects.filter(
        username=username, address=address, at__gte=timezone.now() - _window()
    ).count()


def locked_until(
    username: str, address: str | None, now: datetime.datetime | None = None
) -> datetime.datetime | None:
    """When the pair's lock ends, or None when it is not locked."""
    now = now or timezone.now()
    limit = settings.LOCKOUT_MAX_FAILURES
    latest = list(
        LoginFailure.objects.filter(username=username, address=address, at__lte=now)
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )
    if len(latest) < limit:
        return None
    # The newest failure reached the limit when the `limit` newest fall inside one window.
    if latest[0] - latest[-1] >= _window():
        return None
    until = latest[0] + _window()
    return until if until > now else None


def is_locked(username: str, address: str | None) -> bool:
    return locked_until(username, address) is not None


def minutes_left(until: datetime.datetime, now: datetime.datetime | None = None) -> int:
    seconds = (until - (now or timezone.now())).total_seconds()
    return max(1, math.ceil(seconds / 60))


def note_failure(username: str, address: str | None) -> None:
    LoginFailure.objects.create(username=username[:150], address=address, at=timezone.now())


def clear(username: str, address: str | None = None, *, any_address: bool = False) -> int:
    """Delete the failures of the pair (or of every address when ``any_address``)."""
    rows = LoginFailure.objects.filter(username=username)
    if not any_address:
        rows = rows.filter(address=address)
    deleted, _ = rows.delete()
    return deleted


@dataclass(frozen=True)
class Lock:
    username: str
    address: str | None
    failures: int
    until: datetime.datetime

    @property
    def minutes_left(self) -> int:
        return minutes_left(self.until)


def current_locks() -> list[Lock]:
    """Every (username, address) pair locked now, soonest to expire last."""
    now = timezone.now()
    # A lock ends at most one window after its newest failure, and its failures all lie
    # within the window before that: only the last two windows can hold a live lock.
    candidates = (
        LoginFailure.objects.filter(at__gte=now - 2 * _window())
        .values("username", "address")
        .annotate(n=Count("id"))
        .filter(n__gte=settings.LOCKOUT_MAX_FAILURES)
        .order_by("username", "address")
    )
    locks = []
    for row in candidates:
        until = locked_until(row["username"], row["address"], now=now)
        if until is not None:
            locks.append(
                Lock(
                    username=row["username"],
                    address=row["address"],
                    failures=failures(row["username"], row["address"]),
                    until=until,
                )
            )
    locks.sort(key=lambda lock: lock.until, reverse=True)
    return locks
