"""Appends from several connections at once keep seq gap-free and the chain valid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from django.db import connection, connections, transaction

from yiyang.audit.models import AuditEvent, AuditHead
from yiyang.audit.services import record, verify_chain
from yiyang.network.models import Region

WRITERS = 3
PER_WRITER = 15


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_from_separate_connections():
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:"):
        pytest.skip("SQLite's in-memory test database is shared-cache: no real concurrency")
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(PER_WRITER):
                # A service-style write: the model row and its audit row, one transaction.
                with transaction.atomic():
                    region = Region.objects.create(
                        code=f"4{n}{i:02d}00000000"[:12], name=f"w{n}-{i}", level="province"
                    )
                    record(actor=None, action=f"test.writer{n}", obj=region)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    total = WRITERS * PER_WRITER
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, total + 1)
    )
    assert Region.objects.count() == total
    for n in range(WRITERS):
        assert AuditEvent.objects.filter(action=f"test.writer{n}").count() == PER_WRITER
    assert AuditHead.objects.get().seq == total
    report = verify_chain(batch_size=7)
    assert report.summary() == f"audit chain OK: {total} events"


SQLITE_SCRIPT = """
import json, os, threading
import django
django.setup()
from django.core.management import call_command
from django.db import connections, transaction
from yiyang.audit.models import AuditEvent
from yiyang.audit.services import record, verify_chain

call_command("migrate", verbosity=0)
errors = []

def writer(n):
    try:
        for i in range(15):
            with transaction.atomic():
                record(actor=None, action=f"test.writer{n}")
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connections.close_all()

threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({
    "errors": errors,
    "seqs": list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)),
    "summary": verify_chain().summary(),
}))
"""


def test_concurrent_appends_on_a_sqlite_file(tmp_path):
    """The demo's SQLite file (WAL, IMMEDIATE transactions): writers queue, no gaps."""
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite deployment is checked in the SQLite run")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yiyang.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'audit.sqlite3'}",
        "YIYANG_VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "errors": [],
        "seqs": list(range(1, 46)),
        "summary": "audit chain OK: 45 events",
    }
