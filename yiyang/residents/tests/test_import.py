"""Resident import: rows checked as the registration service checks them, reported row by
row; valid rows imported even when others fail; idempotent on the ID number; scope;
duplicates in the file; CSV encodings and tolerant headers."""

from __future__ import annotations

import codecs
import csv
import datetime
import io
from typing import Any

import openpyxl
import pytest

from yiyang.audit.models import AuditEvent
from yiyang.common.errors import PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.residents.models import Resident
from yiyang.residents.services.imports.columns import COLUMNS
from yiyang.residents.services.imports.files import read_table
from yiyang.residents.services.imports.importer import ResidentImport, Status
from yiyang.residents.services.imports.jobs import import_data
from yiyang.residents.services.imports.report import write_report
from yiyang.residents.services.registry import register_resident
from yiyang.residents.tests.conftest import id_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")

HEADERS = [column.header for column in COLUMNS]


def xlsx(rows: list[list[Any]], headers: list[str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers or HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row(**values: Any) -> list[Any]:
    """A row in the template's column order (blank where not given)."""
    return [values.get(column.key) for column in COLUMNS]


def person(village, name: str, born: datetime.date, seq: int, **extra: Any) -> list[Any]:
    return row(name=name, id_number=id_for(village, born, seq), region=village.code, **extra)


def results(outcome) -> dict[int, tuple[str, list[str]]]:
    return {
        r.row: (r.status, sorted(f"{e.field}:{e.code}" for e in r.errors)) for r in outcome.results
    }


@pytest.fixture
def nurse(world):
    """A nurse scoped to county A (import, reveal)."""
    return make_user(Role.NURSE, scope=world.net.a.county, username="import-nurse")


def test_valid_rows_imported_and_bad_rows_reported_with_every_reason(world, nurse):
    a, b = world.net.a, world.net.b
    v0, v1 = a.villages[0], a.villages[1]
    good_id = id_for(v0, datetime.date(1950, 1, 2), 100)
    wrong_check = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")
    data = xlsx(
        [
            person(
                v0,
                "王秀兰",
                datetime.date(1950, 1, 2),
                100,
                sex="女",
                birth_date=datetime.date(1950, 1, 2),
                phone="138-0000-1234",
                grid=a.grids[0].code,
                insurance="居民医保",
                ltc_insured="是",
                empty_nest="是",
                living_alone="否",
                care_setting="机构",
                institution=a.care_home.care_filing_no,
            ),
            row(name="错号", id_number=wrong_check, region=v0.code),
            person(b.villages[0], "外县", datetime.date(1951, 1, 1), 103),  # out of scope
            person(v1, "网格错", datetime.date(1952, 1, 1), 105, grid=a.grids[0].code),
            row(
                name="乡镇",
                id_number=id_for(v0, datetime.date(1953, 1, 1), 107),
                region=a.townships[0].code,
            ),
            row(id_number=id_for(v0, datetime.date(1954, 1, 1), 109), region=v0.code),  # no name
            person(v0, "性别错", datetime.date(1955, 1, 1), 111, sex="女", birth_date="1955-02-01"),
            person(v0, "日期错", datetime.date(1956, 1, 1), 113, deceased_on="昨天", status="死亡"),
            person(
                v0,
                "选项错",
                datetime.date(1957, 1, 1),
                115,
                empty_nest="也许",
                care_setting="养老院",
            ),
            person(v0, "机构缺", datetime.date(1958, 1, 1), 117, care_setting="机构"),
            person(v0, "未知码", datetime.date(1959, 1, 1), 119, grid="NO-SUCH-GRID"),
        ]
    )
    outcome = import_data(nurse, data, "residents.xlsx")
    got = results(outcome)
    assert got[2] == ("imported", [])
    assert got[3] == ("rejected", ["id_number:id_checksum"])
    assert got[4] == ("rejected", ["region:unknown_reference"])
    assert got[5] == ("rejected", ["grid:grid_outside_village"])
    assert got[6] == ("rejected", ["region:region_not_village"])
    assert got[7] == ("rejected", ["name:required"])
    assert got[8] == ("rejected", ["birth_date:birth_date_mismatch", "sex:sex_mismatch"])
    assert got[9] == ("rejected", ["deceased_on:invalid_date"])
    assert got[10] == ("rejected", ["care_setting:invalid_choice", "empty_nest:invalid_boolean"])
    assert got[11] == ("rejected", ["institution:required"])
    assert got[12] == ("rejected", ["grid:unknown_reference"])
    assert outcome.counts == {
        "total": 11,
        "processed": 11,
        "imported": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 10,
        "skipped": 0,
    }
    reasons = {r.row: r.reason for r in outcome.results}
    assert "expected" in reasons[3] and "check character" in reasons[3]
    assert f"Region code {b.villages[0].code} is unknown or outside your data scope." == reasons[4]
    assert "implies female (F)" not in reasons[8] and "implies male (M)" in reasons[8]

    resident = Resident.objects.get(name="王秀兰")
    assert resident.id_number == good_id
    assert resident.phone == "13800001234"
    assert resident.name_pinyin == "wangxiulan" and resident.name_initials == "wxl"
    assert resident.region_code == v0.code and resident.grid == a.grids[0]
    assert resident.insurance == "urban_rural" and resident.ltc_insured and resident.empty_nest
    assert resident.care_setting == "institution" and resident.institution == a.care_home
    assert resident.permanent_resident is True and resident.status == "active"
    # Encrypted at rest exactly as the model does it, and found through the keyed index.
    raw = Resident.objects.filter(pk=resident.pk).values_list("id_number", flat=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, phone FROM residents_resident WHERE id = %s", [resident.pk]
        )
        stored_id, stored_phone = cursor.fetchone()
    assert stored_id.startswith("v1:") and good_id not in stored_id
    assert stored_phone.startswith("v1:")
    assert list(raw) == [good_id]


def test_reimporting_the_same_file_changes_nothing(world, nurse):
    v0 = world.net.a.villages[0]
    data = xlsx(
        [
            person(v0, "甲", datetime.date(1950, 1, 1), 201, phone="13900000001", veteran="是"),
            person(
                v0, "乙", datetime.date(1950, 1, 1), 202, status="死亡", deceased_on="2024-01-05"
            ),
        ]
    )
    first = import_data(nurse, data, "a.xlsx")
    assert [r.status for r in first.results] == ["imported", "imported"]
    stamps = list(Resident.objects.order_by("pk").values_list("pk", "updated_at"))
    events = AuditEvent.objects.count()
    second = import_data(nurse, data, "a.xlsx")
    assert [r.status for r in second.results] == ["unchanged", "unchanged"]
    assert list(Resident.objects.order_by("pk").values_list("pk", "updated_at")) == stamps
    assert AuditEvent.objects.count() == events + 1  # the batch's audit row, counts only
    batch = AuditEvent.objects.order_by("-seq").first()
    assert batch.action == "residents.import.batch"
    assert batch.details["counts"] == {"unchanged": 2}


def test_a_known_resident_is_updated_and_blank_cells_keep_the_stored_values(world, nurse):
    zhang = world.zhang  # 周党村, grid of team A, phone 13800000001, empty-nest
    v0 = world.net.a.villages[0]
    data = xlsx(
        [
            row(
                name="张三",
                id_number=zhang.id_number.lower(),
                region=v0.code,
                phone="13800000002",
                living_alone="是",
            )
        ]
    )
    outcome = import_data(nurse, data, "update.xlsx")
    result = outcome.results[0]
    assert result.status == Status.UPDATED and result.resident_id == zhang.pk
    assert sorted(result.changed) == ["living_alone", "phone", "phone_index"]
    zhang.refresh_from_db()
    assert zhang.phone == "13800000002" and zhang.living_alone
    assert zhang.empty_nest and zhang.grid == world.net.a.grids[0]  # blank cells: kept
    batch = AuditEvent.objects.filter(action="residents.import.batch").latest("seq")
    assert batch.details["updated"] == [[2, zhang.pk, ["phone", "living_alone"]]]
    assert "13800000002" not in str(batch.details)


def test_moving_village_clears_the_old_grid_and_a_status_clears_the_date_of_death(world, nurse):
    a = world.net.a
    zhang = world.zhang
    Resident.objects.filter(pk=zhang.pk).update(status="deceased", deceased_on="2024-01-01")
    outcome = import_data(
        nurse,
        xlsx(
            [row(name="张三", id_number=zhang.id_number, region=a.villages[1].code, status="迁出")]
        ),
        "move.xlsx",
    )
    assert outcome.results[0].status == "updated", outcome.results[0].reason
    zhang.refresh_from_db()
    assert zhang.region == a.villages[1] and zhang.region_code == a.villages[1].code
    assert zhang.grid is None
    assert zhang.status == "moved_out" and zhang.deceased_on is None


def test_a_duplicate_id_in_the_file_rejects_both_rows_naming_them(world, nurse):
    v0 = world.net.a.villages[0]
    same = person(v0, "重复", datetime.date(1950, 5, 5), 301)
    outcome = import_data(
        nurse, xlsx([same, person(v0, "独一", datetime.date(1950, 5, 5), 303), same]), "d.xlsx"
    )
    got = {r.row: r for r in outcome.results}
    assert got[2].status == got[4].status == "rejected"
    assert got[3].status == "imported"
    for r in (got[2], got[4]):
        assert [e.code for e in r.errors] == ["duplicate_in_file"]
        assert "rows 2, 4" in r.reason
    assert not Resident.objects.filter(name="重复").exists()


def test_rows_outside_the_importers_scope_are_rejected(world, nurse):
    a, b = world.net.a, world.net.b
    outcome = import_data(
        nurse,
        xlsx(
            [
                person(b.villages[0], "外县人", datetime.date(1950, 1, 1), 401),
                # 赵六 lives in county B: her ID may not be taken over from county A
                row(name="赵六", id_number=world.zhao.id_number, region=a.villages[0].code),
                person(
                    a.villages[0], "外网格", datetime.date(1950, 1, 1), 403, grid=b.grids[0].code
                ),
            ]
        ),
        "scope.xlsx",
    )
    got = results(outcome)
    assert got[2] == ("rejected", ["region:unknown_reference"])
    assert got[3] == ("rejected", ["id_number:duplicate_id_number"])
    assert got[4] == ("rejected", ["grid:unknown_reference"])
    world.zhao.refresh_from_db()
    assert world.zhao.region == b.villages[0]


def test_import_needs_the_permission(world):
    supervisor = make_user(Role.SUPERVISOR, scope=world.net.a.county)
    with pytest.raises(PermissionDenied):
        import_data(supervisor, xlsx([]), "x.xlsx")


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("gb18030", b"")],
)
def test_csv_in_utf8_with_or_without_bom_and_gb18030(world, nurse, encoding, bom):
    v0 = world.net.a.villages[0]
    ident = id_for(v0, datetime.date(1949, 10, 1), 501)
    text = (
        "姓名,公民身份号码,村（居）区划代码,空巢,医疗保险\n"
        f"欧阳秀珍,{ident},{v0.code},是,职工医保\n"
    )
    outcome = import_data(nurse, bom + text.encode(encoding), "people.csv")
    assert [r.status for r in outcome.results] == ["imported"]
    resident = Resident.objects.get(name="欧阳秀珍")
    assert resident.id_number == ident and resident.empty_nest
    assert resident.insurance == "employee"


