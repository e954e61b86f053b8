"""12-digit statistical division codes (统计用区划代码) and the region CSV importer.

A code is 2 digits province + 2 city + 2 county + 3 township + 3 village. The level is
the last non-zero part: ``410000000000`` province, ``411500000000`` city,
``411521000000`` county, ``411521101000`` township, ``411521101201`` village.

Rules (ADR "region codes"):

* exactly 12 ASCII digits;
* the province part is a real province code (11–15, 21–23, 31–37, 41–46, 50–54, 61–65,
  71, 81, 82);
* every part above the level is non-zero ("level consistent"), with one exception: a
  township may sit directly under a city that has no counties (东莞 441900, 中山 442000,
  儋州 460400), so a township's county part may be ``00``;
* a township part (of a township or a village) is 001–399 (001–099 subdistrict, 100–199
  town, 200–399 township);
* the parent must exist. Parent = the nearest existing ancestor among the code's
  truncations (so a county of a province-level municipality, or a province-administered
  county-level city such as 济源 419001, may hang directly under the province when no
  city row exists), except that a village's parent must be its township (the first 9
  digits) and a township's parent its county (the first 6 digits, which is the city
  itself for a city without counties).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.common.errors import ValidationFailed
from yiyang.network.errors import NetworkError
from yiyang.network.models import LEVEL_DIGITS, Region, RegionLevel

PROVINCE_CODES = frozenset(
    [f"{n}" for n in range(11, 16)]
    + [f"{n}" for n in range(21, 24)]
    + [f"{n}" for n in range(31, 38)]
    + [f"{n}" for n in range(41, 47)]
    + [f"{n}" for n in range(50, 55)]
    + [f"{n}" for n in range(61, 66)]
    + ["71", "81", "82"]
)
_CODE_RE = re.compile(r"[0-9]{12}")
LEVELS_TOP_DOWN = [
    RegionLevel.PROVINCE,
    RegionLevel.CITY,
    RegionLevel.COUNTY,
    RegionLevel.TOWNSHIP,
    RegionLevel.VILLAGE,
]
NAME_MAX = 100


class RegionCodeError(ValueError):
    """A code that breaks a rule; ``reason`` is a stable code, ``message`` says why."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message

    def as_validation(self, field: str = "code") -> ValidationFailed:
        return ValidationFailed(NetworkError.INVALID_REGION_CODE, self.message, field=field)


def pad(prefix: str) -> str:
    return prefix.ljust(12, "0")


def level_of(code: str) -> RegionLevel:
    """The level of a well-formed code (see ``check_code``)."""
    if code[2:] == "0" * 10:
        return RegionLevel.PROVINCE
    if code[4:] == "0" * 8:
        return RegionLevel.CITY
    if code[6:] == "0" * 6:
        return RegionLevel.COUNTY
    if code[9:] == "000":
        return RegionLevel.TOWNSHIP
    return RegionLevel.VILLAGE


def check_code(code: Any) -> RegionLevel:
    """Check the code's own form (not its parent); return its level."""
    if not isinstance(code, str) or len(code) != 12:
        length = len(code) if isinstance(code, str) else 0
        raise RegionCodeError(
            "length",
            _("Region code %(code)s has %(n)d characters; it must have exactly 12 digits.")
            % {"code": code, "n": length},
        )
    if not _CODE_RE.fullmatch(code):
        raise RegionCodeError(
            "not_digits",
            _("Region code %(code)s must contain only the digits 0-9.") % {"code": code},
        )
    if code[:2] not in PROVINCE_CODES:
        raise RegionCodeError(
            "unknown_province",
            _("Region code %(code)s starts with %(p)s, which is not a province code.")
            % {"code": code, "p": code[:2]},
        )
    level = level_of(code)
    township = code[6:9]
    if level not in (RegionLevel.PROVINCE, RegionLevel.CITY) and code[2:4] == "00":
        raise RegionCodeError(
            "level_inconsistent",
            _("Region code %(code)s is a %(level)s code but its city part (digits 3-4) is 00.")
            % {"code": code, "level": level.label},
        )
    if level == RegionLevel.VILLAGE and township == "000":
        raise RegionCodeError(
            "level_inconsistent",
            _("Region code %(code)s is a village code but its township part (digits 7-9) is 000.")
            % {"code": code},
        )
    if level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE) and not "001" <= township <= "399":
        raise RegionCodeError(
            "township_out_of_range",
            _("Region code %(code)s has township part %(t)s; township parts run from 001 to 399.")
            % {"code": code, "t": township},
        )
    return level


