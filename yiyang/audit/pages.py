"""Audit pages: browse (with an htmx fragment for the results), detail, CSV export, verify.

Audit administrators only (``audit.view``); every page view is itself recorded.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from yiyang.audit import selectors
from yiyang.audit.forms import EventFilterForm
from yiyang.audit.models import AuditEvent, AuditHead
from yiyang.audit.permissions import AuditPerm
from yiyang.audit.services import Problem, chain_hash
from yiyang.common.pages import PageRequest, page

CURSOR_PARAMS = ("before", "after")
PROBLEM_LABELS = {
    Problem.EDITED: gettext_lazy("an event was changed"),
    Problem.DELETED: gettext_lazy("an event was deleted"),
    Problem.REORDERED: gettext_lazy("events were reordered"),
    Problem.TRUNCATED: gettext_lazy("the newest events were deleted (truncated)"),
    Problem.HEAD: gettext_lazy("the chain head does not match the events"),
    Problem.ANCHOR: gettext_lazy("an anchored event has another hash"),
}


def _cursor(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


def _filter_query(request: HttpRequest) -> str:
    """The query string of the filter alone (no cursor), for pager and export links."""
    params = request.GET.copy()
    for name in CURSOR_PARAMS:
        params.pop(name, None)
    return params.urlencode()


@require_GET
@page(AuditPerm.VIEW)
def events(request: PageRequest) -> HttpResponse:
    form = EventFilterForm(request.GET)
    result = None
    if form.is_valid():
        result = selectors.browse_events(
            request.user,
            form.to_filter(),
            before=_cursor(request, "before"),
            after=_cursor(request, "after"),
        )
    context = {
        "form": form,
        "result": result,
        "query": _filter_query(request),
        "zone": selectors.local_zone(),
    }
    template = "audit/_events.html" if request.htmx else "audit/events.html"
    # Bad filters redisplay the form with its errors (200, so htmx swaps the fragment in).
    return render(request, template, context)


@require_GET
@page(AuditPerm.VIEW)
def event_detail(request: PageRequest, seq: int) -> HttpResponse:
    event = selectors.get_event_for(request.user, seq)
    context = {
        "event": event,
        "intact": chain_hash(event) == event.hash,
        "details_json": json.dumps(event.details, ensure_ascii=False, indent=2, sort_keys=True),
        "zone": selectors.local_zone(),
    }
    return render(request, "audit/event_detail.html", context)


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """Text for a CSV cell; text that a spreadsheet would run as a formula is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_lines(rows: Iterator[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    zone = selectors.local_zone()
    # The BOM makes Excel read the file as UTF-8 (Chinese text intact).
    yield "\ufeff" + writer.writerow(
        [
            _("Seq"),
            _("Time (Asia/Shanghai)"),
            _("Actor"),
            _("Role"),
            _("Action"),
            _("Object type"),
            _("Object ID"),
            _("Object"),
            _("Outcome"),
            _("Address"),
            _("User agent"),
            _("Request ID"),
            _("Details"),
            _("Previous hash"),
            _("Hash"),
        ]
    )
    for event in rows:
        yield writer.writerow(
            [
                event.seq,
                timezone.localtime(event.at, zone).strftime("%Y-%m-%d %H:%M:%S"),
                _cell(event.actor_username),
                _cell(event.actor_role),
                _cell(event.action),
                _cell(event.object_type),
                _cell(event.object_id),
                _cell(event.object_repr),
                _cell(event.outcome),
                _cell(event.address),
                _cell(event.user_agent),
                _cell(event.request_id),
                _cell(json.dumps(event.details, ensure_ascii=False, sort_keys=True)),
                event.prev_hash,
                event.hash,
            ]
        )


@require_GET
@page(AuditPerm.VIEW)
def export(request: PageRequest) -> HttpResponseBase:
    form = EventFilterForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
        return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    rows = selectors.export_events(request.user, form.to_filter())
    stamp = timezone.localtime(timezone.now(), selectors.local_zone()).strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


@require_http_methods(["GET", "POST"])
@page(AuditPerm.VIEW)
def verify(request: PageRequest) -> HttpResponse:
    report = selectors.run_verification(request.user) if request.method == "POST" else None
    context = {
        "report": report,
        "problem_label": PROBLEM_LABELS.get(report.problem, "") if report else "",
        "head": AuditHead.objects.filter(id=1).first(),
    }
    template = "audit/_verify_result.html" if request.htmx else "audit/verify.html"
    return render(request, template, context)
