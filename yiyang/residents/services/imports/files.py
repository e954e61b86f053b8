"""Reading an import file: an .xlsx workbook (its first sheet, read by calamine in a
child process with capped memory) or a CSV file (UTF-8, UTF-16 or GB18030), the header row
found and its columns mapped (``read_table``); ``check_upload`` refuses a file before it is
stored. No database access.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from yiyang.common.errors import ValidationFailed
from yiyang.residents.errors import ResidentError
from yiyang.residents.services.imports.columns import (
    BY_KEY,
    HEADERS,
    REQUIRED_KEYS,
    normalise_header,
    without_note,
)

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format
HEADER_ROWS = 10  # the header row is looked for in the first rows
XLSX_READ_MEMORY = 4 * 1024**3  # address space the .xlsx reading process may add (bytes)
XLSX_READ_SECONDS = 300  # and the time it may take


@dataclass
class Table:
    """The rows of an uploaded sheet: its header row and the data rows below it (blank
    rows dropped), each with its row number as a spreadsheet shows it."""

    headers: list[str]
    rows: list[tuple[int, tuple[Any, ...]]]
    header_row: int = 1
    columns: dict[str, int] = field(default_factory=dict)  # column key → index
    ignored: list[str] = field(default_factory=list)  # headers that matched no column


def bad_file(code: str, detail: str) -> ValidationFailed:
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
        raise bad_file(
            ResidentError.BAD_ENCODING,
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
        raise bad_file(
            ResidentError.BAD_FILE,
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
        return bad_file(
            ResidentError.BAD_FILE,
            _("The file is not a readable .xlsx workbook (%(why)s).") % {"why": why},
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
    return bad_file(
        ResidentError.BAD_FILE,
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
        raise bad_file(
            ResidentError.FILE_TOO_LARGE,
            _("The file is larger than %(mb)d MB: split it into several files.")
            % {"mb": MAX_FILE_BYTES // (1024 * 1024)},
        )
    if data.startswith(OLE_MAGIC):
        raise bad_file(
            ResidentError.XLS_NOT_SUPPORTED,
            _("Old .xls workbooks are not supported: save the file as .xlsx or CSV."),
        )
    if data.startswith(XLSX_MAGIC):
        # the rows the header may be in, and one more than the limit below it
        source: Iterable[tuple[int, Sequence[Any]]] = _xlsx_rows(data, HEADER_ROWS + MAX_ROWS + 1)
    elif filename.lower().endswith((".csv", ".txt")):
        source = enumerate(_csv_rows(data), start=1)
    else:
        raise bad_file(
            ResidentError.UNSUPPORTED_FILE,
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
            raise bad_file(
                ResidentError.TOO_MANY_ROWS,
                _("The file has more than %(n)d rows: split it into several files.")
                % {"n": MAX_ROWS},
            )
        table.rows.append((number, tuple(values)))
    if table is None:
        raise bad_file(
            ResidentError.NO_HEADER,
            _(
                "No header row found: the first rows must hold the column names of the "
                "template (姓名, 公民身份号码, 村（居）区划代码 …)."
            ),
        )
    if not table.rows:
        raise bad_file(
            ResidentError.NO_DATA_ROWS,
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
        key = HEADERS.get(norm) or HEADERS.get(without_note(norm))
        if key is None:
            ignored.append(text)
        elif key in columns:
            raise bad_file(
                ResidentError.DUPLICATE_COLUMN,
                _("The column %(header)s appears twice (columns %(a)d and %(b)d).")
                % {"header": BY_KEY[key].header, "a": columns[key] + 1, "b": index + 1},
            )
        else:
            columns[key] = index
    if "name" not in columns and "id_number" not in columns:
        return None  # a title row above the header: keep looking
    missing = [BY_KEY[key].header for key in REQUIRED_KEYS if key not in columns]
    if missing:
        raise bad_file(
            ResidentError.MISSING_COLUMNS,
            _("Required columns are missing: %(names)s.") % {"names": "、".join(missing)},
        )
    headers = ["" if v is None else str(v).strip() for v in values]
    return Table(headers=headers, rows=[], header_row=number, columns=columns, ignored=ignored)


def check_upload(name: str, size: int, head: bytes) -> None:
    """Refuse an upload that is too large, empty, an old .xls or neither .xlsx nor CSV."""
    if size > MAX_FILE_BYTES:
        raise bad_file(
            ResidentError.FILE_TOO_LARGE,
            _("The file is larger than %(mb)d MB: split it into several files.")
            % {"mb": MAX_FILE_BYTES // (1024 * 1024)},
        )
    if size == 0:
        raise bad_file(ResidentError.EMPTY_FILE, _("The file is empty."))
    if head.startswith(OLE_MAGIC):
        raise bad_file(
            ResidentError.XLS_NOT_SUPPORTED,
            _("Old .xls workbooks are not supported: save the file as .xlsx or CSV."),
        )
    lower = name.lower()
    if not (
        (lower.endswith(".xlsx") and head.startswith(XLSX_MAGIC))
        or lower.endswith((".csv", ".txt"))
    ):
        raise bad_file(
            ResidentError.UNSUPPORTED_FILE, _("Upload an Excel workbook (.xlsx) or a CSV file.")
        )
