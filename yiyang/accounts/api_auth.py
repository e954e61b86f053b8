"""API authentication: ``Authorization: Bearer <token>`` or the page session (with CSRF)."""

from __future__ import annotations

import hashlib

from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer

from yiyang.accounts.models import ApiToken
from yiyang.accounts.roles import mfa_required


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        try:
            row = ApiToken.objects.select_related("user").get(key_hash=hash_token(token))
        except ApiToken.DoesNotExist:
            return None
        if row.revoked or row.expires_at <= timezone.now() or not row.user.is_active:
            return None
        if mfa_required(row.user.role) and not row.user.totp_confirmed:
            return None
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
        request.user = row.user
        request.api_token = row
        return row.user


class SessionAuth(APIKeyCookie):
    """The browser's session cookie; unsafe methods also need the CSRF token."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


api_auth = [TokenAuth(), SessionAuth()]
