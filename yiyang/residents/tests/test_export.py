"""Export of the filtered resident list: masked identifiers unless the user may reveal
(then full, and the audit row says so), the list's filters, the scope, several sheets for
large exports, and a revealed export that imports back unchanged."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role
from yiyang.residents import exports
from yiyang.residents.services.imports.columns import COLUMNS
from yiyang.residents.services.imports.jobs import import_data
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")

HEADERS = [column.header for column in COLUMNS]


def content(response) -> bytes:
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content)


def rows_of(data: bytes) -> list[dict[str, object]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    found = []
    for sheet in book.worksheets:
        values = list(sheet.iter_rows(values_only=True))
        found += [dict(zip(values[0], r, strict=True)) for r in values[1:]]
    return found


def export(user, query: str = "") -> list[dict[str, object]]:
    response = client_for(user).get(reverse("residents:export") + query)
    assert response["Content-Type"] == exports.XLSX_TYPE
    assert "attachment" in response["Content-Disposition"]
    return rows_of(content(response))


@pytest.fixture
def supervisor(world):
    """Export, no reveal; county A."""
    return make_user(Role.SUPERVISOR, scope=world.net.a.county, username="exp-supervisor")


@pytest.fixture
def doctor(world):
    """Export and reveal; county A."""
    return make_user(Role.DOCTOR, scope=world.net.a.county, username="exp-doctor")


def test_identifiers_are_masked_without_the_reveal_permission(world, supervisor):
    rows = export(supervisor)
    assert [r["姓名"] for r in rows] == ["张三", "李四", "王五"]  # county A, by name
    zhang = rows[0]
    full = world.zhang.id_number
    assert zhang["公民身份号码"] == full[:4] + "**********" + full[-4:]
    assert zhang["联系电话"] == "138****0001"
    assert zhang["空巢"] == "是" and zhang["独居"] == "否" and zhang["人员状态"] == "在册"
    assert zhang["村（居）区划代码"] == world.net.a.villages[0].code
    assert zhang["网格编码"] == world.net.a.grids[0].code and zhang["年龄"] == world.zhang.age
    born = datetime.datetime.combine(world.zhang.birth_date, datetime.time())
    assert zhang["出生日期"] == born and zhang["死亡日期"] is None
    event = AuditEvent.objects.latest("seq")
    assert event.action == "residents.resident.export"
    assert event.details == {"filter": {}, "rows": 3, "revealed": False}


def test_full_identifiers_for_a_user_who_may_reveal_and_the_audit_says_so(world, doctor):
    rows = export(doctor, "?q=张三")
    assert [r["公民身份号码"] for r in rows] == [world.zhang.id_number]
    assert rows[0]["联系电话"] == "13800000001"
    event = AuditEvent.objects.latest("seq")
    assert event.details == {"filter": {"q": "张三"}, "rows": 1, "revealed": True}


def test_a_search_for_an_id_number_is_masked_in_the_audit_row(world, doctor):
    ident = world.zhang.id_number
    assert [r["姓名"] for r in export(doctor, f"?q={ident}")] == ["张三"]
    logged = AuditEvent.objects.latest("seq").details["filter"]["q"]
    assert logged == ident[:4] + "**********" + ident[-4:]
    export(doctor, "?q=13800000001")
    assert AuditEvent.objects.latest("seq").details["filter"]["q"] == "138****0001"


def test_the_list_filters_apply(world, doctor):
    a = world.net.a
    assert [r["姓名"] for r in export(doctor, f"?region={a.villages[0].code}")] == ["张三"]
    township = a.townships[0]
    assert [r["姓名"] for r in export(doctor, f"?region={township.code}")] == ["张三", "李四"]
    assert [r["姓名"] for r in export(doctor, f"?area={township.pk}")] == ["张三", "李四"]
    assert [r["姓名"] for r in export(doctor, "?flags=living_alone")] == ["王五"]
    assert [r["姓名"] for r in export(doctor, "?flags=living_alone,empty_nest")] == []
    assert [r["姓名"] for r in export(doctor, f"?grid={a.grids[0].pk}")] == ["张三"]
    oldest, zhang = world.wang.age, world.zhang.age
    assert [r["姓名"] for r in export(doctor, f"?min_age={oldest}")] == ["王五"]
    assert [r["姓名"] for r in export(doctor, f"?age={zhang}-{zhang}")] == ["张三"]
    assert [r["姓名"] for r in export(doctor, "?status=deceased")] == []
    bad = client_for(doctor).get(reverse("residents:export") + "?flags=rich")
    assert bad.status_code == 400 and "Unknown special group" in bad.content.decode()


def test_the_api_export_takes_the_same_filters(world, doctor):
    client = client_for(doctor)
    response = client.get(
        f"/api/v1/residents/export?flags=empty_nest&region={world.net.a.county.code}"
    )
    assert [r["姓名"] for r in rows_of(content(response))] == ["张三"]
    bad = client.get("/api/v1/residents/export?flags=rich")
    assert bad.status_code == 400 and bad.json()["code"] == "unknown_filter"


def test_export_needs_the_permission(world):
    caregiver = make_user(Role.CAREGIVER, scope=world.net.a.county)
    assert client_for(caregiver).get(reverse("residents:export")).status_code == 403
    assert client_for(caregiver).get("/api/v1/residents/export").status_code == 403


def test_large_exports_continue_on_further_sheets(world, doctor, monkeypatch):
    monkeypatch.setattr(exports, "SHEET_ROWS", 2)
    response = client_for(doctor).get(reverse("residents:export"))
    book = openpyxl.load_workbook(io.BytesIO(content(response)))
    assert book.sheetnames == ["居民名单", "居民名单2"]
    assert [len(list(s.iter_rows())) for s in book.worksheets] == [3, 2]


def test_a_revealed_export_imports_back_unchanged(world, doctor):
    data = content(client_for(doctor).get(reverse("residents:export")))
    outcome = import_data(doctor, data, "export.xlsx")
    assert [r.status for r in outcome.results] == ["unchanged"] * 3, [
        r.reason for r in outcome.results
    ]
    assert outcome.table.ignored == ["年龄", "村（居）名称", "网格名称", "照护机构名称"]
