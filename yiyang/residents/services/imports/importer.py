"""Resident import from Excel (.xlsx) or CSV (ADR 0013): ``ResidentImport``, one run over a
read file.

The file is the one the template describes: Chinese column headers (English aliases and
the fields' English names are accepted too; headers are matched after trimming, full-width
to half-width folding and dropping a parenthesised note), one resident per row.

Each row is checked exactly as ``registry.register_resident``/``update_resident`` would
check it — the same ID-number, phone, date, region, grid, institution and cross-field
rules, through the same helpers — but in batches: regions, grids and institutions are
looked up once per distinct code (and their scope checked once), existing residents are
fetched once per batch by their ID-number index, and rows are written with
``bulk_create``/``bulk_update``, one transaction and one audit row per batch. A row that
breaks a rule is reported (all its problems, not only the first) and the other rows are
imported. The ID number identifies the person: a row for a known resident updates the
record (cells left blank keep the stored value), and importing the same file again
changes nothing ("unchanged").

Results per row: imported, updated, unchanged, rejected (with the reasons) or skipped (the
template's example row). The report is an .xlsx of the original columns plus the result
and the reasons.

Jobs: ``tasks.start_import`` stores the upload as an ``ImportJob`` and enqueues
``tasks.run_import`` after commit; the worker calls ``jobs.run_job``. ``yiyang import
residents FILE`` runs ``jobs.import_file`` synchronously.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common import crypto
from yiyang.common.errors import ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.scope import ScopeKind
from yiyang.network.models import Grid, Institution, Region
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import FLAGS, CareSetting, ImportJob, Resident, ResidentStatus
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.registry import scoped_residents
from yiyang.residents.services import registry
from yiyang.residents.services.imports.columns import BOOL_KEYS, CHOICE_KEYS, DEFAULTS
from yiyang.residents.services.imports.files import Table, bad_file
from yiyang.residents.services.imports.rows import Row, RowChecks

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000  # rows validated and written per transaction (and per audit row)


class Status:
    IMPORTED = "imported"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    SKIPPED = "skipped"


STATUS_LABELS = {
    Status.IMPORTED: gettext_lazy("Imported"),
    Status.UPDATED: gettext_lazy("Updated"),
    Status.UNCHANGED: gettext_lazy("Unchanged"),
    Status.REJECTED: gettext_lazy("Rejected"),
    Status.SKIPPED: gettext_lazy("Skipped (example row)"),
}


@dataclass(slots=True)
class RowResult:
    row: int
    status: str
    errors: list[ValidationFailed] = field(default_factory=list)
    resident_id: int | None = None
    changed: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(error.detail for error in self.errors)

    @property
    def codes(self) -> str:
        return ", ".join(f"{error.field or '-'}:{error.code}" for error in self.errors)


@dataclass
class Progress:
    total: int
    processed: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0
    started: float = field(default_factory=time.perf_counter)

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)
        if status != Status.SKIPPED:
            self.processed += 1

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    @property
    def rate(self) -> float:
        return self.processed / self.seconds if self.seconds > 0 else 0.0

    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "processed": self.processed,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


@dataclass
class Outcome:
    table: Table
    results: list[RowResult]
    progress: Progress

    @property
    def counts(self) -> dict[str, int]:
        return {**self.progress.counts(), "skipped": self.progress.skipped}


def _system_actor() -> User:
    """Who the command line acts as without ``--as``: the system itself, scope "all"
    (like ``import_regions``); its audit rows name no user."""
    return User(username="system", scope_kind=ScopeKind.ALL, is_active=True)


# The stored fields an import compares and writes (the encrypted values are compared
# through their keyed indexes, never decrypted).
_STORED = (
    "id",
    "name",
    "name_pinyin",
    "name_initials",
    "id_number_index",
    "sex",
    "birth_date",
    "phone_index",
    "address",
    "region_id",
    "region_code",
    "grid_id",
    "household_id",
    "ethnicity",
    "insurance",
    "ltc_insured",
    "status",
    "deceased_on",
    "care_setting",
    "institution_id",
    *FLAGS,
    "permanent_resident",
    "account_id",
    "merged_into_id",
    "created_at",
    "updated_at",
)
_NOT_AUDITED = {"id_number_index", "phone_index", "name_pinyin", "name_initials", "region_code"}


class ResidentImport(RowChecks):
    """One import run over a ``Table`` for ``actor`` (``None``: the system itself).

    ``on_batch(progress)`` is called after each committed batch; ``job`` (optional) gets
    its counters updated in the batch's transaction.
    """

    def __init__(
        self,
        actor: User | None,
        *,
        source: str = "",
        job: ImportJob | None = None,
        on_batch: Callable[[Progress], None] | None = None,
        batch_size: int = BATCH_SIZE,
        today: datetime.date | None = None,
    ):
        if actor is not None:
            require_perm(actor, ResidentPerm.IMPORT)
        self.audit_actor = actor
        self.actor = actor if actor is not None else _system_actor()
        self.source = source
        self.job = job
        self.on_batch = on_batch
        self.batch_size = batch_size
        self.today = today or timezone.localdate()
        self._pinyin: dict[str, tuple[str, str]] = {}
        self._regions: dict[str, Region | ValidationFailed] = {}
        self._grids: dict[tuple[str, int], Grid | ValidationFailed] = {}
        self._grid_rows: dict[str, tuple[Grid | None, bool]] = {}
        self._institutions: dict[str, Institution | ValidationFailed] = {}

    # -- the run ---------------------------------------------------------------------

    def run(self, table: Table) -> Outcome:
        self.columns = table.columns
        self.headers = table.headers
        data_rows = []
        results: dict[int, RowResult] = {}
        for number, values in table.rows:
            if self._is_example(values):
                results[number] = RowResult(number, Status.SKIPPED)
            else:
                data_rows.append((number, values))
        if not data_rows:
            raise bad_file(
                ResidentError.ONLY_EXAMPLE_ROWS,
                _(
                    "The file holds only the template's example row (its name starts with "
                    "（示例）), which is always skipped: nothing was imported. Add the residents "
                    "below the header, one per row."
                ),
            )
        progress = Progress(total=len(data_rows))
        progress.skipped = len(results)
        self.duplicates = self._duplicates_in_file(data_rows)
        if self.job is not None:
            self.job.total = progress.total
            self.job.heartbeat_at = timezone.now()
            self.job.save(update_fields=["total", "heartbeat_at"])
        if self.on_batch is not None:
            self.on_batch(progress)
        for start in range(0, len(data_rows), self.batch_size):
            chunk = data_rows[start : start + self.batch_size]
            for result in self._chunk(chunk):
                results[result.row] = result
                progress.add(result.status)
            if self.on_batch is not None:
                self.on_batch(progress)
        ordered = [results[number] for number, _values in table.rows]
        return Outcome(table, ordered, progress)

    # -- one batch -------------------------------------------------------------------

    def _chunk(self, chunk: Sequence[tuple[int, Sequence[Any]]]) -> list[RowResult]:
        """One batch: converted, checked and written in one transaction. A bad row never
        costs the others: if the database refuses the batch (someone registered one of
        these people meanwhile, or a value the checks above let through), the batch is
        redone row by row, each row in its own savepoint, and only the rows the database
        refuses are rejected. If even that fails, the batch's rows are reported as not
        written and the import goes on with the next batch."""
        try:
            rows = [self._convert(number, values) for number, values in chunk]
            self._resolve_references(rows)
            try:
                return self._write(rows, careful=False)
            except DatabaseError as refused:
                if not isinstance(refused, IntegrityError):
                    logger.warning("import %s: batch refused, redone row by row", self.source)
                return self._write(rows, careful=True)
        except Exception:
            first, last = chunk[0][0], chunk[-1][0]
            logger.exception("import %s: rows %d-%d not written", self.source, first, last)
            reason = ValidationFailed(
                ResidentError.BATCH_FAILED,
                _(
                    "This row could not be written because of an error in its batch "
                    "(rows %(first)d–%(last)d); nothing of these rows was changed: import "
                    "the file again."
                )
                % {"first": first, "last": last},
            )
            failed = [RowResult(number, Status.REJECTED, [reason]) for number, _values in chunk]
            try:  # their audit row and the job's counters, if the database still answers
                with transaction.atomic():
                    self._audit(failed)
                    if self.job is not None:
                        self._job_progress(failed)
            except Exception:
                logger.exception("import %s: the failed batch's audit row not written", self.source)
            return failed

    # -- building the records and writing them ---------------------------------------

    def _existing(self, indexes: list[str]) -> tuple[dict[str, dict[str, Any]], set[int]]:
        qs = Resident.objects.filter(id_number_index__in=indexes).order_by("pk")
        if connection.features.has_select_for_update:
            qs = qs.select_for_update(no_key=connection.features.has_select_for_no_key_update)
        stored = {values["id_number_index"]: values for values in qs.values(*_STORED)}
        in_scope: QuerySet[Resident] = scoped_residents(self.actor).filter(
            id_number_index__in=indexes
        )
        return stored, set(in_scope.values_list("pk", flat=True))

    def _pinyin_of(self, name: str) -> tuple[str, str]:
        if name not in self._pinyin:
            self._pinyin[name] = registry.name_pinyin(name)
        return self._pinyin[name]

    def _write(self, rows: list[Row], *, careful: bool) -> list[RowResult]:
        results: list[RowResult] = []
        with transaction.atomic():
            indexes = [row.index for row in rows if row.index]
            stored, visible = self._existing(indexes)
            new: list[tuple[Row, Resident]] = []
            changed: dict[tuple[str, ...], list[tuple[Row, Resident, list[str]]]] = {}
            for row in rows:
                result = self._build(row, stored, visible)
                if isinstance(result, RowResult):
                    results.append(result)
                    continue
                resident, fields = result
                if resident.pk is None:
                    new.append((row, resident))
                elif fields:
                    changed.setdefault(tuple(sorted(fields)), []).append((row, resident, fields))
                else:
                    results.append(RowResult(row.number, Status.UNCHANGED, resident_id=resident.pk))
            results += self._create(new, careful)
            now = timezone.now()
            for names, items in changed.items():
                objs = [resident for _row, resident, _fields in items]
                for obj in objs:
                    obj.updated_at = now
                if careful:
                    results += self._update_each(items, [*names, "updated_at"])
                    continue
                Resident.objects.bulk_update(objs, [*names, "updated_at"], batch_size=500)
                results += [
                    RowResult(row.number, Status.UPDATED, resident_id=obj.pk, changed=fields)
                    for row, obj, fields in items
                ]
            results.sort(key=lambda r: r.row)
            self._audit(results)
            if self.job is not None:
                self._job_progress(results)
        return results

    def _create(self, new: list[tuple[Row, Resident]], careful: bool) -> list[RowResult]:
        if not careful:
            Resident.objects.bulk_create([resident for _row, resident in new], batch_size=500)
            return [
                RowResult(row.number, Status.IMPORTED, resident_id=resident.pk)
                for row, resident in new
            ]
        results = []
        for row, resident in new:
            try:
                with transaction.atomic():
                    resident.save(force_insert=True)
            except IntegrityError:
                resident.pk = None
                results.append(
                    RowResult(
                        row.number,
                        Status.REJECTED,
                        [self._duplicate_error()],
                    )
                )
            except DatabaseError:
                resident.pk = None
                results.append(self._refused(row.number))
            else:
                results.append(RowResult(row.number, Status.IMPORTED, resident_id=resident.pk))
        return results

    def _update_each(
        self, items: list[tuple[Row, Resident, list[str]]], names: list[str]
    ) -> list[RowResult]:
        results = []
        for row, obj, fields in items:
            try:
                with transaction.atomic():
                    Resident.objects.bulk_update([obj], names)
            except DatabaseError:
                results.append(self._refused(row.number))
            else:
                results.append(
                    RowResult(row.number, Status.UPDATED, resident_id=obj.pk, changed=fields)
                )
        return results

    def _refused(self, number: int) -> RowResult:
        logger.warning(
            "import %s: row %d refused by the database", self.source, number, exc_info=True
        )
        return RowResult(
            number,
            Status.REJECTED,
            [
                ValidationFailed(
                    ResidentError.NOT_STORED,
                    _(
                        "The database refused to store this row (a value it cannot hold); "
                        "nothing of it was written. Check its cells for unusual characters."
                    ),
                    field="",
                )
            ],
        )

    @staticmethod
    def _duplicate_error() -> ValidationFailed:
        # The services' wording (``_duplicate_id``): it names nobody, whatever the scope.
        return ValidationFailed(
            ResidentError.DUPLICATE_ID_NUMBER,
            _("A resident with this ID number is already registered."),
            field="id_number",
        )

    def _build(
        self, row: Row, stored: dict[str, dict[str, Any]], visible: set[int]
    ) -> RowResult | tuple[Resident, list[str]]:
        """The resident to create or the stored one with the row applied (and the names
        of the changed fields), or the row's rejection."""
        if row.errors or row.parsed is None:
            return RowResult(row.number, Status.REJECTED, row.errors)
        parsed, index = row.parsed, row.index
        values = stored.get(index)
        if values is not None and values["id"] not in visible:
            return RowResult(row.number, Status.REJECTED, [self._duplicate_error()])
        if values is not None and values["status"] == ResidentStatus.MERGED:
            return RowResult(
                row.number,
                Status.REJECTED,
                [
                    ValidationFailed(
                        ResidentError.MERGED_RECORD,
                        _(
                            "This ID number belongs to a record that was merged into "
                            "another one: update the surviving record instead."
                        ),
                        field="id_number",
                    )
                ],
            )
        data = row.data
        if values is None:
            resident = Resident(
                id_number=parsed.value,
                id_number_index=index,
                sex=parsed.sex,
                birth_date=parsed.birth_date,
            )
            target = {**DEFAULTS, **data}
            fields: list[str] = []
        else:
            resident = Resident(**values)
            target = dict(data)
            region_changes = data["region"].pk != values["region_id"]
            if region_changes and "grid" not in data:
                target["grid"] = None
            if region_changes and values["household_id"] is not None:
                resident.household_id = None
                fields = ["household"]
            else:
                fields = []
            if data.get("status", ResidentStatus.DECEASED) != ResidentStatus.DECEASED:
                target.setdefault("deceased_on", None)
            if data.get("care_setting", CareSetting.INSTITUTION) != CareSetting.INSTITUTION:
                target.setdefault("institution", None)
        self._apply(resident, target, fields)
        try:
            if resident.pk is None or fields:
                registry.check_rules(resident, self.today)
                registry.check_reachable(self.actor, resident)
        except ValidationFailed as error:
            return RowResult(row.number, Status.REJECTED, [error])
        return resident, fields

    def _apply(self, resident: Resident, target: dict[str, Any], fields: list[str]) -> None:
        """Set ``target`` on ``resident`` like ``registry._apply`` (pinyin with the name,
        the keyed index with the phone, the code with the region), noting what changed."""

        def put(name: str, value: Any) -> None:
            if getattr(resident, name) != value:
                setattr(resident, name, value)
                fields.append(name)

        adding = resident.pk is None
        if "name" in target and (adding or target["name"] != resident.name):
            put("name", target["name"])
            pinyin, initials = self._pinyin_of(target["name"])
            put("name_pinyin", pinyin)
            put("name_initials", initials)
        if "phone" in target:
            phone = target["phone"]
            index = crypto.blind_index(phone) if phone else ""
            if adding or index != resident.phone_index:
                resident.phone = phone
                fields.append("phone")
                put("phone_index", index)
        region = target["region"]
        if resident.region_id != region.pk:
            resident.region_id = region.pk
            resident.region_code = region.code
            fields.extend(["region", "region_code"])
        for key in ("grid", "institution"):
            if key in target:
                obj = target[key]
                pk = obj.pk if obj is not None else None
                if getattr(resident, f"{key}_id") != pk:
                    setattr(resident, f"{key}_id", pk)
                    fields.append(key)
        for key in ("address", "ethnicity", *CHOICE_KEYS, "deceased_on", *BOOL_KEYS):
            if key in target:
                put(key, target[key])
        if adding:
            fields.clear()

    def _audit(self, results: list[RowResult]) -> None:
        if not results:
            return
        counts: dict[str, int] = {}
        for result in results:
            counts[result.status] = counts.get(result.status, 0) + 1
        record(
            actor=self.audit_actor,
            action="residents.import.batch",
            object_type="residents.importjob",
            object_id=self.job.pk if self.job is not None else "",
            object_repr=self.source[:200],
            details={
                "job": self.job.pk if self.job is not None else None,
                "source": self.source,
                "rows": [results[0].row, results[-1].row],
                "counts": counts,
                "imported": [
                    [r.row, r.resident_id] for r in results if r.status == Status.IMPORTED
                ],
                "updated": [
                    [r.row, r.resident_id, [f for f in r.changed if f not in _NOT_AUDITED]]
                    for r in results
                    if r.status == Status.UPDATED
                ],
                "rejected": [
                    [r.row, sorted({e.code for e in r.errors})]
                    for r in results
                    if r.status == Status.REJECTED
                ],
            },
        )

    def _job_progress(self, results: list[RowResult]) -> None:
        assert self.job is not None
        job = self.job
        for result in results:
            if result.status != Status.SKIPPED:
                job.processed += 1
                setattr(job, result.status, getattr(job, result.status) + 1)
        job.heartbeat_at = timezone.now()
        job.save(
            update_fields=[
                "processed",
                "imported",
                "updated",
                "unchanged",
                "rejected",
                "heartbeat_at",
            ]
        )
