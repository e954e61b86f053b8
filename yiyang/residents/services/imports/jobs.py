"""Running an import: ``import_data`` (a file's bytes), ``import_file`` (the command
line's, with its report), and the jobs the import page starts — ``run_job`` (the worker's
task), ``interrupt_stale_jobs``, and the uploader's reads of her own jobs and reports.
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.core.files import File
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record, record_read
from yiyang.common.errors import DomainError, NotFound
from yiyang.common.permissions import require_perm
from yiyang.residents.models import ImportJob
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.services.imports.files import XLSX_READ_SECONDS, read_table
from yiyang.residents.services.imports.importer import (
    BATCH_SIZE,
    Outcome,
    Progress,
    ResidentImport,
)
from yiyang.residents.services.imports.report import write_report

# A running job whose worker has not reported for this long was interrupted (its worker was
# killed): it is shown as failed, and the file can be imported again. The worker reports
# when it claims the job, after reading the file (at most XLSX_READ_SECONDS), after each
# batch and before writing the report.
STALE_AFTER = datetime.timedelta(seconds=XLSX_READ_SECONDS + 300)


def import_data(
    actor: User | None,
    data: bytes,
    filename: str,
    *,
    job: ImportJob | None = None,
    on_batch: Callable[[Progress], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> Outcome:
    """Read and import a file's bytes (the job runner and the command line both call
    this). A file-level problem (not a workbook, required columns missing) raises
    ``ValidationFailed`` before anything is written."""
    importer = ResidentImport(
        actor, source=filename, job=job, on_batch=on_batch, batch_size=batch_size
    )
    return importer.run(read_table(data, filename))


def import_file(
    actor: User | None,
    path: Path,
    *,
    report: Path | None = None,
    on_batch: Callable[[Progress], None] | None = None,
) -> tuple[Outcome, Path]:
    """The command line's import: ``path`` read, imported, and the report written to
    ``report`` (default: ``<name>.report.xlsx`` next to the file)."""
    data = path.read_bytes()
    outcome = import_data(actor, data, path.name, on_batch=on_batch)
    target = report or path.with_name(f"{path.stem}.report.xlsx")
    write_report(outcome, target)
    record(
        actor=actor,
        action="residents.import.finish",
        object_type="residents.importjob",
        object_repr=path.name[:200],
        details={"source": path.name, "counts": outcome.counts, "via": "command line"},
    )
    return outcome, target


def run_job(job_id: int) -> ImportJob | None:
    """Run a queued job (the worker's task): read the stored file, import it as the job's
    creator, save the report, delete the upload. A job that is not queued any more is
    left alone (a task delivered twice runs once)."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING, heartbeat_at=timezone.now()
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    try:
        with job.file.open("rb") as handle:
            data = handle.read()
        outcome = import_data(job.created_by, data, job.original_name, job=job)
        ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
        with tempfile.TemporaryFile() as tmp:
            write_report(outcome, tmp)
            tmp.seek(0)
            job.report.save(f"{Path(job.original_name).stem}.report.xlsx", File(tmp), save=False)
        counts = outcome.progress.counts()
        for key, value in counts.items():
            setattr(job, key, value)
        job.state = ImportJob.State.DONE
    except DomainError as error:  # a bad file, or the uploader lost the permission
        job.state, job.error = ImportJob.State.FAILED, error.detail
    except BaseException:
        # A crash or the worker being stopped: the batches already committed stay (they
        # are consistent and audited); importing the file again completes the rest.
        job.state = ImportJob.State.FAILED
        job.error = _(
            "The import stopped unexpectedly; upload the file again (rows already "
            "imported will be reported unchanged)."
        )
        _finish(job)
        raise
    _finish(job)
    return job


def _finish(job: ImportJob) -> None:
    job.finished_at = timezone.now()
    stored = job.file.name
    with transaction.atomic():
        job.file.name = ""
        job.save()
        record(
            actor=job.created_by,
            action="residents.import.finish",
            obj=job,
            details={
                "state": job.state,
                "counts": {
                    key: getattr(job, key)
                    for key in ("total", "processed", "imported", "updated", "unchanged")
                }
                | {"rejected": job.rejected},
                "error": job.error,
            },
        )
    if stored:
        job.file.storage.delete(stored)  # personal data: the report is the only copy kept


def interrupt_stale_jobs(jobs: QuerySet[ImportJob]) -> int:
    """Mark failed the running ``jobs`` whose worker has not reported for ``STALE_AFTER``
    (a worker killed mid-import cannot mark its job itself), with a message saying so and
    that the file can be imported again; their uploads are deleted and the end audited
    like any other. Returns how many."""
    cutoff = timezone.now() - STALE_AFTER
    stale = jobs.filter(state=ImportJob.State.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    count = 0
    for job in stale.select_related("created_by"):
        taken = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.RUNNING).update(
            state=ImportJob.State.FAILED
        )
        if not taken:
            continue
        job.state = ImportJob.State.FAILED
        job.error = _(
            "The import was interrupted: the background worker stopped while it ran. The rows "
            "it had imported are kept; upload the file again to finish (rows already imported "
            "will be reported unchanged)."
        )
        _finish(job)
        count += 1
    return count


def jobs_for(user: User) -> QuerySet[ImportJob]:
    """The user's own import jobs (``ResidentPerm.IMPORT``): nobody sees another's. A job
    whose worker died is shown as failed (``interrupt_stale_jobs``)."""
    require_perm(user, ResidentPerm.IMPORT)
    jobs = ImportJob.objects.filter(created_by=user)
    interrupt_stale_jobs(jobs)
    return jobs


def get_job_for(user: User, pk: Any) -> ImportJob:
    try:
        return jobs_for(user).get(pk=pk)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise NotFound("import job") from None


def open_report(user: User, pk: Any) -> tuple[ImportJob, IO[bytes]]:
    """The job's report file, for its creator; the download is audited."""
    job = get_job_for(user, pk)
    if not job.report:
        raise NotFound("import report")
    handle = job.report.open("rb")
    record_read(user, job, details={"report": True})
    return job, handle


def report_filename(job: ImportJob) -> str:
    return f"{Path(job.original_name).stem}.report.xlsx"
