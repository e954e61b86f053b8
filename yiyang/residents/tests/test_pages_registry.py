"""Registry pages in the browser's place: the list (search, filters, keyset paging, no
COUNT), register (errors next to the field, the duplicate warning and its confirmation,
consents), edit, the overview tab and header, the audited reveal, navigation and the
"self" scope of resident and family logins."""

from __future__ import annotations

import datetime
import html
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from yiyang.audit.models import AuditEvent
from yiyang.audit.services import verify_chain
from yiyang.common import paging
from yiyang.common.permissions import Role
from yiyang.residents.models import (
    Consent,
    ConsentGiver,
    ConsentPurpose,
    Resident,
)
from yiyang.residents.services.registry import update_resident
from yiyang.residents.tests.conftest import family_login, id_for, register
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")

LIST = reverse("residents:list")
CREATE = reverse("residents:create")


def text(response) -> str:
    return response.content.decode()


def field_errors(response, field: str) -> list[str]:
    """The messages shown next to ``field`` in the rendered form."""
    page = text(response)
    assert f'id="field-{field}"' in page, f"no field {field}"
    block = page.split(f'id="field-{field}"', 1)[1].split('id="field-', 1)[0]
    found = re.findall(r'<p class="error field-error"[^>]*>(.*?)</p>', block, re.S)
    return [html.unescape(m) for m in found]


def listed(response) -> list[str]:
    """The residents' names in the results table, in order."""
    assert response.status_code == 200
    page = text(response)
    table = page.split('id="resident-list"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/residents/\d+/">([^<]+)</a>', table)


@pytest.fixture
def doctor(world):
    return make_user(Role.DOCTOR, scope=world.net.a.county)


@pytest.fixture
def supervisor(world):
    return make_user(Role.SUPERVISOR, scope=world.net.a.county)


# --- the list ---------------------------------------------------------------------------


def test_list_shows_the_scope_masked(world, supervisor):
    response = client_for(supervisor).get(LIST)
    assert sorted(listed(response)) == sorted(["张三", "李四", "王五"])
    page = text(response)
    assert world.zhang.id_number_masked in page and world.zhang.id_number not in page
    assert "138****0001" in page and "13800000001" not in page
    assert world.net.a.villages[0].name in page and world.net.a.grids[0].name in page
    assert "Empty-nest" in page or "empty-nest" in page
    assert 'id="result-count"' in page and "3 residents" in page
    # A supervisor may not register: no register link.
    assert CREATE not in page


def test_search_box_finds_by_pinyin_id_number_phone_and_name(world, supervisor):
    client = client_for(supervisor)
    assert listed(client.get(LIST, {"q": "zs"})) == ["张三"]
    assert listed(client.get(LIST, {"q": "ZhangSan"})) == ["张三"]
    assert listed(client.get(LIST, {"q": world.li.id_number})) == ["李四"]
    assert listed(client.get(LIST, {"q": "13800000001"})) == ["张三"]
    assert listed(client.get(LIST, {"q": "王"})) == ["王五"]
    assert listed(client.get(LIST, {"q": world.zhao.id_number})) == []  # out of scope
    assert "No residents match." in text(client.get(LIST, {"q": "nobody"}))


