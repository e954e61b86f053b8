"""Writing .xlsx with XlsxWriter, shared by the resident export (``exports``) and the
import report (``imports.report.write_report``): a workbook in ``constant_memory`` mode spooled
to ``temp_dir()``, the cell formats both use, one row at a time, and sheets with column
widths and frozen panes.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import IO, Any

from django.conf import settings
from xlsxwriter import Workbook
from xlsxwriter.worksheet import Worksheet


def temp_dir() -> str | None:
    """Where spreadsheets are spooled: Django's ``FILE_UPLOAD_TEMP_DIR`` (None: the
    system's temporary directory)."""
    return settings.FILE_UPLOAD_TEMP_DIR or None


def new_workbook(target: str | IO[bytes]) -> Workbook:
    """An XlsxWriter workbook writing to ``target`` (a path or a binary file), in
    ``constant_memory`` mode: rows are written in order and each goes to a temporary file
    (in ``temp_dir()``) once the next one starts, so memory stays flat. Cell text is kept
    as text (a name starting with "=" is no formula, nothing becomes a link or a
    number)."""
    return Workbook(
        target,
        {
            "constant_memory": True,
            "tmpdir": temp_dir(),
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": True,
            "remove_timezone": True,
        },
    )


class Formats:
    """The cell formats the exports and the import report use."""

    def __init__(self, book: Workbook):
        self.bold = book.add_format({"bold": True})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        flagged = {"bg_color": "#FEE2E2"}  # a light red: rejected rows in the import report
        self.flagged = book.add_format(flagged)
        self.flagged_date = book.add_format({**flagged, "num_format": "yyyy-mm-dd"})
        self.flagged_datetime = book.add_format({**flagged, "num_format": "yyyy-mm-dd hh:mm"})


def write_row(
    sheet: Worksheet,
    row: int,
    values: Sequence[Any],
    formats: Formats,
    *,
    bold: bool = False,
    flagged: bool = False,
) -> None:
    """Write ``values`` (str, int, float, bool, date/datetime; None or "" left empty) to
    the 0-based ``row``; dates get a date format."""
    text = formats.bold if bold else formats.flagged if flagged else None
    date = formats.flagged_date if flagged else formats.date
    stamp = formats.flagged_datetime if flagged else formats.datetime
    for col, value in enumerate(values):
        if value is None or value == "":
            continue
        if isinstance(value, str):
            sheet.write_string(row, col, value, text)
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value, text)
        elif isinstance(value, int | float):
            sheet.write_number(row, col, value, text)
        elif isinstance(value, datetime.datetime):
            midnight = value.time() == datetime.time()
            sheet.write_datetime(row, col, value, date if midnight else stamp)
        elif isinstance(value, datetime.date):
            sheet.write_datetime(row, col, value, date)
        else:
            sheet.write_string(row, col, str(value), text)


def add_sheet(
    book: Workbook,
    name: str,
    *,
    widths: Sequence[float] = (),
    freeze: tuple[int, int] | None = None,
) -> Worksheet:
    sheet = book.add_worksheet(name[:31])
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    if freeze is not None:
        sheet.freeze_panes(*freeze)
    return sheet
