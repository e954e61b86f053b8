"""Reading the audit trail: audit administrators only, and every read is itself recorded.

The trail is not scoped by region (an audit administrator sees it whole); the permission
``audit.view`` is the only gate. Pages, the API and the CSV export share the filter and
the keyset pages here.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from yiyang.audit.errors import AuditError
from yiyang.audit.models import AuditEvent, Outcome
from yiyang.audit.permissions import AuditPerm
from yiyang.audit.services import ChainReport, record, verify_chain
from yiyang.common.actor import Actor
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
EXPORT_BATCH = 2000


def local_zone() -> zoneinfo.ZoneInfo:
    """The zone times are shown in (Asia/Shanghai)."""
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class EventFilter:
    """What the browse page, the API list and the export filter by (all optional)."""

    actor: str = ""  # username, exact (case-insensitive)
    action: str = ""  # action prefix, e.g. "network." or "network.staff.read"
    object_type: str = ""  # e.g. "network.institution"
    object_id: str = ""
    outcome: str = ""
    date_from: datetime.date | None = None  # inclusive, local date
    date_to: datetime.date | None = None  # inclusive, local date

    def __post_init__(self) -> None:
        if self.outcome and self.outcome not in Outcome.values:
            raise ValidationFailed(
                AuditError.INVALID_OUTCOME,
                f"outcome must be one of {', '.join(Outcome.values)}",
                field="outcome",
            )
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValidationFailed(
                AuditError.INVALID_DATE_RANGE,
                "the end date is before the start date",
                field="date_to",
            )

    def as_details(self) -> dict[str, str]:
        """The filter as recorded in the browse/export audit row (only what was set)."""
        return {
            key: value.isoformat() if isinstance(value, datetime.date) else str(value)
            for key, value in asdict(self).items()
            if value
        }

    def apply(self, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.actor:
            queryset = queryset.filter(actor_username__iexact=self.actor.strip())
        if self.action:
            queryset = queryset.filter(action__startswith=self.action.strip())
        if self.object_type:
            queryset = queryset.filter(object_type=self.object_type.strip())
        if self.object_id:
            queryset = queryset.filter(object_id=self.object_id.strip())
        if self.outcome:
            queryset = queryset.filter(outcome=self.outcome)
        zone = local_zone()
        if self.date_from:
            start = datetime.datetime.combine(self.date_from, datetime.time.min, tzinfo=zone)
            queryset = queryset.filter(at__gte=start)
        if self.date_to:
            end = datetime.datetime.combine(
                self.date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
            )
            queryset = queryset.filter(at__lt=end)
        return queryset


@dataclass(frozen=True)
class EventPage:
    """One keyset page, newest first: ``older``/``newer`` are the cursors for the pager."""

    items: list[AuditEvent]
    older: int | None  # pass as ``before`` for the next (older) page
    newer: int | None  # pass as ``after`` for the previous (newer) page


def _require(user: Actor) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied("log in first")
    if not user.has_perm_code(AuditPerm.VIEW):
        raise PermissionDenied("only audit administrators read the audit trail")


def _page(
    queryset: QuerySet[AuditEvent], before: int | None, after: int | None, size: int
) -> EventPage:
    if after is not None:
        rows = list(queryset.filter(seq__gt=after).order_by("seq")[: size + 1])
        more_newer = len(rows) > size
        items = list(reversed(rows[:size]))
        older = items[-1].seq if items and queryset.filter(seq__lt=items[-1].seq).exists() else None
        newer = items[0].seq if items and more_newer else None
        return EventPage(items, older, newer)
    if before is not None:
        queryset = queryset.filter(seq__lt=before)
    rows = list(queryset.order_by("-seq")[: size + 1])
    items = rows[:size]
    older = items[-1].seq if len(rows) > size else None
    newer = items[0].seq if items and before is not None else None
    return EventPage(items, older, newer)


def browse_events(
    user: Actor,
    flt: EventFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> EventPage:
    """One page of events matching ``flt``; records ``audit.browse``."""
    _require(user)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationFailed(
            AuditError.INVALID_LIMIT, f"limit must be between 1 and {MAX_PAGE_SIZE}", field="limit"
        )
    with transaction.atomic():
        page = _page(flt.apply(AuditEvent.objects.all()), before, after, size)
        details: dict[str, Any] = {"filter": flt.as_details(), "rows": len(page.items)}
        if before is not None:
            details["before"] = before
        if after is not None:
            details["after"] = after
        record(actor=user, action="audit.browse", details=details)
    return page


def get_event_for(user: Actor, seq: int) -> AuditEvent:
    """The event with ``seq``; records ``audit.browse`` for it."""
    _require(user)
    with transaction.atomic():
        event = AuditEvent.objects.filter(seq=seq).first()
        if event is None:
            raise NotFound("audit event")
        record(
            actor=user,
            action="audit.browse",
            object_type="audit.auditevent",
            object_id=event.seq,
            object_repr=str(event)[:200],
        )
    return event


def export_events(user: Actor, flt: EventFilter) -> Iterator[AuditEvent]:
    """Every event matching ``flt``, newest first, read in keyset batches.

    The ``audit.export`` row is written (and committed) before the first row is handed
    out, so an export that is cut off midway is still on record.
    """
    _require(user)
    record(actor=user, action="audit.export", details={"filter": flt.as_details()})
    queryset = flt.apply(AuditEvent.objects.all())

    def rows() -> Iterator[AuditEvent]:
        before: int | None = None
        while True:
            batch_qs = queryset if before is None else queryset.filter(seq__lt=before)
            batch = list(batch_qs.order_by("-seq")[:EXPORT_BATCH])
            yield from batch
            if len(batch) < EXPORT_BATCH:
                return
            before = batch[-1].seq

    return rows()


def run_verification(user: Actor) -> ChainReport:
    """Verify the chain for an audit administrator; records ``audit.verify`` with the
    result (after the check, so the new row is not part of what was checked)."""
    _require(user)
    report = verify_chain()
    record(
        actor=user,
        action="audit.verify",
        details={
            "ok": report.ok,
            "count": report.count,
            "broken_seq": report.broken_seq,
            "problem": report.problem,
        },
    )
    return report
