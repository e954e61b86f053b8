"""Resident import from Excel (.xlsx) or CSV, its template, and import jobs (ADR 0013).

The file is the one the template describes: Chinese column headers (English aliases and
the fields' English names are accepted too; headers are matched after trimming, full-width
to half-width folding and dropping a parenthesised note), one resident per row.

Each row is checked exactly as ``services.register_resident``/``update_resident`` would
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
``tasks.run_import`` after commit; the worker calls ``run_job``. ``yiyang import
residents FILE`` runs ``import_file`` synchronously.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import logging
import re
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.files import File
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiyang.accounts.models import User
from yiyang.audit.services import record, record_read
from yiyang.common import crypto
from yiyang.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.scope import ScopeKind, scope_of
from yiyang.network.models import Grid, Institution, Region, RegionLevel
from yiyang.network.selectors import grids_for, institutions_for
from yiyang.residents.idnumber import IdNumber, make_id_number, parse_id_number
from yiyang.residents.models import (
    FLAGS,
    CareSetting,
    ImportJob,
    Insurance,
    Resident,
    ResidentStatus,
    Sex,
)
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.registry import scoped_residents, village_q
from yiyang.residents.services import registry
from yiyang.residents.workbooks import Formats, add_sheet, new_workbook, write_row

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000  # rows validated and written per transaction (and per audit row)
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
EXAMPLE_PREFIXES = ("(示例)", "示例:")  # after NFKC folding: （示例）张秀英, 示例：张秀英
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format
HEADER_ROWS = 10  # the header row is looked for in the first rows
XLSX_READ_MEMORY = 4 * 1024**3  # address space the .xlsx reading process may add (bytes)
XLSX_READ_SECONDS = 300  # and the time it may take
# A running job whose worker has not reported for this long was interrupted (its worker was
# killed): it is shown as failed, and the file can be imported again. The worker reports
# when it claims the job, after reading the file (at most XLSX_READ_SECONDS), after each
# batch and before writing the report.
STALE_AFTER = datetime.timedelta(seconds=XLSX_READ_SECONDS + 300)

# --- the columns ------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    code: str
    label: str  # the Chinese label the template shows
    aliases: tuple[str, ...] = ()


SEX_CHOICES = (Choice(Sex.MALE, "男", ("male",)), Choice(Sex.FEMALE, "女", ("female",)))
INSURANCE_CHOICES = (
    Choice(Insurance.EMPLOYEE, "职工基本医疗保险", ("职工医保", "城镇职工基本医疗保险")),
    Choice(Insurance.URBAN_RURAL, "城乡居民基本医疗保险", ("居民医保", "城乡居民医保")),
    Choice(Insurance.NONE, "无", ("未参保",)),
)
STATUS_CHOICES = (
    Choice(ResidentStatus.ACTIVE, "在册", ("正常",)),
    Choice(ResidentStatus.MOVED_OUT, "迁出", ("已迁出",)),
    Choice(ResidentStatus.DECEASED, "死亡", ("已故", "去世")),
)
CARE_CHOICES = (
    Choice(CareSetting.HOME, "居家", ("居家养老",)),
    Choice(CareSetting.COMMUNITY, "社区", ("社区养老",)),
    Choice(CareSetting.INSTITUTION, "机构", ("机构养老",)),
)
BOOL_TRUE = ("是", "y", "yes", "true", "t", "1", "√", "✓", "有")
BOOL_FALSE = ("否", "n", "no", "false", "f", "0", "×", "✗", "无")


@dataclass(frozen=True)
class Column:
    key: str  # the Resident field it fills
    header: str  # the Chinese header of the template
    kind: str  # text | id | sex | date | phone | region | grid | choice | institution | bool
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    width: int = 10
    text_format: bool = False  # Excel must keep it as text (long digit strings)


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "text", True, ("名字", "老人姓名"), width=10),
    Column(
        "id_number",
        "公民身份号码",
        "id",
        True,
        ("身份证号", "身份证号码", "居民身份证号码", "身份证", "证件号码"),
        width=22,
        text_format=True,
    ),
    Column("sex", "性别", "sex", choices=SEX_CHOICES, width=6),
    Column("birth_date", "出生日期", "date", aliases=("出生年月日",), width=12),
    Column(
        "phone",
        "联系电话",
        "phone",
        aliases=("电话", "手机", "手机号", "手机号码", "联系方式"),
        width=14,
        text_format=True,
    ),
    Column("address", "现住址", "text", aliases=("住址", "地址", "居住地址"), width=28),
    Column(
        "region",
        "村（居）区划代码",
        "region",
        True,
        (
            "区划代码",
            "村区划代码",
            "村居区划代码",
            "村(社区)区划代码",
            "region code",
            "village code",
        ),
        width=16,
        text_format=True,
    ),
    Column("grid", "网格编码", "grid", aliases=("网格", "网格代码", "grid code"), width=20),
    Column("ethnicity", "民族", "text", width=8),
    Column(
        "insurance",
        "医疗保险",
        "choice",
        aliases=("医保", "医保类型", "医疗保险类型"),
        choices=INSURANCE_CHOICES,
        width=20,
    ),
    Column("ltc_insured", "长护险参保", "bool", aliases=("长期护理保险", "长护险"), width=10),
    Column("status", "人员状态", "choice", aliases=("状态",), choices=STATUS_CHOICES, width=10),
    Column("deceased_on", "死亡日期", "date", aliases=("date of death",), width=12),
    Column("care_setting", "照护方式", "choice", aliases=("养老方式",), choices=CARE_CHOICES),
    Column("institution", "照护机构", "institution", aliases=("机构", "养老机构"), width=24),
    Column("empty_nest", "空巢", "bool", aliases=("空巢老人",), width=6),
    Column("living_alone", "独居", "bool", aliases=("独居老人",), width=6),
    Column("left_behind", "留守", "bool", aliases=("留守老人",), width=6),
    Column("widowed_childless", "丧偶无子女", "bool", width=10),
    Column("lost_only_child", "失独", "bool", aliases=("失独老人",), width=6),
    Column("minimum_allowance", "低保", "bool", aliases=("低保对象", "最低生活保障"), width=6),
    Column("extreme_poverty", "特困", "bool", aliases=("特困人员", "特困供养"), width=6),
    Column("veteran", "退役军人（军休）", "bool", aliases=("退役军人", "军休", "军休干部")),
    Column("permanent_resident", "常住", "bool", aliases=("常住人口",), width=6),
)
BY_KEY: dict[str, Column] = {column.key: column for column in COLUMNS}
REQUIRED_KEYS = tuple(column.key for column in COLUMNS if column.required)
BOOL_KEYS = tuple(column.key for column in COLUMNS if column.kind == "bool")
CHOICE_KEYS = ("insurance", "status", "care_setting")

# What a new resident gets for a blank cell (the model's defaults).
DEFAULTS: dict[str, Any] = {
    "phone": "",
    "address": "",
    "ethnicity": "",
    "insurance": Insurance.NONE,
    "status": ResidentStatus.ACTIVE,
    "care_setting": CareSetting.HOME,
    "deceased_on": None,
    "ltc_insured": False,
    **{name: False for name in FLAGS},
    "permanent_resident": True,
}

# Column notes for the template's instructions sheet.
FORMATS: dict[str, Any] = {
    "name": gettext_lazy("The resident's name as on the ID card."),
    "id_number": gettext_lazy(
        "18 characters, validated (province, birth date, check character); a lower-case x "
        "is accepted. It identifies the person: a row for a registered resident updates her "
        "record. Keep the column formatted as text in Excel."
    ),
    "sex": gettext_lazy("Optional: derived from the ID number; if given it must agree."),
    "birth_date": gettext_lazy(
        "Optional: derived from the ID number; if given it must agree. YYYY-MM-DD (also "
        "YYYY/MM/DD, YYYYMMDD, YYYY年M月D日 or an Excel date)."
    ),
    "phone": gettext_lazy("Digits only (spaces and dashes are removed)."),
    "address": gettext_lazy("Current address, up to 255 characters."),
    "region": gettext_lazy(
        "The 12-digit statistical code of the village or community the resident lives in; "
        "it must be inside your data scope."
    ),
    "grid": gettext_lazy("Optional: the code of a grid in that village."),
    "ethnicity": gettext_lazy("E.g. 汉族, up to 20 characters."),
    "deceased_on": gettext_lazy(
        "Only for a deceased resident (and then required): between the birth date and today."
    ),
    "institution": gettext_lazy(
        "Required for institutional care, empty otherwise: the institution's elderly-care "
        "filing number, medical practice licence number or exact name."
    ),
}
BOOL_FORMAT = gettext_lazy("是 or 否 (also Y/N, 1/0); blank: 否 for a new resident.")


def _fold(text: str) -> str:
    """Full-width → half-width, trimmed (NFKC)."""
    return unicodedata.normalize("NFKC", text).strip()


def normalise_header(text: Any) -> str:
    """A header as compared: folded, lower case, no spaces, underscores, dashes or
    required-marks."""
    folded = _fold("" if text is None else str(text)).lower()
    return re.sub(r"[\s_\-*]", "", folded)


def _without_note(text: str) -> str:
    return re.sub(r"\(.*?\)", "", text)


def _header_map() -> dict[str, str]:
    """Normalised header → column key: the Chinese header (with and without its
    parenthesised part), the aliases, the field name and the field's English label."""
    found: dict[str, str] = {}
    with translation.override("en"):
        for column in COLUMNS:
            label = registry._label(column.key)
            names = (column.header, *column.aliases, column.key, label)
            for name in names:
                norm = normalise_header(name)
                for variant in (norm, _without_note(norm)):
                    found.setdefault(variant, column.key)
    return found


