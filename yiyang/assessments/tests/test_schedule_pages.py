"""Schedule pages: the team's due list (scope, team/instrument/overdue filters, closed
dues), the resident's "Assessments" tab (standing, eligibility for today, dues, history,
report a change) and the policy pages (edit, audit, 403, refused input)."""

from __future__ import annotations

import datetime
import html
import re
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.assessments import policy
from yiyang.assessments.models import (
    Assessment,
    Due,
    DueReason,
    EligibilityRule,
    SchedulePolicy,
)
from yiyang.assessments.services.sessions import save_answers, start, submit
from yiyang.audit.models import AuditEvent
from yiyang.common.errors import PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.residents.models import Consent, ConsentGiver, ConsentPurpose, Resident
from yiyang.residents.search import birth_bound
from yiyang.residents.tests.conftest import register
from yiyang.testing.clients import client_for
from yiyang.testing.network import Network, build_network, make_user

HX = {"HTTP_HX_REQUEST": "true"}
GBT = "gbt42195-2022"
LTC = "ltc-disability-2021"

# docs/standards.md §1 worked example, re-typed: 24 + 11 + 21 + 8 = 64 → level 2.
WORKED_EXAMPLE = dict(
    zip(
        [f"B.1.{i}" for i in range(1, 9)]
        + [f"B.2.{i}" for i in range(1, 5)]
        + [f"B.3.{i}" for i in range(1, 10)]
        + [f"B.4.{i}" for i in range(1, 6)],
        [4, 3, 2, 3, 2, 3, 4, 3] + [4, 3, 3, 1] + [3, 2, 4, 2, 3, 3, 1, 1, 2] + [1, 1, 2, 1, 3],
        strict=True,
    )
)


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.date:
    return today() + datetime.timedelta(days=n)


@dataclass
class S:
    net: Network
    registrar: User
    doctor: User  # county A, staff: team A's leader
    nurse: User  # county A, the second assessor
    team_doctor: User  # scope: team A
    wide: User  # doctor, scope "all", no staff record (no own team)
    caregiver: User  # county A: sees the health record, records no assessment
    supervisor: User  # county A: edits the policy
    outsider: User  # nurse, county B
    zhang: Resident  # 86, county A, grid of team A, health consent
    li: Resident  # 66, county A, grid of team A
    wang: Resident  # county A, no grid (no team serves her)
    zhao: Resident  # county B, grid of team B


# Messages in English (the root conftest's ``english`` fixture).
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def s(db) -> S:
    net = build_network()
    registrar = make_user(Role.INSTITUTION_ADMIN, scope="all", username="registrar")
    a, b = net.a, net.b
    born_86 = birth_bound(today(), 86) - datetime.timedelta(days=30)
    zhang = register(registrar, a.villages[0], "张三", born_86, 11, grid=a.grids[0])
    li = register(registrar, a.villages[1], "李四", datetime.date(1960, 6, 1), 22, grid=a.grids[1])
    wang = register(registrar, a.villages[2], "王五", datetime.date(1940, 1, 2), 33)
    zhao = register(
        registrar, b.villages[0], "赵六", datetime.date(1955, 8, 8), 44, grid=b.grids[0]
    )
    for resident in (zhang, li):
        Consent.objects.create(
            resident=resident,
            purpose=ConsentPurpose.HEALTH_DATA,
            given_by=ConsentGiver.SELF,
            given_at=timezone.now(),
            recorded_by=registrar,
        )
    return S(
        net=net,
        registrar=registrar,
        doctor=make_user(Role.DOCTOR, a.county, username="doc-a", staff=a.doctor),
        nurse=make_user(Role.NURSE, a.county, username="nurse-a", staff=a.nurse),
        team_doctor=make_user(Role.DOCTOR, a.team, username="doc-team"),
        wide=make_user(Role.DOCTOR, "all", username="doc-all"),
        caregiver=make_user(Role.CAREGIVER, a.county, username="carer-a"),
        supervisor=make_user(Role.SUPERVISOR, a.county, username="super-a"),
        outsider=make_user(Role.NURSE, b.county, username="nurse-b"),
        zhang=zhang,
        li=li,
        wang=wang,
        zhao=zhao,
    )


