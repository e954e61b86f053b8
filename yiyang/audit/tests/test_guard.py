"""The database refuses to change or remove audit rows (migration 0002)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from yiyang.audit import guard
from yiyang.audit.models import AuditEvent, AuditHead
from yiyang.audit.services import GENESIS, record, verify_chain

EXPECTED_TRIGGERS = {
    "sqlite": [
        "audit_event_no_delete",
        "audit_event_no_update",
        "audit_head_advance",
        "audit_head_genesis",
        "audit_head_no_delete",
    ],
    "postgresql": [
        "audit_event_no_truncate",
        "audit_event_no_update_delete",
        "audit_head_guard",
        "audit_head_no_truncate",
    ],
}


def refused(fn) -> str:
    """Run ``fn`` in a savepoint; return the database's refusal message."""
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        fn()
    return str(exc.value)


@pytest.mark.django_db
def test_the_guard_is_installed():
    """Fails when a migration rebuilt the table (SQLite) and lost the triggers."""
    assert guard.trigger_names(connection) == EXPECTED_TRIGGERS[connection.vendor]


@pytest.mark.django_db
def test_audit_rows_cannot_be_updated_or_deleted():
    first = record(actor=None, action="test.one")
    record(actor=None, action="test.two")

    message = refused(lambda: AuditEvent.objects.filter(seq=1).update(action="test.changed"))
    assert "audit_auditevent is append-only: UPDATE refused" in message
    first.action = "test.changed"
    assert "UPDATE refused" in refused(lambda: first.save())
    message = refused(lambda: AuditEvent.objects.filter(seq=2).delete())
    assert "audit_auditevent is append-only: DELETE refused" in message

    assert list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)) == [
        "test.one",
        "test.two",
    ]
    assert verify_chain().ok is True


@pytest.mark.django_db
def test_the_head_only_advances_to_the_newest_event():
    events = [record(actor=None, action=f"test.{i}") for i in range(3)]

    def set_head(seq: int, hash_: str) -> None:
        AuditHead.objects.filter(id=1).update(seq=seq, hash=hash_)

    advance = "audit_audithead only advances by one, to the newest audit event"
    assert advance in refused(lambda: set_head(2, events[1].hash))  # rewind
    assert advance in refused(lambda: set_head(3, "f" * 64))  # another hash
    assert advance in refused(lambda: set_head(5, events[2].hash))  # skip ahead
    assert "audit_audithead: DELETE refused" in refused(lambda: AuditHead.objects.all().delete())
    assert "starts at the genesis" in refused(
        lambda: AuditHead.objects.create(id=2, seq=7, hash=GENESIS)
    )
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (3, events[2].hash)


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_trail_and_restores_the_guard():
    """The test framework's flush between transactional tests goes through the guard."""
    record(actor=None, action="test.one")
    record(actor=None, action="test.two")

    call_command("flush", interactive=False, verbosity=0)

    assert AuditEvent.objects.count() == 0
    assert AuditHead.objects.count() == 0
    assert guard.trigger_names(connection) == EXPECTED_TRIGGERS[connection.vendor]
    # The chain starts again at 1, still guarded.
    record(actor=None, action="test.again")
    assert "UPDATE refused" in refused(
        lambda: AuditEvent.objects.filter(seq=1).update(action="test.changed")
    )
    assert verify_chain().summary() == "audit chain OK: 1 events"


@pytest.mark.django_db
def test_flush_is_refused_in_production_mode(settings):
    record(actor=None, action="test.one")
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refused in production mode"):
        call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == 1