def _choice_map(choices: Sequence[Choice]) -> dict[str, str]:
    found: dict[str, str] = {}
    with translation.override("en"):
        labels = {
            str(value): str(label)
            for enum in (Sex, Insurance, ResidentStatus, CareSetting)
            for value, label in enum.choices
        }
    for choice in choices:
        for name in (choice.label, *choice.aliases, choice.code, labels.get(choice.code, "")):
            if name:
                found[normalise_header(name)] = str(choice.code)
    return found


HEADERS = _header_map()
CHOICE_MAPS: dict[str, dict[str, str]] = {
    "sex": _choice_map(SEX_CHOICES),
    "insurance": _choice_map(INSURANCE_CHOICES),
    "status": _choice_map(STATUS_CHOICES),
    "care_setting": _choice_map(CARE_CHOICES),
}
BOOL_MAP = {**{v: True for v in BOOL_TRUE}, **{v: False for v in BOOL_FALSE}}
CHOICE_LABELS: dict[str, dict[str, str]] = {
    key: {str(c.code): c.label for c in BY_KEY[key].choices}
    for key in ("sex", "insurance", "status", "care_setting")
}


def label(key: str) -> str:
    """A column's field label (translated), as the services name it."""
    return registry._label(key)


# --- reading the file -------------------------------------------------------------------


