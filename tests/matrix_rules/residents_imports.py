"""Permission-matrix rules for resident import and export (see ``tests/matrix_support.py``).

Import jobs belong to their creator: ``build`` makes ``job_in`` (its creator is switched
to the requesting user by ``prepare``) and ``job_out`` (another user's job, which answers
404 to everyone else exactly like a missing one). Uploads are not run here (the task is
enqueued after commit, and each matrix test rolls back): the rule watches the job rows.
"""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.matrix_support import Rule, World, holders, pk, rows
from yiyang.accounts.models import User
from yiyang.residents.models import ImportJob
from yiyang.residents.permissions import ResidentPerm

IMPORT = holders(ResidentPerm.IMPORT)
EXPORT = holders(ResidentPerm.EXPORT)
JOBS = rows(ImportJob, "created_by_id", "state")


def build(w: World) -> None:
    def job(owner: User, name: str) -> ImportJob:
        made = ImportJob.objects.create(
            created_by=owner, original_name=name, state="done", total=1, processed=1, imported=1
        )
        made.report.save(f"{name}.report.xlsx", ContentFile(b"PK\x03\x04 report"), save=True)
        return made

    w.extra["job_in"] = job(w.account_in, "in.xlsx")
    w.extra["job_out"] = job(w.account_out, "out.xlsx")


def own_job(w: World, user: User) -> None:
    ImportJob.objects.filter(pk=w.extra["job_in"].pk).update(created_by=user)


def job_in(w: World) -> Any:
    return w.extra["job_in"]


def job_out(w: World) -> Any:
    return w.extra["job_out"]


def upload(w: World, user: User) -> dict[str, Any]:
    village = w.a.villages[0]
    text = f"姓名,公民身份号码,村（居）区划代码\n矩阵,11010519491231002X,{village.code}\n"
    return {"file": SimpleUploadedFile("m.csv", text.encode(), "text/csv")}


RULES: list[Rule] = [
    Rule("residents:import", "GET", IMPORT),
    Rule("residents:import", "POST", IMPORT, body="form", data=upload, ok=302, state=JOBS),
    Rule("residents:import_template", "GET", IMPORT),
    Rule(
        "residents:import_job",
        "GET",
        IMPORT,
        pk(job_in),
        out=pk(job_out),
        prepare=own_job,
    ),
    Rule(
        "residents:import_report",
        "GET",
        IMPORT,
        pk(job_in),
        out=pk(job_out),
        prepare=own_job,
    ),
    Rule("residents:export", "GET", EXPORT),
    Rule("api:residents_export", "GET", EXPORT),
    Rule("api:residents_import_template", "GET", IMPORT),
    Rule(
        "api:residents_import_create",
        "POST",
        IMPORT,
        body="form",
        data=upload,
        ok=201,
        state=JOBS,
    ),
    Rule("api:residents_import_list", "GET", IMPORT),
    Rule(
        "api:residents_import_detail",
        "GET",
        IMPORT,
        pk(job_in, "job_id"),
        out=pk(job_out, "job_id"),
        prepare=own_job,
    ),
    Rule(
        "api:residents_import_report",
        "GET",
        IMPORT,
        pk(job_in, "job_id"),
        out=pk(job_out, "job_id"),
        prepare=own_job,
    ),
]
