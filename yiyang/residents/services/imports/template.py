"""The import template: the columns with an example row in a village of the user's scope,
as .xlsx (drop-down lists for the choices, a sheet explaining every column) or CSV.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
from typing import IO, Any

from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.common.permissions import require_perm
from yiyang.common.scope import scope_of
from yiyang.network.models import Grid, Region, RegionLevel
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import FLAGS
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.registry import village_q
from yiyang.residents.services.imports.cells import cell_text
from yiyang.residents.services.imports.columns import (
    BOOL_FORMAT,
    CARE_CHOICES,
    COLUMNS,
    FORMATS,
    INSURANCE_CHOICES,
    STATUS_CHOICES,
    Column,
    label,
)
from yiyang.residents.services.imports.files import MAX_FILE_BYTES, MAX_ROWS


def example_values(user: User) -> dict[str, Any]:
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


def template_rows(user: User) -> tuple[list[str], list[Any]]:
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


def build_template_xlsx(user: User, target: IO[bytes]) -> None:
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


def build_template_csv(user: User) -> bytes:
    """The template as CSV: UTF-8 with a BOM (so that Excel opens it as UTF-8)."""
    headers, example = template_rows(user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerow(["" if v is None else cell_text(v) for v in example])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def template_file(user: User, fmt: str = "xlsx") -> tuple[bytes, str, str]:
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
