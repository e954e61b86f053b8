"""API authentication: ``Authorization: Bearer <token>`` or the page session (with CSRF)."""

from __future__ import annotations

import datetime
import hashlib
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer

from yiyang.accounts.models import ApiToken
from yiyang.common.errors import CommonError
from yiyang.common.permissions import mfa_required

# ``last_used_at`` is written at most this often per token: writing it on every request
# made each API call a database write, which on SQLite queued behind a large import's
# batches (the token API's p99 rose from 0.6 s to 6 s; session calls stayed flat).
TOKEN_TOUCH_INTERVAL = datetime.timedelta(minutes=5)


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def touch(row: ApiToken) -> int:
    """Record that the token was used, unless that was recorded less than
    ``TOKEN_TOUCH_INTERVAL`` ago. The UPDATE repeats the age condition, so of several
    concurrent requests only one writes. Returns the number of rows written (0 or 1)."""
    now = timezone.now()
    due = now - TOKEN_TOUCH_INTERVAL
    if row.last_used_at is not None and row.last_used_at > due:
        return 0
    written = (
        ApiToken.objects.filter(pk=row.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=due))
        .update(last_used_at=now)
    )
    if written:
        row.last_used_at = now
    return written


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
        touch(row)
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


def docs_access(view):
    """Who may read the API schema and its docs page (``settings.API_DOCS``): anyone
    ("public"), or only a caller with a page session or a valid bearer token ("login",
    the production default). Refused: the docs page sends to the login page, the schema
    answers 401 in the API's error shape."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if settings.API_DOCS == "public" or _docs_reader(request) is not None:
            return view(request, *args, **kwargs)
        if request.path.endswith(".json"):
            return JsonResponse(
                {
                    "code": CommonError.NOT_AUTHENTICATED,
                    "detail": _("Log in or send a bearer token to read the API schema."),
                    "field": None,
                },
                status=401,
            )
        return redirect_to_login(request.get_full_path())

    return wrapped


def _docs_reader(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, key = header.partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        return TokenAuth().authenticate(request, key.strip())
    return None
