"""Export of a filtered resident list to .xlsx (ADR 0013).

The filters are those of the resident list (``search.search_residents``: ``q``, ``region``,
``grid``, ``status``, ``care_setting``, ``min_age``, ``max_age``, ``flags``; and the list
page's own ``area`` — a region id — and ``age`` band such as ``65-69`` or ``90-``), always
inside the user's data scope. The columns are the import template's (same Chinese headers, same
是/否 and choice labels, so a file exported with full identifiers can be imported again
and reports every row unchanged), then age and the village, grid and institution names.

ID numbers and phones are masked (``1101**********002X``, ``138****0001``) unless the user
holds ``residents.reveal``; the audit row (``residents.resident.export``) records the
filter, the row count and whether identifiers were revealed.

Memory stays flat whatever the size: rows are read with ``iterator(chunk_size)`` and
written by the XlsxWriter library in its ``constant_memory`` mode (each row goes to a
temporary file as soon as the next one starts) into an anonymous temporary file, which is
then sent with ``FileResponse`` and disappears when the response is closed. A sheet holds
at most ``SHEET_ROWS`` rows (Excel stops at 1,048,576); larger exports continue on further
sheets.
"""

from __future__ import annotations

import datetime
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common import crypto
from yiyang.common.errors import ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.network.models import LEVEL_DIGITS, Region, RegionLevel
from yiyang.network.regions import check_code
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import FLAGS, Resident
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.search import ID_RE, PHONE_RE, search_residents
from yiyang.residents.services.imports.columns import CHOICE_LABELS, COLUMNS
from yiyang.residents.workbooks import Formats, add_sheet, new_workbook, temp_dir, write_row

