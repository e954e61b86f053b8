"""Region codes: validation of single codes, the CSV importer and its command."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from yiyang.audit.models import AuditEvent
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.network.models import Region, RegionLevel
from yiyang.network.regions import RegionCodeError, check_code, import_regions
from yiyang.network.services.regions import create_region, update_region
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")

# --- the code's own form ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("410000000000", RegionLevel.PROVINCE),
        ("411500000000", RegionLevel.CITY),
        ("411521000000", RegionLevel.COUNTY),
        ("411521101000", RegionLevel.TOWNSHIP),
        ("411521101201", RegionLevel.VILLAGE),
        ("110101001001", RegionLevel.VILLAGE),
        ("441900003000", RegionLevel.TOWNSHIP),  # 东莞: a city without counties
        ("411521399000", RegionLevel.TOWNSHIP),
    ],
)
def test_good_codes_have_their_level(code, level):
    assert check_code(code) == level


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("41152110120", "length"),
        ("4115211012011", "length"),
        ("", "length"),
        ("41152110120A", "not_digits"),
        ("41152110120１", "not_digits"),  # a full-width digit is not ASCII
        (" 41152110120", "not_digits"),
        ("991521101201", "unknown_province"),
        ("000000000000", "unknown_province"),
        ("410021000000", "level_inconsistent"),  # a county without its city part
        ("411521000201", "level_inconsistent"),  # a village without its township part
        ("411521400000", "township_out_of_range"),
        ("411521999201", "township_out_of_range"),
    ],
)
def test_bad_codes_say_why(code, reason):
    with pytest.raises(RegionCodeError) as caught:
        check_code(code)
    assert caught.value.reason == reason
    assert code in caught.value.message


def test_length_message_names_the_count():
    with pytest.raises(RegionCodeError) as caught:
        check_code("41152110120")
    assert caught.value.message == (
        "Region code 41152110120 has 11 characters; it must have exactly 12 digits."
    )


# --- single regions through the service ---------------------------------------------------


@pytest.fixture
def admin(db):
    return make_user(Role.SYSTEM_ADMIN, scope="all", username="root")


def test_create_region_finds_parent_and_level(admin):
    province = create_region(admin, code="410000000000", name="河南省")
    city = create_region(admin, code="411500000000", name="信阳市")
    county = create_region(admin, code="411521000000", name="罗山县")
    town = create_region(admin, code="411521101000", name="周党镇")
    village = create_region(admin, code="411521101201", name="周党村")
    assert [(r.level, r.parent) for r in (province, city, county, town, village)] == [
        ("province", None),
        ("city", province),
        ("county", city),
        ("township", county),
        ("village", town),
    ]
    assert village.code_year == 2023
    event = AuditEvent.objects.get(action="network.region.create", object_id=str(village.pk))
    assert event.details["fields"]["code"] == "411521101201"
    assert event.details["fields"]["parent"] == town.pk


def test_county_may_hang_under_the_province_when_no_city_exists(admin):
    hubei = create_region(admin, code="420000000000", name="湖北省")
    xiantao = create_region(admin, code="429004000000", name="仙桃市")
    assert xiantao.level == RegionLevel.COUNTY
    assert xiantao.parent == hubei


def test_township_of_a_city_without_counties(admin):
    create_region(admin, code="440000000000", name="广东省")
    dongguan = create_region(admin, code="441900000000", name="东莞市")
    town = create_region(admin, code="441900003000", name="东城街道")
    assert town.parent == dongguan


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "411521101201",
            "Region code 411521101201 has no parent: its township 411521101000 does not exist.",
        ),
        (
            "411521101000",
            "Region code 411521101000 has no parent: its county 411521000000 does not exist.",
        ),
        (
            "411500000000",
            "Region code 411500000000 has no parent: its province 410000000000 does not exist.",
        ),
    ],
)
def test_missing_parent_is_refused(admin, code, message):
    with pytest.raises(ValidationFailed) as caught:
        create_region(admin, code=code, name="x")
    assert (caught.value.code, caught.value.field, caught.value.detail) == (
        "invalid_region_code",
        "code",
        message,
    )
    assert Region.objects.count() == 0
    assert not AuditEvent.objects.filter(action="network.region.create").exists()


def test_village_needs_its_township_not_just_the_county(admin):
    create_region(admin, code="410000000000", name="河南省")
    create_region(admin, code="411500000000", name="信阳市")
    create_region(admin, code="411521000000", name="罗山县")
    with pytest.raises(ValidationFailed) as caught:
        create_region(admin, code="411521101201", name="周党村")
    assert "township 411521101000 does not exist" in caught.value.detail
    assert Region.objects.count() == 3


def test_duplicate_region_code_is_refused(admin):
    create_region(admin, code="410000000000", name="河南省")
    with pytest.raises(ValidationFailed) as caught:
        create_region(admin, code="410000000000", name="又一个")
    assert caught.value.code == "duplicate_code"
    assert Region.objects.get().name == "河南省"


def test_region_writes_need_the_import_permission(admin):
    supervisor = make_user(Role.SUPERVISOR, scope="all")
    with pytest.raises(PermissionDenied):
        create_region(supervisor, code="410000000000", name="河南省")
    assert Region.objects.count() == 0


def test_update_region_renames_and_audits(admin):
    province = create_region(admin, code="410000000000", name="河南")
    update_region(admin, province, name="河南省")
    province.refresh_from_db()
    assert province.name == "河南省"
    event = AuditEvent.objects.get(action="network.region.update")
    assert event.details == {"changed": {"name": {"from": "河南", "to": "河南省"}}}


# --- the CSV importer -------------------------------------------------------------------

GOOD_CSV = (
    "code,name\n"
    "411521101201,周党村\n"  # out of order: the importer sorts by code
    "410000000000,河南省\n"
    "411500000000,信阳市\n"
    "411521000000,罗山县\n"
    "411521101000,周党镇\n"
    "\n"
    "411521101202,杨店村\n"
)


def test_import_creates_all_rows_with_parents(admin):
    report = import_regions(admin, ("\ufeff" + GOOD_CSV).encode("utf-8"), source="r.csv")
    assert report.as_dict() == {
        "ok": True,
        "rows": 6,
        "created": 6,
        "updated": 0,
        "unchanged": 0,
        "errors": [],
    }
    village = Region.objects.get(code="411521101202")
    assert (village.level, village.parent.code, village.code_year) == (
        "village",
        "411521101000",
        2023,
    )
    assert Region.objects.get(code="411521000000").parent.code == "411500000000"
    event = AuditEvent.objects.get(action="network.region.import")
    assert event.details == {
        "source": "r.csv",
        "year": 2023,
        "rows": 6,
        "created": 6,
        "updated": 0,
        "unchanged": 0,
    }


def test_import_without_header_updates_names_of_existing_codes(admin):
    import_regions(admin, GOOD_CSV.encode())
    report = import_regions(
        admin, "410000000000,河南省\n411500000000,信阳市（新）\n".encode(), year=2024
    )
    assert (report.rows, report.created, report.updated, report.unchanged) == (2, 0, 2, 0)
    city = Region.objects.get(code="411500000000")
    assert (city.name, city.code_year) == ("信阳市（新）", 2024)
    assert Region.objects.count() == 6


def test_import_of_a_bad_file_reports_every_bad_row_and_imports_nothing(admin):
    data = (
        "code,name\n"
        "410000000000,河南省\n"
        "41150000000,信阳市\n"  # line 3: 11 digits
        "411521000000,罗山县\n"  # line 4: parent city missing (line 3 is bad) → province
        "411521101201,周党村\n"  # line 5: township missing
        "41152110100X,周党镇\n"  # line 6: not digits
        "411521450000,某乡\n"  # line 7: township part out of range
        "410000000000,河南省\n"  # line 8: duplicate
        "411521101202\n"  # line 9: no name
    ).encode()
    report = import_regions(admin, data)
    assert not report.ok
    assert [(e.line, e.code, e.reason) for e in report.errors] == [
        (3, "41150000000", "length"),
        (5, "411521101201", "missing_parent"),
        (6, "41152110100X", "not_digits"),
        (7, "411521450000", "township_out_of_range"),
        (8, "410000000000", "duplicate"),
        (9, "411521101202", "missing_name"),
    ]
    assert report.errors[4].message == "Code 410000000000 appears again (first on line 2)."
    assert Region.objects.count() == 0
    assert not AuditEvent.objects.filter(action="network.region.import").exists()
    assert report.lines()[-1] == "6 bad row(s) of 8; nothing imported."


def test_import_rejects_a_file_that_is_not_utf8(admin):
    report = import_regions(admin, "410000000000,河南省\n".encode("gbk"))
    assert [(e.line, e.reason) for e in report.errors] == [(0, "encoding")]
    assert Region.objects.count() == 0


def test_import_by_a_region_scoped_admin_is_limited_to_the_subtree(admin):
    import_regions(admin, GOOD_CSV.encode())
    county = Region.objects.get(code="411521000000")
    scoped = make_user(Role.SYSTEM_ADMIN, scope=county)
    report = import_regions(scoped, "411521101203,新村\n411522000000,光山县\n".encode())
    assert [(e.line, e.reason) for e in report.errors] == [(2, "out_of_scope")]
    assert not Region.objects.filter(code="411521101203").exists()


def test_import_needs_the_permission(admin):
    with pytest.raises(PermissionDenied):
        import_regions(make_user(Role.INSTITUTION_ADMIN, scope="all"), GOOD_CSV.encode())
    assert Region.objects.count() == 0


def test_update_of_a_region_outside_scope_is_not_found(admin):
    import_regions(admin, GOOD_CSV.encode())
    town = Region.objects.get(code="411521101000")
    scoped = make_user(Role.SYSTEM_ADMIN, scope=Region.objects.get(code="411521101201"))
    with pytest.raises(NotFound):
        update_region(scoped, town, name="改名")
    assert Region.objects.get(code="411521101000").name == "周党镇"


# --- the management command -------------------------------------------------------------


def test_command_imports_and_prints_the_report(db, tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text(GOOD_CSV, encoding="utf-8-sig")
    out = io.StringIO()
    call_command("import_regions", str(path), "--year", "2022", stdout=out)
    assert out.getvalue() == "6 row(s): 6 created, 0 updated, 0 unchanged.\n"
    assert set(Region.objects.values_list("code_year", flat=True)) == {2022}
    event = AuditEvent.objects.get(action="network.region.import")
    assert (event.actor_id, event.details["source"]) == (None, "regions.csv")


def test_command_fails_with_the_bad_rows(db, tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text("410000000000,河南省\n411521101201,周党村\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_regions", str(path), stderr=err)
    assert caught.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "line 2: 411521101201: Region code 411521101201 has no parent: its township "
        "411521101000 does not exist. [missing_parent]",
        "1 bad row(s) of 2; nothing imported.",
    ]
    assert Region.objects.count() == 0