def test_filters_area_grid_age_flags_status_care(world, supervisor):
    client = client_for(supervisor)
    a = world.net.a
    assert sorted(listed(client.get(LIST, {"area": a.townships[0].pk}))) == ["张三", "李四"]
    assert listed(client.get(LIST, {"region": a.villages[2].code})) == ["王五"]
    assert listed(client.get(LIST, {"grid": a.grids[0].pk})) == ["张三"]
    assert listed(client.get(LIST, {"flags": ["living_alone"]})) == ["王五"]
    # Ages as of the day the test runs (the birth dates are fixed): 王五 is over 80,
    # 李四 in his five-year band.
    ages = {r.name: r.age for r in (world.zhang, world.li, world.wang)}
    assert ages["王五"] >= 80 and 60 <= ages["李四"] < 90
    over_80 = sorted(name for name, age in ages.items() if age >= 80)
    assert sorted(listed(client.get(LIST, {"age": "80-"}))) == over_80
    low = ages["李四"] // 5 * 5
    band = sorted(name for name, age in ages.items() if low <= age <= low + 4)
    assert sorted(listed(client.get(LIST, {"age": f"{low}-{low + 4}"}))) == band
    update_resident(world.registrar, world.li, status="deceased", deceased_on="2026-01-05")
    assert listed(client.get(LIST, {"status": "deceased"})) == ["李四"]
    assert listed(client.get(LIST, {"care_setting": "institution"})) == []
    # An area outside the scope is not a choice: the form says so and lists nobody.
    response = client.get(LIST, {"area": world.net.b.townships[0].pk})
    assert listed(response) == []
    assert "Select a valid choice" in text(response)


def test_deceased_and_moved_out_are_marked_in_the_list(world, supervisor):
    update_resident(world.registrar, world.li, status="deceased", deceased_on="2026-01-05")
    update_resident(world.registrar, world.wang, status="moved_out")
    page = text(client_for(supervisor).get(LIST))
    assert f'id="resident-{world.li.pk}" class="status-deceased"' in page
    assert f'id="resident-{world.wang.pk}" class="status-moved_out"' in page
    assert '<span class="badge status-deceased">Deceased</span>' in page
    assert '<span class="badge status-moved_out">Moved out</span>' in page


def test_htmx_request_gets_the_results_fragment(world, supervisor):
    response = client_for(supervisor).get(LIST, {"q": "zs"}, HTTP_HX_REQUEST="true")
    page = text(response)
    assert "<html" not in page and 'id="resident-results"' in page
    assert listed(response) == ["张三"]
    assert 'id="filter-grid" hx-swap-oob="true"' in page
    assert "HX-Push-Url" not in response
    # A search by ID number or phone is not pushed into the browser's history.
    by_id = client_for(supervisor).get(LIST, {"q": world.zhang.id_number}, HTTP_HX_REQUEST="true")
    assert listed(by_id) == ["张三"] and by_id["HX-Push-Url"] == "false"


def test_keyset_paging_without_count(world, monkeypatch):
    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    everyone = make_user(Role.SUPERVISOR, scope="all")
    client = client_for(everyone)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(LIST)
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    ordered = list(Resident.objects.order_by("name", "pk").values_list("name", flat=True))
    assert listed(first) == ordered[:2]
    assert "2+ residents" in text(first)
    seen = listed(first)
    page = text(first)
    while 'rel="next"' in page:
        after = re.search(r'href="\?(?:[^"]*&amp;)?after=(\d+)" rel="next"', page).group(1)
        response = client.get(LIST, {"after": after})
        seen += listed(response)
        page = text(response)
    assert seen == ordered
    # And back: "previous" from the last page gives the page before it.
    before = re.search(r'href="\?(?:[^"]*&amp;)?before=(\d+)" rel="prev"', page).group(1)
    assert listed(client.get(LIST, {"before": before})) == ordered[2:4]


def test_paging_keeps_the_filters_and_export_carries_them(world, monkeypatch):
    monkeypatch.setattr(paging, "PAGE_SIZE", 1)
    county = make_user(Role.DOCTOR, scope=world.net.a.county)
    response = client_for(county).get(LIST, {"area": world.net.a.townships[0].pk})
    page = html.unescape(text(response))
    assert f"?area={world.net.a.townships[0].pk}&after=" in page
    if 'id="export-link"' in page:  # the export page (import/export area) exists
        link = re.search(r'id="export-link" href="([^"]+)"', page).group(1)
        assert link.endswith(f"?area={world.net.a.townships[0].pk}")


