"""Converting the cells of an import row: text, dates (Excel dates and serial numbers,
common text layouts), 是/否, choices by label, alias or code, the ID number; a control
character is found and named. A bad cell raises the ``ValidationFailed`` the registry
services would (same codes and wording).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.utils.translation import gettext as _

from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.residents.errors import ResidentError
from yiyang.residents.services import registry
from yiyang.residents.services.imports.columns import (
    BOOL_MAP,
    CHOICE_LABELS,
    CHOICE_MAPS,
    fold,
    label,
    normalise_header,
)

# Control characters (Unicode category Cc: NUL, the other C0 codes, DEL, C1) are refused in
# every cell: PostgreSQL cannot store NUL in text, and none of them belongs in a register.
# Tab, line feed and carriage return are left alone (a line break typed in an Excel cell).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(value: Any) -> str | None:
    """The first control character of a text cell, as ``U+0000``; None if it has none."""
    if isinstance(value, str) and (found := _CONTROL_RE.search(value)):
        return f"U+{ord(found.group()):04X}"
    return None


def cell_text(value: Any) -> str:
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


def date_cell(value: Any, key: str) -> datetime.date | None:
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
    text = fold(cell_text(value))
    if not text:
        return None
    match = _DATE_RE.fullmatch(text) or _COMPACT_DATE_RE.fullmatch(text)
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    return registry.to_date(text, key)  # not a date: raises the services' invalid_date


def bool_cell(value: Any, key: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = fold(cell_text(value)).lower()
    if not text:
        return None
    if text in BOOL_MAP:
        return BOOL_MAP[text]
    raise ValidationFailed(
        ResidentError.INVALID_BOOLEAN,
        _("%(f)s: “%(v)s” is not 是 or 否.") % {"f": label(key), "v": cell_text(value)},
        field=key,
    )


def choice_cell(value: Any, key: str) -> str | None:
    text = cell_text(value)
    if not text:
        return None
    code = CHOICE_MAPS[key].get(normalise_header(text))
    if code is None:
        allowed = "、".join(CHOICE_LABELS[key].values())
        raise ValidationFailed(
            CommonError.INVALID_CHOICE,
            _("%(f)s: “%(v)s” is not one of %(allowed)s.")
            % {"f": label(key), "v": text, "allowed": allowed},
            field=key,
        )
    return code


def id_cell(value: Any) -> str:
    if isinstance(value, float) and not isinstance(value, bool) and abs(value) >= 1e15:
        raise ValidationFailed(
            ResidentError.ID_NUMBER_AS_NUMBER,
            _(
                "The ID number was stored as a number and has lost its last digits: format "
                "the column as text in Excel and type it again."
            ),
            field="id_number",
        )
    return fold(cell_text(value)).replace(" ", "")
