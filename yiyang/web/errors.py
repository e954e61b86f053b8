"""The answer to an unexpected error (``handler500``) when DEBUG is off — production, demo
and tests: the API answers JSON in its error shape, pages a short page in the user's
language. Neither shows a traceback; both give the request id that the log line carries.

Django logs the exception itself (logger ``django.request``, with the traceback) before it
calls this view; the line here adds the request id an operator is told about.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from yiyang.audit import context
from yiyang.common.errors import CommonError

logger = logging.getLogger("yiyang.errors")

API_PREFIX = "/api/"


def server_error(request: HttpRequest) -> HttpResponse:
    reference = context.current().request_id
    logger.error(
        "server error answering %s %s (request id %s)", request.method, request.path, reference
    )
    if request.path.startswith(API_PREFIX):
        detail = _(
            "Something went wrong on the server; the error is logged. Try again later or "
            "tell your administrator (reference %(reference)s)."
        ) % {"reference": reference}
        return JsonResponse(
            {"code": CommonError.SERVER_ERROR, "detail": detail, "field": None}, status=500
        )
    # No request context: the database (sessions, user, navigation) may be what failed.
    return HttpResponseServerError(render_to_string("500.html", {"reference": reference}))