def test_headers_are_matched_tolerantly(world, nurse):
    v0 = world.net.a.villages[0]
    headers = [
        " 姓名* ",
        "身份证号",
        "村(居)区划代码",
        "Birth date",
        "PHONE",
        "备注",
        "living_alone",
    ]
    data = xlsx(
        [
            [
                "李桂芝",
                id_for(v0, datetime.date(1940, 2, 29), 601),
                int(v0.code),
                "1940年2月29日",
                13912345678,
                "随便写",
                "Y",
            ]
        ],
        headers=headers,
    )
    table = read_table(data, "h.xlsx")
    assert table.ignored == ["备注"]
    outcome = import_data(nurse, data, "h.xlsx")
    assert outcome.results[0].status == "imported", outcome.results[0].reason
    resident = Resident.objects.get(name="李桂芝")
    assert resident.phone == "13912345678" and resident.living_alone


def test_file_level_problems_are_clear_errors(world, nurse):
    with pytest.raises(ValidationFailed) as missing:
        import_data(nurse, xlsx([["x"]], headers=["姓名", "性别"]), "m.xlsx")
    assert missing.value.code == "missing_columns"
    assert "公民身份号码" in missing.value.detail and "村（居）区划代码" in missing.value.detail
    with pytest.raises(ValidationFailed) as twice:
        read_table(xlsx([], headers=["姓名", "身份证号", "公民身份号码", "区划代码"]), "t.xlsx")
    assert twice.value.code == "duplicate_column"
    with pytest.raises(ValidationFailed) as old:
        read_table(b"\xd0\xcf\x11\xe0" + b"\0" * 100, "old.xls")
    assert old.value.code == "xls_not_supported"
    with pytest.raises(ValidationFailed) as other:
        read_table(b"hello", "notes.pdf")
    assert other.value.code == "unsupported_file"


