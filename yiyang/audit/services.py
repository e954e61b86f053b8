"""Writing and verifying the audit trail (ADR 0004).

Call ``record`` inside the transaction of the action it records: if the audit row cannot
be written, the action rolls back with it. ``record_read`` is the same for reads of a
person's data. ``verify_chain`` recomputes the hash chain and says where it breaks.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from yiyang.audit import context
from yiyang.audit.models import AuditEvent, AuditHead, Outcome
from yiyang.common import crypto
from yiyang.common.actor import Actor

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


GENESIS = "0" * 64
_PG_LOCK_KEY = 0x59495941  # "YIYA": advisory lock serialising chain appends on PostgreSQL
VERIFY_BATCH = 1000


def canonical(event: AuditEvent) -> bytes:
    """The bytes the hash covers: every field but the hash itself, in a fixed order."""
    body = {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "actor_role": event.actor_role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "outcome": event.outcome,
        "address": event.address,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def chain_hash(event: AuditEvent) -> str:
    """HMAC-SHA256 of the canonical row under the audit key (a plain hash could be forged)."""
    return crypto.mac(canonical(event))


def normalise_address(value: str | None) -> str | None:
    """The text of an IP address exactly as both databases return it (the hash covers it),
    or None when ``value`` is not an address."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip().split("%")[0])  # no IPv6 zone
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"::ffff:{address.ipv4_mapped}"
        if int(address) >> 32 == 0 and int(address) > 1:
            # Deprecated IPv4-compatible form (::a.b.c.d): keep the IPv4 address it holds.
            return str(ipaddress.IPv4Address(int(address)))
    return str(address)