def test_list_queries_do_not_grow_with_the_rows(world):
    everyone = make_user(Role.SUPERVISOR, scope="all")
    client = client_for(everyone)
    client.get(LIST)  # warm caches (session, user)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST, {"q": "zs"})
    for i in range(6):
        register(
            world.registrar,
            world.net.a.villages[0],
            f"张{i}号",
            datetime.date(1950, 1, 1 + i),
            100 + i,
            grid=world.net.a.grids[0],
            phone=f"1390000{i:04d}",
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST, {"q": "z"})
    assert len(listed(response)) == 8  # 张三, 赵六 and the six new ones
    assert len(many.captured_queries) == len(few.captured_queries)


# --- register ---------------------------------------------------------------------------


def form_data(world, **extra: Any) -> dict[str, Any]:
    village = world.net.a.villages[1]
    data = {
        "name": "钱淑珍",
        "id_number": id_for(village, datetime.date(1944, 2, 9), 28),
        "township": village.parent_id,
        "region": village.pk,
        "insurance": "urban_rural",
        "status": "active",
        "care_setting": "home",
        "permanent_resident": "on",
        "consent_given_by": "self",
        "guardian_relation": "guardian",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def test_register_page_saves_and_redirects_to_the_record(world, doctor):
    client = client_for(doctor)
    assert client.get(CREATE).status_code == 200
    data = form_data(
        world,
        phone="137 0000 9999",
        living_alone="on",
        consents=["health_data", "family_sharing"],
    )
    response = client.post(CREATE, data)
    resident = Resident.objects.get(name="钱淑珍")
    assert response.status_code == 302
    assert response["Location"] == reverse("residents:detail", args=[resident.pk])
    assert resident.sex == "F" and resident.phone == "13700009999" and resident.living_alone
    assert resident.region == world.net.a.villages[1]
    assert sorted(Consent.objects.filter(resident=resident).values_list("purpose", flat=True)) == [
        "family_sharing",
        "health_data",
    ]


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"id_number": "41152119440209028X"}, "id_number", "check character"),
        ({"id_number": "411521194402300280"}, "id_number", "not a real date"),
        ({"sex": "M"}, "sex", "does not match the ID number"),
        ({"birth_date": "1944-02-10"}, "birth_date", "does not match the ID number"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_register_errors_are_shown_next_to_the_field(world, doctor, extra, field, message):
    before = (Resident.objects.count(), Consent.objects.count())
    response = client_for(doctor).post(CREATE, form_data(world, consents=["health_data"], **extra))
    assert response.status_code == 200
    errors = field_errors(response, field)
    assert errors and message in errors[0], errors
    assert "Nothing was saved" in text(response)
    assert (Resident.objects.count(), Consent.objects.count()) == before


def test_duplicate_id_number_is_refused_next_to_the_field(world, doctor):
    before = Resident.objects.count()
    response = client_for(doctor).post(CREATE, form_data(world, id_number=world.zhang.id_number))
    assert field_errors(response, "id_number") == [
        "A resident with this ID number is already registered."
    ]
    assert "张三" not in text(response)  # the message names nobody
    assert Resident.objects.count() == before


def test_possible_duplicate_asks_to_confirm_then_registers(world, doctor):
    client = client_for(doctor)
    village = world.net.a.villages[0]
    data = form_data(
        world,
        name="张三",
        id_number=id_for(village, datetime.date(1950, 3, 15), 77),
        township=village.parent_id,
        region=village.pk,
    )
    before = Resident.objects.count()
    first = client.post(CREATE, data)
    assert first.status_code == 200
    page = text(first)
    assert 'id="duplicate-candidates"' in page and f'id="candidate-{world.zhang.pk}"' in page
    assert world.zhang.id_number_masked in page and world.zhang.id_number not in page
    assert 'name="confirm" value="1"' in page
    assert Resident.objects.count() == before
    assert not AuditEvent.objects.filter(action="residents.resident.create", actor=doctor).exists()
    second = client.post(CREATE, {**data, "confirm": "1"})
    assert second.status_code == 302
    assert Resident.objects.count() == before + 1
    assert verify_chain().ok  # the rolled-back first attempt left no gap in the audit chain


def test_same_phone_is_a_possible_duplicate(world, doctor):
    response = client_for(doctor).post(CREATE, form_data(world, phone="13800000001"))
    assert f'id="candidate-{world.zhang.pk}"' in text(response)
    assert not Resident.objects.filter(name="钱淑珍").exists()


def test_consent_by_a_guardian_records_the_guardian(world, doctor):
    client = client_for(doctor)
    data = form_data(world, consents=["health_data"], consent_given_by="guardian")
    missing = client.post(CREATE, data)
    assert field_errors(missing, "guardian_name") == [
        "Name the guardian who gave the consents (recorded as her guardian)."
    ]
    assert not Resident.objects.filter(name="钱淑珍").exists()
    response = client.post(CREATE, {**data, "guardian_name": "钱建国", "guardian_relation": "son"})
    assert response.status_code == 302
    resident = Resident.objects.get(name="钱淑珍")
    consent = Consent.objects.get(resident=resident)
    assert consent.given_by == "guardian" and consent.guardian.name == "钱建国"
    assert consent.guardian.is_guardian and consent.guardian.relation == "son"


def test_village_choices_follow_the_township_through_htmx(world, doctor):
    client = client_for(doctor)
    a = world.net.a
    township = a.townships[1]
    response = client.get(CREATE, {"township": township.pk}, HTTP_HX_REQUEST="true")
    page = text(response)
    region = page.split('id="field-region"', 1)[1].split('id="field-grid"', 1)[0]
    assert a.villages[2].code in region  # 龙山村 lies in the second township
    assert a.villages[0].code not in region
    # Without a township, no village is listed (a city has thousands).
    empty = text(client.get(CREATE)).split('id="field-region"', 1)[1]
    assert a.villages[0].code not in empty.split('id="field-grid"', 1)[0]
    # Choosing the village lists its grids.
    village = client.get(CREATE, {"township": a.villages[0].parent_id, "region": a.villages[0].pk})
    grid = text(village).split('id="field-grid"', 1)[1].split('id="field-household"', 1)[0]
    assert a.grids[0].name in grid


def test_a_village_outside_the_scope_is_refused(world, doctor):
    b = world.net.b.villages[0]
    response = client_for(doctor).post(CREATE, form_data(world, township=b.parent_id, region=b.pk))
    assert response.status_code == 200
    assert field_errors(response, "region")
    assert not Resident.objects.filter(name="钱淑珍").exists()


def test_a_village_of_another_township_is_refused(world, doctor):
    a = world.net.a
    response = client_for(doctor).post(
        CREATE, form_data(world, township=a.townships[1].pk, region=a.villages[0].pk)
    )
    assert "does not lie in" in field_errors(response, "region")[0]


def test_register_needs_the_manage_permission(world, supervisor):
    assert client_for(supervisor).get(CREATE).status_code == 403
    assert client_for(supervisor).post(CREATE, form_data(world)).status_code == 403


# --- edit -------------------------------------------------------------------------------


def test_edit_page_hides_identifiers_and_saves_changes(world, doctor):
    client = client_for(doctor)
    url = reverse("residents:edit", args=[world.zhang.pk])
    reads = AuditEvent.objects.filter(action="residents.resident.read", actor=doctor)
    page = text(client.get(url))
    assert reads.count() == 1  # the edit page shows her record: an audited read
    assert world.zhang.id_number not in page and "13800000001" not in page
    assert world.zhang.id_number_masked in page
    from tests.matrix_support import form_values
    from yiyang.residents.forms import ResidentForm

    data = form_values(ResidentForm(instance=world.zhang, user=doctor), name="张三丰", veteran="on")
    response = client.post(url, data)
    assert response.status_code == 302
    zhang = Resident.objects.get(pk=world.zhang.pk)
    assert zhang.name == "张三丰" and zhang.veteran
    assert zhang.id_number == world.zhang.id_number and zhang.phone == "13800000001"
    update = AuditEvent.objects.filter(action="residents.resident.update").last()
    assert sorted(update.details["changed"]) == ["name", "name_initials", "name_pinyin", "veteran"]


def test_edit_errors_and_scope(world, doctor):
    client = client_for(doctor)
    url = reverse("residents:edit", args=[world.zhang.pk])
    from tests.matrix_support import form_values
    from yiyang.residents.forms import ResidentForm

    data = form_values(ResidentForm(instance=world.zhang, user=doctor), sex="F")
    response = client.post(url, data)
    assert "does not match the ID number" in field_errors(response, "sex")[0]
    assert Resident.objects.get(pk=world.zhang.pk).sex == "M"
    out = reverse("residents:edit", args=[world.zhao.pk])
    assert client.get(out).status_code == 404
    assert client.post(out, data).status_code == 404


# --- the record: overview, header, reveal -----------------------------------------------


def test_overview_shows_the_registry_facts_masked_and_each_view_is_audited(world, doctor):
    client = client_for(doctor)
    url = reverse("residents:detail", args=[world.zhang.pk])
    reads = AuditEvent.objects.filter(action="residents.resident.read", actor=doctor)
    response = client.get(url)
    assert response.status_code == 200
    page = text(response)
    assert 'id="resident-overview"' in page and 'id="resident-header"' in page
    assert world.zhang.id_number_masked in page and world.zhang.id_number not in page
    assert "138****0001" in page and "13800000001" not in page
    assert world.net.a.villages[0].name in page and world.net.a.townships[0].name in page
    assert 'id="reveal-button"' in page
    assert reverse("residents:edit", args=[world.zhang.pk]) in page
    client.get(url, HTTP_HX_REQUEST="true")
    assert reads.count() == 2
    assert {e.object_id for e in reads} == {str(world.zhang.pk)}


def test_header_shows_team_flags_status_and_consent_state(world, doctor):
    now = timezone.now()
    Consent.objects.create(
        resident=world.zhang,
        purpose=ConsentPurpose.HEALTH_DATA,
        given_by=ConsentGiver.SELF,
        given_at=now,
        recorded_by=world.registrar,
    )
    Consent.objects.create(
        resident=world.zhang,
        purpose=ConsentPurpose.DEVICE_MONITORING,
        given_by=ConsentGiver.SELF,
        given_at=now,
        recorded_by=world.registrar,
        withdrawn_at=now,
    )
    page = text(client_for(doctor).get(reverse("residents:detail", args=[world.zhang.pk])))
    header = page.split('id="resident-header"', 1)[1].split('id="resident-tabs"', 1)[0]
    assert world.net.a.team.name in header
    assert 'data-flag="empty_nest"' in header
    assert f"{world.zhang.age} years" in header
    states = dict(re.findall(r'data-purpose="(\w+)" data-state="(\w+)"', header))
    assert states == {
        "health_data": "given",
        "device_monitoring": "withdrawn",
        "family_sharing": "none",
        "platform_exchange": "none",
    }


def test_deceased_and_merged_records_are_marked(world, doctor):
    update_resident(world.registrar, world.li, status="deceased", deceased_on="2026-01-05")
    page = text(client_for(doctor).get(reverse("residents:detail", args=[world.li.pk])))
    assert 'class="card resident-header status-deceased"' in page
    assert "Deceased 2026-01-05" in page
    Resident.objects.filter(pk=world.wang.pk).update(status="merged", merged_into=world.zhang)
    page = text(client_for(doctor).get(reverse("residents:detail", args=[world.wang.pk])))
    assert 'id="merged-banner"' in page
    assert reverse("residents:detail", args=[world.zhang.pk]) in page


def test_detail_out_of_scope_is_404(world, doctor):
    before = AuditEvent.objects.count()
    assert (
        client_for(doctor).get(reverse("residents:detail", args=[world.zhao.pk])).status_code == 404
    )
    assert client_for(doctor).get(reverse("residents:detail", args=[999999])).status_code == 404
    assert AuditEvent.objects.count() == before


def test_reveal_shows_the_full_identifiers_in_place_and_is_audited(world, doctor):
    client = client_for(doctor)
    url = reverse("residents:reveal", args=[world.zhang.pk])
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"  # the full identifiers: never cached
    page = text(response)
    assert page.startswith('<div id="resident-identifiers"')
    assert world.zhang.id_number in page and "13800000001" in page
    event = AuditEvent.objects.filter(action="residents.resident.reveal").last()
    assert event.actor == doctor and event.object_id == str(world.zhang.pk)
    assert client.get(url).status_code == 405


def test_reveal_needs_the_permission_and_the_scope(world, supervisor, doctor):
    page = text(client_for(supervisor).get(reverse("residents:detail", args=[world.zhang.pk])))
    assert 'id="reveal-button"' not in page
    url = reverse("residents:reveal", args=[world.zhang.pk])
    assert client_for(supervisor).post(url).status_code == 403
    out = reverse("residents:reveal", args=[world.zhao.pk])
    assert client_for(doctor).post(out).status_code == 404
    assert not AuditEvent.objects.filter(action="residents.resident.reveal").exists()


# --- navigation and the "self" scope ------------------------------------------------------


def test_nav_entry_per_kind_of_login(world, supervisor):
    nav = re.compile(r'<nav class="mainnav">(.*?)</nav>', re.S)
    staff = nav.search(text(client_for(supervisor).get("/"))).group(1)
    assert f'href="{LIST}"' in staff and ">Residents<" in staff
    own = make_user(Role.RESIDENT, scope="self")
    Resident.objects.filter(pk=world.zhang.pk).update(account=own)
    mine = nav.search(text(client_for(own).get("/"))).group(1)
    assert ">My record<" in mine and ">Residents<" not in mine
    family = nav.search(text(client_for(family_login(world, world.li)).get("/"))).group(1)
    assert ">My family<" in family
    admin = make_user(Role.AUDIT_ADMIN, scope="all")
    assert ">Residents<" not in text(client_for(admin).get("/"))


def test_resident_and_family_logins_land_on_their_own_records(world):
    own = make_user(Role.RESIDENT, scope="self")
    Resident.objects.filter(pk=world.zhang.pk).update(account=own)
    family = family_login(world, world.li)
    for user, mine, other in ((own, world.zhang, world.li), (family, world.li, world.zhang)):
        client = client_for(user)
        home = text(client.get("/"))
        assert reverse("residents:detail", args=[mine.pk]) in home
        assert reverse("residents:detail", args=[other.pk]) not in home
        listing = text(client.get(LIST))
        assert mine.name in listing and other.name not in listing
        assert client.get(reverse("residents:detail", args=[mine.pk])).status_code == 200
        assert client.get(reverse("residents:detail", args=[other.pk])).status_code == 404
        assert client.get(reverse("residents:edit", args=[mine.pk])).status_code == 403


def test_start_a_household_from_her_page(world, doctor):
    client = client_for(doctor)
    page = text(client.get(reverse("residents:detail", args=[world.li.pk])))
    assert 'id="start-household"' in page
    url = reverse("residents:household", args=[world.li.pk])
    response = client.post(url, {"address": "杨店村2组5号"})
    assert response.status_code == 302
    world.li.refresh_from_db()
    assert world.li.household.address == "杨店村2组5号"
    page = text(client.get(reverse("residents:detail", args=[world.li.pk])))
    assert 'id="start-household"' not in page and "杨店村2组5号" in page