SHEET_ROWS = 1_000_000
CHUNK = 2000
FILTER_KEYS = (
    "q",
    "region",
    "area",
    "grid",
    "status",
    "care_setting",
    "min_age",
    "max_age",
    "age",
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def region_prefix(value: str) -> str:
    """A region filter as a code prefix: a full 12-digit code becomes its significant
    digits (``411521000000`` → ``411521``); anything else is used as given (digits)."""
    value = value.strip()
    try:
        level = check_code(value)
    except ValueError:
        return re.sub(r"[^0-9]", "", value)
    return value[: LEVEL_DIGITS[RegionLevel(level)]]


def filters_from(params: Mapping[str, Any]) -> dict[str, Any]:
    """The export filters from a query dict (the list page's parameters). ``flags`` may be
    repeated or comma-separated. Blank values are left out."""
    found: dict[str, Any] = {}
    for key in FILTER_KEYS:
        value = params.get(key)
        if value not in (None, ""):
            found[key] = str(value).strip()
    if "region" in found:
        found["region"] = region_prefix(found["region"])
    if "age" in found:  # the list page's band: "65-69", "90-"
        low, _sep, high = found.pop("age").partition("-")
        if low:
            found.setdefault("min_age", low)
        if high:
            found.setdefault("max_age", high)
    getlist = getattr(params, "getlist", None)
    raw = getlist("flags") if getlist is not None else params.get("flags") or []
    if isinstance(raw, str):
        raw = [raw]
    flags = [f.strip() for item in raw for f in str(item).split(",") if f.strip()]
    if flags:
        found["flags"] = flags
    return found


@dataclass
class Export:
    """A started export: the audit row is written; ``write(target)`` produces the file."""

    filename: str
    rows: int  # counted when the export started
    revealed: bool
    _queryset: QuerySet[Resident]
    _today: datetime.date

    def write(self, target: IO[bytes]) -> int:
        """Write the .xlsx to ``target`` as the rows are read (``iterator``); the number of
        rows written."""
        book = new_workbook(target)
        formats = Formats(book)
        headers = [*(column.header for column in COLUMNS), *EXTRA_HEADERS]
        widths = [*(column.width for column in COLUMNS), 6, 14, 16, 20]
        written = 0
        sheet_no = 0
        rows = self._queryset.iterator(chunk_size=CHUNK)
        while True:
            sheet_no += 1
            name = "居民名单" if sheet_no == 1 else f"居民名单{sheet_no}"
            sheet = add_sheet(book, name, widths=widths, freeze=(1, 2))
            write_row(sheet, 0, headers, formats, bold=True)
            for line, resident in enumerate(rows, start=1):
                write_row(sheet, line, _row(resident, self.revealed, self._today), formats)
                written += 1
                if line == SHEET_ROWS:
                    break
            else:
                break  # no rows left
        book.close()
        return written


EXTRA_HEADERS = ("年龄", "村（居）名称", "网格名称", "照护机构名称")


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _row(resident: Resident, reveal: bool, today: datetime.date) -> list[Any]:
    phone = resident.phone or ""
    values = {
        "name": resident.name,
        "id_number": resident.id_number if reveal else resident.id_number_masked,
        "sex": CHOICE_LABELS["sex"].get(resident.sex, resident.sex),
        "birth_date": resident.birth_date,
        "phone": phone if reveal or not phone else crypto.mask_phone(phone),
        "address": resident.address,
        "region": resident.region_code,
        "grid": resident.grid.code if resident.grid is not None else "",
        "ethnicity": resident.ethnicity,
        "insurance": CHOICE_LABELS["insurance"].get(resident.insurance, resident.insurance),
        "ltc_insured": _yes(resident.ltc_insured),
        "status": CHOICE_LABELS["status"].get(resident.status, resident.status),
        "deceased_on": resident.deceased_on,
        "care_setting": CHOICE_LABELS["care_setting"].get(
            resident.care_setting, resident.care_setting
        ),
        "institution": _institution_ref(resident),
        **{flag: _yes(getattr(resident, flag)) for flag in FLAGS},
        "permanent_resident": _yes(resident.permanent_resident),
    }
    return [
        *(values[column.key] for column in COLUMNS),
        resident.age_on(today),
        resident.region.name,
        resident.grid.name if resident.grid is not None else "",
        resident.institution.name if resident.institution is not None else "",
    ]


def _institution_ref(resident: Resident) -> str:
    inst = resident.institution
    if inst is None:
        return ""
    return inst.care_filing_no or inst.medical_licence_no or inst.name


def _queryset(user: User, filters: Mapping[str, Any]) -> QuerySet[Resident]:
    search = {k: v for k, v in filters.items() if k not in ("area", "region")}
    area = filters.get("area")
    if area:
        region = Region.objects.filter(pk=area).first() if str(area).isdigit() else None
        if region is None:
            raise ValidationFailed(
                ResidentError.UNKNOWN_FILTER, _("Unknown area %(v)s.") % {"v": area}, field="area"
            )
        search["region"] = region
    qs = search_residents(user, **search)
    if filters.get("region"):
        qs = qs.filter(region_code__startswith=filters["region"])
    return qs.select_related("region", "grid", "institution")


def _audit_filter(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The filters for the audit row; a search for a full ID number or phone is masked."""
    shown = dict(filters)
    q = re.sub(r"[\s\-]", "", str(shown.get("q", "")))
    if ID_RE.fullmatch(q):
        shown["q"] = q[:4] + "*" * 10 + q[-4:]
    elif PHONE_RE.fullmatch(q):
        shown["q"] = crypto.mask_phone(q)
    return shown


def export_residents(user: User, filters: Mapping[str, Any]) -> Export:
    """Start an export of the residents matching ``filters`` (see ``filters_from``) in
    ``user``'s scope. ``ResidentPerm.EXPORT``; bad filters raise ``ValidationFailed``
    before anything happens. The audit row (filter, row count, whether identifiers are
    revealed) is written and committed before the file is written (so before its first
    byte), like the audit trail's own export: an export that fails or is cut off midway is
    still on record."""
    require_perm(user, ResidentPerm.EXPORT)
    reveal = user.has_perm_code(ResidentPerm.REVEAL)
    qs = _queryset(user, filters)
    count = qs.count()
    record(
        actor=user,
        action="residents.resident.export",
        details={"filter": _audit_filter(filters), "rows": count, "revealed": reveal},
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return Export(f"residents-{stamp}.xlsx", count, reveal, qs, timezone.localdate())


def streaming_response(export: Export) -> FileResponse:
    """The export as a download: written to an anonymous temporary file (in
    ``temp_dir()``; XlsxWriter assembles the zip when it closes), then streamed from it;
    the file is gone when the response is closed. The audit row was written before."""
    handle = tempfile.TemporaryFile(suffix=".xlsx", dir=temp_dir())  # noqa: SIM115
    try:
        export.write(handle)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    response = FileResponse(
        handle, as_attachment=True, filename=export.filename, content_type=XLSX_TYPE
    )
    response["X-Export-Rows"] = str(export.rows)
    return response
