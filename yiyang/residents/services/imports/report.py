"""The import report: an .xlsx of the file's original columns with each row's result,
reasons and reason codes, and a summary sheet with the counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiyang.residents.services.imports.importer import STATUS_LABELS, Outcome, Status
from yiyang.residents.workbooks import Formats, add_sheet, new_workbook, write_row


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