def due(resident: Resident, on: datetime.date, code: str = GBT, **kw) -> Due:
    return Due.objects.create(
        resident=resident,
        instrument_code=code,
        due_on=on,
        reason=kw.pop("reason", DueReason.ROUTINE),
        created_on=today() - datetime.timedelta(days=400),
        **kw,
    )


def final_assessment(s: S, resident: Resident) -> Assessment:
    session = start(
        s.doctor,
        resident,
        instrument=GBT,
        reason="routine",
        assessed_on=today(),
        place="home",
        second_assessor=s.nurse,
    )
    save_answers(s.doctor, session, WORKED_EXAMPLE)
    return submit(s.doctor, session, cosigned_by=s.nurse)


def text(response) -> str:
    return response.content.decode()


def due_rows(response) -> list[tuple[str, str, str]]:
    """(resident, due date, state) of each row of the due list, in order."""
    table = text(response).split('id="due-list"', 1)[1].split("</table>", 1)[0]
    return re.findall(
        r'<tr id="due-\d+"[^>]*data-state="(\w+)">\s*<td><a href="/residents/\d+/">([^<]+)</a>'
        r".*?<td class=\"mono\">([\d-]+)</td>",
        table,
        flags=re.S,
    )


def listed(client: Client, **params) -> list[tuple[str, str]]:
    response = client.get(reverse("assessments:due"), params)
    assert response.status_code == 200
    return [(name, state) for state, name, _day in due_rows(response)]


def field_errors(response, name: str) -> list[str]:
    page = text(response)
    assert f'id="field-{name}"' in page, f"no field {name}"
    block = page.split(f'id="field-{name}"', 1)[1].split('id="field-', 1)[0]
    return [html.unescape(m) for m in re.findall(r'role="alert"[^>]*>(.*?)</p>', block)]


# --- the due list -------------------------------------------------------------------------


def test_due_list_shows_scope_dues_sorted_with_states(s):
    due(s.zhang, days(-10))
    due(s.li, today(), code=LTC, note="家属要求")
    due(s.wang, days(40))
    due(s.zhao, days(-30))  # county B: out of the doctor's scope
    client = client_for(s.doctor)
    # The default team is the doctor's own (team A): 王五's village has no team.
    assert listed(client) == [("张三", "overdue"), ("李四", "month")]
    # All teams in scope: 王五 too, still not 赵六 (county B).
    assert listed(client, team="") == [
        ("张三", "overdue"),
        ("李四", "month"),
        ("王五", "upcoming"),
    ]
    page = text(client.get(reverse("assessments:due"), {"team": ""}))
    assert "赵六" not in page
    assert f'href="{reverse("residents:detail", args=[s.zhang.pk])}"' in page
    assert "家属要求" in page
    assert 'class="badge due-state expired"' in page  # red for overdue
    assert s.net.a.grids[0].name in page


def test_due_list_hides_closed_dues_and_shows_the_next_routine_one(s):
    due(s.zhang, days(-10))
    final_assessment(s, s.zhang)
    rows = listed(client_for(s.doctor))
    assert rows == [("张三", "upcoming")]
    page = text(client_for(s.doctor).get(reverse("assessments:due")))
    assert days(365).isoformat() in page and days(-10).isoformat() not in page