@dataclass
class Table:
    """The rows of an uploaded sheet: its header row and the data rows below it (blank
    rows dropped), each with its row number as a spreadsheet shows it."""

    headers: list[str]
    rows: list[tuple[int, tuple[Any, ...]]]
    header_row: int = 1
    columns: dict[str, int] = field(default_factory=dict)  # column key → index
    ignored: list[str] = field(default_factory=list)  # headers that matched no column


def _bad_file(code: str, detail: str) -> ValidationFailed:
    return ValidationFailed(code, detail, field="file")


def _decode(data: bytes) -> str:
    """CSV text: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _bad_file(
            "bad_encoding",
            _("The CSV file is neither UTF-8 nor GB18030 text: save it as CSV (UTF-8)."),
        ) from None


class _Shared(dict[str, str]):
    """One string object per distinct short cell text (是, 否, codes, choices): a
    100,000-row file then holds its repeated values once (ADR 0013: memory)."""

    def __missing__(self, key: str) -> str:
        self[key] = key
        return key

    def share(self, value: Any) -> Any:
        if isinstance(value, str) and len(value) <= 16:
            return self[value]
        return value


def _csv_rows(data: bytes) -> Iterator[tuple[Any, ...]]:
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count)
    shared = _Shared()
    try:
        for record_ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield tuple(shared.share(v) for v in record_)
    except csv.Error as error:
        logger.info("unreadable CSV file: %s", error)
        raise _bad_file(
            "bad_file",
            _(
                "The file could not be read as CSV (comma-separated text): save it again as "
                "CSV (UTF-8) or as an Excel workbook (.xlsx)."
            ),
        ) from None


def _calamine_rows(data: bytes, limit: int) -> list[tuple[int, tuple[Any, ...]]]:
    """The first sheet's non-blank rows (at most ``limit``), each with its row number as a
    spreadsheet shows it, read by calamine (``python-calamine``): str, float, int, bool,
    date/datetime (date cells, the 1904 calendar too), "" for an empty cell; trailing
    empty cells are dropped."""
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    if sheet.start is None:  # nothing in the sheet
        return []
    share = _Shared().share
    found: list[tuple[int, tuple[Any, ...]]] = []
    # iter_rows starts at the sheet's first row (leading empty rows included), so
    # counting gives the row number; columns start at the first used one.
    for number, values in enumerate(sheet.iter_rows(), start=1):
        end = len(values)
        while end and values[end - 1] == "":
            end -= 1
        if end == 0 or _is_blank(values[:end]):
            continue
        found.append((number, tuple(share(v) for v in values[:end])))
        if len(found) >= limit:
            break
    return found


def _limit_memory(extra: int) -> None:
    """Cap this process's address space at its current size plus ``extra`` bytes, and
    write no core file (Linux; elsewhere nothing happens)."""
    import os
    import resource

    try:
        with open("/proc/self/statm") as statm:
            current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = current + extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        pass


def _read_in_child(data: bytes, limit: int, send: Any) -> None:
    """The reading process: the rows, or the library's error, sent back through ``send``."""
    import faulthandler

    faulthandler.disable()  # an abort is expected here, and reported by the parent
    try:
        _limit_memory(XLSX_READ_MEMORY)
        send.send(("rows", _calamine_rows(data, limit)))
    except BaseException as exc:  # calamine's errors, and a panic in its Rust code
        send.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()


def _xlsx_rows(data: bytes, limit: int) -> list[tuple[int, tuple[Any, ...]]]:
    """``_calamine_rows`` in a short-lived child process (fork) with capped memory.

    calamine lays a sheet out as one dense rectangle, and a rectangle as large as the
    bounds of the used cells aborts the process when it cannot be allocated: one stray
    value in cell XFD1048576 asks for 17 billion cells (calamine issue #693). The import
    runs in the task worker, which must survive such a file; the child's address space is
    capped (``XLSX_READ_MEMORY``), so it dies alone and the file is reported as unreadable.
    The rows come back pickled (~1 s for 100,000 rows x 24 columns)."""
    import multiprocessing

    def unreadable(why: str) -> ValidationFailed:
        return _bad_file(
            "bad_file", _("The file is not a readable .xlsx workbook (%(why)s).") % {"why": why}
        )

    if "fork" not in multiprocessing.get_all_start_methods():  # not Linux: read in-process
        try:
            return _calamine_rows(data, limit)
        except Exception as exc:
            raise _not_a_workbook(f"{type(exc).__name__}: {exc}") from None
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_read_in_child, args=(data, limit, send))
    child.start()
    send.close()
    try:
        if not receive.poll(XLSX_READ_SECONDS):
            raise unreadable(
                _("reading its first sheet took longer than %(s)d s") % {"s": XLSX_READ_SECONDS}
            )
        kind, payload = receive.recv()
    except EOFError:  # the child died: out of memory, or killed
        raise unreadable(
            _(
                "its first sheet is too large to read: a value far to the right or far below "
                "the data makes the sheet huge; copy the data into a new workbook"
            )
        ) from None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
    if kind == "error":
        raise _not_a_workbook(str(payload))
    return list(payload)