def test_an_id_number_excel_turned_into_a_number_is_explained(world, nurse):
    v0 = world.net.a.villages[0]
    number = float(id_for(v0, datetime.date(1950, 1, 1), 701)[:17] + "1")
    outcome = import_data(
        nurse, xlsx([row(name="数字", id_number=number, region=v0.code)]), "n.xlsx"
    )
    assert [e.code for e in outcome.results[0].errors] == ["id_number_as_number"]


def test_the_example_row_is_skipped(world, nurse):
    v0 = world.net.a.villages[0]
    example = person(v0, "（示例）张秀英", datetime.date(1948, 5, 6), 12)
    outcome = import_data(
        nurse,
        xlsx([example, person(v0, "真实", datetime.date(1948, 5, 7), 14)]),
        "e.xlsx",
    )
    assert [r.status for r in outcome.results] == ["skipped", "imported"]
    assert outcome.counts["total"] == 1 and outcome.counts["skipped"] == 1
    assert not Resident.objects.filter(name__contains="示例")
    # a file holding nothing but the example row imports nothing, and says so
    with pytest.raises(ValidationFailed) as only:
        import_data(nurse, xlsx([example]), "e.xlsx")
    assert only.value.code == "only_example_rows"
    assert not Resident.objects.filter(name__contains="示例")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"id_number": "11010519491231002Y"}, "id_check_char_format"),
        ({"id_number": "99010519491231002X"}, "id_province"),
        ({"id_number": "110105"}, "id_length"),
        ({"name": ""}, "required"),
        ({"sex": "M"}, "sex_mismatch"),
        ({"birth_date": "1949-12-30"}, "birth_date_mismatch"),
        ({"phone": "call me"}, "invalid_phone"),
        ({"status": "deceased"}, "required"),
        ({"status": "deceased", "deceased_on": "2999-01-01"}, "invalid_date"),
        ({"deceased_on": "2020-01-01"}, "deceased_on_not_allowed"),
        ({"care_setting": "institution"}, "required"),
        ({"address": "路" * 300}, "invalid"),
        ({"ethnicity": "族" * 30}, "invalid"),
        ({"region": "township"}, "region_not_village"),
        ({"region": "county_b"}, "unknown_reference"),
        ({"grid": "other_village"}, "grid_outside_village"),
        ({"id_number": "registered"}, "duplicate_id_number"),
    ],
)
def test_rows_are_judged_as_the_registration_service_judges_them(world, nurse, changes, code):
    """The same data given to ``register_resident`` and to the import: the service's error
    code is among the row's reasons, on the same field."""
    a = world.net.a
    base = {
        "name": "对照",
        "id_number": "11010519491231002X",
        "sex": "F",
        "birth_date": "1949-12-31",
        "region": a.villages[0],
    }
    refs = {
        "township": a.townships[0],
        "county_b": world.net.b.villages[0],
        "other_village": a.grids[0],
        "registered": world.zhao.id_number,  # in county B: an in-scope one is updated
    }
    given = {**base, **{k: refs.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}}
    if changes.get("region") is not None:
        given["region"] = refs[changes["region"]]
    if changes.get("id_number") == "registered":
        del given["sex"], given["birth_date"]
    if changes.get("grid"):
        given["region"] = a.villages[1]
        given["grid"] = refs["other_village"]
    with pytest.raises(ValidationFailed) as service:
        register_resident(nurse, **given)
    cells = dict(given)
    cells["region"] = given["region"].code
    if "grid" in given:
        cells["grid"] = given["grid"].code
    if "sex" in given:
        cells["sex"] = {"F": "女", "M": "男"}[given["sex"]]
    labels = {"deceased": "死亡", "institution": "机构"}
    for key in ("status", "care_setting"):
        if key in cells:
            cells[key] = labels[cells[key]]
    outcome = import_data(nurse, xlsx([row(**cells)]), "parity.xlsx")
    found = {(e.field, e.code) for e in outcome.results[0].errors}
    assert (service.value.field, service.value.code) in found, (service.value.as_dict(), found)
    assert service.value.code == code


