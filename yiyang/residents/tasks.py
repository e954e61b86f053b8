"""Background tasks of the residents app (``django-tasks``, ADR 0002), and the service
that starts one.

``start_import`` stores an upload as a queued ``ImportJob`` and enqueues ``run_import``
after commit; ``yiyang db_worker`` (which ``yiyang serve`` and ``yiyang demo`` start and
supervise, ADR 0013) runs it, and the task runs the job (``services.imports.jobs.run_job``).
The import itself never enqueues: this module sits above ``services.imports``. Tests call
the functions directly or use the immediate backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django_tasks import task

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.permissions import require_perm
from yiyang.residents.models import ImportJob
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.services.imports.files import check_upload
from yiyang.residents.services.imports.jobs import run_job


@task()
def run_import(job_id: int, language: str = "") -> None:
    """Run a queued resident import job (``jobs.run_job``) in the uploader's language
    (the report's results and reasons are written in it)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        run_job(job_id)


def start_import(actor: User, upload: Any, *, language: str = "") -> ImportJob:
    """Store an uploaded file as a queued import job and enqueue it (after commit) for the
    background worker. Checks the permission, the size and the file type."""
    require_perm(actor, ResidentPerm.IMPORT)
    name = Path(getattr(upload, "name", "") or "residents.xlsx").name
    size = getattr(upload, "size", None)
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    check_upload(name, size if size is not None else len(head), head)
    with transaction.atomic():
        job = ImportJob(created_by=actor, original_name=name[:255])
        job.file.save(_storage_name(name), upload, save=False)
        job.save()
        record(
            actor=actor,
            action="residents.import.start",
            obj=job,
            details={"file": name, "size": job.file.size},
        )
        lang = language or translation.get_language() or ""
        transaction.on_commit(lambda: _enqueue(job.pk, lang))
    return job


def _storage_name(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return f"import{suffix if suffix in ('.xlsx', '.csv', '.txt') else ''}"


def _enqueue(job_id: int, language: str) -> None:
    run_import.enqueue(job_id, language)
