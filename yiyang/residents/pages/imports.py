"""Import and export pages (``residents:import``, ``import_template``, ``import_job``,
``import_report``, ``export``); the work is in ``services.imports`` and
``residents.exports`` (ADR 0013).

The import page uploads a file, which becomes a queued job run by the background worker;
the job page shows a progress bar that htmx refreshes every second until the job is done,
then the counts and the report. Jobs are visible to their creator only (404 otherwise).
"""

from __future__ import annotations

from django import forms
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from yiyang.accounts.actor import PageRequest
from yiyang.common.errors import ValidationFailed
from yiyang.common.pages import apply_error, page
from yiyang.residents import exports, tasks
from yiyang.residents.models import ImportJob
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.services.imports.columns import COLUMNS
from yiyang.residents.services.imports.jobs import (
    get_job_for,
    jobs_for,
    open_report,
    report_filename,
)
from yiyang.residents.services.imports.template import template_file

RECENT_JOBS = 10


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("An Excel workbook (.xlsx) or a CSV file in the template's layout."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.txt"}),
    )


@require_http_methods(["GET", "POST"])
@page(ResidentPerm.IMPORT)
def import_page(request: PageRequest) -> HttpResponse:
    user = request.user
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = tasks.start_import(user, form.cleaned_data["file"], language=get_language() or "")
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            return redirect("residents:import_job", pk=job.pk)
    context = {
        "form": form,
        "jobs": list(jobs_for(user)[:RECENT_JOBS]),
        "columns": COLUMNS,
    }
    return render(request, "residents/imports/import.html", context)


@require_GET
@page(ResidentPerm.IMPORT)
def import_template(request: PageRequest) -> HttpResponse:
    fmt = "csv" if request.GET.get("format") == "csv" else "xlsx"
    content, filename, content_type = template_file(request.user, fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _job_context(job: ImportJob) -> dict[str, object]:
    finished = job.state in (ImportJob.State.DONE, ImportJob.State.FAILED)
    percent = round(100 * job.processed / job.total) if job.total else (100 if finished else 0)
    return {"job": job, "finished": finished, "percent": percent}


@require_GET
@page(ResidentPerm.IMPORT)
def import_job(request: PageRequest, pk: int) -> HttpResponse:
    job = get_job_for(request.user, pk)
    context = _job_context(job)
    if request.htmx:
        return render(request, "residents/imports/_job.html", context)
    return render(request, "residents/imports/job.html", context)


@require_GET
@page(ResidentPerm.IMPORT)
def import_report(request: PageRequest, pk: int) -> FileResponse:
    job, handle = open_report(request.user, pk)
    return FileResponse(handle, as_attachment=True, filename=report_filename(job))


@require_GET
@page(ResidentPerm.EXPORT)
def export(request: PageRequest) -> HttpResponseBase:
    """The filtered resident list (the list page's query string) as .xlsx, streamed."""
    try:
        result = exports.export_residents(request.user, exports.filters_from(request.GET))
    except ValidationFailed as error:
        return HttpResponseBadRequest(error.detail, content_type="text/plain; charset=utf-8")
    return exports.streaming_response(result)


urlpatterns: list[URLPattern] = [
    path("import/", import_page, name="import"),
    path("import/template/", import_template, name="import_template"),
    path("import/<int:pk>/", import_job, name="import_job"),
    path("import/<int:pk>/report/", import_report, name="import_report"),
    path("export/", export, name="export"),
]