def test_batches_commit_separately_with_one_audit_row_each(world, nurse):
    v0 = world.net.a.villages[0]
    rows_ = [person(v0, f"批{i}", datetime.date(1950, 1, 1), 800 + i) for i in range(5)]
    seen = []
    outcome = import_data(
        nurse, xlsx(rows_), "b.xlsx", batch_size=2, on_batch=lambda p: seen.append(p.processed)
    )
    assert outcome.counts["imported"] == 5
    assert seen == [0, 2, 4, 5]
    batches = AuditEvent.objects.filter(action="residents.import.batch").order_by("seq")
    assert [e.details["rows"] for e in batches] == [[2, 3], [4, 5], [6, 6]]
    assert batches[0].actor_username == "import-nurse"
    assert batches[0].details["imported"][0][1] == Resident.objects.get(name="批0").pk


def test_a_concurrent_registration_of_the_same_person_is_caught_not_crashed(world, nurse):
    """A person registered between the batch's lookup and its insert: the unique index
    catches it and the batch is redone, inserting row by row."""
    v0 = world.net.a.villages[0]
    register_resident(
        world.registrar,
        name="并发",
        id_number=id_for(v0, datetime.date(1950, 3, 3), 901),
        region=v0,
    )
    importer = ResidentImport(nurse, source="race.xlsx")
    table = read_table(
        xlsx(
            [
                person(v0, "并发", datetime.date(1950, 3, 3), 901),
                person(v0, "另一人", datetime.date(1950, 3, 3), 903),
            ]
        ),
        "race.xlsx",
    )
    original = importer._existing
    calls: list[int] = []

    def existing(indexes):
        calls.append(1)
        return ({}, set()) if len(calls) == 1 else original(indexes)  # the first misses her

    importer._existing = existing  # type: ignore[method-assign]
    outcome = importer.run(table)
    assert [r.status for r in outcome.results] == ["unchanged", "imported"]
    assert Resident.objects.filter(name="并发").count() == 1
    assert Resident.objects.filter(name="另一人").count() == 1


