"""A session's page and its result.

* ``session`` — ``<id>/`` GET: the bedside form of a draft, else the result (scores,
  eligibility, the resident's history chart, the answered items).
* ``report`` — ``<id>/report.pdf`` GET: the printable report.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from yiyang.accounts.actor import PageRequest
from yiyang.assessments import history_chart as history_chart_mod
from yiyang.assessments import report_data
from yiyang.assessments.models import Assessment, SessionStatus
from yiyang.assessments.pages.sessions.answering import render_form
from yiyang.assessments.pages.sessions.common import (
    english,
    instrument_name,
    may_record,
    session_page,
)
from yiyang.assessments.report.render import render_report

# --- the result ---------------------------------------------------------------------------


def history_chart(session: Assessment) -> SafeString | None:
    """Inline SVG of the resident's final assessments of this instrument over time: the
    level when the instrument has levels, else the total; None when neither exists
    (``assessments.history_chart``: drawn for a phone first)."""
    rows = list(
        Assessment.objects.filter(
            resident_id=session.resident_id,
            instrument__code=session.instrument.code,
            status=SessionStatus.FINAL,
        )
        .order_by("assessed_on", "id")
        .values("assessed_on", "level", "total")
    )
    definition = session.instrument.definition
    levels = definition.get("levels") or []
    by_level = "levels" in definition
    key = "level" if by_level else "total"
    if not rows and session.result is None:
        return None
    if session.result is not None and key not in session.result:
        return None
    names = {row.get("level"): report_data.pick(row, "name", not english()) for row in levels}
    points = [
        history_chart_mod.HistoryPoint(
            r["assessed_on"], int(value), f"{value} {names.get(value, '')}".strip()
        )
        for r in rows
        if (value := (r["level"] if by_level else r["total"])) is not None
    ]
    first = points[0].day if points else session.assessed_on
    last = points[-1].day if points else session.assessed_on
    bounds = None
    if by_level and levels:
        numbers = [int(row["level"]) for row in levels if "level" in row]
        bounds = (min(numbers), max(numbers))
    label = _("Level") if by_level else _("Total")
    return history_chart_mod.history_svg(
        chart_id="assessment-history",
        title=_("%(instrument)s over time") % {"instrument": instrument_name(session.instrument)},
        unit=str(label),
        points=points,
        start=first - datetime.timedelta(days=30),
        end=max(last, timezone.localdate()) + datetime.timedelta(days=30),
        bounds=bounds,
        empty_text=_("No submitted assessments yet."),
    )


def _result_context(request: PageRequest, session: Assessment) -> dict[str, Any]:
    user = request.user
    definition = session.instrument.definition
    chinese = not english()
    result = session.result or {}
    corrected_by = (
        Assessment.objects.filter(supersedes=session)
        .exclude(status=SessionStatus.DISCARDED)
        .first()
    )
    due = report_data.next_due(session)
    can_record = may_record(user)
    return {
        "session": session,
        "resident": session.resident,
        "instrument": session.instrument,
        "instrument_name": instrument_name(session.instrument),
        "unverified": report_data.unverified_notes(session),
        "summary": report_data.summary_rows(definition, result, chinese=chinese) if result else [],
        "domains": report_data.domain_scores(definition, result, chinese=chinese),
        "eligibility": report_data.eligibility_rows(session, chinese=chinese),
        "next_due": due,
        "chart": history_chart(session) if result else None,
        "items": report_data.answered_items(session, chinese=chinese),
        "context_notes": report_data.context_notes(session) if chinese else _context_en(session),
        "corrected_by": corrected_by,
        "can_sign": session.status == SessionStatus.PENDING_SIGNOFF
        and can_record
        and user.pk == session.second_assessor_id,
        "can_correct": session.status == SessionStatus.FINAL
        and can_record
        and corrected_by is None,
        "has_report": session.result is not None,
    }


def _context_en(session: Assessment) -> list[str]:
    ctx = session.context or {}
    out = []
    if ctx.get("coma"):
        out.append(_("Coma: yes"))
    source = report_data.source_note(session, "diagnoses", chinese=False)
    if ctx.get("diagnoses") or source:
        codes = ", ".join(ctx.get("diagnoses", [])) or _("none")
        out.append(_("Diagnoses (ICD-10): %(codes)s") % {"codes": codes} + source)
    if "risk_events_30d" in ctx:
        out.append(_("Care-risk events in 30 days: %(n)s") % {"n": ctx["risk_events_30d"]})
    if "band_set" in ctx:
        out.append(_("Band set: %(set)s") % {"set": ctx["band_set"]})
    if ctx.get("bmi") is not None:
        source = report_data.source_note(session, "bmi", chinese=False)
        out.append(_("BMI: %(bmi)s") % {"bmi": ctx["bmi"]} + source)
    return out


@require_GET
@session_page
def session_view(request: PageRequest, session: Assessment) -> HttpResponseBase:
    if session.status == SessionStatus.DRAFT and may_record(request.user):
        return render_form(request, session)
    return render(request, "assessments/session/result.html", _result_context(request, session))


# --- the PDF ------------------------------------------------------------------------------


@require_GET
@session_page
def report(request: HttpRequest, session: Assessment) -> HttpResponseBase:
    if session.result is None:
        raise Http404(_("This assessment has no result yet: submit it first."))
    pdf = render_report(report_data.report_data(session))
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"{session.number}-{session.instrument.code}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


urlpatterns: list[URLPattern] = [
    path("<int:pk>/", session_view, name="session"),
    path("<int:pk>/report.pdf", report, name="report"),
]
