"""Sign-in: the password and the second factor under the lockout, one refusal whichever
part was wrong (failures are counted, audited and committed before the refusal is
raised), the audit rows of a completed sign-in and of a logout.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiyang.accounts import lockout
from yiyang.accounts.errors import AccountError
from yiyang.accounts.models import User
from yiyang.accounts.services.totp import consume_step, totp_step
from yiyang.audit.models import Outcome
from yiyang.audit.services import record
from yiyang.common.errors import DomainError


class LoginRefused(DomainError):
    """A sign-in attempt that did not succeed (wrong password, code, locked …)."""

    status = 401


def _locked_error(until: datetime.datetime) -> LoginRefused:
    minutes = lockout.minutes_left(until)
    return LoginRefused(
        AccountError.ACCOUNT_LOCKED,
        ngettext(
            "This account is locked after too many failed logins from your address. "
            "Try again after %(minutes)d minute.",
            "This account is locked after too many failed logins from your address. "
            "Try again after %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes},
        status=403,
    )


def _attempt_row(username: str, user: User | None, reason: str, **details: Any) -> None:
    record(
        actor=None,
        action="auth.login_failed",
        object_type="accounts.user",
        object_id=user.pk if user is not None else "",
        object_repr=username,
        outcome=Outcome.DENIED,
        details={"username": username, "reason": reason, **details},
    )


def invalid_credentials() -> LoginRefused:
    """The one refusal of a sign-in whose password or second factor is wrong or missing.

    The same code and text whatever was wrong, so that the answer never tells whether the
    password was right (for an account with TOTP, "code required" or "wrong code" would
    confirm it) nor whether the account uses a second factor. The audit row keeps the
    real reason."""
    return LoginRefused(AccountError.INVALID_CREDENTIALS, _("Wrong username, password or code."))


def _failure(username: str, address: str | None, reason: str, user: User | None = None):
    """Count a failed attempt, audit it (and the lockout it may cause); the refusal."""
    if user is None:
        user = User.objects.filter(username=username).first()
    with transaction.atomic():
        lockout.note_failure(username, address)
        _attempt_row(username, user, reason)
        until = lockout.locked_until(username, address)
        if until is not None:
            record(
                actor=None,
                action="auth.lockout",
                object_type="accounts.user",
                object_id=user.pk if user is not None else "",
                object_repr=username,
                outcome=Outcome.DENIED,
                details={
                    "username": username,
                    "until": until.isoformat(),
                    "failures": settings.LOCKOUT_MAX_FAILURES,
                    "minutes": settings.LOCKOUT_MINUTES,
                },
            )
    if until is not None:
        return _locked_error(until)
    return invalid_credentials()


def _refuse_if_locked(username: str, address: str | None, user: User | None = None) -> None:
    until = lockout.locked_until(username, address)
    if until is None:
        return
    if user is None:
        user = User.objects.filter(username=username).first()
    with transaction.atomic():
        _attempt_row(username, user, "locked", until=until.isoformat())
    raise _locked_error(until)


def check_password(request, *, username: str, password: str) -> User:
    """The password, under the lockout. Returns the user. A sign-in must also pass
    ``check_second_factor`` (``sign_in`` does both)."""
    username = (username or "").strip()
    address = lockout.address_of(request)
    _refuse_if_locked(username, address)
    user = authenticate(request, username=username, password=password) if password else None
    if user is None:
        raise _failure(username, address, "password")
    return user


def check_second_factor(request, user: User, code: str | None) -> None:
    """The TOTP code of a user who has enrolled (nothing to check otherwise); each time
    step is accepted once. A missing, wrong or reused code is refused exactly like a
    wrong password (``invalid_credentials``) and counts towards the lockout; the audit
    row says which it was (reason ``totp_missing``, ``totp``, ``totp_reused``)."""
    if not user.totp_confirmed:
        return
    address = lockout.address_of(request)
    _refuse_if_locked(user.username, address, user)
    code = (code or "").strip()
    if not code:
        raise _failure(user.username, address, "totp_missing", user)
    step = totp_step(user.totp_secret, code)
    if step is None:
        raise _failure(user.username, address, "totp", user)
    if not consume_step(user, step):
        raise _failure(user.username, address, "totp_reused", user)


def sign_in(request, *, username: str, password: str, code: str | None) -> User:
    """A complete credential check — password, then the code of a user with TOTP — that
    answers the same ``invalid_credentials`` whichever part was wrong. Returns the user;
    the caller then calls ``login_succeeded``."""
    user = check_password(request, username=username, password=password)
    check_second_factor(request, user, code)
    return user


def login_succeeded(request, user: User, *, channel: str, **details: Any) -> None:
    """A complete sign-in: clears the pair's failures and writes the audit row."""
    with transaction.atomic():
        lockout.clear(user.username, lockout.address_of(request))
        record(
            actor=user,
            action="auth.login",
            obj=user,
            details={"channel": channel, "second_factor": user.totp_confirmed, **details},
        )


def record_logout(user: User, *, reason: str = "user") -> None:
    with transaction.atomic():
        record(actor=user, action="auth.logout", obj=user, details={"reason": reason})