def test_due_list_filters(s):
    due(s.zhang, days(-10))
    due(s.li, days(5), code=LTC)
    due(s.li, days(70))
    due(s.zhao, days(-3))
    client = client_for(s.doctor)
    soon = "month" if days(5).month == today().month else "upcoming"
    assert listed(client, instrument=LTC) == [("李四", soon)]
    assert listed(client, overdue="on") == [("张三", "overdue")]
    # A wide scope has no own team: all teams by default, and each team on its own.
    wide = client_for(s.wide)
    assert [name for name, _ in listed(wide)] == ["张三", "赵六", "李四", "李四"]
    assert listed(wide, team=s.net.b.team.pk) == [("赵六", "overdue")]
    assert [name for name, _ in listed(wide, team=s.net.a.team.pk)] == ["张三", "李四", "李四"]
    # The team select offers the teams in scope; the team-scoped doctor only her own.
    page = text(wide.get(reverse("assessments:due")))
    assert f'<option value="{s.net.b.team.pk}"' in page
    team_page = text(client_for(s.team_doctor).get(reverse("assessments:due")))
    assert f'<option value="{s.net.b.team.pk}"' not in team_page
    assert f'<option value="{s.net.a.team.pk}" selected>' in team_page
    # A team outside the choices is refused next to the field, listing nothing.
    response = client.get(reverse("assessments:due"), {"team": s.net.b.team.pk})
    assert response.status_code == 200 and due_rows(response) == []
    assert "Select a valid choice" in text(response).split('id="field-team"', 1)[1][:600]


def test_due_list_pages_by_keyset(s):
    for i in range(53):
        due(s.zhang, days(i - 60))
    client = client_for(s.doctor)
    first = client.get(reverse("assessments:due"))
    rows = due_rows(first)
    assert len(rows) == 50 and rows[0][2] == days(-60).isoformat()
    match = re.search(r'href="\?([^"]*after=\d+)" rel="next"', text(first))
    assert match, "no next link"
    second = client.get(reverse("assessments:due") + "?" + html.unescape(match.group(1)))
    assert [r[2] for r in due_rows(second)] == [days(i - 60).isoformat() for i in range(50, 53)]
    assert 'rel="prev"' in text(second) and 'rel="next"' not in text(second)


def test_due_list_queries_do_not_grow_with_rows(s):
    client = client_for(s.doctor)
    due(s.zhang, days(-1))
    client.get(reverse("assessments:due"))  # the session's first request loads more
    with CaptureQueriesContext(connection) as few:
        assert len(due_rows(client.get(reverse("assessments:due")))) == 1
    for i in range(30):
        due(s.li if i % 2 else s.zhang, days(i))
    with CaptureQueriesContext(connection) as many:
        assert len(due_rows(client.get(reverse("assessments:due")))) == 31
    assert len(many) == len(few)
    assert not any("COUNT(" in q["sql"].upper() for q in many.captured_queries)


def test_due_list_htmx_fragment_and_start_button(s):
    due(s.zhang, days(-1))
    fragment = client_for(s.doctor).get(reverse("assessments:due"), **HX)
    assert fragment.status_code == 200
    body = text(fragment)
    assert "<html" not in body and 'id="due-results"' in body
    start = reverse("assessments:start")
    assert f'href="{start}?resident={s.zhang.pk}"' in body
    # A caregiver sees the list but may not start an assessment.
    carer = text(client_for(s.caregiver).get(reverse("assessments:due")))
    assert "张三" in carer and "?resident=" not in carer


