"""Import through the page, the API and the command line: template round trip, jobs run
by the task queue, progress fragment, report, visibility to the creator only, and the
command's progress output and exit status."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role
from yiyang.residents.models import ImportJob, Resident
from yiyang.residents.services.imports.columns import COLUMNS
from yiyang.residents.services.imports.files import read_table
from yiyang.residents.services.imports.jobs import run_job
from yiyang.residents.tests.conftest import id_for
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")

HEADERS = [column.header for column in COLUMNS]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    return tmp_path / "media"


@pytest.fixture
def nurse(world):
    return make_user(Role.NURSE, scope=world.net.a.county, username="job-nurse")


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200, body(response)[:300]
    return openpyxl.load_workbook(io.BytesIO(body(response)))


def xlsx(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(HEADERS)
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row(**values: Any) -> list[Any]:
    return [values.get(column.key) for column in COLUMNS]


def upload(client: Client, data: bytes, name: str, captured) -> Any:
    with captured(execute=True):
        return client.post(
            reverse("residents:import"), {"file": SimpleUploadedFile(name, data, XLSX)}
        )


def test_template_round_trip_through_the_page(
    world, nurse, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    client = client_for(nurse)
    page = client.get(reverse("residents:import"))
    assert page.status_code == 200 and b'id="template-xlsx"' in page.content

    book = workbook(client.get(reverse("residents:import_template")))
    assert book.sheetnames == ["居民信息", "填写说明"]
    sheet = book["居民信息"]
    assert [c.value for c in sheet[1]] == HEADERS
    example = {h: c.value for h, c in zip(HEADERS, sheet[2], strict=True)}
    assert example["姓名"].startswith("（示例）")
    assert example["村（居）区划代码"].startswith(world.net.a.county.code[:6])
    notes = [[c.value for c in r] for r in book["填写说明"].iter_rows()]
    explained = {r[0]: r for r in notes if r and r[0] in HEADERS}
    assert set(explained) == set(HEADERS)
    assert explained["公民身份号码"][1] == "yes" and explained["性别"][1] == "no"
    assert "居家（home）" in explained["照护方式"][3]

    a = world.net.a
    v0 = a.villages[0]
    good = id_for(v0, datetime.date(1951, 7, 1), 121)
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    sheet.append(row(name="刘德明", id_number=good, region=v0.code, sex="男", veteran="是"))
    sheet.append(row(name="错号", id_number=bad, region=v0.code))
    sheet.append(
        row(name="张三", id_number=world.zhang.id_number, region=v0.code, left_behind="是")
    )
    out = io.BytesIO()
    book.save(out)

    response = upload(client, out.getvalue(), "我的名单.xlsx", django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("residents:import_job", kwargs={"pk": job.pk})
    assert (job.state, job.total, job.processed) == ("done", 3, 3)
    assert (job.imported, job.updated, job.unchanged, job.rejected) == (1, 1, 0, 1)
    assert not job.file  # the upload is deleted once imported; the report stays

    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert b'id="report-link"' in detail.content
    assert f'hx-get="{response["Location"]}"'.encode() not in detail.content  # done: no polling

    report = workbook(client.get(reverse("residents:import_report", kwargs={"pk": job.pk})))
    rows = [[c.value for c in r] for r in report.worksheets[0].iter_rows()]
    head = rows[0]
    assert head[0] == "Row" and head[1 : 1 + len(HEADERS)] == HEADERS
    assert head[-3:] == ["Result", "Reasons", "Reason codes"]
    by_row = {r[0]: r for r in rows[1:]}
    assert by_row[2][-3] == "Skipped (example row)"
    assert by_row[3][1] == "刘德明" and by_row[3][-3] == "Imported"
    assert by_row[4][-3] == "Rejected" and "check character" in by_row[4][-2]
    assert by_row[4][-1] == "id_number:id_checksum"
    assert by_row[5][-3] == "Updated"
    assert Resident.objects.get(name="刘德明").veteran
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-4:] == [
        "residents.import.start",
        "residents.import.batch",
        "residents.import.finish",
        "residents.importjob.read",
    ]


def test_csv_template_reads_back(world, nurse):
    client = client_for(nurse)
    response = client.get(reverse("residents:import_template") + "?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    table = read_table(response.content, "template.csv")
    assert table.headers == HEADERS and len(table.rows) == 1


def test_the_job_page_polls_while_running_and_stops_when_done(world, nurse):
    job = ImportJob.objects.create(
        created_by=nurse, original_name="big.xlsx", state="running", total=200, processed=50
    )
    client = client_for(nurse)
    url = reverse("residents:import_job", kwargs={"pk": job.pk})
    fragment = client.get(url, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "<html" not in html
    assert 'hx-trigger="every 1s"' in html and f'hx-get="{url}"' in html
    assert 'max="200" value="50"' in html and "(25%)" in html
    ImportJob.objects.filter(pk=job.pk).update(state="done", processed=200, imported=200)
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done and 'id="count-imported">200<' in done


def test_jobs_are_visible_to_their_creator_only(world, nurse):
    job = ImportJob.objects.create(created_by=nurse, original_name="mine.xlsx", state="done")
    job.report.save("mine.report.xlsx", ContentFile(b"PK\x03\x04 report"), save=True)
    other = make_user(Role.NURSE, scope=world.net.a.county, username="other-nurse")
    mine, theirs = client_for(nurse), client_for(other)
    for name in ("residents:import_job", "residents:import_report"):
        url = reverse(name, kwargs={"pk": job.pk})
        assert mine.get(url).status_code == 200
        assert theirs.get(url).status_code == 404
    api = f"/api/v1/residents/imports/{job.pk}"
    assert mine.get(api).json()["original_name"] == "mine.xlsx"
    assert theirs.get(api).status_code == 404
    assert theirs.get(api + "/report").status_code == 404
    assert theirs.get("/api/v1/residents/imports").json() == []
    assert b"mine.xlsx" not in theirs.get(reverse("residents:import")).content


def test_import_through_the_api(world, nurse, settings, django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    v0 = world.net.a.villages[0]
    data = xlsx(
        [row(name="接口", id_number=id_for(v0, datetime.date(1950, 9, 9), 131), region=v0.code)]
    )
    client = client_for(nurse)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/residents/imports", {"file": SimpleUploadedFile("api.xlsx", data, XLSX)}
        )
    assert created.status_code == 201, created.content
    assert created.json()["state"] == "queued" and created.json()["report_url"] is None
    job_id = created.json()["id"]
    detail = client.get(f"/api/v1/residents/imports/{job_id}").json()
    assert detail["state"] == "done" and detail["imported"] == 1 and detail["percent"] == 100
    assert detail["report_url"] == f"/api/v1/residents/imports/{job_id}/report"
    report = client.get(detail["report_url"])
    assert report.status_code == 200 and body(report).startswith(b"PK")
    template = client.get("/api/v1/residents/import-template")
    assert template.status_code == 200 and template["Content-Type"] == XLSX


def test_an_unsupported_upload_is_refused_at_once(world, nurse):
    client = client_for(nurse)
    response = client.post(
        reverse("residents:import"),
        {"file": SimpleUploadedFile("old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 50)},
    )
    assert response.status_code == 200
    assert b"Old .xls workbooks are not supported" in response.content
    assert not ImportJob.objects.exists()
    api = client.post(
        "/api/v1/residents/imports", {"file": SimpleUploadedFile("notes.pdf", b"%PDF-1.4")}
    )
    assert api.status_code == 400 and api.json()["code"] == "unsupported_file"


def test_a_file_without_the_required_columns_fails_the_job_with_the_reason(world, nurse, media):
    job = ImportJob(created_by=nurse, original_name="wrong.csv")
    job.file.save("import.csv", ContentFile("姓名,性别\n张三,男\n".encode()), save=True)
    stored = Path(media) / job.file.name
    assert stored.exists()
    run_job(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and "公民身份号码" in job.error and job.finished_at
    assert not stored.exists() and not job.report
    assert run_job(job.pk) is None  # not queued any more: left alone


def test_a_job_is_run_as_its_creator_with_her_scope(world, nurse):
    b = world.net.b
    data = xlsx(
        [
            row(
                name="外县",
                id_number=id_for(b.villages[0], datetime.date(1950, 1, 1), 141),
                region=b.villages[0].code,
            )
        ]
    )
    job = ImportJob(created_by=nurse, original_name="scope.xlsx")
    job.file.save("import.xlsx", ContentFile(data), save=True)
    run_job(job.pk)
    job.refresh_from_db()
    assert (job.state, job.rejected, job.imported) == ("done", 1, 0)


# --- the command line -------------------------------------------------------------------


def run_command(*args: str) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue() + str(exc), exc.returncode
    return out.getvalue(), err.getvalue(), 0


def test_command_imports_prints_progress_and_a_summary(world, nurse, tmp_path):
    v0 = world.net.a.villages[0]
    path = tmp_path / "residents.xlsx"
    rows = [
        row(
            name=f"命令{i}",
            id_number=id_for(v0, datetime.date(1950, 1, 1), 150 + i),
            region=v0.code,
        )
        for i in range(3)
    ]
    path.write_bytes(xlsx(rows))
    out, err, status = run_command("residents", str(path), "--as", nurse.username)
    assert status == 0, err
    assert "0/3 rows (0%)" in out and "3/3 rows (100%)" in out and "rows/s" in out
    assert "residents.xlsx: 3 rows — 3 imported, 0 updated, 0 unchanged, 0 rejected" in out
    report = tmp_path / "residents.report.xlsx"
    assert f"report: {report}" in out and report.exists()

    again, _err, status = run_command("residents", str(path), "--report", str(tmp_path / "r2.xlsx"))
    assert status == 0 and "3 unchanged" in again and (tmp_path / "r2.xlsx").exists()
    finish = AuditEvent.objects.filter(action="residents.import.finish").latest("seq")
    assert finish.actor_username == "" and finish.details["counts"]["unchanged"] == 3


def test_command_exit_status(world, nurse, tmp_path):
    v0 = world.net.a.villages[0]
    path = tmp_path / "some-bad.csv"
    good = id_for(v0, datetime.date(1950, 1, 1), 161)
    path.write_text(
        f"姓名,公民身份号码,村（居）区划代码\n好人,{good},{v0.code}\n坏人,123,{v0.code}\n"
    )
    out, err, status = run_command("residents", str(path), "--as", nurse.username)
    assert status == 1
    assert "1 imported" in out and "1 rejected" in out
    assert "row 3: The ID number must be 18 characters long" in err
    assert Resident.objects.filter(name="好人").exists()

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("姓名,性别\n张三,男\n")
    _out, err, status = run_command("residents", str(wrong))
    assert status == 2 and "Required columns are missing" in err
    _out, err, status = run_command("residents", str(path), "--as", "nobody")
    assert status == 2 and "no active user" in err
    supervisor = make_user(Role.SUPERVISOR, scope=world.net.a.county, username="sup")
    _out, err, status = run_command("residents", str(path), "--as", supervisor.username)
    assert status == 2 and "permission" in err
    _out, err, status = run_command("residents", str(tmp_path / "missing.xlsx"))
    assert status == 2 and "no such file" in err