def parent_candidates(code: str, level: RegionLevel) -> list[str]:
    """The codes that may be the parent, nearest first."""
    if level == RegionLevel.PROVINCE:
        return []
    if level == RegionLevel.VILLAGE:
        return [pad(code[:9])]
    if level == RegionLevel.TOWNSHIP:
        return [pad(code[:6]) if code[4:6] != "00" else pad(code[:4])]
    if level == RegionLevel.COUNTY:
        return [pad(code[:4]), pad(code[:2])]
    return [pad(code[:2])]


def find_parent(code: str, level: RegionLevel, exists: Callable[[str], bool]) -> str | None:
    """The parent's code (None for a province); ``RegionCodeError`` if none exists."""
    candidates = parent_candidates(code, level)
    if not candidates:
        return None
    for candidate in candidates:
        if exists(candidate):
            return candidate
    wanted = {
        RegionLevel.CITY: _("province"),
        RegionLevel.COUNTY: _("city or province"),
        RegionLevel.TOWNSHIP: _("county"),
        RegionLevel.VILLAGE: _("township"),
    }[level]
    raise RegionCodeError(
        "missing_parent",
        _("Region code %(code)s has no parent: its %(wanted)s %(parent)s does not exist.")
        % {"code": code, "wanted": wanted, "parent": candidates[0]},
    )


def validate_new_code(code: Any) -> tuple[RegionLevel, Region | None]:
    """Check a code for a single new region against the database: its level and parent."""
    level = check_code(code)
    found: dict[str, Region] = {
        r.code: r for r in Region.objects.filter(code__in=parent_candidates(code, level))
    }
    parent_code = find_parent(code, level, lambda c: c in found)
    return level, (found[parent_code] if parent_code else None)


# --- CSV import -------------------------------------------------------------------------


@dataclass
class RowError:
    line: int
    code: str
    reason: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "code": self.code,
            "reason": self.reason,
            "message": self.message,
        }


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [e.as_dict() for e in self.errors],
        }

    def lines(self) -> list[str]:
        """A human report, one line per bad row then a summary."""
        out = [f"line {e.line}: {e.code or '-'}: {e.message} [{e.reason}]" for e in self.errors]
        if self.errors:
            out.append(f"{len(self.errors)} bad row(s) of {self.rows}; nothing imported.")
        else:
            out.append(
                f"{self.rows} row(s): {self.created} created, {self.updated} updated, "
                f"{self.unchanged} unchanged."
            )
        return out


HEADER_NAMES = {"code", "代码", "区划代码", "统计用区划代码"}


