"""Test helpers for accounts, built through the account actions.

    user = make_account(Role.DOCTOR, scope=institution)        # password PASSWORD
    admin = make_account(Role.SYSTEM_ADMIN, scope="all")       # TOTP enrolled (MFA role)
    code = totp_code(admin)                                    # the current 6-digit code
    key = bearer_token(user)                                   # an API bearer token (1 day)

Users of a role that must use TOTP (``roles.mfa_required_roles()``) are enrolled by
default, so ``client.force_login(user)`` reaches the pages without the enrolment redirect.
"""

from __future__ import annotations

import datetime
import secrets
import time
from typing import Any

import pyotp
from django.utils import timezone

from yiyang.accounts.api_auth import hash_token
from yiyang.accounts.models import ApiToken, User
from yiyang.accounts.services.totp import confirm_totp, enrol_totp
from yiyang.accounts.services.users import bootstrap_user
from yiyang.common.permissions import mfa_required
from yiyang.common.scope import ScopeKind

PASSWORD = "Yiyang#2026"


def scope_arguments(scope: Any) -> dict[str, Any]:
    """``scope``: "all", "self"/None, a Region, an Institution or a Team → service args."""
    from yiyang.network.models import Institution, Region, Team

    if scope in ("all", ScopeKind.ALL):
        return {"scope_kind": ScopeKind.ALL}
    if scope in (None, "self", ScopeKind.SELF):
        return {"scope_kind": ScopeKind.SELF}
    if isinstance(scope, Region):
        return {"scope_kind": ScopeKind.REGION, "region_code": scope.code}
    if isinstance(scope, Institution):
        return {"scope_kind": ScopeKind.INSTITUTION, "institution_id": scope.pk}
    if isinstance(scope, Team):
        return {"scope_kind": ScopeKind.TEAM, "team_id": scope.pk}
    raise ValueError(f"unknown scope {scope!r}")


def enrol(user: User) -> str:
    """Enrol TOTP through the actions; returns the secret. The confirmation uses the code
    of the previous 30-second step, so the current code is still unused afterwards."""
    enrolment = enrol_totp(user)
    previous = pyotp.TOTP(enrolment.secret).at(time.time() - 30)
    confirm_totp(user, previous)
    return enrolment.secret


def totp_code(user: User, offset_steps: int = 0) -> str:
    return pyotp.TOTP(user.totp_secret).at(time.time() + 30 * offset_steps)


def make_account(
    role: str,
    scope: Any = None,
    *,
    username: str | None = None,
    password: str = PASSWORD,
    totp: bool | None = None,
    display_name: str = "",
) -> User:
    """An account made by ``services.users.bootstrap_user``; ``totp=None`` enrols exactly the
    roles that must use TOTP."""
    if username is None:
        n = User.objects.count() + 1
        username = f"{role}-{n}"
        while User.objects.filter(username=username).exists():
            n += 1
            username = f"{role}-{n}"
    user = bootstrap_user(
        username=username,
        password=password,
        role=role,
        display_name=display_name,
        via="test",
        **scope_arguments(scope),
    )
    if totp is None:
        totp = mfa_required(role)
    if totp:
        enrol(user)
    return user


def wrong_code(user: User) -> str:
    """A 6-digit code that is not valid for ``user`` now (nor one step before or after)."""
    totp = pyotp.TOTP(user.totp_secret)
    valid = {totp.at(time.time() + 30 * offset) for offset in (-2, -1, 0, 1, 2)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def bearer_token(user: User) -> str:
    """A valid API bearer token of ``user`` for a day (the key, as a client sends it)."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=hash_token(key),
        prefix=key[:8],
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    return key
