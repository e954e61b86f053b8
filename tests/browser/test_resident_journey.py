"""Issue 3 "Residents", walked in a real browser as a new user would (the "Done when").

A doctor of county A registers a resident (stopped first by a wrong check character, an
impossible birth date, then a duplicate), finds her by pinyin, records a blood pressure
and sees the chart, gives her daughter a view-only family login (who then sees the
readings and nothing to edit), imports the template back with a bad row reported; staff
of another station get 404 for her, and every view of her record is in the audit trail.

Pages are switched to English by the language cookie (what the language switch sets);
elements are found by id, name and data attributes, not by visible text.
"""

from __future__ import annotations

import datetime
import io
import re
import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import log_in, url
from yiyang.audit.models import AuditEvent
from yiyang.common import crypto
from yiyang.common.permissions import Role
from yiyang.residents.idnumber import check_character, make_id_number
from yiyang.residents.models import (
    Consent,
    ConsentPurpose,
    Contact,
    ImportJob,
    Observation,
    ProxyGrant,
    Resident,
)
from yiyang.residents.services.observations import record_bp
from yiyang.residents.services.people import register_with_consents
from yiyang.residents.services.proxies import OFFERED_RIGHTS
from yiyang.testing.accounts import make_account
from yiyang.testing.network import PASSWORD, build_network, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOTHER = "张秀兰"  # pinyin zhangxiulan, initials zxl
MOTHER_BORN = datetime.date(1950, 3, 8)
OTHER = "王建华"  # wjh: in scope, never matches her searches
DAUGHTER = "李娟"
READ = "residents.resident.read"


# --- helpers ----------------------------------------------------------------------------


def english(page, live_server) -> None:
    """Choose English as the language switch would (its cookie)."""
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])


def log_out(page) -> None:
    with page.expect_navigation():
        page.locator(f"form[action='{reverse('web:logout')}'] button[type=submit]").click()


def her_id(sequence: int = 22, born: datetime.date = MOTHER_BORN) -> str:
    """A valid ID number of county A (even sequence: a woman)."""
    return make_id_number("411521", born, sequence)


def wrong_check(id_number: str) -> str:
    right = id_number[-1]
    return id_number[:-1] + ("1" if right != "1" else "2")


def doctor_of(county: Any, username: str) -> Any:
    return make_user(Role.DOCTOR, scope=county.county, username=username, staff=county.doctor)


def register(doctor: Any, net: Any, name: str, id_number: str, **extra: Any) -> Resident:
    """A resident registered through the same action as the register page, with the
    consents to health data and family sharing."""
    resident, _candidates = register_with_consents(
        doctor,
        {
            "name": name,
            "id_number": id_number,
            "region": net.a.villages[0],
            "grid": net.a.grids[0],
            **extra,
        },
        purposes=[ConsentPurpose.HEALTH_DATA, ConsentPurpose.FAMILY_SHARING],
    )
    return resident


# The root element of each tab's fragment.
TAB_ROOTS = {
    "detail": "#resident-overview",
    "observations": "#health-observations",
    "conditions": "#health-conditions",
    "contacts": "#people-contacts",
    "consents": "#people-consents",
}