def read_rows(data: bytes | str) -> Iterable[tuple[int, list[str]]]:
    """(line number, cells) for each non-blank CSV row; a header row is skipped."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    first = True
    for cells in reader:
        line = reader.line_num
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if first:
            first = False
            if cells[0].lower() in HEADER_NAMES:
                continue
        yield line, cells


def validate_rows(
    rows: Iterable[tuple[int, list[str]]],
    existing_codes: Callable[[set[str]], set[str]],
    in_scope: Callable[[str], bool] = lambda code: True,
) -> tuple[list[tuple[int, str, str, RegionLevel]], list[RowError], int]:
    """Check every row; return the good rows (line, code, name, level) sorted by code, the
    bad rows and the row count. ``existing_codes(codes)`` answers which codes exist."""
    good: dict[str, tuple[int, str, RegionLevel]] = {}
    errors: list[RowError] = []
    count = 0
    for line, cells in rows:
        count += 1
        code = cells[0]
        if len(cells) < 2 or not cells[1]:
            errors.append(
                RowError(line, code, "missing_name", _("The row needs two columns: code,name."))
            )
            continue
        name = cells[1]
        try:
            level = check_code(code)
        except RegionCodeError as exc:
            errors.append(RowError(line, code, exc.reason, exc.message))
            continue
        if len(name) > NAME_MAX:
            errors.append(
                RowError(
                    line,
                    code,
                    "name_too_long",
                    _("The name has %(n)d characters; at most %(max)d are allowed.")
                    % {"n": len(name), "max": NAME_MAX},
                )
            )
            continue
        if code in good:
            errors.append(
                RowError(
                    line,
                    code,
                    "duplicate",
                    _("Code %(code)s appears again (first on line %(first)d).")
                    % {"code": code, "first": good[code][0]},
                )
            )
            continue
        if not in_scope(code):
            errors.append(
                RowError(line, code, "out_of_scope", _("This code is outside your data scope."))
            )
            continue
        good[code] = (line, name, level)

    wanted: set[str] = set()
    for code, (_line, _name, level) in good.items():
        wanted.update(parent_candidates(code, level))
    known = existing_codes(wanted - set(good)) | set(good)
    result = []
    for code in sorted(good):
        line, name, level = good[code]
        try:
            find_parent(code, level, lambda c: c in known)
        except RegionCodeError as exc:
            errors.append(RowError(line, code, exc.reason, exc.message))
            continue
        result.append((line, code, name, level))
    errors.sort(key=lambda e: e.line)
    return result, errors, count


def _existing(codes: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(codes)
    for i in range(0, len(ordered), 500):
        found.update(
            Region.objects.filter(code__in=ordered[i : i + 500]).values_list("code", flat=True)
        )
    return found


def import_regions(
    actor: User, data: bytes | str, *, year: int = 2023, source: str = ""
) -> ImportReport:
    """Validate every row of a region CSV (code,name) and import all rows or none.

    New codes are created with their level and parent; existing codes get the new name
    and year. Bad rows are reported with line number, code and reason, and then nothing is
    imported. One transaction, one audit row ("network.region.import"). ``actor`` None
    is the system itself (the ``import_regions`` command run at the server's shell).
    """
    from yiyang.audit.services import record
    from yiyang.common.permissions import require_perm
    from yiyang.common.scope import scope_of
    from yiyang.network.permissions import NetworkPerm

    prefix: str | None = ""
    if actor is not None:  # None: the system itself (the management command)
        require_perm(actor, NetworkPerm.REGION_IMPORT)
        scope = scope_of(actor)
        # Only "all" and "region" scopes own a region subtree; rows outside it are bad rows.
        prefix = {"all": "", "region": scope.region_prefix}.get(scope.kind)

    def in_scope(code: str) -> bool:
        return prefix is not None and code.startswith(prefix)

    report = ImportReport()
    try:
        rows = list(read_rows(data))
    except UnicodeDecodeError as exc:
        report.errors.append(
            RowError(
                0,
                "",
                "encoding",
                _("The file is not UTF-8 text (byte %(pos)d).") % {"pos": exc.start},
            )
        )
        return report
    except csv.Error as exc:
        report.errors.append(RowError(0, "", "csv", str(exc)))
        return report

    good, errors, count = validate_rows(rows, _existing, in_scope)
    report.rows = count
    if errors:
        report.errors = errors
        return report

    try:
        with transaction.atomic():
            by_code: dict[str, Region] = {}
            codes = {code for _l, code, _n, _lv in good}
            parents_needed: set[str] = set()
            for _line, code, _name, level in good:
                parents_needed.update(parent_candidates(code, level))
            lookup = sorted(codes | parents_needed)
            for i in range(0, len(lookup), 500):
                for region in Region.objects.select_for_update().filter(
                    code__in=lookup[i : i + 500]
                ):
                    by_code[region.code] = region
            to_update: list[Region] = []
            for level in LEVELS_TOP_DOWN:
                new: list[Region] = []
                for _line, code, name, row_level in good:
                    if row_level != level:
                        continue
                    existing = by_code.get(code)
                    if existing is not None:
                        if existing.name != name or existing.code_year != year:
                            existing.name = name
                            existing.code_year = year
                            to_update.append(existing)
                        else:
                            report.unchanged += 1
                        continue
                    parent_code = find_parent(code, level, lambda c: c in by_code)
                    new.append(
                        Region(
                            code=code,
                            name=name,
                            level=level,
                            parent=by_code[parent_code] if parent_code else None,
                            code_year=year,
                        )
                    )
                if new:
                    created = Region.objects.bulk_create(new, batch_size=1000)
                    if any(r.pk is None for r in created):  # backends without RETURNING
                        fetched = Region.objects.filter(code__in=[r.code for r in created])
                        created = list(fetched)
                    for region in created:
                        by_code[region.code] = region
                    report.created += len(created)
            if to_update:
                Region.objects.bulk_update(to_update, ["name", "code_year"], batch_size=1000)
                report.updated = len(to_update)
            record(
                actor=actor,
                action="network.region.import",
                object_type="network.region",
                object_repr=source[:200],
                details={
                    "source": source,
                    "year": year,
                    "rows": report.rows,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                },
            )
    except IntegrityError:
        # another import created one of these codes meanwhile: nothing of ours was kept
        raise ValidationFailed(
            NetworkError.IMPORT_CONFLICT,
            _(
                "Another change to the regions happened during this import; nothing was "
                "imported. Please run the import again."
            ),
            field="file",
        ) from None
    return report


def import_failed(report: ImportReport) -> ValidationFailed:
    """The domain error for a rejected import (the API returns it with the report)."""
    first = report.errors[0]
    return ValidationFailed(
        NetworkError.INVALID_REGION_FILE,
        _("%(n)d bad row(s); nothing imported. First: line %(line)d: %(msg)s")
        % {"n": len(report.errors), "line": first.line, "msg": first.message},
        field="file",
    )


def level_digits(level: str) -> int:
    return LEVEL_DIGITS[RegionLevel(level)]
