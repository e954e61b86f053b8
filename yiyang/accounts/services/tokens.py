"""API bearer tokens: issuing one on a complete sign-in (only its SHA-256 is stored) and
revoking one of the actor's own tokens.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.api_auth import hash_token
from yiyang.accounts.errors import AccountError
from yiyang.accounts.models import ApiToken, User
from yiyang.accounts.services.signin import LoginRefused, login_succeeded, sign_in
from yiyang.audit.services import record
from yiyang.common.errors import NotFound, ValidationFailed
from yiyang.common.permissions import mfa_required


@dataclass(frozen=True)
class IssuedToken:
    key: str  # shown once; only its SHA-256 is stored
    token: ApiToken


def issue_token(request, *, username: str, password: str, totp: str | None = None) -> IssuedToken:
    """Sign in for the API: password (+ TOTP when enrolled) → a new bearer token."""
    user = sign_in(request, username=username, password=password, code=totp)
    if not user.totp_confirmed and mfa_required(user.role):
        raise LoginRefused(
            AccountError.MFA_ENROLMENT_REQUIRED,
            _(
                "Your role must use two-step login: sign in on the web and set up an "
                "authenticator app on the Security page first."
            ),
            status=403,
        )
    if user.must_change_password:
        raise LoginRefused(
            AccountError.PASSWORD_CHANGE_REQUIRED,
            _(
                "Your password was set by someone else: sign in on the web and choose your "
                "own password first."
            ),
            status=403,
        )
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            key_hash=hash_token(key),
            prefix=key[:8],
            expires_at=timezone.now() + datetime.timedelta(days=settings.API_TOKEN_DAYS),
        )
        login_succeeded(request, user, channel="api", token_id=token.pk)
    return IssuedToken(key=key, token=token)


def revoke_token(actor: User, token: ApiToken) -> ApiToken:
    """Revoke one of the actor's own tokens."""
    if token.user_id != actor.pk:
        raise NotFound("token")
    if token.revoked:
        raise ValidationFailed(AccountError.TOKEN_REVOKED, _("This token is already revoked."))
    with transaction.atomic():
        token.revoked = True
        token.save(update_fields=["revoked"])
        record(
            actor=actor,
            action="auth.token_revoke",
            obj=token,
            object_repr=f"token {token.prefix}…",
        )
    return token
