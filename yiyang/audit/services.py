"""Writing audit rows. Call ``record`` inside the transaction of the action it records:
if the audit row cannot be written, the action rolls back with it."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from yiyang.audit import context
from yiyang.audit.models import AuditEvent, AuditHead, Outcome
from yiyang.common import crypto

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x59495941  # "YIYA": advisory lock serialising chain appends on PostgreSQL


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
    return crypto.mac(canonical(event))


def record(
    *,
    actor: Any,
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
        authenticated = actor is not None and getattr(actor, "is_authenticated", False)
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now(),
            actor_id=actor.pk if authenticated else None,
            actor_username=(actor.get_username() if authenticated else "")[:150],
            actor_role=(getattr(actor, "role", "") if authenticated else "")[:20],
            action=action,
            object_type=str(object_type)[:80],
            object_id=str(object_id)[:64],
            object_repr=str(object_repr)[:200],
            outcome=outcome,
            address=ctx.address,
            user_agent=ctx.user_agent,
            request_id=ctx.request_id,
            details=details or {},
            prev_hash=head.hash,
        )
        event.hash = chain_hash(event)
        event.save(force_insert=True)
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
    return event
