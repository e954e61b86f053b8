"""What the import does to a batch before writing it (``RowChecks``, a base of
``importer.ResidentImport``): each row's cells converted and checked — every problem that
needs no database, all of them reported —, then its region, grid and institution looked up
and scope-checked once per distinct value, a failing reference handed to the registry
services' own resolver so that its error is exactly theirs.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.common import crypto
from yiyang.common.errors import CommonError, PermissionDenied, ValidationFailed
from yiyang.common.scope import scope_of
from yiyang.network.models import Grid, Institution, Region, RegionLevel
from yiyang.network.selectors.institutions import institutions_for
from yiyang.network.selectors.regions import grids_for
from yiyang.residents.errors import ResidentError
from yiyang.residents.idnumber import IdNumber, parse_id_number
from yiyang.residents.selectors.registry import village_q
from yiyang.residents.services import registry
from yiyang.residents.services.imports.cells import (
    bool_cell,
    cell_text,
    choice_cell,
    control_character,
    date_cell,
    id_cell,
)
from yiyang.residents.services.imports.columns import BOOL_KEYS, CHOICE_KEYS, fold

EXAMPLE_PREFIXES = ("(示例)", "示例:")  # after NFKC folding: （示例）张秀英, 示例：张秀英


@dataclass
class Row:
    """One data row on its way: the converted cells (only the non-blank ones) and the
    problems found."""

    number: int
    data: dict[str, Any]
    errors: list[ValidationFailed]
    parsed: IdNumber | None = None
    index: str = ""  # the ID number's keyed index


class RowChecks:
    """The conversion and reference checks of ``ResidentImport`` (which sets these
    attributes: the actor and the day in ``__init__``, the columns and the in-file
    duplicates in ``run``)."""

    actor: User
    audit_actor: User | None
    today: datetime.date
    columns: dict[str, int]
    headers: list[str]
    duplicates: dict[str, list[int]]
    _regions: dict[str, Region | ValidationFailed]
    _grids: dict[tuple[str, int], Grid | ValidationFailed]
    _grid_rows: dict[str, tuple[Grid | None, bool]]
    _institutions: dict[str, Institution | ValidationFailed]

    def _cell(self, values: Sequence[Any], key: str) -> Any:
        index = self.columns.get(key)
        if index is None or index >= len(values):
            return None
        return values[index]

    def _is_example(self, values: Sequence[Any]) -> bool:
        name = fold(cell_text(self._cell(values, "name")))
        return name.startswith(EXAMPLE_PREFIXES)

    def _duplicates_in_file(
        self, rows: Sequence[tuple[int, Sequence[Any]]]
    ) -> dict[str, list[int]]:
        seen: dict[str, list[int]] = {}
        for number, values in rows:
            try:
                key = id_cell(self._cell(values, "id_number")).upper()
            except ValidationFailed:
                continue
            if key:
                seen.setdefault(key, []).append(number)
        return {key: numbers for key, numbers in seen.items() if len(numbers) > 1}

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
                    CommonError.CONTROL_CHARACTER,
                    _(
                        "%(column)s: contains a control character (%(code)s), which cannot be "
                        "stored: delete it and import the row again."
                    )
                    % {"column": column, "code": code},
                    field=keys.get(index, ""),
                )
            )
        return errors

    def _convert(self, number: int, values: Sequence[Any]) -> Row:
        """Cell → value, with every problem that needs no database."""
        row = Row(number, {}, self._control_characters(values))
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

        name = cell_text(cell("name"))
        if name:
            data["name"] = name
        else:
            row.errors.append(registry.required_field("name"))

        id_text = attempt(id_cell, cell("id_number"))
        if id_text == "":
            row.errors.append(registry.required_field("id_number"))
        elif id_text:
            row.parsed = attempt(lambda: parse_id_number(id_text, today=self.today))
            if row.parsed is not None:
                row.index = crypto.blind_index(row.parsed.value)
            others = self.duplicates.get(id_text.upper())
            if others:
                row.errors.append(
                    ValidationFailed(
                        ResidentError.DUPLICATE_IN_FILE,
                        _(
                            "The same ID number is in rows %(rows)s of this file: none of "
                            "them was imported."
                        )
                        % {"rows": ", ".join(str(n) for n in others)},
                        field="id_number",
                    )
                )
        sex = attempt(choice_cell, cell("sex"), "sex")
        birth = attempt(date_cell, cell("birth_date"), "birth_date")
        if row.parsed is not None:
            attempt(registry.check_derived, row.parsed, sex, None)
            attempt(registry.check_derived, row.parsed, None, birth)

        phone = attempt(registry.normalise_phone, cell_text(cell("phone")))
        if phone:
            data["phone"] = phone
        for key in ("address", "ethnicity"):
            text = cell_text(cell(key))
            if text:
                data[key] = text
        for key in ("region", "grid", "institution"):
            text = fold(cell_text(cell(key)))
            if text:
                data[key] = text
        if "region" not in data:
            row.errors.append(registry.required_field("region"))
        for key in CHOICE_KEYS:
            code = attempt(choice_cell, cell(key), key)
            if code is not None:
                data[key] = code
        died = attempt(date_cell, cell("deceased_on"), "deceased_on")
        if died is not None:
            data["deceased_on"] = died
        for key in BOOL_KEYS:
            flag = attempt(bool_cell, cell(key), key)
            if flag is not None:
                data[key] = flag
        return row

    # -- regions, grids, institutions: looked up and scope-checked once per value ------

    # The happy path checks scope with one query per batch (the same filters as
    # ``village_in_scope`` and ``network.selectors.scope.in_scope``); a reference that fails is
    # handed to the services' own resolver, so its error is exactly theirs.

    def _resolve_references(self, rows: list[Row]) -> None:
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
        return ValidationFailed(
            CommonError.UNKNOWN_REFERENCE, messages[key] % {"v": value}, field=key
        )

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
                    self._regions[code] = registry.resolve_region(self.actor, region)
                except ValidationFailed as error:
                    if error.code == CommonError.UNKNOWN_REFERENCE:
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
                    resolved = registry.resolve_grid(self.actor, grid, region)
                except ValidationFailed as error:
                    if error.code == CommonError.UNKNOWN_REFERENCE:
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
                    ResidentError.AMBIGUOUS_REFERENCE,
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
                    registry.resolve_institution(self.actor, inst)
                except ValidationFailed:
                    continue
                visible.add(inst.pk)
            return visible
