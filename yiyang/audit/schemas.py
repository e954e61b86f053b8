"""API shapes of the audit trail (times in Asia/Shanghai, ISO 8601 with offset)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from ninja import Field, Schema

from yiyang.audit.models import AuditEvent, Outcome
from yiyang.audit.selectors import MAX_PAGE_SIZE, PAGE_SIZE, EventFilter, local_zone
from yiyang.common.params import Count


class EventFilterIn(Schema):
    actor: str = Field("", description="actor username, exact (case-insensitive)")
    action: str = Field("", description="action prefix, e.g. 'network.' or 'network.staff.read'")
    object_type: str = Field("", description="e.g. 'network.institution'")
    object_id: str = ""
    outcome: Outcome | None = None
    date_from: datetime.date | None = Field(None, description="inclusive, Asia/Shanghai date")
    date_to: datetime.date | None = Field(None, description="inclusive, Asia/Shanghai date")
    before: Count | None = Field(None, description="cursor: events with a smaller seq")
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)

    def to_filter(self) -> EventFilter:
        return EventFilter(
            actor=self.actor,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            outcome=self.outcome.value if self.outcome else "",
            date_from=self.date_from,
            date_to=self.date_to,
        )


class EventOut(Schema):
    seq: int
    at: datetime.datetime
    actor_id: int | None
    actor_username: str
    actor_role: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    outcome: str
    address: str | None
    user_agent: str
    request_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    @staticmethod
    def resolve_at(obj: AuditEvent) -> datetime.datetime:
        return timezone.localtime(obj.at, local_zone())


class EventPageOut(Schema):
    items: list[EventOut]
    next_before: int | None = Field(description="pass as 'before' for the next (older) page")


class ChainReportOut(Schema):
    ok: bool
    count: int
    head_seq: int
    head_hash: str
    broken_seq: int | None
    problem: str
    detail: str
    summary: str
