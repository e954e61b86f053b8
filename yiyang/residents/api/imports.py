"""Resident import and export API (see ``yiyang.residents.api``; ADR 0013).

* ``GET /export`` — the filtered resident list as .xlsx (the list's filters; identifiers
  masked unless the caller holds ``residents.reveal``).
* ``GET /import-template`` — the import template (``?format=csv`` for CSV).
* ``POST /imports`` — upload a file (multipart ``file``): a queued job, run in the
  background; poll ``GET /imports/{job_id}`` until ``state`` is ``done`` or ``failed``,
  then fetch ``GET /imports/{job_id}/report``.
* ``GET /imports`` — the caller's own jobs, newest first.

Jobs are visible to their creator only: another user's job answers 404.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import get_language
from ninja import File, Router, Schema
from ninja.files import UploadedFile

from yiyang.accounts.actor import actor
from yiyang.common.params import Age, Id
from yiyang.common.schemas import ErrorOut
from yiyang.residents import exports, tasks
from yiyang.residents.models import ImportJob
from yiyang.residents.services.imports.jobs import (
    get_job_for,
    jobs_for,
    open_report,
    report_filename,
)
from yiyang.residents.services.imports.template import template_file

router = Router(tags=["residents"])


ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class ImportJobOut(Schema):
    id: int
    original_name: str
    state: str
    total: int
    processed: int
    imported: int
    updated: int
    unchanged: int
    rejected: int
    percent: int
    error: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    report_url: str | None

    @staticmethod
    def resolve_percent(job: ImportJob) -> int:
        if job.total:
            return round(100 * job.processed / job.total)
        return 100 if job.state in (ImportJob.State.DONE, ImportJob.State.FAILED) else 0

    @staticmethod
    def resolve_report_url(job: ImportJob) -> str | None:
        if not job.report:
            return None
        from django.urls import reverse

        return reverse("api:residents_import_report", kwargs={"job_id": job.pk})


@router.get(
    "/export",
    url_name="residents_export",
    summary="Export the filtered resident list as .xlsx",
    response={200: None, **ERRORS},
)
def export(
    request: HttpRequest,
    q: str = "",
    region: str = "",
    grid: Id | None = None,
    status: str = "",
    care_setting: str = "",
    min_age: Age | None = None,
    max_age: Age | None = None,
    flags: str = "",
) -> Any:
    """Same filters as the resident list (``flags`` comma-separated)."""
    params = {
        "q": q,
        "region": region,
        "grid": grid,
        "status": status,
        "care_setting": care_setting,
        "min_age": min_age,
        "max_age": max_age,
        "flags": flags,
    }
    result = exports.export_residents(actor(request), exports.filters_from(params))
    return exports.streaming_response(result)


@router.get(
    "/import-template",
    url_name="residents_import_template",
    summary="The import template (.xlsx, or CSV with ?format=csv)",
    response={200: None, **ERRORS},
)
def import_template(request: HttpRequest, format: str = "xlsx") -> Any:  # noqa: A002
    content, filename, content_type = template_file(
        actor(request), "csv" if format == "csv" else "xlsx"
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.post(
    "/imports",
    url_name="residents_import_create",
    summary="Upload a file to import (runs in the background)",
    response={201: ImportJobOut, **ERRORS},
)
def import_create(request: HttpRequest, file: File[UploadedFile]) -> Any:
    job = tasks.start_import(actor(request), file, language=get_language() or "")
    return 201, job


@router.get(
    "/imports",
    url_name="residents_import_list",
    summary="My import jobs, newest first",
    response={200: list[ImportJobOut], **ERRORS},
)
def import_list(request: HttpRequest) -> Any:
    return list(jobs_for(actor(request))[:50])


@router.get(
    "/imports/{int:job_id}",
    url_name="residents_import_detail",
    summary="An import job's state and counts",
    response={200: ImportJobOut, **ERRORS},
)
def import_detail(request: HttpRequest, job_id: Id) -> Any:
    return get_job_for(actor(request), job_id)


@router.get(
    "/imports/{int:job_id}/report",
    url_name="residents_import_report",
    summary="An import job's report (.xlsx)",
    response={200: None, **ERRORS},
)
def import_report(request: HttpRequest, job_id: Id) -> Any:
    job, handle = open_report(actor(request), job_id)
    return FileResponse(handle, as_attachment=True, filename=report_filename(job))