def test_due_list_access(s):
    assert client_for(s.supervisor).get(reverse("assessments:due")).status_code == 403
    response = Client().get(reverse("assessments:due"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_navigation_links(s):
    doctor = text(client_for(s.doctor).get(reverse("assessments:due")))
    nav = doctor.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert reverse("assessments:due") in nav and reverse("assessments:policy") not in nav
    sup = text(client_for(s.supervisor).get(reverse("assessments:policy")))
    nav = sup.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert reverse("assessments:policy") in nav and reverse("assessments:due") not in nav


# --- the resident's tab -------------------------------------------------------------------


def tab_url(resident: Resident) -> str:
    return reverse("assessments:resident", args=[resident.pk])


def test_resident_tab_full_page_and_fragment(s):
    assessment = final_assessment(s, s.zhang)
    assert (assessment.total, assessment.level) == (64, 2)
    client = client_for(s.doctor)
    page = client.get(tab_url(s.zhang))
    assert page.status_code == 200
    body = text(page)
    assert "<html" in body and 'id="resident-tabs"' in body and 'id="assessments-tab"' in body
    assert re.search(r'data-tab="assessments:resident" class="active"', body)
    # The other tabs keep their URLs and data-tab values.
    assert f'href="{reverse("residents:conditions", args=[s.zhang.pk])}"' in body
    assert 'data-tab="conditions"' in body and 'data-tab="detail"' in body
    # Header badge: the current ability level.
    assert re.search(r'id="ability-level-badge" data-level="2"', body)
    fragment = client.get(tab_url(s.zhang), **HX)
    assert fragment.status_code == 200
    part = text(fragment)
    assert "<html" not in part and 'id="assessments-tab"' in part
    # Standing: level 2 中度失能 from this assessment.
    standing = part.split('id="standing-ability"', 1)[1].split("</div>", 1)[0]
    assert 'data-level="2"' in standing and "中度失能" in standing
    assert "moderate disability" in standing and assessment.number in standing
    assert today().strftime("%Y-%m-%d") in standing
    assert 'id="standing-disability" data-level=""' in part
    # Eligibility for today: 86 years old at level 2 → the high-age allowance; no LTC
    # grade → no LTC benefits. Both default rules are marked unverified.
    eligibility = part.split('id="assessment-eligibility"', 1)[1].split("</ul>", 1)[0]
    assert 'data-rule="high_age_disability_allowance" data-eligible="yes"' in eligibility
    assert 'data-rule="ltc_insurance" data-eligible="no"' in eligibility
    assert eligibility.count(">unverified<") == 2
    # History: the session with total, level and status; the next routine due is open.
    row = part.split(f'id="assessment-{assessment.pk}"', 1)[1].split("</tr>", 1)[0]
    assert ">64<" in row and ">2<" in row and "Submitted" in row and "Routine" in row
    dues = part.split('id="resident-dues"', 1)[1].split("</table>", 1)[0]
    assert days(365).isoformat() in dues
    assert 'id="report-change-form"' in part


def test_eligibility_is_evaluated_today_with_the_current_rules(s):
    final_assessment(s, s.zhang)
    rule = EligibilityRule.objects.get(code="high_age_disability_allowance")
    policy.update_rule(s.supervisor, rule, min_age=90)
    part = text(client_for(s.doctor).get(tab_url(s.zhang), **HX))
    assert 'data-rule="high_age_disability_allowance" data-eligible="no"' in part
    # A younger resident at the same level is not eligible either.
    final_assessment(s, s.li)
    policy.update_rule(s.supervisor, rule, min_age=80)
    part = text(client_for(s.doctor).get(tab_url(s.li), **HX))
    assert 'data-rule="high_age_disability_allowance" data-eligible="no"' in part
    part = text(client_for(s.doctor).get(tab_url(s.zhang), **HX))
    assert 'data-rule="high_age_disability_allowance" data-eligible="yes"' in part


def test_resident_tab_access(s):
    assert client_for(s.caregiver).get(tab_url(s.zhang)).status_code == 200
    body = text(client_for(s.caregiver).get(tab_url(s.zhang), **HX))
    assert 'id="report-change-form"' not in body and 'id="new-assessment"' not in body
    assert client_for(s.supervisor).get(tab_url(s.zhang)).status_code == 403
    assert client_for(s.outsider).get(tab_url(s.zhang)).status_code == 404
    assert Client().get(tab_url(s.zhang)).status_code == 302
    # Without the right to see the health record, neither the tab nor the badge shows.
    final_assessment(s, s.zhang)
    detail = text(client_for(s.supervisor).get(reverse("residents:detail", args=[s.zhang.pk])))
    assert "assessments:resident" not in detail and "ability-level-badge" not in detail


def test_report_a_change_creates_a_due_today_and_it_appears(s):
    url = reverse("assessments:report_change", args=[s.zhang.pk])
    client = client_for(s.nurse)
    data = {"change-reason": "fall", "change-instrument": GBT, "change-note": "夜间跌倒"}
    response = client.post(url, data, **HX)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and body.lstrip().startswith(
        '<section class="card" id="assessment-dues"'
    )
    created = Due.objects.get(resident=s.zhang)
    assert (created.due_on, created.reason, created.note) == (today(), "fall", "夜间跌倒")
    assert created.created_by == s.nurse and created.done_by is None
    assert f'id="due-{created.pk}"' in body and "夜间跌倒" in body and "Fall" in body
    assert AuditEvent.objects.filter(action="assessments.due.create").count() == 1
    # It is in the team's due list at once.
    assert ("张三", "month") in listed(client_for(s.doctor))
    # A plain POST goes back to the tab.
    plain = client.post(url, {**data, "change-reason": "dispute"})
    assert plain.status_code == 302 and plain["Location"] == tab_url(s.zhang)
    assert Due.objects.filter(resident=s.zhang).count() == 2


def test_report_a_change_refuses_bad_input_and_readers(s):
    url = reverse("assessments:report_change", args=[s.zhang.pk])
    response = client_for(s.nurse).post(
        url, {"change-reason": "birthday", "change-instrument": GBT}, **HX
    )
    assert response.status_code == 200
    assert field_errors(response, "change-reason")  # next to the field
    response = client_for(s.nurse).post(
        url, {"change-reason": "fall", "change-instrument": "nonsense"}
    )
    assert response.status_code == 200 and "<html" in text(response)
    assert field_errors(response, "change-instrument")
    carer = client_for(s.caregiver).post(url, {"change-reason": "fall", "change-instrument": GBT})
    assert carer.status_code == 403
    outsider = client_for(s.outsider).post(url, {"change-reason": "fall", "change-instrument": GBT})
    assert outsider.status_code == 404
    assert not Due.objects.exists()


# --- policy pages -------------------------------------------------------------------------


def rule_url(rule: EligibilityRule) -> str:
    return reverse("assessments:rule_edit", args=[rule.pk])


def rule_form(rule: EligibilityRule, **changes) -> dict[str, object]:
    data: dict[str, object] = {
        "name_zh": rule.name_zh,
        "name_en": rule.name_en,
        "min_age": rule.min_age if rule.min_age is not None else "",
        "min_ability_level": rule.min_ability_level if rule.min_ability_level is not None else "",
        "min_disability_grade": (
            rule.min_disability_grade if rule.min_disability_grade is not None else ""
        ),
        "source": rule.source,
    }
    for flag in ("requires_ltc_insured", "unverified", "active"):
        if getattr(rule, flag):
            data[flag] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_policy_page_lists_rules_and_schedules(s):
    page = client_for(s.supervisor).get(reverse("assessments:policy"))
    assert page.status_code == 200
    body = text(page)
    for rule in EligibilityRule.objects.all():
        row = body.split(f'id="rule-{rule.pk}"', 1)[1].split("</tr>", 1)[0]
        assert rule.name_zh in row and 'data-unverified="1"' in row
    assert 'id="schedule-gbt42195-2022"' in body
    assert "Elderly ability assessment" in body


def test_supervisor_edits_a_rule_audited(s):
    rule = EligibilityRule.objects.get(code="high_age_disability_allowance")
    client = client_for(s.supervisor)
    assert client.get(rule_url(rule)).status_code == 200
    data = rule_form(rule, min_age=75, name_en="High-age allowance")
    data.pop("unverified")  # verified against the local policy text now
    response = client.post(rule_url(rule), data)
    assert response.status_code == 302 and response["Location"] == reverse("assessments:policy")
    rule.refresh_from_db()
    assert (rule.min_age, rule.name_en, rule.unverified) == (75, "High-age allowance", False)
    event = AuditEvent.objects.get(action="assessments.rule.update")
    assert event.details["changed"] == ["name_en", "min_age", "unverified"]
    assert event.actor_id == s.supervisor.pk
    # Unchanged input writes nothing.
    client.post(rule_url(rule), rule_form(rule))
    assert AuditEvent.objects.filter(action="assessments.rule.update").count() == 1


def test_supervisor_creates_a_rule_and_edits_a_schedule(s):
    client = client_for(s.supervisor)
    response = client.post(
        reverse("assessments:rule_create"),
        {
            "code": "home_bed",
            "name_zh": "家庭养老床位",
            "name_en": "Home care bed",
            "min_ability_level": "3",
            "source": "县民政局 2026",
            "active": "on",
        },
        **HX,
    )
    assert response.status_code == 200 and response["HX-Redirect"] == reverse("assessments:policy")
    rule = EligibilityRule.objects.get(code="home_bed")
    assert (rule.min_ability_level, rule.min_age, rule.active, rule.unverified) == (
        3,
        None,
        True,
        False,
    )
    assert AuditEvent.objects.filter(action="assessments.rule.create").count() == 1
    duplicate = client.post(
        reverse("assessments:rule_create"),
        {"code": "home_bed", "name_zh": "x", "name_en": "x"},
    )
    assert field_errors(duplicate, "code") == ["A rule with the code home_bed already exists."]
    # Schedule: every 180 days, no second assessor.
    url = reverse("assessments:schedule_edit", args=[GBT])
    response = client.post(url, {"interval_days": "180"})
    assert response.status_code == 302
    stored = SchedulePolicy.objects.get(instrument_code=GBT)
    assert (stored.interval_days, stored.requires_second_assessor) == (180, False)
    event = AuditEvent.objects.get(action="assessments.policy.update")
    assert event.details["changed"] == ["interval_days", "requires_second_assessor"]
    # An instrument without a stored policy gets one on its first change.
    assert not SchedulePolicy.objects.filter(instrument_code="barthel").exists()
    client.post(
        reverse("assessments:schedule_edit", args=["barthel"]),
        {"interval_days": "90", "requires_second_assessor": "on"},
    )
    barthel = SchedulePolicy.objects.get(instrument_code="barthel")
    assert (barthel.interval_days, barthel.requires_second_assessor) == (90, True)
    assert client.get(reverse("assessments:schedule_edit", args=["nope"])).status_code == 404


def test_a_doctor_may_not_edit_the_policy(s):
    rule = EligibilityRule.objects.get(code="high_age_disability_allowance")
    doctor = client_for(s.doctor)
    assert doctor.get(reverse("assessments:policy")).status_code == 403
    assert doctor.post(rule_url(rule), rule_form(rule, min_age=60)).status_code == 403
    url = reverse("assessments:schedule_edit", args=[GBT])
    assert doctor.post(url, {"interval_days": "30"}).status_code == 403
    assert doctor.post(reverse("assessments:rule_create"), {"code": "x"}).status_code == 403
    rule.refresh_from_db()
    assert rule.min_age == 80
    assert SchedulePolicy.objects.get(instrument_code=GBT).interval_days == 365
    assert not AuditEvent.objects.filter(action__startswith="assessments.rule").exists()
    assert not AuditEvent.objects.filter(action="assessments.policy.update").exists()


def test_bad_policy_input_is_refused_next_to_the_field(s):
    rule = EligibilityRule.objects.get(code="high_age_disability_allowance")
    client = client_for(s.supervisor)
    response = client.post(rule_url(rule), rule_form(rule, min_ability_level=7, min_age=70))
    assert response.status_code == 200
    errors = field_errors(response, "min_ability_level")
    assert len(errors) == 1 and "between 0 and 4" in errors[0] and "7" in errors[0]
    response = client.post(rule_url(rule), rule_form(rule, min_disability_grade=6), **HX)
    assert "<html" not in text(response)
    assert "between 0 and 5" in field_errors(response, "min_disability_grade")[0]
    response = client.post(rule_url(rule), rule_form(rule, name_zh="  "))
    assert field_errors(response, "name_zh")
    url = reverse("assessments:schedule_edit", args=[GBT])
    response = client.post(url, {"interval_days": "0", "requires_second_assessor": "on"})
    assert response.status_code == 200
    assert "between 1 and" in field_errors(response, "interval_days")[0]
    rule.refresh_from_db()
    assert (rule.min_age, rule.min_ability_level, rule.name_zh) == (80, 2, "高龄失能老人补贴")
    assert SchedulePolicy.objects.get(instrument_code=GBT).interval_days == 365
    assert not AuditEvent.objects.filter(action__startswith="assessments.rule").exists()
    assert not AuditEvent.objects.filter(action="assessments.policy.update").exists()


def test_policy_functions_for_the_api(s):
    rule = EligibilityRule.objects.get(code="ltc_insurance")
    with pytest.raises(PermissionDenied):
        policy.update_rule(s.doctor, rule, min_disability_grade=2)
    for changes, field in (
        ({"min_disability_grade": True}, "min_disability_grade"),
        ({"min_age": "eighty"}, "min_age"),
        ({"active": "yes"}, "active"),
        ({"code": "renamed"}, "code"),
        ({"name_en": "x" * 101}, "name_en"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            policy.update_rule(s.supervisor, rule.pk, **changes)
        assert exc.value.field == field, changes
    with pytest.raises(ValidationFailed) as exc:
        policy.create_rule(s.supervisor, code="Bad Code", name_zh="甲", name_en="A")
    assert exc.value.field == "code"
    with pytest.raises(ValidationFailed) as exc:
        policy.update_schedule(s.supervisor, LTC, interval_days=None)
    assert exc.value.field == "interval_days"
    updated = policy.update_rule(s.supervisor, rule.pk, min_disability_grade="4")
    assert updated.min_disability_grade == 4
    rule.refresh_from_db()
    assert rule.min_disability_grade == 4


def test_the_rule_form_shows_every_error_at_once(s):
    client = client_for(s.supervisor)
    before = EligibilityRule.objects.count()
    response = client.post(
        reverse("assessments:rule_create"),
        {
            "code": "Bad Code!",
            "name_zh": "",
            "name_en": "",
            "min_age": "abc",
            "min_ability_level": "9",
            "min_disability_grade": "7",
        },
    )
    assert response.status_code == 200
    assert field_errors(response, "code") == [
        "Code: use lower-case letters, digits, '-' and '_' (at most 50 characters, starting "
        "with a letter or digit)."
    ]
    assert field_errors(response, "name_zh") == ["Name (Chinese) is required."]
    assert field_errors(response, "name_en") == ["Name (English) is required."]
    assert field_errors(response, "min_age") == ["Enter a whole number."]
    assert field_errors(response, "min_ability_level") == [
        "Minimum ability level (GB/T 42195, 0–4) must be between 0 and 4 (got 9)."
    ]
    assert field_errors(response, "min_disability_grade") == [
        "Minimum LTC disability grade (0–5) must be between 0 and 5 (got 7)."
    ]
    assert EligibilityRule.objects.count() == before
    # Editing: both bad numbers at once, nothing saved.
    rule = EligibilityRule.objects.get(code="high_age_disability_allowance")
    response = client.post(
        rule_url(rule), rule_form(rule, name_en="", min_ability_level=9, min_age=200)
    )
    assert field_errors(response, "name_en") == ["Name (English) is required."]
    assert field_errors(response, "min_ability_level") == [
        "Minimum ability level (GB/T 42195, 0–4) must be between 0 and 4 (got 9)."
    ]
    assert field_errors(response, "min_age") == ["Minimum age must be between 0 and 130 (got 200)."]
    rule.refresh_from_db()
    assert (rule.min_age, rule.min_ability_level, rule.name_en) == (
        80,
        2,
        "High-age disability allowance",
    )
