"""Idle session timeout and enforcement of the second factor for page sessions.

* A session idle for more than ``settings.SESSION_IDLE_TIMEOUT`` seconds is logged out
  (audit row ``auth.logout`` with reason "idle"); the login page then says why. The time
  of the last request (``last_seen``) is written to the session when it is older than
  ``touch_interval()`` — a tenth of the timeout, at most a minute — so a session ends
  after between 90 % and 100 % of the timeout without a request, and an active user is
  never logged out (the interval used to be a fixed minute: with a 20 s timeout a user
  active every 5 s was logged out after 25 s).
* A user whose password was set by someone else (``must_change_password``, e.g. a family
  login's one-time password) can only reach the password page, log out and switch
  language until she has chosen her own; the API answers 403 ``password_change_required``.
* A user whose role must use TOTP (``roles.mfa_required_roles()``) and who has not enrolled
  can only reach the Security page (to enrol), log out and switch language; pages redirect
  to the Security page, the API answers 403 ``mfa_enrolment_required``.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from yiyang.accounts.errors import AccountError
from yiyang.common.permissions import mfa_required

# Write ``last_seen`` at most once a minute (a session write per request would be a
# database write per page view), and never less often than a tenth of the timeout.
MAX_TOUCH_INTERVAL = 60
IDLE_FLAG = "logged_out_idle"


def touch_interval() -> int:
    """Seconds between two writes of ``last_seen``: min(60, timeout / 10), at least 1."""
    return max(1, min(MAX_TOUCH_INTERVAL, settings.SESSION_IDLE_TIMEOUT // 10))


def _record_idle_logout(request, user) -> None:
    from yiyang.accounts.services.signin import record_logout

    # The audit request context (address, user agent, request id) is set by
    # audit.middleware.RequestContextMiddleware, which runs before this one.
    record_logout(user, reason="idle")


class SecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last = request.session.get("last_seen")
            if last is not None and now - int(last) > settings.SESSION_IDLE_TIMEOUT:
                _record_idle_logout(request, user)
                logout(request)
                request.session[IDLE_FLAG] = True
            else:
                if last is None or now - int(last) >= touch_interval():
                    request.session["last_seen"] = now
                refusal = self._password_refusal(request, user) or self._enrolment_refusal(
                    request, user
                )
                if refusal is not None:
                    return refusal
        return self.get_response(request)

    @staticmethod
    def _password_refusal(request, user):
        if not user.must_change_password:
            return None
        allowed = (
            reverse("accounts:password"),
            reverse("web:logout"),
            reverse("set_language"),
            settings.STATIC_URL,
        )
        if any(request.path.startswith(prefix) for prefix in allowed):
            return None
        detail = _("Your password was set by someone else: choose your own password first.")
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"code": AccountError.PASSWORD_CHANGE_REQUIRED, "detail": detail, "field": None},
                status=403,
            )
        target = reverse("accounts:password")
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)

    @staticmethod
    def _enrolment_refusal(request, user):
        if not mfa_required(user.role) or user.totp_confirmed:
            return None
        path = request.path
        allowed = (
            reverse("accounts:security"),
            reverse("web:logout"),
            reverse("set_language"),
            settings.STATIC_URL,
        )
        if any(path.startswith(prefix) for prefix in allowed):
            return None
        detail = _("Your role must use two-step login: set up an authenticator app first.")
        if path.startswith("/api/"):
            if request.META.get("HTTP_AUTHORIZATION"):
                return None  # bearer tokens are checked by the API's own authentication
            return JsonResponse(
                {"code": AccountError.MFA_ENROLMENT_REQUIRED, "detail": detail, "field": None},
                status=403,
            )
        target = reverse("accounts:security")
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)
