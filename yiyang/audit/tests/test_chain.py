"""The hash chain: record(), verify_chain(), ``yiyang audit verify`` and tampering."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from yiyang.audit import context
from yiyang.audit.models import AuditEvent, AuditHead, Outcome
from yiyang.audit.services import (
    GENESIS,
    canonical,
    chain_hash,
    record,
    record_read,
    verify_chain,
)
from yiyang.network.models import Region

pytestmark = pytest.mark.django_db


def build_chain(n: int, actor=None) -> list[AuditEvent]:
    return [
        record(actor=actor, action=f"test.step{i}", details={"i": i, "note": "张三的档案"})
        for i in range(1, n + 1)
    ]


def verify_cli(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", "verify", *args, stdout=out)
    return out.getvalue()


# --- a sound chain ------------------------------------------------------------------------


def test_record_appends_a_linked_chain_and_moves_the_head(auditor):
    events = build_chain(3, actor=auditor)

    rows = list(AuditEvent.objects.order_by("seq"))
    assert [r.seq for r in rows] == [1, 2, 3]
    assert [r.action for r in rows] == ["test.step1", "test.step2", "test.step3"]
    assert rows[0].prev_hash == GENESIS
    assert rows[1].prev_hash == rows[0].hash
    assert rows[2].prev_hash == rows[1].hash
    assert [r.hash for r in rows] == [e.hash for e in events]
    assert all(chain_hash(r) == r.hash for r in rows)
    assert rows[0].actor_id == auditor.pk
    assert rows[0].actor_username == "auditor"
    assert rows[0].actor_role == "audit_admin"
    assert rows[0].details == {"i": 1, "note": "张三的档案"}
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (3, rows[2].hash)


def test_record_takes_the_object_and_the_request_context(auditor):
    region = Region.objects.create(code="410000000000", name="河南省", level="province")
    token = context.set_current(
        context.RequestContext(address="::FFFF:10.1.2.3", user_agent="pytest", request_id="r-1")
    )
    try:
        event = record(actor=auditor, action="network.region.create", obj=region)
    finally:
        context.reset(token)

    row = AuditEvent.objects.get(seq=event.seq)
    assert row.object_type == "network.region"
    assert row.object_id == str(region.pk)
    assert row.object_repr == "河南省 (410000000000)"
    assert row.address == "::ffff:10.1.2.3"
    assert row.user_agent == "pytest"
    assert row.request_id == "r-1"
    assert row.outcome == Outcome.SUCCESS
    assert chain_hash(row) == row.hash


def test_record_drops_an_address_that_is_not_one():
    token = context.set_current(context.RequestContext(address="not-an-ip"))
    try:
        event = record(actor=None, action="test.anonymous")
    finally:
        context.reset(token)
    row = AuditEvent.objects.get(seq=event.seq)
    assert row.address is None
    assert row.actor_id is None
    assert row.actor_username == ""


def test_record_read_names_the_model_and_keeps_the_reason(auditor):
    region = Region.objects.create(code="410000000000", name="河南省", level="province")
    event = record_read(auditor, region, reason="inspection")
    row = AuditEvent.objects.get(seq=event.seq)
    assert row.action == "network.region.read"
    assert row.object_type == "network.region"
    assert row.object_id == str(region.pk)
    assert row.details == {"reason": "inspection"}
    assert record_read(auditor, region).details == {}


def test_verify_an_empty_and_a_sound_chain():
    assert verify_chain().summary() == "audit chain OK: 0 events"
    events = build_chain(5)
    report = verify_chain(batch_size=2)  # several batches
    assert report.ok is True
    assert report.count == 5
    assert (report.head_seq, report.head_hash) == (5, events[-1].hash)
    assert report.summary() == "audit chain OK: 5 events"


def test_cli_verify_prints_ok_and_the_head():
    events = build_chain(4)
    assert verify_cli("--batch-size", "3") == (
        f"audit chain OK: 4 events\nhead: 4:{events[-1].hash}\n"
    )


def test_cli_rejects_bad_options():
    with pytest.raises(CommandError, match="--anchor must be SEQ:HASH"):
        verify_cli("--anchor", "3:xyz")
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        verify_cli("--batch-size", "0")


# --- tampering ----------------------------------------------------------------------------


def test_an_edited_row_is_reported_with_its_seq(attacker):
    build_chain(5)
    attacker("UPDATE audit_auditevent SET action = 'test.harmless' WHERE seq = 3")

    report = verify_chain()
    assert (report.ok, report.broken_seq, report.problem, report.count) == (
        False,
        3,
        "edited",
        2,
    )
    with pytest.raises(CommandError) as exc:
        verify_cli()
    assert exc.value.returncode == 1
    assert str(exc.value) == (
        "audit chain BROKEN at seq 3 (edited): event 3 was changed after it was written "
        "(its content does not match its HMAC)"
    )


def test_a_deleted_middle_row_is_reported(attacker):
    build_chain(5)
    attacker("DELETE FROM audit_auditevent WHERE seq = 3")

    report = verify_chain()
    assert (report.broken_seq, report.problem) == (3, "deleted")
    assert report.detail == "event 3 is missing (deleted)"
    with pytest.raises(CommandError, match=r"BROKEN at seq 3 \(deleted\)"):
        verify_cli()


def test_several_deleted_rows_are_reported_as_a_range(attacker):
    build_chain(6)
    attacker("DELETE FROM audit_auditevent WHERE seq IN (2, 3, 4)")
    report = verify_chain()
    assert (report.broken_seq, report.problem, report.detail) == (
        2,
        "deleted",
        "events 2–4 are missing (deleted)",
    )


def test_deleting_the_newest_rows_is_caught_by_the_head(attacker):
    build_chain(5)
    attacker("DELETE FROM audit_auditevent WHERE seq >= 4")

    report = verify_chain()
    assert (report.broken_seq, report.problem, report.count, report.head_seq) == (
        4,
        "truncated",
        3,
        5,
    )
    assert report.detail == (
        "the head records 5 events but the chain ends at 3: events 4–5 were deleted"
    )
    with pytest.raises(CommandError, match=r"BROKEN at seq 4 \(truncated\)"):
        verify_cli()


def test_a_forged_row_with_a_plain_sha256_is_still_caught(attacker):
    """Without the HMAC key, recomputing the hash (and re-linking the next row) fails."""
    build_chain(5)
    forged = AuditEvent.objects.get(seq=2)
    forged.action = "test.harmless"
    forged.prev_hash = AuditEvent.objects.get(seq=1).hash
    fake_hash = hashlib.sha256(canonical(forged)).hexdigest()
    attacker(
        "UPDATE audit_auditevent SET action = 'test.harmless', hash = %s WHERE seq = 2",
        params=[fake_hash],
    )
    attacker("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = 3", params=[fake_hash])

    report = verify_chain()
    assert (report.broken_seq, report.problem) == (2, "edited")


def test_swapped_rows_are_reported_as_reordered(attacker):
    build_chain(5)
    attacker(
        "UPDATE audit_auditevent SET seq = -2 WHERE seq = 2",
        "UPDATE audit_auditevent SET seq = 2 WHERE seq = 4",
        "UPDATE audit_auditevent SET seq = 4 WHERE seq = -2",
    )
    report = verify_chain()
    assert (report.broken_seq, report.problem, report.detail) == (
        2,
        "reordered",
        "the event written as seq 4 was moved to seq 2",
    )


def test_a_missing_or_edited_head_is_reported(attacker):
    build_chain(3)
    attacker("UPDATE audit_audithead SET hash = %s WHERE id = 1", params=["f" * 64])
    report = verify_chain()
    assert (report.broken_seq, report.problem) == (3, "head")
    assert report.detail == "the chain head does not match event 3"

    attacker("DELETE FROM audit_audithead")
    report = verify_chain()
    assert (report.broken_seq, report.problem, report.detail) == (
        1,
        "head",
        "the chain head is missing",
    )


def test_rows_past_the_head_are_reported(attacker):
    events = build_chain(4)
    attacker("UPDATE audit_audithead SET seq = 3, hash = %s WHERE id = 1", params=[events[2].hash])
    report = verify_chain()
    assert (report.broken_seq, report.problem, report.detail) == (
        4,
        "head",
        "events 4–4 are not covered by the chain head",
    )


def test_an_anchor_catches_a_tail_cut_with_a_rewound_head(attacker):
    events = build_chain(5)
    anchor = f"5:{events[-1].hash}"
    attacker("DELETE FROM audit_auditevent WHERE seq >= 4")
    attacker("UPDATE audit_audithead SET seq = 3, hash = %s WHERE id = 1", params=[events[2].hash])

    # The database alone now holds a consistent shorter chain …
    assert verify_chain().summary() == "audit chain OK: 3 events"
    # … which the anchor kept from an earlier run exposes.
    with pytest.raises(CommandError) as exc:
        verify_cli("--anchor", anchor)
    assert str(exc.value) == (
        "audit chain BROKEN at seq 4 (truncated): the chain ends at 3, before the anchored event 5"
    )
    report = verify_chain(anchor=(2, "0" * 64))
    assert (report.broken_seq, report.problem) == (2, "anchor")


# --- a write whose audit row fails does not happen ----------------------------------------


def create_region_audited(actor, code: str, name: str, details: dict) -> Region:
    """A service-style write: the model write and its audit row in one transaction."""
    with transaction.atomic():
        region = Region.objects.create(code=code, name=name, level="province")
        record(actor=actor, action="network.region.create", obj=region, details=details)
    return region


def test_a_write_whose_audit_row_fails_is_rolled_back(auditor):
    create_region_audited(auditor, "410000000000", "河南省", {})
    assert Region.objects.count() == 1
    assert AuditEvent.objects.count() == 1

    # The audit row cannot be serialised: the region is not created either.
    with pytest.raises(TypeError):
        create_region_audited(auditor, "420000000000", "湖北省", {"bad": {1, 2}})
    assert list(Region.objects.values_list("code", flat=True)) == ["410000000000"]
    assert AuditEvent.objects.count() == 1
    assert AuditHead.objects.get().seq == 1


def test_a_write_whose_audit_insert_is_refused_is_rolled_back(auditor, attacker):
    build_chain(2)
    # Someone occupies the next seq: the audit INSERT violates the unique seq.
    attacker(
        "INSERT INTO audit_auditevent (seq, at, actor_username, actor_role, action, "
        "object_type, object_id, object_repr, outcome, user_agent, request_id, details, "
        "prev_hash, hash) VALUES (3, '2026-01-01 00:00:00', '', '', 'x', '', '', '', "
        "'success', '', '', '{}', '', '')"
    )
    with pytest.raises(IntegrityError):
        create_region_audited(auditor, "420000000000", "湖北省", {})
    assert Region.objects.filter(code="420000000000").exists() is False
    assert AuditHead.objects.get().seq == 2


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("10.1.2.3", "10.1.2.3"),
        ("::FFFF:10.1.2.3", "::ffff:10.1.2.3"),
        ("::10.1.2.3", "10.1.2.3"),
        ("2001:DB8::1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("::1", "::1"),
        ("::ffff:0:0", "::ffff:0.0.0.0"),
        (" 192.168.0.1 ", "192.168.0.1"),
    ],
)
def test_addresses_are_stored_as_the_database_returns_them(raw, stored):
    token = context.set_current(context.RequestContext(address=raw))
    try:
        event = record(actor=None, action="test.address")
    finally:
        context.reset(token)
    row = AuditEvent.objects.get(seq=event.seq)
    assert row.address == stored
    assert chain_hash(row) == row.hash
