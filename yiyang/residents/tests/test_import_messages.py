"""What a new user meets when an import has nothing to import or cannot run (issue 12):
the unchanged template, a header-only file and a broken file are refused with a plain
message (page, job, command line); a job whose worker was killed does not stay "running"
for ever."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone, translation

from yiyang.audit.models import AuditEvent
from yiyang.common.errors import ValidationFailed
from yiyang.common.permissions import Role
from yiyang.residents.models import ImportJob, Resident
from yiyang.residents.services.imports.files import read_table
from yiyang.residents.services.imports.jobs import STALE_AFTER, run_job
from yiyang.residents.tests.test_import_jobs import media, run_command  # noqa: F401
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")

ONLY_EXAMPLE = (
    "The file holds only the template's example row (its name starts with （示例）), which is "
    "always skipped: nothing was imported. Add the residents below the header, one per row."
)
NO_ROWS = (
    "The file has no data rows below its header row: nothing was imported. Add the "
    "residents below the header, one per row."
)
NOT_XLSX = (
    "The file could not be read as an Excel workbook (.xlsx): it may be damaged, or another "
    "kind of file named .xlsx. Open it in Excel or WPS and save it again as .xlsx, or save it "
    "as CSV."
)


@pytest.fixture
def nurse(world):
    return make_user(Role.NURSE, scope=world.net.a.county, username="msg-nurse")


def run(nurse, name: str, data: bytes) -> ImportJob:
    job = ImportJob(created_by=nurse, original_name=name)
    job.file.save(f"import{Path(name).suffix}", ContentFile(data), save=True)
    run_job(job.pk)
    job.refresh_from_db()
    return job


def job_page(nurse, job: ImportJob) -> str:
    return client_for(nurse).get(reverse("residents:import_job", args=[job.pk])).content.decode()


def test_the_unchanged_template_says_nothing_was_imported(world, nurse, tmp_path):
    template = client_for(nurse).get(reverse("residents:import_template")).content
    before = Resident.objects.count()
    job = run(nurse, "template.xlsx", template)
    assert (job.state, job.error, job.imported) == ("failed", ONLY_EXAMPLE, 0)
    page = job_page(nurse, job)
    assert "nothing was imported" in page and "already up to date" not in page
    assert 'id="import-again"' in page
    path = tmp_path / "template.xlsx"
    path.write_bytes(template)
    _out, err, status = run_command("residents", str(path), "--as", nurse.username)
    assert status == 2 and ONLY_EXAMPLE in err
    assert Resident.objects.count() == before


def test_a_header_only_file_says_it_has_no_data_rows(world, nurse, tmp_path):
    data = "姓名,公民身份号码,村（居）区划代码\n".encode()
    job = run(nurse, "empty.csv", data)
    assert (job.state, job.error) == ("failed", NO_ROWS)
    assert NO_ROWS in job_page(nurse, job)
    path = tmp_path / "empty.csv"
    path.write_bytes(data)
    _out, err, status = run_command("residents", str(path))
    assert status == 2 and NO_ROWS in err


def test_a_broken_workbook_gets_a_plain_message(world, nurse, tmp_path):
    broken = b"PK\x03\x04" + b"\x00not a workbook" * 20
    job = run(nurse, "broken.xlsx", broken)
    assert (job.state, job.error) == ("failed", NOT_XLSX)
    assert "Calamine" not in job_page(nurse, job)
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as caught:
        read_table(broken, "broken.xlsx")
    assert caught.value.code == "bad_file" and "Calamine" not in caught.value.detail
    assert "无法作为 Excel 工作簿（.xlsx）读取" in caught.value.detail
    path = tmp_path / "broken.xlsx"
    path.write_bytes(broken)
    _out, err, status = run_command("residents", str(path))
    assert status == 2 and NOT_XLSX in err and "Calamine" not in err


def test_a_broken_csv_gets_a_plain_message(world, nurse):
    data = ("姓名,公民身份号码,村（居）区划代码\n张三," + "x" * 200_000 + ",1\n").encode()
    with pytest.raises(ValidationFailed) as caught:
        read_table(data, "big.csv")
    assert caught.value.code == "bad_file"
    assert caught.value.detail.startswith("The file could not be read as CSV")


def test_a_job_whose_worker_died_is_shown_as_interrupted(world, nurse, media):  # noqa: F811
    now = timezone.now()
    dead = ImportJob(created_by=nurse, original_name="dead.xlsx", state="running", total=10)
    dead.file.save("import.xlsx", ContentFile(b"PK\x03\x04 upload"), save=False)
    dead.heartbeat_at = now - STALE_AFTER - datetime.timedelta(seconds=1)
    dead.save()
    stored = Path(media) / dead.file.name
    alive = ImportJob.objects.create(
        created_by=nurse, original_name="alive.xlsx", state="running", heartbeat_at=now
    )
    client = client_for(nurse)
    listing = client.get(reverse("residents:import")).content.decode()
    dead.refresh_from_db()
    assert dead.state == "failed" and dead.finished_at is not None
    assert dead.error.startswith("The import was interrupted: the background worker stopped")
    assert f'<tr data-state="failed"><td><a href="/residents/import/{dead.pk}/">' in listing
    assert not stored.exists()  # the upload is deleted as at any other end
    finish = AuditEvent.objects.filter(action="residents.import.finish").latest("seq")
    assert finish.object_id == str(dead.pk) and finish.details["state"] == "failed"
    page = job_page(nurse, dead)
    assert 'hx-trigger="every 1s"' not in page and 'id="import-again"' in page
    assert client.get(f"/api/v1/residents/imports/{dead.pk}").json()["state"] == "failed"
    alive.refresh_from_db()
    assert alive.state == "running"
    assert run_job(dead.pk) is None