def record(
    *,
    actor: Actor | AnonymousUser | None,
    action: str,
    obj: Any = None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    outcome: str = Outcome.SUCCESS,
    details: dict | None = None,
) -> AuditEvent:
    """Append one audit row. Must run inside the caller's transaction (it opens one if
    none is open, so a lone read is also recorded atomically)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)[:200]
    ctx = context.current()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            id=1, defaults={"seq": 0, "hash": GENESIS}
        )
        user = actor if actor is not None and actor.is_authenticated else None
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now(),
            actor_id=user.pk if user is not None else None,
            actor_username=(user.get_username() if user is not None else "")[:150],
            actor_role=(getattr(user, "role", "") if user is not None else "")[:20],
            action=action,
            object_type=str(object_type)[:80],
            object_id=str(object_id)[:64],
            object_repr=str(object_repr)[:200],
            outcome=outcome,
            address=normalise_address(ctx.address),
            user_agent=ctx.user_agent[:200],
            request_id=ctx.request_id[:36],
            details=details or {},
            prev_hash=head.hash,
        )
        event.hash = chain_hash(event)
        event.save(force_insert=True)
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
    return event


def record_read(
    actor: Actor, obj: Any, reason: str = "", *, details: dict | None = None
) -> AuditEvent:
    """Record that ``actor`` read the personal record ``obj`` (action ``<app>.<model>.read``).

    Selectors of person records (staff, residents, …) call this when they hand one out.
    """
    extra = dict(details or {})
    if reason:
        extra["reason"] = reason
    return record(
        actor=actor,
        action=f"{obj._meta.app_label}.{obj._meta.model_name}.read",
        obj=obj,
        details=extra,
    )


# --- verification ---------------------------------------------------------------------


class Problem:
    """Why the chain is broken (the codes ``ChainReport.problem`` takes)."""

    EDITED = "edited"  # a row's content no longer matches its HMAC
    DELETED = "deleted"  # a seq is missing inside the chain
    REORDERED = "reordered"  # an intact row sits at another seq than it was written at
    TRUNCATED = "truncated"  # rows the head (or an anchor) vouches for are gone at the end
    HEAD = "head"  # the head row is missing or does not match the last row
    ANCHOR = "anchor"  # the row at an externally kept anchor has another hash


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int  # rows verified before the first break (all of them when ok)
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    problem: str = ""
    detail: str = ""

    def summary(self) -> str:
        if self.ok:
            return f"audit chain OK: {self.count} events"
        return f"audit chain BROKEN at seq {self.broken_seq} ({self.problem}): {self.detail}"


def _batches(after: int, upto: int, batch_size: int) -> Iterator[list[AuditEvent]]:
    """Rows with after < seq <= upto, ascending, ``batch_size`` at a time (keyset paging,
    so no cursor or transaction stays open across the whole table)."""
    while True:
        batch = list(
            AuditEvent.objects.filter(seq__gt=after, seq__lte=upto).order_by("seq")[:batch_size]
        )
        if not batch:
            return
        yield batch
        after = batch[-1].seq


def _original_seq(event: AuditEvent) -> int | None:
    """If ``event`` is intact but was moved to another seq, the seq it was written at."""
    if event.prev_hash == GENESIS:
        candidate = 1
    else:
        predecessor = AuditEvent.objects.filter(hash=event.prev_hash).only("seq").first()
        if predecessor is None:
            return None
        candidate = predecessor.seq + 1
    if candidate == event.seq:
        return None
    original = AuditEvent(**{f.attname: getattr(event, f.attname) for f in AuditEvent._meta.fields})
    original.seq = candidate
    return candidate if chain_hash(original) == event.hash else None


def verify_chain(
    *, batch_size: int = VERIFY_BATCH, anchor: tuple[int, str] | None = None
) -> ChainReport:
    """Recompute the chain in seq order and report the first break.

    Checks each row's HMAC, that seq runs 1, 2, 3 … without gaps, that each row's
    ``prev_hash`` is the previous row's hash, and that the head names the last row. The
    chain is checked up to the head read at the start, so rows appended meanwhile are
    left for the next run. ``anchor`` = (seq, hash) kept outside the database (e.g. from
    an earlier run's output) also catches a tail cut together with a rewound head.
    """
    head = AuditHead.objects.filter(id=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, "")
    expected, prev_hash, count = 1, GENESIS, 0

    def broken(seq: int, problem: str, detail: str) -> ChainReport:
        return ChainReport(
            ok=False,
            count=count,
            head_seq=head_seq,
            head_hash=head_hash,
            broken_seq=seq,
            problem=problem,
            detail=detail,
        )

    if head is None:
        if AuditEvent.objects.exists():
            return broken(1, Problem.HEAD, "the chain head is missing")
        return ChainReport(ok=True, count=0, head_seq=0, head_hash=GENESIS)

    for batch in _batches(0, head_seq, batch_size):
        for event in batch:
            if chain_hash(event) != event.hash:
                original = _original_seq(event)
                if original is not None:
                    return broken(
                        event.seq,
                        Problem.REORDERED,
                        f"the event written as seq {original} was moved to seq {event.seq}",
                    )
                return broken(
                    event.seq,
                    Problem.EDITED,
                    f"event {event.seq} was changed after it was written "
                    "(its content does not match its HMAC)",
                )
            if event.seq != expected:
                missing = (
                    f"event {expected} is missing"
                    if event.seq == expected + 1
                    else f"events {expected}–{event.seq - 1} are missing"
                )
                return broken(expected, Problem.DELETED, f"{missing} (deleted)")
            if event.prev_hash != prev_hash:
                return broken(
                    event.seq,
                    Problem.REORDERED,
                    f"event {event.seq} does not follow event {event.seq - 1} "
                    "(its prev_hash names another event)",
                )
            if anchor is not None and event.seq == anchor[0] and event.hash != anchor[1]:
                return broken(
                    event.seq,
                    Problem.ANCHOR,
                    f"event {event.seq} has another hash than the anchor kept for it",
                )
            prev_hash, expected, count = event.hash, expected + 1, count + 1

    if count < head_seq:
        return broken(
            count + 1,
            Problem.TRUNCATED,
            f"the head records {head_seq} events but the chain ends at {count}: "
            f"events {count + 1}–{head_seq} were deleted",
        )
    if head_hash != prev_hash:
        return broken(head_seq, Problem.HEAD, f"the chain head does not match event {head_seq}")
    if anchor is not None and anchor[0] > count:
        return broken(
            count + 1,
            Problem.TRUNCATED,
            f"the chain ends at {count}, before the anchored event {anchor[0]}",
        )
    # Rows past the head: read the highest seq first, then the head, so a row appended
    # meanwhile (it moves the head in its own transaction) is covered by the head read.
    highest = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    latest = AuditHead.objects.filter(id=1).values_list("seq", flat=True).first() or 0
    if highest > latest:
        return broken(
            latest + 1,
            Problem.HEAD,
            f"events {latest + 1}–{highest} are not covered by the chain head",
        )
    return ChainReport(ok=True, count=count, head_seq=head_seq, head_hash=head_hash)