def settled(page) -> None:
    """Wait until htmx has finished its swaps: new content is only live (its hx-*
    attributes processed) once htmx removes ``htmx-added`` after the settle delay. A
    person never clicks that fast; a test does."""
    # A function, not an expression string: Playwright evals a string in the page, which
    # the Content-Security-Policy (no 'unsafe-eval') refuses.
    page.wait_for_function(
        "() => !document.querySelector("
        "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def open_tab(page, key: str) -> None:
    """Click a resident tab (htmx) and wait until its fragment is in place."""
    page.locator(f"#resident-tabs a[data-tab={key}]").click()
    expect(page.locator(f"#tab-content > {TAB_ROOTS[key]}")).to_be_visible()
    expect(page.locator("#resident-tabs a.active")).to_have_attribute("data-tab", key)
    settled(page)


def field_error(page, name: str):
    """The error shown next to the register form's field ``name``."""
    return page.locator(f"#resident-form #field-{name} .field-error")


def choose_place(page, township: Any, village: Any, grid: Any = None) -> None:
    """Township, then village (its select is refreshed by htmx), then grid (likewise)."""
    form = page.locator("#resident-form")
    form.locator("select[name=township]").select_option(str(township.pk))
    expect(form.locator(f"select[name=region] option[value='{village.pk}']")).to_be_attached()
    settled(page)
    form.locator("select[name=region]").select_option(str(village.pk))
    if grid is not None:
        expect(form.locator(f"select[name=grid] option[value='{grid.pk}']")).to_be_attached()
        settled(page)
        form.locator("select[name=grid]").select_option(str(grid.pk))
    settled(page)


def submit_register(page) -> None:
    settled(page)
    page.locator("#save-resident").click()


# --- 1. register ------------------------------------------------------------------------


def test_register_is_stopped_by_bad_id_numbers_and_duplicates(page, live_server):
    net = build_network()
    doctor = doctor_of(net.a, "journey-doctor")
    village, grid = net.a.villages[0], net.a.grids[0]
    township = village.parent
    valid = her_id()
    english(page, live_server)
    log_in(page, live_server, doctor.username, PASSWORD)

    page.goto(url(live_server, "residents:list"))
    with page.expect_navigation():
        page.locator("#register-link").click()
    form = page.locator("#resident-form")
    form.locator("input[name=name]").fill(MOTHER)
    choose_place(page, township, village, grid)
    for purpose in (ConsentPurpose.HEALTH_DATA, ConsentPurpose.FAMILY_SHARING):
        form.locator(f"input[name=consents][value={purpose}]").check()

    # A typing error in the check character.
    form.locator("input[name=id_number]").fill(wrong_check(valid))
    submit_register(page)
    error = field_error(page, "id_number")
    expect(error).to_contain_text("check character")
    expect(error).to_contain_text(f"expected {valid[-1]}")
    expect(page.locator("#form-errors")).to_be_visible()
    assert not Resident.objects.exists()
    assert not AuditEvent.objects.filter(action="residents.resident.create").exists()

    # An impossible birth date (30 February), with a right check character. Type only once
    # the refused form's swap has settled: htmx settles the swapped form's attributes
    # after a delay, and typing during it can be lost (seen under load on PostgreSQL).
    settled(page)
    first17 = f"411521{19500230}022"
    form.locator("input[name=id_number]").fill(first17 + check_character(first17))
    submit_register(page)
    expect(error).to_contain_text("19500230")
    expect(error).to_contain_text("not a real date")
    assert not Resident.objects.exists()

    # The chosen place and consents survived both refusals: only the number is retyped.
    expect(form.locator("select[name=grid]")).to_have_value(str(grid.pk))
    expect(form.locator("input[name=consents][value=family_sharing]")).to_be_checked()
    settled(page)
    form.locator("input[name=id_number]").fill(valid)
    with page.expect_navigation(url=re.compile(r"/residents/\d+/$")):
        submit_register(page)

    resident = Resident.objects.get()
    assert page.url == url(live_server, "residents:detail", resident.pk)
    expect(page.locator("#resident-header h1")).to_have_text(MOTHER)
    expect(page.locator("#resident-id-number")).to_have_text(valid[:4] + "*" * 10 + valid[-4:])
    assert resident.id_number == valid
    assert resident.id_number_index == crypto.blind_index(valid)
    assert (resident.sex, resident.birth_date) == ("F", MOTHER_BORN)
    assert (resident.region_id, resident.grid_id) == (village.pk, grid.pk)
    given = Consent.objects.filter(resident=resident, withdrawn_at=None)
    assert set(given.values_list("purpose", flat=True)) == {"health_data", "family_sharing"}
    header_consents = page.locator("#resident-consents")
    expect(header_consents).to_be_visible()
    expect(page.locator("#resident-teams")).to_contain_text(net.a.team.name)

    # The same person again: refused as a duplicate, nothing saved.
    page.goto(url(live_server, "residents:create"))
    form.locator("input[name=name]").fill(MOTHER)
    form.locator("input[name=id_number]").fill(valid)
    choose_place(page, township, village)
    submit_register(page)
    expect(field_error(page, "id_number")).to_contain_text("already registered")
    assert page.url == url(live_server, "residents:create")
    assert Resident.objects.count() == 1


# --- 2. find her by pinyin -----------------------------------------------------------------


def test_find_her_by_pinyin_initials_and_full_pinyin(page, live_server):
    net = build_network()
    doctor = doctor_of(net.a, "journey-doctor")
    her = register(doctor, net, MOTHER, her_id())
    register(doctor, net, OTHER, make_id_number("411521", datetime.date(1947, 1, 2), 31))
    english(page, live_server)
    log_in(page, live_server, doctor.username, PASSWORD)

    page.goto(url(live_server, "residents:list"))
    rows = page.locator("#resident-list tbody tr[id^=resident-]")
    expect(rows).to_have_count(2)
    search = page.locator("#resident-filters input[name=q]")
    for query in ("zxl", "zhangxiulan", "ZXL"):
        search.fill(query)
        search.press("Enter")
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_id(f"resident-{her.pk}")
        search.fill("")
        search.press("Enter")
        expect(rows).to_have_count(2)

    search.fill("zhangxiulan")
    search.press("Enter")
    # Typing also searches, 400 ms after the last key: let that second swap land before
    # clicking, or the click can hit the table it replaces (and the pushed URL of the
    # swap passes for the navigation).
    page.wait_for_timeout(600)
    expect(rows).to_have_count(1)
    assert "q=zhangxiulan" in page.url  # the search is linkable
    detail = reverse("residents:detail", args=[her.pk])
    with page.expect_navigation(url=re.compile(re.escape(detail) + "$")):
        rows.first.locator(f"a[href='{reverse('residents:detail', args=[her.pk])}']").click()
    expect(page.locator("#resident-header h1")).to_have_text(MOTHER)


# --- 3. record a BP reading and see the chart --------------------------------------------


def test_recorded_blood_pressure_appears_in_the_chart(page, live_server):
    net = build_network()
    doctor = doctor_of(net.a, "journey-doctor")
    her = register(doctor, net, MOTHER, her_id())
    english(page, live_server)
    log_in(page, live_server, doctor.username, PASSWORD)

    page.goto(url(live_server, "residents:detail", her.pk))
    open_tab(page, "observations")
    chart = page.locator("#bp-chart svg#chart-bp")
    expect(chart).to_have_attribute("data-points", "0")
    expect(chart.locator("text.empty")).to_be_attached()

    bp = page.locator("#bp-form")
    bp.locator("input[name=systolic]").fill("152")
    bp.locator("input[name=diastolic]").fill("95")
    bp.locator("button[type=submit]").click()

    # The tab comes back (htmx) with the reading in the chart: one point per series.
    expect(chart).to_have_attribute("data-points", "2")
    systolic = chart.locator("g.series-systolic circle title")
    diastolic = chart.locator("g.series-diastolic circle title")
    expect(systolic).to_have_count(1)
    expect(systolic).to_contain_text("152 mmHg")
    expect(diastolic).to_have_count(1)
    expect(diastolic).to_contain_text("95 mmHg")
    expect(chart.locator("desc")).to_contain_text("latest 152")
    expect(page.locator("#latest-vitals .vital[data-code='8480-6'] strong")).to_have_text("152")
    expect(page.locator("#readings tbody tr[id^=reading-]")).to_have_count(1)
    expect(page.locator("#bp-form input[name=systolic]")).to_have_value("")  # a fresh form
    assert sorted(Observation.objects.filter(resident=her).values_list("value", flat=True)) == [
        Decimal("95"),
        Decimal("152"),
    ]

    # A second reading adds points to the same chart.
    settled(page)
    bp.locator("input[name=systolic]").fill("138")
    bp.locator("input[name=diastolic]").fill("86")
    bp.locator("button[type=submit]").click()
    expect(chart).to_have_attribute("data-points", "4")
    expect(chart.locator("g.series-systolic polyline")).to_have_count(1)
    expect(chart.locator("desc")).to_contain_text("latest 138")


# --- 4 + 5. a family login for her daughter, view-only --------------------------------------


def test_daughter_gets_a_view_only_family_login(page, live_server):
    net = build_network()
    doctor = doctor_of(net.a, "journey-doctor")
    her = register(doctor, net, MOTHER, her_id())
    record_bp(doctor, her, systolic=148, diastolic=92)
    english(page, live_server)
    log_in(page, live_server, doctor.username, PASSWORD)

    page.goto(url(live_server, "residents:detail", her.pk))
    open_tab(page, "contacts")
    add = page.locator("#contact-add-form")
    add.locator("input[name=name]").fill(DAUGHTER)
    add.locator("select[name=relation]").select_option("daughter")
    add.locator("input[name=phone]").fill("13912345678")
    add.locator("button[type=submit]").click()
    expect(page.locator("#people-notice")).to_be_visible()
    contact = Contact.objects.get(resident=her, name=DAUGHTER)
    row = page.locator(f"#contact-{contact.pk}")
    expect(row).to_contain_text(DAUGHTER)
    expect(row).to_contain_text("139****5678")  # the phone is shown masked

    settled(page)
    row.locator(".grant-link").click()
    grant = page.locator("#grant-form")
    expect(grant).to_be_visible()
    rights = {name: grant.locator(f"input[name={name}]") for name in OFFERED_RIGHTS}
    # Only what a family login can do is offered (no booking, no bills yet).
    for name in ("can_book_services", "can_view_bills"):
        expect(grant.locator(f"input[name={name}]")).to_have_count(0)
    # View-only: the readings (and health record), nothing else.
    rights["can_view_readings"].check()
    rights["can_view_alerts"].uncheck()
    settled(page)
    grant.locator("button[type=submit]").click()

    shown = page.locator("#family-login-credentials")
    expect(shown).to_be_visible()
    username = page.locator("#family-login-username").inner_text().strip()
    password = page.locator("#family-login-password").inner_text().strip()
    assert username and len(password) >= 8
    proxy = ProxyGrant.objects.get(contact=contact)
    assert proxy.user.username == username
    assert (
        proxy.can_view_readings,
        proxy.can_view_alerts,
        proxy.can_book_services,
        proxy.can_view_bills,
    ) == (True, False, False, False)
    expect(page.locator(f"#grant-{proxy.pk}")).to_contain_text(username)

    # The daughter logs in with what the doctor handed her.
    log_out(page)
    log_in(page, live_server, username, password)
    assert "/login/" not in page.url, "the family login was refused"
    # A one-time password handed over by staff: she must choose her own first.
    assert page.url.endswith(reverse("accounts:password")), page.url
    expect(page.locator("#must-change-password")).to_be_visible()
    own = "Nverde#Mima2027"
    form = page.locator("#password-form")
    form.locator("input[name=old_password]").fill(password)
    form.locator("input[name=new_password]").fill(own)
    form.locator("input[name=new_password2]").fill(own)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    page.goto(url(live_server, "web:home"))
    # her home: her record in plain words, with a way into the whole record
    expect(page.locator(f"#plain-{her.pk} h2")).to_contain_text(MOTHER)
    mine = page.locator(f"#plain-{her.pk} a.plain-more")
    expect(mine).to_have_attribute("href", reverse("residents:detail", args=[her.pk]))
    with page.expect_navigation():
        mine.click()
    expect(page.locator("#resident-header h1")).to_have_text(MOTHER)
    tabs = page.locator("#resident-tabs a")
    keys = {tabs.nth(i).get_attribute("data-tab") for i in range(tabs.count())}
    assert "observations" in keys
    assert not keys & {"contacts", "consents"}
    expect(page.locator("#edit-resident")).to_have_count(0)
    expect(page.locator("#reveal-button")).to_have_count(0)

    open_tab(page, "observations")
    chart = page.locator("svg#chart-bp")
    expect(chart).to_have_attribute("data-points", "2")
    expect(chart.locator("g.series-systolic circle title")).to_contain_text("148 mmHg")
    expect(page.locator("#tab-content form")).to_have_count(0)  # nothing to record or delete
    for form_id in ("bp-form", "glucose-form", "vital-form"):
        expect(page.locator(f"#{form_id}")).to_have_count(0)

    # Typing the address of a tab she does not have is refused.
    for name in ("residents:contacts", "residents:consents", "residents:edit"):
        response = page.goto(url(live_server, name, her.pk))
        assert response is not None and response.status == 403, name


# --- 6. import the template back with a bad row ------------------------------------------


def _fill_template(content: bytes, rows: list[dict[str, str]]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    for values in rows:
        sheet.append([values.get(str(h), None) for h in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _report_rows(path: str) -> list[dict[str, Any]]:
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    lines = list(sheet.iter_rows(values_only=True))
    header = [str(h) for h in lines[0]]
    return [dict(zip(header, line, strict=False)) for line in lines[1:]]


def test_import_the_template_back_with_a_bad_row_reported(page, live_server, tmp_path):
    net = build_network()
    doctor = doctor_of(net.a, "journey-doctor")
    village = net.a.villages[1]
    good_id = make_id_number("411521", datetime.date(1946, 9, 12), 46)
    bad_id = wrong_check(make_id_number("411521", datetime.date(1944, 4, 4), 64))
    english(page, live_server)
    log_in(page, live_server, doctor.username, PASSWORD)

    page.goto(url(live_server, "residents:list"))
    with page.expect_navigation():
        page.locator("#import-link").click()
    with page.expect_download() as download_info:
        page.locator("#template-xlsx").click()
    template = download_info.value
    assert template.suggested_filename.endswith(".xlsx")
    template_path = tmp_path / "template.xlsx"
    template.save_as(template_path)
    headers = [c.value for c in openpyxl.load_workbook(template_path).worksheets[0][1]]
    assert {"姓名", "公民身份号码", "村（居）区划代码"} <= set(headers)  # Chinese headers

    upload = tmp_path / "residents.xlsx"
    upload.write_bytes(
        _fill_template(
            template_path.read_bytes(),
            [
                {"姓名": "李凤英", "公民身份号码": good_id, "村（居）区划代码": village.code},
                {"姓名": "刘丽", "公民身份号码": bad_id, "村（居）区划代码": village.code},
            ],
        )
    )
    page.locator("#import-form input[name=file]").set_input_files(upload)
    with page.expect_navigation():
        page.locator("#import-form button[type=submit]").click()
    job = ImportJob.objects.get()
    assert page.url == url(live_server, "residents:import_job", job.pk)
    box = page.locator("#import-job")
    expect(box).to_have_attribute("data-state", "queued")
    expect(box.locator("progress")).to_be_visible()

    # The background worker (``yiyang db_worker``, started by ``yiyang serve``) runs it;
    # the page follows by itself (htmx polls the job every second).
    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    expect(box).to_have_attribute("data-state", "done")
    expect(page.locator("#count-imported")).to_have_text("1")
    expect(page.locator("#count-rejected")).to_have_text("1")
    assert Resident.objects.filter(name="李凤英", region=village).count() == 1
    assert not Resident.objects.filter(name="刘丽").exists()

    with page.expect_download() as report_info:
        page.locator("#report-link").click()
    report = report_info.value
    assert report.suggested_filename.endswith(".xlsx")
    report_path = tmp_path / "report.xlsx"
    report.save_as(report_path)
    by_name = {row["姓名"]: row for row in _report_rows(str(report_path)) if row.get("姓名")}
    bad = by_name["刘丽"]
    assert "id_checksum" in str(bad["Reason codes"])
    assert "check character" in str(bad["Reasons"])
    assert by_name["李凤英"].get("Reason codes") in (None, "")


# --- 7. another station cannot see her; every view is audited ------------------------------


def _audited_views(page, pk: int) -> list[str]:
    """Give every request for her pages an X-Request-ID (kept by the audit trail) and
    return the list they are appended to."""
    ids: list[str] = []
    pattern = re.compile(rf"/residents/{pk}/")

    def tag(route, request) -> None:
        rid = uuid.uuid4().hex
        ids.append(rid)
        route.continue_(headers={**request.all_headers(), "x-request-id": rid})

    page.route(pattern, tag)
    return ids


def test_other_stations_get_404_and_every_view_is_audited(page, live_server):
    net = build_network()
    doctor = doctor_of(net.a, "journey-doctor")
    valid = her_id()
    her = register(doctor, net, MOTHER, valid)
    english(page, live_server)

    # Her doctor opens her record: the page, four tabs (htmx) and the edit form.
    log_in(page, live_server, doctor.username, PASSWORD)
    request_ids = _audited_views(page, her.pk)
    page.goto(url(live_server, "residents:detail", her.pk))
    for key in ("observations", "conditions", "contacts", "consents"):
        open_tab(page, key)
    page.goto(url(live_server, "residents:edit", her.pk))
    expect(page.locator("#resident-form")).to_be_visible()
    page.unroute(re.compile(rf"/residents/{her.pk}/"))
    assert len(request_ids) == 6
    reads = AuditEvent.objects.filter(action=READ, object_id=str(her.pk), actor=doctor)
    for rid in request_ids:
        assert reads.filter(request_id=rid).exists(), f"view {rid} not audited"
    assert not AuditEvent.objects.filter(details__icontains=valid).exists()
    log_out(page)

    # The audit administrator finds these views in the audit trail.
    auditor = make_account(Role.AUDIT_ADMIN, scope="all", username="journey-auditor")
    log_in(page, live_server, auditor.username, PASSWORD, totp_secret=auditor.totp_secret)
    query = urlencode({"actor": doctor.username, "action": READ, "object_id": her.pk})
    page.goto(url(live_server, "audit:events") + "?" + query)
    shown = page.locator("#audit-events tbody tr[data-seq]")
    expect(shown).to_have_count(reads.count())
    seqs = {shown.nth(i).get_attribute("data-seq") for i in range(shown.count())}
    assert {str(e.seq) for e in reads.filter(request_id__in=request_ids)} <= seqs
    log_out(page)

    # County B has a resident of its own, in the grid its team serves.
    b_doctor = doctor_of(net.b, "county-b-doctor")
    theirs, _candidates = register_with_consents(
        b_doctor,
        {
            "name": "陈桂英",
            "id_number": make_id_number("411522", datetime.date(1949, 6, 1), 44),
            "region": net.b.villages[0],
            "grid": net.b.grids[0],
        },
    )
    missing = Resident.objects.order_by("-pk").first().pk + 1000
    outsiders = [
        b_doctor,
        make_user(Role.CAREGIVER, scope=net.b.team, username="team-b-caregiver"),
    ]
    for outsider in outsiders:
        log_in(page, live_server, outsider.username, PASSWORD)
        not_found = []
        for name in ("residents:detail", "residents:observations", "residents:contacts"):
            response = page.goto(url(live_server, name, her.pk))
            assert response is not None and response.status == 404, (outsider, name)
            assert MOTHER not in page.content()
            not_found.append(page.locator("#error-404").inner_text())
        # Guessing ids gives nothing away: hers answers like one that does not exist.
        response = page.goto(url(live_server, "residents:detail", missing))
        assert response is not None and response.status == 404
        assert page.locator("#error-404").inner_text() == not_found[0]
        # Their list holds their own resident, never her; nor does searching find her.
        rows = page.locator("#resident-list tbody tr[id^=resident-]")
        page.goto(url(live_server, "residents:list"))
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_id(f"resident-{theirs.pk}")
        for query in ("zxl", "zhangxiulan", MOTHER, valid):
            page.goto(url(live_server, "residents:list") + "?" + urlencode({"q": query}))
            expect(rows).to_have_count(0)
        assert not AuditEvent.objects.filter(
            action=READ, object_id=str(her.pk), actor=outsider
        ).exists()
        log_out(page)

    # The team that serves her grid does see her (the 404 above is her scope, not the role).
    insider = make_user(Role.CAREGIVER, scope=net.a.team, username="team-a-caregiver")
    log_in(page, live_server, insider.username, PASSWORD)
    response = page.goto(url(live_server, "residents:detail", her.pk))
    assert response is not None and response.status == 200
    expect(page.locator("#resident-header h1")).to_have_text(MOTHER)
    assert AuditEvent.objects.filter(action=READ, object_id=str(her.pk), actor=insider).exists()