def test_the_reader_handles_what_spreadsheet_programs_write(world, nurse):
    """Shared and rich-text strings, numbers, booleans, date cells (1904 calendar too),
    a title row above the header and rows left out of the sheet."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    v0 = world.net.a.villages[0]
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    sheet.append(["居民信息导入表"])  # a title row
    sheet.append(["姓名", "公民身份号码", "村（居）区划代码", "出生日期", "空巢", "联系电话"])
    sheet.append(
        [
            CellRichText("赵", TextBlock(InlineFont(b=True), "秀梅")),
            id_for(v0, datetime.date(1947, 8, 15), 402),
            v0.code,
            datetime.datetime(1947, 8, 15),
            True,
            13800138001,
        ]
    )
    sheet["A6"] = "孙桂香"  # rows 4 and 5 are left out of the file
    sheet["B6"] = id_for(v0, datetime.date(1949, 1, 1), 404)
    sheet["C6"] = v0.code
    out = io.BytesIO()
    book.save(out)
    table = read_table(out.getvalue(), "x.xlsx")
    assert table.header_row == 2 and [n for n, _v in table.rows] == [3, 6]
    first = table.rows[0][1]
    assert first[0] == "赵秀梅" and first[3] == datetime.date(1947, 8, 15)
    assert first[4] is True and first[5] == 13800138001
    outcome = import_data(nurse, out.getvalue(), "x.xlsx")
    assert [r.status for r in outcome.results] == ["imported", "imported"], outcome.results
    zhao = Resident.objects.get(name="赵秀梅")
    assert zhao.empty_nest and zhao.phone == "13800138001"


@pytest.mark.parametrize(
    "declaration",
    [
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]>',
        b'<!DOCTYPE x [<!ENTITY a SYSTEM "file:///etc/hostname">]>',
    ],
)
def test_entities_declared_in_a_workbook_are_never_expanded(world, declaration):
    """A cell that uses an entity the sheet declares (the start of entity-expansion and
    external-entity attacks) makes the file unreadable; nothing is expanded."""
    import zipfile

    good = io.BytesIO()
    book = openpyxl.Workbook()
    book.active.append(["姓名", "公民身份号码", "村（居）区划代码"])
    book.active.append(["ENTITY-HERE", "x", "y"])
    book.save(good)
    evil = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(evil, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
                body = body.replace(b"ENTITY-HERE", b"&a;")
                data = b'<?xml version="1.0"?>' + declaration + body
            dst.writestr(item, data)
    with pytest.raises(ValidationFailed) as refused:
        read_table(evil.getvalue(), "evil.xlsx")
    assert refused.value.code == "bad_file"
    assert "aaaa" not in refused.value.detail


def test_broken_empty_and_huge_workbooks_are_clear_errors(world, tmp_path):
    with pytest.raises(ValidationFailed) as broken:
        read_table(b"PK\x03\x04 not really a zip", "broken.xlsx")
    assert broken.value.code == "bad_file"
    empty = io.BytesIO()
    openpyxl.Workbook().save(empty)
    with pytest.raises(ValidationFailed) as nothing:
        read_table(empty.getvalue(), "empty.xlsx")
    assert nothing.value.code == "no_header"
    # One stray value in the last cell of the grid: calamine would lay out 17 billion
    # cells and abort the process; the reading process dies alone and the file is refused.
    book = openpyxl.Workbook()
    book.active.append(["姓名", "公民身份号码", "村（居）区划代码"])
    book.active["XFD1048576"] = "stray"
    huge = io.BytesIO()
    book.save(huge)
    with pytest.raises(ValidationFailed) as refused:
        read_table(huge.getvalue(), "huge.xlsx")
    assert refused.value.code == "bad_file"
    assert "too large" in refused.value.detail
    # The importing process is still here and reads the next file.
    assert read_table(xlsx([row(name="下一个")]), "next.xlsx").columns["name"] == 0


def test_the_institution_is_found_by_filing_or_licence_number_or_its_unique_name(world, nurse):
    from yiyang.network.models import Institution

    a, b = world.net.a, world.net.b
    v0 = a.villages[0]
    twin = Institution.objects.create(name=a.clinics[0].name, type="nursing_home", region=v0)
    assert twin.name == a.clinics[0].name

    def care(seq: int, ref: str) -> list[Any]:
        return person(
            v0, f"机构{seq}", datetime.date(1945, 1, 1), seq, care_setting="机构", institution=ref
        )

    outcome = import_data(
        nurse,
        xlsx(
            [
                care(1, a.care_home.care_filing_no),
                care(3, a.thc.medical_licence_no),
                care(5, a.care_home.name),
                care(7, b.care_home.care_filing_no),  # county B: out of scope
                care(9, a.clinics[0].name),  # two institutions have this name
            ]
        ),
        "inst.xlsx",
    )
    got = results(outcome)
    assert [got[n][0] for n in (2, 3, 4)] == ["imported"] * 3
    assert got[5] == ("rejected", ["institution:unknown_reference"])
    assert got[6] == ("rejected", ["institution:ambiguous_reference"])
    assert Resident.objects.get(name="机构3").institution == a.thc
    assert Resident.objects.get(name="机构5").institution == a.care_home


def test_the_report_keeps_text_as_text_and_marks_the_rejected_rows(world, nurse, tmp_path):
    v0 = world.net.a.villages[0]
    born = datetime.date(1946, 3, 4)
    formula = '=HYPERLINK("http://example.invalid","x")'
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADERS)
    writer.writerow(person(v0, formula, born, 991, birth_date=born.isoformat()))
    writer.writerow(row(name="短号", id_number="110105", region=v0.code))
    outcome = import_data(nurse, text.getvalue().encode(), "r.csv")
    assert [r.status for r in outcome.results] == ["imported", "rejected"]
    target = tmp_path / "r.report.xlsx"
    write_report(outcome, target)
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Import results", "Summary"]
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "B2"
    name = sheet.cell(row=2, column=2)
    assert name.value == formula and name.data_type == "s"  # text, not a formula
    assert sheet.cell(row=2, column=1 + 1 + HEADERS.index("出生日期")).value == "1946-03-04"
    rejected = [c.value for c in sheet[3]]
    assert rejected[0] == 3 and rejected[-3:-1] == ["Rejected", outcome.results[1].reason]
    assert sheet.cell(row=3, column=1).fill.fgColor.rgb == "FFFEE2E2"
    assert sheet.cell(row=2, column=1).fill.fill_type is None
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True)}
    assert summary["Rows"] == 2 and summary["Imported"] == 1 and summary["Rejected"] == 1


def test_without_fork_the_workbook_is_read_in_process(world, monkeypatch):
    import multiprocessing

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    v0 = world.net.a.villages[0]
    table = read_table(xlsx([person(v0, "本进程", datetime.date(1950, 1, 1), 21)]), "p.xlsx")
    assert [values[0] for _n, values in table.rows] == ["本进程"]
    with pytest.raises(ValidationFailed) as broken:
        read_table(b"PK\x03\x04 not really a zip", "broken.xlsx")
    assert broken.value.code == "bad_file"
