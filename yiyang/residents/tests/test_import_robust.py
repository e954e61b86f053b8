"""A bad row never costs the others (issue 12): control characters are a row error naming
the column; a batch the database refuses is redone row by row so that only the refused
row is lost; the command and the job still end with their report. Run on SQLite and on
PostgreSQL (DATABASE_URL), where a NUL in text is refused by the database itself."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.db import DataError, connection
from django.db.models import Model, QuerySet

from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role
from yiyang.residents.models import ImportJob, Resident
from yiyang.residents.services.imports import rows as import_rows
from yiyang.residents.services.imports.columns import COLUMNS
from yiyang.residents.services.imports.jobs import import_data, run_job
from yiyang.residents.tests.conftest import id_for
from yiyang.residents.tests.test_import import results
from yiyang.residents.tests.test_import_jobs import media, run_command  # noqa: F401
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")

HEADERS = [column.header for column in COLUMNS]
BORN = datetime.date(1950, 1, 1)


@pytest.fixture
def nurse(world):
    return make_user(Role.NURSE, scope=world.net.a.county, username="robust-nurse")


def csv_file(
    world, count: int, bad: dict[int, str], *, extra_header: str = "", name: str = "居民"
) -> bytes:
    """``count`` residents as CSV (rows 2 … count + 1); ``bad`` maps a row number to the
    address written in it."""
    village = world.net.a.villages[0]
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["姓名", "公民身份号码", "村（居）区划代码", "现住址"]
    writer.writerow(header + ([extra_header] if extra_header else []))
    offset = 0 if name == "居民" else 500
    for number in range(2, count + 2):
        address = bad.get(number, f"幸福路{number}号")
        n = offset + number
        born = BORN + datetime.timedelta(days=n // 1000)
        cells = [f"{name}{number}", id_for(village, born, n % 1000), village.code, address]
        writer.writerow(cells + (["备注"] if extra_header else []))
    return out.getvalue().encode()


def test_a_control_character_is_a_row_error_naming_its_column(world, nurse):
    data = csv_file(world, 25, {15: "幸福路\x0015号", 16: "两行\n地址", 17: "制表\t符"})
    data = data.replace("居民20".encode(), "居民\x0720".encode())
    outcome = import_data(nurse, data, "residents.csv", batch_size=10)
    got = results(outcome)
    assert got[15] == ("rejected", ["address:control_character"])
    assert outcome.results[13].reason == (
        "现住址: contains a control character (U+0000), which cannot be stored: delete it "
        "and import the row again."
    )
    assert got[20] == ("rejected", ["name:control_character"])
    assert "U+0007" in outcome.results[18].reason
    # a line break or a tab typed in a cell is text, not a control character to refuse
    assert got[16] == ("imported", []) and got[17] == ("imported", [])
    assert outcome.counts["imported"] == 23 and outcome.counts["rejected"] == 2
    assert Resident.objects.filter(name__startswith="居民").count() == 23


def test_a_control_character_in_an_ignored_column_is_named_too(world, nurse):
    data = csv_file(world, 2, {}, extra_header="备注列").replace(
        "备注\r\n".encode(), "备\x00注\r\n".encode(), 1
    )
    outcome = import_data(nurse, data, "residents.csv")
    assert results(outcome)[2] == ("rejected", [":control_character"])
    assert outcome.results[0].reason.startswith("备注列: contains a control character (U+0000)")


@pytest.fixture
def database_refuses_nul(monkeypatch):
    """Let NUL through the checks, so that it reaches the database. PostgreSQL refuses it
    by itself; on SQLite (which stores it) the refusal is played by the writes."""
    monkeypatch.setattr(import_rows, "control_character", lambda value: None)
    if connection.vendor == "postgresql":
        return

    def refuse(objs: Any) -> None:
        if any("\x00" in (getattr(obj, "address", "") or "") for obj in objs):
            raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")

    bulk_create, bulk_update, save = QuerySet.bulk_create, QuerySet.bulk_update, Model.save

    def checked_bulk_create(self, objs, *args, **kwargs):
        refuse(objs)
        return bulk_create(self, objs, *args, **kwargs)

    def checked_bulk_update(self, objs, *args, **kwargs):
        refuse(objs)
        return bulk_update(self, objs, *args, **kwargs)

    def checked_save(self, *args, **kwargs):
        refuse([self])
        return save(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "bulk_create", checked_bulk_create)
    monkeypatch.setattr(QuerySet, "bulk_update", checked_bulk_update)
    monkeypatch.setattr(Model, "save", checked_save)


@pytest.mark.usefixtures("database_refuses_nul")
def test_a_row_the_database_refuses_costs_only_itself(world, nurse):
    # 25 rows in batches of 10: the NUL sits in the middle of the second batch.
    first = import_data(nurse, csv_file(world, 25, {15: "幸福路\x0015号"}), "a.csv", batch_size=10)
    got = results(first)
    assert got[15] == ("rejected", [":not_stored"])
    assert first.results[13].reason.startswith("The database refused to store this row")
    assert first.counts["imported"] == 24 and first.counts["rejected"] == 1
    assert Resident.objects.filter(name__startswith="居民").count() == 24
    batches = AuditEvent.objects.filter(action="residents.import.batch").order_by("seq")
    assert [e.details["rows"] for e in batches] == [[2, 11], [12, 21], [22, 26]]
    assert batches[1].details["rejected"] == [[15, ["not_stored"]]]

    # updates too: the same people again, one of them with a NUL in a changed address
    again = csv_file(world, 25, {5: "新地址\x00", 6: "新地址"})
    second = import_data(nurse, again, "b.csv", batch_size=10)
    got = results(second)
    assert got[5] == ("rejected", [":not_stored"]) and got[6] == ("updated", [])
    assert got[15] == ("imported", [])
    assert second.counts["unchanged"] == 22


@pytest.mark.usefixtures("database_refuses_nul")
def test_the_job_and_the_command_end_with_their_report(world, nurse, tmp_path):
    job = ImportJob(created_by=nurse, original_name="nul.csv")
    job.file.save("import.csv", ContentFile(csv_file(world, 12, {7: "x\x00"})), save=True)
    run_job(job.pk)
    job.refresh_from_db()
    assert (job.state, job.imported, job.rejected) == ("done", 11, 1)
    with job.report.open("rb") as handle:
        sheet = openpyxl.load_workbook(io.BytesIO(handle.read())).active
    rejected = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == 7]
    assert rejected and rejected[0][-1] == "-:not_stored"

    path = tmp_path / "nul.csv"
    path.write_bytes(csv_file(world, 14, {13: "y\x00"}, name="命令"))
    out, err, status = run_command("residents", str(path), "--as", nurse.username)
    assert status == 1, err
    assert "14 rows — 13 imported, 0 updated, 0 unchanged, 1 rejected" in out
    assert "row 13: The database refused to store this row" in err
    assert (tmp_path / "nul.report.xlsx").exists()


@pytest.mark.parametrize(
    ("checked", "reason"),
    [
        (True, "row 1500: 现住址: contains a control character (U+0000)"),
        (False, "row 1500: The database refused to store this row"),
    ],
)
def test_the_reported_case_2500_rows_with_a_nul_in_row_1500(
    world, nurse, tmp_path, request, checked, reason
):
    # issue 12, as reported: 2,500 rows, one NUL in row 1,500 (the middle of the second
    # batch of 1,000) — refused by the checks, or (if they missed it) by the database
    if not checked:
        request.getfixturevalue("database_refuses_nul")
    path = tmp_path / "county.csv"
    path.write_bytes(csv_file(world, 2500, {1500: "幸福路\x00号"}))
    out, err, status = run_command("residents", str(path), "--as", nurse.username)
    assert status == 1, err
    assert "2500 rows — 2499 imported, 0 updated, 0 unchanged, 1 rejected" in out
    assert reason in err
    assert (tmp_path / "county.report.xlsx").exists()
    assert Resident.objects.filter(name__startswith="居民").count() == 2499
