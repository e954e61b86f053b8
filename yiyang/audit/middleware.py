from __future__ import annotations

import uuid

from yiyang.audit import context


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