def _not_a_workbook(library_error: str) -> ValidationFailed:
    """The reader's own error, for the log; for the user, what to do about it."""
    logger.info("unreadable .xlsx file: %s", library_error)
    return _bad_file(
        "bad_file",
        _(
            "The file could not be read as an Excel workbook (.xlsx): it may be damaged, or "
            "another kind of file named .xlsx. Open it in Excel or WPS and save it again as "
            ".xlsx, or save it as CSV."
        ),
    )


def _is_blank(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def read_table(data: bytes, filename: str = "") -> Table:
    """Read an .xlsx (first sheet) or CSV file; find the header row (within the first 10
    rows: the first with the name and ID-number columns) and map the columns."""
    if len(data) > MAX_FILE_BYTES:
        raise _bad_file(
            "file_too_large",
            _("The file is larger than %(mb)d MB: split it into several files.")
            % {"mb": MAX_FILE_BYTES // (1024 * 1024)},
        )
    if data.startswith(OLE_MAGIC):
        raise _bad_file(
            "xls_not_supported",
            _("Old .xls workbooks are not supported: save the file as .xlsx or CSV."),
        )
    if data.startswith(XLSX_MAGIC):
        # the rows the header may be in, and one more than the limit below it
        source: Iterable[tuple[int, Sequence[Any]]] = _xlsx_rows(data, HEADER_ROWS + MAX_ROWS + 1)
    elif filename.lower().endswith((".csv", ".txt")):
        source = enumerate(_csv_rows(data), start=1)
    else:
        raise _bad_file(
            "unsupported_file",
            _("Upload an Excel workbook (.xlsx) or a CSV file."),
        )
    table: Table | None = None
    for number, values in source:
        if table is None:
            if number > HEADER_ROWS:
                break
            table = _header(number, values)
            continue
        if _is_blank(values):
            continue
        if len(table.rows) >= MAX_ROWS:
            raise _bad_file(
                "too_many_rows",
                _("The file has more than %(n)d rows: split it into several files.")
                % {"n": MAX_ROWS},
            )
        table.rows.append((number, tuple(values)))
    if table is None:
        raise _bad_file(
            "no_header",
            _(
                "No header row found: the first rows must hold the column names of the "
                "template (姓名, 公民身份号码, 村（居）区划代码 …)."
            ),
        )
    if not table.rows:
        raise _bad_file(
            "no_data_rows",
            _(
                "The file has no data rows below its header row: nothing was imported. Add "
                "the residents below the header, one per row."
            ),
        )
    return table


def _header(number: int, values: Sequence[Any]) -> Table | None:
    if _is_blank(values):
        return None
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, value in enumerate(values):
        text = "" if value is None else str(value).strip()
        if not text:
            continue
        norm = normalise_header(text)
        key = HEADERS.get(norm) or HEADERS.get(_without_note(norm))
        if key is None:
            ignored.append(text)
        elif key in columns:
            raise _bad_file(
                "duplicate_column",
                _("The column %(header)s appears twice (columns %(a)d and %(b)d).")
                % {"header": BY_KEY[key].header, "a": columns[key] + 1, "b": index + 1},
            )
        else:
            columns[key] = index
    if "name" not in columns and "id_number" not in columns:
        return None  # a title row above the header: keep looking
    missing = [BY_KEY[key].header for key in REQUIRED_KEYS if key not in columns]
    if missing:
        raise _bad_file(
            "missing_columns",
            _("Required columns are missing: %(names)s.") % {"names": "、".join(missing)},
        )
    headers = ["" if v is None else str(v).strip() for v in values]
    return Table(headers=headers, rows=[], header_row=number, columns=columns, ignored=ignored)


# --- converting cells -------------------------------------------------------------------

# Control characters (Unicode category Cc: NUL, the other C0 codes, DEL, C1) are refused in
# every cell: PostgreSQL cannot store NUL in text, and none of them belongs in a register.
# Tab, line feed and carriage return are left alone (a line break typed in an Excel cell).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(value: Any) -> str | None:
    """The first control character of a text cell, as ``U+0000``; None if it has none."""
    if isinstance(value, str) and (found := _CONTROL_RE.search(value)):
        return f"U+{ord(found.group()):04X}"
    return None


def _text(value: Any) -> str:
    """A cell as text: numbers without a trailing .0, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).replace("\u3000", " ").strip()


_DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?")
_COMPACT_DATE_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")


def _date_cell(value: Any, key: str) -> datetime.date | None:
    """A date cell: an Excel date, an Excel serial number, or text in a common layout;
    anything else is the services' ``invalid_date``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 10_000_000 <= value <= 99_991_231 and float(value).is_integer():
            value = str(int(value))  # 19500315
        elif 1 <= value < 100_000:
            from openpyxl.utils.datetime import from_excel

            return from_excel(value).date()
    text = _fold(_text(value))
    if not text:
        return None
    match = _DATE_RE.fullmatch(text) or _COMPACT_DATE_RE.fullmatch(text)
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    return registry._date(text, key)  # not a date: raises the services' invalid_date


def _bool_cell(value: Any, key: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = _fold(_text(value)).lower()
    if not text:
        return None
    if text in BOOL_MAP:
        return BOOL_MAP[text]
    raise ValidationFailed(
        "invalid_boolean",
        _("%(f)s: “%(v)s” is not 是 or 否.") % {"f": label(key), "v": _text(value)},
        field=key,
    )


def _choice_cell(value: Any, key: str) -> str | None:
    text = _text(value)
    if not text:
        return None
    code = CHOICE_MAPS[key].get(normalise_header(text))
    if code is None:
        allowed = "、".join(CHOICE_LABELS[key].values())
        raise ValidationFailed(
            "invalid_choice",
            _("%(f)s: “%(v)s” is not one of %(allowed)s.")
            % {"f": label(key), "v": text, "allowed": allowed},
            field=key,
        )
    return code


def _id_cell(value: Any) -> str:
    if isinstance(value, float) and not isinstance(value, bool) and abs(value) >= 1e15:
        raise ValidationFailed(
            "id_number_as_number",
            _(
                "The ID number was stored as a number and has lost its last digits: format "
                "the column as text in Excel and type it again."
            ),
            field="id_number",
        )
    return _fold(_text(value)).replace(" ", "")


# --- the import -------------------------------------------------------------------------


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


@dataclass
class _Row:
    """One data row on its way: the converted cells (only the non-blank ones) and the
    problems found."""

    number: int
    data: dict[str, Any]
    errors: list[ValidationFailed]
    parsed: IdNumber | None = None
    index: str = ""  # the ID number's keyed index


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


class ResidentImport:
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
            raise _bad_file(
                "only_example_rows",
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

    def _cell(self, values: Sequence[Any], key: str) -> Any:
        index = self.columns.get(key)
        if index is None or index >= len(values):
            return None
        return values[index]

    def _is_example(self, values: Sequence[Any]) -> bool:
        name = _fold(_text(self._cell(values, "name")))
        return name.startswith(EXAMPLE_PREFIXES)

    def _duplicates_in_file(
        self, rows: Sequence[tuple[int, Sequence[Any]]]
    ) -> dict[str, list[int]]:
        seen: dict[str, list[int]] = {}
        for number, values in rows:
            try:
                key = _id_cell(self._cell(values, "id_number")).upper()
            except ValidationFailed:
                continue
            if key:
                seen.setdefault(key, []).append(number)
        return {key: numbers for key, numbers in seen.items() if len(numbers) > 1}

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
                "batch_failed",
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

    def _control_characters(self, values: Sequence[Any]) -> list[ValidationFailed]:
        """One error per cell holding a control character, naming its column."""
        errors = []
        keys = {index: key for key, index in self.columns.items()}
        for index, value in enumerate(values):
            code = control_character(value)
            if code is None:
                continue
            header = self.headers[index] if index < len(self.headers) else ""
            column = header or _("column %(n)d") % {"n": index + 1}
            errors.append(
                ValidationFailed(
                    "control_character",
                    _(
                        "%(column)s: contains a control character (%(code)s), which cannot be "
                        "stored: delete it and import the row again."
                    )
                    % {"column": column, "code": code},
                    field=keys.get(index, ""),
                )
            )
        return errors

    def _convert(self, number: int, values: Sequence[Any]) -> _Row:
        """Cell → value, with every problem that needs no database."""
        row = _Row(number, {}, self._control_characters(values))
        if row.errors:
            return row
        data = row.data

        def cell(key: str) -> Any:
            return self._cell(values, key)

        def attempt(fn: Callable[..., Any], *args: Any) -> Any:
            try:
                return fn(*args)
            except ValidationFailed as error:
                row.errors.append(error)
                return None

        name = _text(cell("name"))
        if name:
            data["name"] = name
        else:
            row.errors.append(registry._required("name"))

        id_text = attempt(_id_cell, cell("id_number"))
        if id_text == "":
            row.errors.append(registry._required("id_number"))
        elif id_text:
            row.parsed = attempt(lambda: parse_id_number(id_text, today=self.today))
            if row.parsed is not None:
                row.index = crypto.blind_index(row.parsed.value)
            others = self.duplicates.get(id_text.upper())
            if others:
                row.errors.append(
                    ValidationFailed(
                        "duplicate_in_file",
                        _(
                            "The same ID number is in rows %(rows)s of this file: none of "
                            "them was imported."
                        )
                        % {"rows": ", ".join(str(n) for n in others)},
                        field="id_number",
                    )
                )
        sex = attempt(_choice_cell, cell("sex"), "sex")
        birth = attempt(_date_cell, cell("birth_date"), "birth_date")
        if row.parsed is not None:
            attempt(registry._check_derived, row.parsed, sex, None)
            attempt(registry._check_derived, row.parsed, None, birth)

        phone = attempt(registry.normalise_phone, _text(cell("phone")))
        if phone:
            data["phone"] = phone
        for key in ("address", "ethnicity"):
            text = _text(cell(key))
            if text:
                data[key] = text
        for key in ("region", "grid", "institution"):
            text = _fold(_text(cell(key)))
            if text:
                data[key] = text
        if "region" not in data:
            row.errors.append(registry._required("region"))
        for key in CHOICE_KEYS:
            code = attempt(_choice_cell, cell(key), key)
            if code is not None:
                data[key] = code
        died = attempt(_date_cell, cell("deceased_on"), "deceased_on")
        if died is not None:
            data["deceased_on"] = died
        for key in BOOL_KEYS:
            flag = attempt(_bool_cell, cell(key), key)
            if flag is not None:
                data[key] = flag
        return row

    # -- regions, grids, institutions: looked up and scope-checked once per value ------

    # The happy path checks scope with one query per batch (the same filters as
    # ``village_in_scope`` and ``network.selectors.in_scope``); a reference that fails is
    # handed to the services' own resolver, so its error is exactly theirs.

    def _resolve_references(self, rows: list[_Row]) -> None:
        codes = {row.data["region"] for row in rows if "region" in row.data}
        self._load_regions(codes - set(self._regions))
        refs = {row.data["institution"] for row in rows if "institution" in row.data}
        self._load_institutions(refs - set(self._institutions))
        grid_codes = {row.data["grid"] for row in rows if "grid" in row.data}
        self._load_grids(grid_codes - set(self._grid_rows))
        for row in rows:
            region = self._regions.get(row.data.get("region", ""))
            if isinstance(region, ValidationFailed):
                row.errors.append(region)
                region = None
            if region is not None:
                row.data["region"] = region
                if "grid" in row.data:
                    grid = self._grid(row.data["grid"], region)
                    if isinstance(grid, ValidationFailed):
                        row.errors.append(grid)
                    else:
                        row.data["grid"] = grid
            if "institution" in row.data:
                inst = self._institutions[row.data["institution"]]
                if isinstance(inst, ValidationFailed):
                    row.errors.append(inst)
                else:
                    row.data["institution"] = inst

    def _unknown(self, key: str, value: str) -> ValidationFailed:
        messages = {
            "region": _("Region code %(v)s is unknown or outside your data scope."),
            "grid": _("Grid code %(v)s is unknown or outside your data scope."),
            "institution": _("Institution %(v)s is unknown or outside your data scope."),
        }
        return ValidationFailed("unknown_reference", messages[key] % {"v": value}, field=key)

    def _load_regions(self, codes: set[str]) -> None:
        if not codes:
            return
        found = {r.code: r for r in Region.objects.filter(code__in=codes)}
        q = village_q(scope_of(self.actor))
        visible = Region.objects.filter(code__in=codes)
        if q is not None:
            visible = visible.filter(q)
        in_scope = set(visible.values_list("code", flat=True))
        for code in codes:
            region = found.get(code)
            if region is None:
                self._regions[code] = self._unknown("region", code)
            elif code in in_scope and region.level == RegionLevel.VILLAGE:
                self._regions[code] = region
            else:
                try:
                    self._regions[code] = registry._resolve_region(self.actor, region)
                except ValidationFailed as error:
                    if error.code == "unknown_reference":
                        error = self._unknown("region", code)
                    self._regions[code] = error

    def _load_grids(self, codes: set[str]) -> None:
        if not codes:
            return
        found = {g.code: g for g in Grid.objects.filter(code__in=codes)}
        if self.audit_actor is None:  # the system itself: scope "all"
            visible = set(found)
        else:
            try:
                qs = grids_for(self.actor).filter(code__in=codes)
                visible = set(qs.values_list("code", flat=True))
            except PermissionDenied:  # no network.view: each grid is checked on its own
                visible = set()
        for code in codes:
            grid = found.get(code)
            self._grid_rows[code] = (grid, code in visible)

    def _grid(self, code: str, region: Region) -> Grid | ValidationFailed:
        key = (code, region.pk)
        if key not in self._grids:
            grid, visible = self._grid_rows[code]
            if grid is None:
                self._grids[key] = self._unknown("grid", code)
            elif visible and grid.village_id == region.pk:
                self._grids[key] = grid
            else:
                try:
                    resolved = registry._resolve_grid(self.actor, grid, region)
                except ValidationFailed as error:
                    if error.code == "unknown_reference":
                        error = self._unknown("grid", code)
                    self._grids[key] = error
                else:
                    assert resolved is not None
                    self._grids[key] = resolved
        return self._grids[key]

    def _load_institutions(self, refs: set[str]) -> None:
        if not refs:
            return
        candidates = list(
            Institution.objects.filter(
                Q(care_filing_no__in=refs) | Q(medical_licence_no__in=refs) | Q(name__in=refs)
            )
        )
        in_scope = self._visible_institutions(candidates)
        for ref in refs:
            by_number = [i for i in candidates if ref in (i.care_filing_no, i.medical_licence_no)]
            matches = by_number or [i for i in candidates if i.name == ref]
            visible = [inst for inst in matches if inst.pk in in_scope]
            if len(visible) == 1:
                self._institutions[ref] = visible[0]
            elif not visible:
                self._institutions[ref] = self._unknown("institution", ref)
            else:
                self._institutions[ref] = ValidationFailed(
                    "ambiguous_reference",
                    _(
                        "Several institutions are named %(v)s: give its elderly-care filing "
                        "number or medical practice licence number instead."
                    )
                    % {"v": ref},
                    field="institution",
                )

    def _visible_institutions(self, candidates: list[Institution]) -> set[int]:
        if self.audit_actor is None:  # the system itself: scope "all"
            return {inst.pk for inst in candidates}
        try:
            qs = institutions_for(self.actor).filter(pk__in=[i.pk for i in candidates])
            return set(qs.values_list("pk", flat=True))
        except PermissionDenied:  # no network.view: the services' check, one by one
            visible = set()
            for inst in candidates:
                try:
                    registry._resolve_institution(self.actor, inst)
                except ValidationFailed:
                    continue
                visible.add(inst.pk)
            return visible

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

    def _write(self, rows: list[_Row], *, careful: bool) -> list[RowResult]:
        results: list[RowResult] = []
        with transaction.atomic():
            indexes = [row.index for row in rows if row.index]
            stored, visible = self._existing(indexes)
            new: list[tuple[_Row, Resident]] = []
            changed: dict[tuple[str, ...], list[tuple[_Row, Resident, list[str]]]] = {}
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

    def _create(self, new: list[tuple[_Row, Resident]], careful: bool) -> list[RowResult]:
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
        self, items: list[tuple[_Row, Resident, list[str]]], names: list[str]
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
                    "not_stored",
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
            "duplicate_id_number",
            _("A resident with this ID number is already registered."),
            field="id_number",
        )

    def _build(
        self, row: _Row, stored: dict[str, dict[str, Any]], visible: set[int]
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
                        "merged_record",
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
                registry._check_rules(resident, self.today)
                registry.check_reachable(self.actor, resident)
        except ValidationFailed as error:
            return RowResult(row.number, Status.REJECTED, [error])
        return resident, fields

    def _apply(self, resident: Resident, target: dict[str, Any], fields: list[str]) -> None:
        """Set ``target`` on ``resident`` like ``services._apply`` (pinyin with the name,
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


# --- the report -------------------------------------------------------------------------


def write_report(outcome: Outcome, target: str | Path | IO[bytes]) -> None:
    """The original columns of every data row, then the result, the reasons and their
    codes (field:code), as .xlsx; a second sheet with the counts. Written with XlsxWriter
    in its constant-memory mode (``workbooks.new_workbook``)."""
    table = outcome.table
    width = len(table.headers)
    header = [_("Row"), *table.headers, _("Result"), _("Reasons"), _("Reason codes")]
    labels = {key: str(value) for key, value in STATUS_LABELS.items()}
    widths = [6, *(_header_width(h) for h in table.headers), 12, 60, 30]
    book = new_workbook(str(target) if isinstance(target, str | Path) else target)
    formats = Formats(book)
    sheet = add_sheet(book, str(_("Import results")), widths=widths, freeze=(1, 1))
    write_row(sheet, 0, [str(h) for h in header], formats, bold=True)
    pairs = zip(table.rows, outcome.results, strict=True)
    for line, ((number, values), result) in enumerate(pairs, start=1):
        original = list(values[:width])
        original += [None] * (width - len(original))
        status = labels[result.status]
        if result.status == Status.REJECTED:
            row = [number, *original, status, result.reason, result.codes]
            write_row(sheet, line, row, formats, flagged=True)
        else:
            write_row(sheet, line, [number, *original, status], formats)
    summary = add_sheet(book, str(_("Summary")), widths=[24, 60])
    line = 0
    for line, (key, value) in enumerate(outcome.counts.items()):
        write_row(summary, line, [str(_summary_label(key)), value], formats)
    if table.ignored:
        write_row(summary, line + 1, [str(_("Ignored columns")), "、".join(table.ignored)], formats)
    book.close()


def _header_width(header: str) -> int:
    return min(30, max(8, 2 * len(header) + 2))


def _summary_label(key: str) -> Any:
    return {
        "total": gettext_lazy("Rows"),
        "processed": gettext_lazy("Processed"),
        "imported": STATUS_LABELS[Status.IMPORTED],
        "updated": STATUS_LABELS[Status.UPDATED],
        "unchanged": STATUS_LABELS[Status.UNCHANGED],
        "rejected": STATUS_LABELS[Status.REJECTED],
        "skipped": STATUS_LABELS[Status.SKIPPED],
    }[key]


# --- running an import ------------------------------------------------------------------


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


# --- jobs -------------------------------------------------------------------------------


def check_upload(name: str, size: int, head: bytes) -> None:
    """Refuse an upload that is too large, empty, an old .xls or neither .xlsx nor CSV."""
    if size > MAX_FILE_BYTES:
        raise _bad_file(
            "file_too_large",
            _("The file is larger than %(mb)d MB: split it into several files.")
            % {"mb": MAX_FILE_BYTES // (1024 * 1024)},
        )
    if size == 0:
        raise _bad_file("empty_file", _("The file is empty."))
    if head.startswith(OLE_MAGIC):
        raise _bad_file(
            "xls_not_supported",
            _("Old .xls workbooks are not supported: save the file as .xlsx or CSV."),
        )
    lower = name.lower()
    if not (
        (lower.endswith(".xlsx") and head.startswith(XLSX_MAGIC))
        or lower.endswith((".csv", ".txt"))
    ):
        raise _bad_file("unsupported_file", _("Upload an Excel workbook (.xlsx) or a CSV file."))


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


def jobs_for(user: Any) -> QuerySet[ImportJob]:
    """The user's own import jobs (``ResidentPerm.IMPORT``): nobody sees another's. A job
    whose worker died is shown as failed (``interrupt_stale_jobs``)."""
    require_perm(user, ResidentPerm.IMPORT)
    jobs = ImportJob.objects.filter(created_by=user)
    interrupt_stale_jobs(jobs)
    return jobs


def get_job_for(user: Any, pk: Any) -> ImportJob:
    try:
        return jobs_for(user).get(pk=pk)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise NotFound("import job") from None


def open_report(user: Any, pk: Any) -> tuple[ImportJob, IO[bytes]]:
    """The job's report file, for its creator; the download is audited."""
    job = get_job_for(user, pk)
    if not job.report:
        raise NotFound("import report")
    handle = job.report.open("rb")
    record_read(user, job, details={"report": True})
    return job, handle


def report_filename(job: ImportJob) -> str:
    return f"{Path(job.original_name).stem}.report.xlsx"


# --- the template -----------------------------------------------------------------------


def example_values(user: Any) -> dict[str, Any]:
    """The template's example row: a fictional resident in a village of ``user``'s
    scope (a fixed one when the scope has none). Its name starts with （示例）, which makes
    the importer skip it."""
    q = village_q(scope_of(user))
    villages = Region.objects.filter(level=RegionLevel.VILLAGE)
    if q is not None:
        villages = villages.filter(q)
    village = villages.order_by("code").first()
    code = village.code if village is not None else "110105001001"
    grid = Grid.objects.filter(village=village).order_by("code").first() if village else None
    id_number = make_id_number(code[:6], datetime.date(1948, 5, 6), 12)
    values = {
        "name": "（示例）张秀英",
        "id_number": id_number,
        "sex": "女",
        "birth_date": datetime.date(1948, 5, 6),
        "phone": "13800138000",
        "address": "幸福路 8 号",
        "region": code,
        "grid": grid.code if grid is not None else "",
        "ethnicity": "汉族",
        "insurance": INSURANCE_CHOICES[1].label,
        "ltc_insured": "否",
        "status": STATUS_CHOICES[0].label,
        "deceased_on": None,
        "care_setting": CARE_CHOICES[0].label,
        "institution": "",
    }
    values.update({key: "否" for key in FLAGS})
    values["empty_nest"] = "是"
    values["permanent_resident"] = "是"
    return values


def template_rows(user: Any) -> tuple[list[str], list[Any]]:
    example = example_values(user)
    return [c.header for c in COLUMNS], [example[c.key] for c in COLUMNS]


def _allowed(column: Column) -> str:
    if column.choices:
        return "、".join(f"{c.label}（{c.code}）" for c in column.choices)
    if column.kind == "bool":
        return "是、否"
    return ""


def _format(column: Column) -> str:
    if column.kind == "bool":
        return str(BOOL_FORMAT)
    if column.key in FORMATS:
        return str(FORMATS[column.key])
    if column.choices:
        return str(_("One of the allowed values (the Chinese label or the code)."))
    return ""


def build_template_xlsx(user: Any, target: IO[bytes]) -> None:
    """The import template: sheet 1 the columns with an example row (text format for the
    long digit columns, drop-down lists for choices and 是/否), sheet 2 an explanation of
    every column."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "居民信息"
    headers, example = template_rows(user)
    sheet.append(headers)
    sheet.append(example)
    required_fill = PatternFill("solid", fgColor="FDE68A")
    header_fill = PatternFill("solid", fgColor="E5E7EB")
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = required_fill if column.required else header_fill
        sheet.column_dimensions[letter].width = max(column.width, len(column.header) * 2 + 2)
        example_cell = sheet.cell(row=2, column=index)
        example_cell.font = Font(italic=True, color="6B7280")
        if column.text_format:
            sheet.column_dimensions[letter].number_format = "@"
            example_cell.number_format = "@"
        if column.kind == "date":
            example_cell.number_format = "yyyy-mm-dd"
        allowed = [c.label for c in column.choices] or (
            ["是", "否"] if column.kind == "bool" else []
        )
        if allowed:
            validation = DataValidation(
                type="list", formula1=f'"{",".join(allowed)}"', allow_blank=True
            )
            validation.showErrorMessage = False  # codes and aliases are accepted too
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
    sheet.freeze_panes = "C2"

    notes = book.create_sheet("填写说明")
    notes.append([str(_("How to fill in the resident import template"))])
    notes["A1"].font = Font(bold=True, size=13)
    for line in (
        _(
            "One resident per row, below the header row. Keep the column names; columns may "
            "be reordered, and columns the importer does not know are ignored."
        ),
        _("The example row (its name starts with （示例）) is skipped: replace it or leave it."),
        _(
            "The ID number identifies the resident: a row for a registered resident updates "
            "the record, and cells left blank keep what is stored. Importing the same file "
            "again changes nothing."
        ),
        _(
            "Every row is checked as in the registration form; rows with problems are listed "
            "in the import report with the reasons, and all other rows are imported."
        ),
        _("Up to %(n)d rows and %(mb)d MB per file; Excel (.xlsx) or CSV (UTF-8 or GB18030).")
        % {"n": MAX_ROWS, "mb": MAX_FILE_BYTES // (1024 * 1024)},
    ):
        notes.append([str(line)])
    notes.append([])
    heading = [
        str(_("Column")),
        str(_("Required")),
        str(_("Format")),
        str(_("Allowed values")),
        str(_("Field")),
    ]
    notes.append(heading)
    for cell in notes[notes.max_row]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    for column in COLUMNS:
        notes.append(
            [
                column.header,
                str(_("yes")) if column.required else str(_("no")),
                _format(column),
                _allowed(column),
                label(column.key),
            ]
        )
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in notes.iter_rows(min_row=notes.max_row - len(COLUMNS) + 1):
        for cell in row:
            cell.alignment = wrap
    for letter, width in zip("ABCDE", (18, 8, 60, 36, 20), strict=True):
        notes.column_dimensions[letter].width = width
    book.save(target)


def build_template_csv(user: Any) -> bytes:
    """The template as CSV: UTF-8 with a BOM (so that Excel opens it as UTF-8)."""
    headers, example = template_rows(user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerow(["" if v is None else _text(v) for v in example])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def template_file(user: Any, fmt: str = "xlsx") -> tuple[bytes, str, str]:
    """(content, file name, content type) of the template; ``ResidentPerm.IMPORT``."""
    require_perm(user, ResidentPerm.IMPORT)
    if fmt == "csv":
        return build_template_csv(user), "residents-template.csv", "text/csv; charset=utf-8"
    out = io.BytesIO()
    build_template_xlsx(user, out)
    return (
        out.getvalue(),
        "residents-template.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
