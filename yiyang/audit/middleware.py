"""Request plumbing of the audit trail.

* ``RequestContextMiddleware`` puts the client address, user agent and request id into a
  context variable that ``services.record`` copies into every row written during the
  request. It runs near the top of ``MIDDLEWARE`` so rows written by other middleware
  (the idle logout, the denial rows below) carry them too.
* ``DenialAuditMiddleware`` writes one ``access.denied`` row for every 403 answer, page or
  API (who, method, path without the query string, view name, error code; outcome
  ``denied``) — repeated denials are what an auditor looks for. A refused sign-in
  (``account_locked``) is not written twice: the sign-in already wrote
  ``auth.login_failed``. If the row cannot be written the error is logged and the answer
  stays the 403 (never a 500).
"""

from __future__ import annotations

import json
import logging
import uuid

from yiyang.audit import context
from yiyang.audit.models import Outcome
from yiyang.audit.services import record

logger = logging.getLogger("yiyang.audit")

# 403 codes whose refusal is audited by the action itself.
AUDITED_ELSEWHERE = {"account_locked"}


def client_address(request) -> str | None:
    # Behind a trusted proxy, set YIYANG_TRUST_X_FORWARDED_FOR=1 (see settings).
    from django.conf import settings

    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = context.set_current(
            context.RequestContext(
                address=client_address(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
                request_id=request.META.get("HTTP_X_REQUEST_ID", "") or uuid.uuid4().hex,
            )
        )
        try:
            return self.get_response(request)
        finally:
            context.reset(token)


def _error_code(response) -> str:
    """The ``code`` of a JSON error body, else "forbidden" (the 403 page)."""
    if response.get("Content-Type", "").startswith("application/json") and not getattr(
        response, "streaming", False
    ):
        try:
            body = json.loads(response.content)
        except ValueError:
            return "forbidden"
        if isinstance(body, dict) and isinstance(body.get("code"), str):
            return body["code"][:64]
    return "forbidden"


def record_denial(request, response) -> None:
    """One ``access.denied`` row for a 403 answer to ``request``."""
    code = _error_code(response)
    if code in AUDITED_ELSEWHERE:
        return
    match = getattr(request, "resolver_match", None)
    view = match.view_name if match is not None else ""
    user = getattr(request, "user", None)
    record(
        actor=user if user is not None and user.is_authenticated else None,
        action="access.denied",
        object_type="url",
        object_id=view[:64],
        object_repr=request.path[:200],
        outcome=Outcome.DENIED,
        details={
            "method": request.method,
            "path": request.path[:500],
            "view": view,
            "code": code,
        },
    )


class DenialAuditMiddleware:
    """Audit every 403 (see the module docstring). Sits below the authentication and
    above ``accounts.middleware.SecurityPolicyMiddleware``, whose refusals it sees too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            try:
                record_denial(request, response)
            except Exception:
                logger.exception(
                    "could not audit the denial of %s %s", request.method, request.path
                )
        return response
