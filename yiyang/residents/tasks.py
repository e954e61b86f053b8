"""Background tasks of the residents app (``django-tasks``, ADR 0002).

Enqueued after commit by the services; run by ``yiyang db_worker`` (which ``yiyang serve``
and ``yiyang demo`` start and supervise, ADR 0013). Tests call the functions directly or
use the immediate backend.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django_tasks import task

from yiyang.residents import imports


@task()
def run_import(job_id: int, language: str = "") -> None:
    """Run a queued resident import job (``imports.run_job``) in the uploader's language
    (the report's results and reasons are written in it)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        imports.run_job(job_id)
