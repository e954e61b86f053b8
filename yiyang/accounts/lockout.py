"""Lockout after repeated failures, counted per (username, client address)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from yiyang.accounts.models import LoginFailure
from yiyang.audit.middleware import client_address


def address_of(request) -> str | None:
    return client_address(request) if request is not None else None


def _window_start() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=settings.LOCKOUT_MINUTES)


def failures(username: str, address: str | None) -> int:
    return LoginFailure.objects.filter(
        username=username, address=address, at__gte=_window_start()
    ).count()


def is_locked(username: str, address: str | None) -> bool:
    return failures(username, address) >= settings.LOCKOUT_MAX_FAILURES


def note_failure(username: str, address: str | None) -> None:
    LoginFailure.objects.create(username=username[:150], address=address, at=timezone.now())


def clear(username: str, address: str | None) -> None:
    LoginFailure.objects.filter(username=username, address=address).delete()
