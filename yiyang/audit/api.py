"""``/api/v1/audit``: list (filtered, keyset pages), detail, verify — audit admins only."""

from __future__ import annotations

from dataclasses import asdict

from django.http import HttpRequest
from ninja import Query, Router

from yiyang.audit import selectors
from yiyang.audit.schemas import ChainReportOut, EventFilterIn, EventOut, EventPageOut
from yiyang.common.actor import actor
from yiyang.common.params import Id

router = Router(tags=["audit"])


@router.get("/events", response=EventPageOut, url_name="audit_event_list")
def list_events(request: HttpRequest, filters: Query[EventFilterIn]) -> dict:
    """Events matching the filters, newest first (records ``audit.browse``)."""
    page = selectors.browse_events(
        actor(request), filters.to_filter(), before=filters.before, size=filters.limit
    )
    return {"items": page.items, "next_before": page.older}


@router.get("/events/{int:seq}", response=EventOut, url_name="audit_event_detail")
def event_detail(request: HttpRequest, seq: Id):
    """One event by its seq (records ``audit.browse``)."""
    return selectors.get_event_for(actor(request), seq)


@router.post("/verify", response=ChainReportOut, url_name="audit_verify")
def verify(request: HttpRequest) -> dict:
    """Recompute the hash chain now (records ``audit.verify`` with the result)."""
    report = selectors.run_verification(actor(request))
    return {**asdict(report), "summary": report.summary()}
