"""Escalation management (ADR 0020): the duty roster (services, the ``devices:duty``
page, ``/api/v1/escalation/duty``) and the per-severity schedule (``devices:escalation``,
``/api/v1/escalation/schedule``). Permissions and scope; bad input changes nothing; a
shift added through the page is the one the center tier of a real alert notifies."""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.audit.models import AuditEvent
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.devices.models import Alert, EscalationStep
from yiyang.devices.services import escalation, timers
from yiyang.devices.tests.conftest import msg, notified, send_ticked
from yiyang.network.models import DutyShift, Institution
from yiyang.network.selectors import duty as network_selectors
from yiyang.network.services import duty
from yiyang.testing.clients import client_for
from yiyang.testing.network import Network, build_network, make_user

pytestmark = pytest.mark.django_db

ROSTER = "/devices/duty/"
SCHEDULE = "/devices/escalation/"
API_SCHEDULE = "/api/v1/escalation/schedule"
API_DUTY = "/api/v1/escalation/duty"
HOUR = datetime.timedelta(hours=1)


@dataclass
class Roster:
    net: Network
    thc: Institution  # county A's township hospital: the center's medical member
    manager: User  # institution admin, county A (staff and devices manage)
    member: User  # a doctor of the township hospital by staff membership
    scoped: User  # a doctor whose scope is the township hospital
    far_doctor: User  # a doctor of county B's township hospital
    nurse: User  # county A: sees the roster, cannot change it
    supervisor: User  # county A: changes the schedule (devices.alert_policy)
    carer: User  # county A: neither roster nor staff
    far_manager: User  # institution admin, county B


@pytest.fixture
def roster(db) -> Roster:
    net = build_network()
    county_a, county_b = net.a.county, net.b.county
    return Roster(
        net=net,
        thc=net.a.thc,
        manager=make_user(Role.INSTITUTION_ADMIN, county_a, username="manager"),
        member=make_user(
            Role.DOCTOR, county_a, username="doc-member", staff=net.a.doctor, display_name="王医生"
        ),
        scoped=make_user(Role.DOCTOR, net.a.thc, username="doc-scoped", display_name="李医生"),
        far_doctor=make_user(Role.DOCTOR, net.b.thc, username="doc-far"),
        nurse=make_user(Role.NURSE, county_a, username="nurse-a"),
        supervisor=make_user(Role.SUPERVISOR, county_a, username="supervisor-a"),
        carer=make_user(Role.CAREGIVER, county_a, username="carer-a"),
        far_manager=make_user(Role.INSTITUTION_ADMIN, county_b, username="manager-b"),
    )


def local(when: datetime.datetime) -> str:
    """What a datetime-local input sends: the site's wall-clock time, to the minute."""
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def minute(when: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(when).replace(second=0, microsecond=0)


def shift(r: Roster, user: User, start: datetime.datetime, end: datetime.datetime) -> DutyShift:
    return duty.set_duty(r.manager, institution=r.thc, user=user, starts_at=start, ends_at=end)


def snapshot() -> list[tuple]:
    return list(
        DutyShift.objects.order_by("pk").values_list(
            "pk", "institution_id", "user_id", "starts_at", "ends_at"
        )
    )


def steps() -> list[tuple]:
    return list(EscalationStep.objects.values_list("severity", "tier", "after_minutes"))


def put(client, url: str, body: dict):
    return client.put(url, json.dumps(body), content_type="application/json")


def post(client, url: str, body: dict | None = None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


# --- services ---------------------------------------------------------------------------


def test_who_may_be_on_duty_where(roster):
    r = roster
    now = timezone.now()
    assert [i.pk for i in network_selectors.duty_institutions(r.manager)] == [r.thc.pk]
    assert [i.pk for i in network_selectors.duty_institutions(r.far_manager)] == [r.net.b.thc.pk]
    candidates = network_selectors.duty_candidates(r.manager, [r.thc.pk, r.net.b.thc.pk])
    assert {u.username for u in candidates[r.thc.pk]} == {"doc-member", "doc-scoped"}
    assert r.net.b.thc.pk not in candidates  # out of scope: not even listed
    with pytest.raises(PermissionDenied):
        network_selectors.duty_institutions(r.carer)

    bad = [
        # a doctor of another institution
        (dict(institution=r.thc, user=r.far_doctor), "user", "invalid"),
        # not a doctor
        (dict(institution=r.thc, user=r.nurse), "user", "invalid"),
        # a station's clinic: the center tier never asks its roster
        (dict(institution=r.net.a.clinics[0], user=r.member), "institution", "invalid"),
        # a user that does not exist
        (dict(institution=r.thc, user=999999), "user", "unknown_reference"),
        # out of scope
        (dict(institution=r.net.b.thc, user=r.far_doctor), "institution", "unknown_reference"),
    ]
    for kwargs, field, code in bad:
        with pytest.raises(ValidationFailed) as caught:
            duty.add_duty(r.manager, starts_at=now, ends_at=now + HOUR, **kwargs)
        assert (caught.value.field, caught.value.code) == (field, code), kwargs
    for start, end, field in (
        (now - 3 * HOUR, now - HOUR, "ends_at"),  # over already
        (now, now + datetime.timedelta(days=32), "ends_at"),  # too long
        (now + HOUR, now + HOUR, "ends_at"),  # empty
        (now.replace(tzinfo=None), now + HOUR, "starts_at"),  # no time zone
    ):
        with pytest.raises(ValidationFailed) as caught:
            duty.add_duty(r.manager, institution=r.thc, user=r.member, starts_at=start, ends_at=end)
        assert caught.value.field == field
    with pytest.raises(PermissionDenied):
        duty.add_duty(r.nurse, institution=r.thc, user=r.member, starts_at=now, ends_at=now + HOUR)
    assert snapshot() == []
    assert not AuditEvent.objects.filter(action="devices.duty.set").exists()

    first = shift(r, r.member, now, now + 8 * HOUR)
    with pytest.raises(ValidationFailed) as caught:  # the same doctor, overlapping
        shift(r, r.member, now + 7 * HOUR, now + 12 * HOUR)
    assert caught.value.code == "overlap"
    shift(r, r.member, now + 8 * HOUR, now + 12 * HOUR)  # back to back is fine
    shift(r, r.scoped, now, now + 8 * HOUR)  # two doctors at once is fine
    assert DutyShift.objects.count() == 3
    assert AuditEvent.objects.filter(action="devices.duty.set").count() == 3
    assert first.created_by == r.manager


def test_ending_and_cancelling_a_shift(roster):
    r = roster
    now = timezone.now()
    running = shift(r, r.member, now - HOUR, now + 7 * HOUR)
    upcoming = shift(r, r.scoped, now + 2 * HOUR, now + 10 * HOUR)
    with pytest.raises(PermissionDenied):
        duty.end_duty(r.nurse, running)
    with pytest.raises(NotFound):
        duty.end_duty(r.far_manager, running)
    with pytest.raises(NotFound):
        duty.end_duty(r.manager, 999999)
    assert len(snapshot()) == 2

    assert duty.end_duty(r.manager, upcoming) == "cancelled"
    assert not DutyShift.objects.filter(pk=upcoming.pk).exists()
    at = timezone.now()
    assert duty.end_duty(r.manager, running.pk, now=at) == "ended"
    running.refresh_from_db()
    assert running.ends_at == at
    with pytest.raises(ValidationFailed) as caught:
        duty.end_duty(r.manager, running)
    assert caught.value.code == "ended"
    running.refresh_from_db()
    assert running.ends_at == at
    audit = {
        e.action: e
        for e in AuditEvent.objects.filter(action__in=["devices.duty.end", "devices.duty.cancel"])
    }
    assert audit["devices.duty.cancel"].object_id == str(upcoming.pk)
    assert audit["devices.duty.cancel"].actor_id == r.manager.pk
    assert audit["devices.duty.end"].details["ended_at"] == at.isoformat()


def test_the_roster_is_scoped(roster):
    r = roster
    now = timezone.now()
    mine = shift(r, r.member, now, now + HOUR)
    far = duty.set_duty(
        r.far_manager,
        institution=r.net.b.thc,
        user=r.far_doctor,
        starts_at=now,
        ends_at=now + HOUR,
    )
    assert list(network_selectors.duty_shifts_for(r.nurse)) == [mine]
    assert list(network_selectors.duty_shifts_for(r.far_manager)) == [far]
    with pytest.raises(NotFound):
        network_selectors.get_duty_shift_for(r.nurse, far.pk)
    with pytest.raises(PermissionDenied):
        network_selectors.duty_shifts_for(r.carer)


def test_on_duty_says_who_the_center_tier_notifies(roster):
    r = roster
    now = timezone.now()
    [row] = network_selectors.on_duty(r.nurse, now)
    assert row["institution"] == r.thc
    assert row["by_roster"] is False  # nobody on duty: the township hospital's doctors
    assert {u.username for u in row["doctors"]} == {"doc-member", "doc-scoped"}
    shift(r, r.scoped, now - HOUR, now + HOUR)
    [row] = network_selectors.on_duty(r.nurse, now)
    assert row["by_roster"] is True
    assert [u.username for u in row["doctors"]] == ["doc-scoped"]
    # Later, after the shift: back to the fallback.
    [row] = network_selectors.on_duty(r.nurse, now + 2 * HOUR)
    assert row["by_roster"] is False


# --- the roster page --------------------------------------------------------------------


def test_the_roster_page_shows_who_is_notified_and_the_shifts(roster):
    r = roster
    now = timezone.now()
    html = client_for(r.nurse).get(ROSTER).content.decode()
    assert "Nobody on duty" in html
    assert "its doctors are notified instead" in html
    assert "王医生" in html and "李医生" in html
    assert 'id="shift-form"' not in html  # the nurse cannot change the roster
    running = shift(r, r.scoped, now - HOUR, now + HOUR)
    upcoming = shift(r, r.member, now + 2 * HOUR, now + 4 * HOUR)
    ended = shift(r, r.member, now - 3 * HOUR, now + HOUR)
    DutyShift.objects.filter(pk=ended.pk).update(ends_at=now - HOUR)  # over by now
    html = client_for(r.manager).get(ROSTER).content.decode()
    ids = [int(pk) for pk in re.findall(r'<tr id="shift-(\d+)"', html)]
    assert ids == [running.pk, upcoming.pk]  # current and upcoming, by start; not the past
    assert re.search(rf'id="on-duty-{r.thc.pk}" data-by-roster="1"', html)
    assert 'id="shift-form"' in html
    assert f'action="/devices/duty/{running.pk}/end/"' in html
    # Filter by institution; a choice outside the scope is shown as an error, ignored.
    html = client_for(r.manager).get(ROSTER, {"institution": r.net.b.thc.pk}).content.decode()
    assert "Select a valid choice" in html
    assert client_for(r.carer).get(ROSTER).status_code == 403
    assert client_for(r.far_manager).get(ROSTER).content.decode().count('<tr id="shift-') == 0


def test_a_shift_added_on_the_page_is_the_one_the_center_tier_notifies(roster):
    r = roster
    now = timezone.now()
    start, end = now - HOUR, now + 8 * HOUR
    client = client_for(r.manager)
    response = client.post(
        ROSTER,
        {
            "institution": r.thc.pk,
            "user": r.scoped.pk,
            "starts_at": local(start),
            "ends_at": local(end),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{ROSTER}?institution={r.thc.pk}"
    row = DutyShift.objects.get()
    # The wall-clock time typed is the site's time zone (Asia/Shanghai).
    assert (row.starts_at, row.ends_at) == (minute(start), minute(end))
    assert row.user == r.scoped and row.institution == r.thc and row.created_by == r.manager
    # The escalation's center tier now asks the doctor on duty, not the others.
    assert network_selectors.duty_doctors([r.thc.pk], timezone.now()) == {r.thc.pk: {r.scoped.pk}}
    team = r.net.a.team
    assert network_selectors.center_institutions([team.pk]) == {team.pk: r.thc.pk}
    html = client.get(response["Location"]).content.decode()
    assert "李医生 is on duty at" in html
    assert re.search(rf'id="on-duty-{r.thc.pk}" data-by-roster="1"', html)

    # Ending it on the page: the fallback doctors are notified again.
    response = client.post(f"/devices/duty/{row.pk}/end/")
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.ends_at <= timezone.now()
    assert network_selectors.duty_doctors([r.thc.pk], timezone.now()) == {
        r.thc.pk: {r.member.pk, r.scoped.pk}
    }
    assert "ended now" in client.get(response["Location"]).content.decode()


def test_bad_shifts_on_the_page_change_nothing(roster):
    r = roster
    now = timezone.now()
    client = client_for(r.manager)
    good = {
        "institution": r.thc.pk,
        "user": r.member.pk,
        "starts_at": local(now + HOUR),
        "ends_at": local(now + 9 * HOUR),
    }
    cases = [
        ({"user": r.far_doctor.pk}, "Select a valid choice"),  # not among the choices
        ({"institution": r.net.b.thc.pk}, "Select a valid choice"),  # out of scope
        ({"ends_at": local(now)}, "The shift must end after it starts."),
        ({"ends_at": "tomorrow"}, "Enter a valid date/time."),
        (
            {"starts_at": local(now - 3 * HOUR), "ends_at": local(now - HOUR)},
            "The shift must end in the future.",
        ),
    ]
    for change, message in cases:
        response = client.post(ROSTER, {**good, **change})
        assert response.status_code == 200, change
        html = response.content.decode()
        assert 'class="error field-error"' in html, change
        if message:
            assert message in html, change
    assert snapshot() == []
    # A doctor of the institution put on duty twice over the same hours: the second fails.
    assert client.post(ROSTER, good).status_code == 302
    before = snapshot()
    response = client.post(ROSTER, good)
    assert response.status_code == 200
    assert "already has a shift" in response.content.decode()
    assert snapshot() == before
    # Who may not: 403 and nothing written.
    for user in (r.nurse, r.carer):
        assert client_for(user).post(ROSTER, good).status_code == 403
    assert snapshot() == before


def test_ending_on_the_page_is_scoped_and_refuses_a_past_shift(roster):
    r = roster
    now = timezone.now()
    upcoming = shift(r, r.member, now + HOUR, now + 2 * HOUR)
    assert client_for(r.far_manager).post(f"/devices/duty/{upcoming.pk}/end/").status_code == 404
    assert client_for(r.nurse).post(f"/devices/duty/{upcoming.pk}/end/").status_code == 403
    assert client_for(r.manager).get(f"/devices/duty/{upcoming.pk}/end/").status_code == 405
    assert DutyShift.objects.filter(pk=upcoming.pk).exists()
    response = client_for(r.manager).post(f"/devices/duty/{upcoming.pk}/end/")
    assert response.status_code == 302
    assert not DutyShift.objects.filter(pk=upcoming.pk).exists()
    past = shift(r, r.member, now - 2 * HOUR, now + HOUR)
    DutyShift.objects.filter(pk=past.pk).update(ends_at=now - HOUR)
    client = client_for(r.manager)
    response = client.post(f"/devices/duty/{past.pk}/end/")
    assert response.status_code == 302
    assert "This shift is already over." in client.get(response["Location"]).content.decode()
    past.refresh_from_db()
    assert past.ends_at == now - HOUR


# --- the schedule page ------------------------------------------------------------------


def test_the_schedule_page_reads_and_edits(roster):
    r = roster
    # An institution administrator (devices.manage) only reads the deployment's schedule.
    html = client_for(r.manager).get(SCHEDULE).content.decode()
    assert 'id="schedule-critical"' in html and 'id="schedule-info"' in html
    assert "after 2 min" in html  # critical tier 2 (the default schedule)
    assert "<form" not in html.split('id="schedule-critical"')[1]  # read-only
    html = client_for(r.supervisor).get(SCHEDULE).content.decode()
    assert 'name="critical-tier_2"' in html and 'value="2"' in html
    response = client_for(r.supervisor).post(
        SCHEDULE,
        {
            "severity": "warning",
            "warning-tier_1": "0",
            "warning-tier_2": "15",
            "warning-tier_3": "45.5",
        },
    )
    assert response.status_code == 302
    assert escalation.schedule()["warning"] == [
        (1, Decimal("0")),
        (2, Decimal("15")),
        (3, Decimal("45.5")),
    ]
    assert AuditEvent.objects.filter(
        action="devices.escalation.set", object_id="warning", actor=r.supervisor
    ).exists()
    # A blank tier is skipped.
    response = client_for(r.supervisor).post(
        SCHEDULE, {"severity": "warning", "warning-tier_1": "0", "warning-tier_3": "30"}
    )
    assert response.status_code == 302
    assert escalation.schedule()["warning"] == [(1, Decimal("0")), (3, Decimal("30"))]


def test_a_bad_schedule_changes_nothing(roster):
    r = roster
    before = steps()
    client = client_for(r.supervisor)
    for data, message in (
        (
            {"severity": "urgent", "urgent-tier_1": "5", "urgent-tier_2": "1"},
            "A later tier cannot be due before an earlier one.",
        ),
        ({"severity": "urgent", "urgent-tier_1": "abc"}, "minutes must be 0 or more"),
        ({"severity": "urgent", "urgent-tier_1": "-1"}, "minutes must be 0 or more"),
        ({"severity": "urgent", "urgent-tier_1": "1.234"}, "at most two decimals"),
        ({"severity": "urgent"}, "Give the minutes of at least one tier."),
        ({"severity": "loud", "loud-tier_1": "0"}, "Severity must be one of"),
    ):
        response = client.post(SCHEDULE, data)
        assert response.status_code == 200, data
        assert message in response.content.decode(), data
    assert steps() == before
    for user in (r.manager, r.far_manager, r.nurse):  # devices.manage is not enough
        response = client_for(user).post(SCHEDULE, {"severity": "urgent", "urgent-tier_1": "9"})
        assert response.status_code == 403
    assert client_for(r.far_doctor).get(SCHEDULE).status_code == 200  # devices.view
    assert steps() == before


def test_the_navigation_shows_the_new_pages_by_permission(roster):
    r = roster
    html = client_for(r.manager).get(SCHEDULE).content.decode()
    assert 'href="/devices/duty/"' in html and 'href="/devices/escalation/"' in html
    html = client_for(r.carer).get("/devices/alerts/").content.decode()
    assert 'href="/devices/escalation/"' in html
    assert 'href="/devices/duty/"' not in html  # caregivers do not see staff


# --- the API ----------------------------------------------------------------------------


def test_schedule_api(roster):
    r = roster
    got = client_for(r.supervisor).get(API_SCHEDULE)
    assert got.status_code == 200
    body = {row["severity"]: row["steps"] for row in got.json()}
    assert list(body) == ["critical", "urgent", "warning", "info"]
    assert [(s["tier"], Decimal(str(s["after_minutes"]))) for s in body["critical"]] == [
        (1, Decimal("0")),
        (2, Decimal("2")),
        (3, Decimal("5")),
    ]
    manager = client_for(r.supervisor)  # devices.alert_policy
    response = put(manager, API_SCHEDULE, {"severity": "info", "steps": {"1": 0, "2": 12.5}})
    assert response.status_code == 200, response.content
    info = {row["severity"]: row["steps"] for row in response.json()}["info"]
    assert [(s["tier"], Decimal(str(s["after_minutes"]))) for s in info] == [
        (1, Decimal("0")),
        (2, Decimal("12.5")),
    ]
    before = steps()
    for payload, field in (
        ({"severity": "info", "steps": {"1": 5, "2": 1}}, "steps"),
        ({"severity": "info", "steps": {"4": 1}}, "steps"),
        ({"severity": "info", "steps": {}}, "steps"),
        ({"severity": "loud", "steps": {"1": 0}}, "severity"),
    ):
        response = put(manager, API_SCHEDULE, payload)
        assert response.status_code == 400, payload
        assert response.json()["field"] == field
    for user in (r.manager, r.far_manager, r.nurse):  # devices.manage is not enough
        refused = put(client_for(user), API_SCHEDULE, {"severity": "info", "steps": {"1": 9}})
        assert refused.status_code == 403
    assert client_for(r.far_manager).get(API_SCHEDULE).status_code == 200
    assert client_for(make_user(Role.ASSESSOR, r.net.a.county)).get(API_SCHEDULE).status_code == 403
    assert steps() == before


def test_duty_api(roster):
    r = roster
    now = timezone.now()
    manager = client_for(r.manager)
    payload = {
        "institution": r.thc.pk,
        "user": r.scoped.pk,
        "starts_at": (now - HOUR).isoformat(),
        "ends_at": (now + 8 * HOUR).isoformat(),
    }
    response = post(manager, API_DUTY, payload)
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["user"] == {"id": r.scoped.pk, "name": "李医生"}
    assert made["institution"]["id"] == r.thc.pk
    assert made["running"] is True and made["created_by"] == "manager"
    assert network_selectors.duty_doctors([r.thc.pk], timezone.now()) == {r.thc.pk: {r.scoped.pk}}
    later = shift(r, r.member, now + 10 * HOUR, now + 12 * HOUR)
    far = duty.set_duty(
        r.far_manager, institution=r.net.b.thc, user=r.far_doctor, starts_at=now,
        ends_at=now + HOUR,
    )  # fmt: skip

    def ids(client, **params) -> list[int]:
        response = client.get(API_DUTY, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["items"]]

    nurse = client_for(r.nurse)
    assert ids(nurse) == [later.pk, made["id"]]  # newest start first, county A only
    assert ids(nurse, current="true") == [made["id"]]
    assert ids(nurse, current="false") == [later.pk]
    assert ids(nurse, institution=r.thc.pk) == [later.pk, made["id"]]
    assert ids(nurse, institution=r.net.b.thc.pk) == []
    assert client_for(r.carer).get(API_DUTY).status_code == 403

    before = snapshot()
    for change, code, field in (
        ({"institution": r.net.b.thc.pk}, "unknown_reference", "institution"),
        ({"institution": 999999}, "unknown_reference", "institution"),
        ({"user": 999999}, "unknown_reference", "user"),
        ({"user": r.far_doctor.pk}, "invalid", "user"),
        ({"starts_at": "2026-01-01T08:00:00"}, "invalid", "starts_at"),  # no time zone
        ({"ends_at": (now - 2 * HOUR).isoformat()}, "invalid", "ends_at"),
    ):
        response = post(manager, API_DUTY, {**payload, **change})
        assert response.status_code == 400, change
        assert (response.json()["code"], response.json()["field"]) == (code, field), change
    assert post(manager, API_DUTY, {**payload, "starts_at": "soon"}).status_code == 422
    assert post(nurse, API_DUTY, payload).status_code == 403
    assert snapshot() == before

    # End: out of scope 404, a nurse 403; a running shift ends, an upcoming one goes.
    assert post(manager, f"{API_DUTY}/{far.pk}/end").status_code == 404
    assert post(nurse, f"{API_DUTY}/{later.pk}/end").status_code == 403
    assert snapshot() == before
    response = post(manager, f"{API_DUTY}/{later.pk}/end")
    assert response.json() == {"outcome": "cancelled", "shift": None}
    response = post(manager, f"{API_DUTY}/{made['id']}/end")
    assert response.status_code == 200
    assert response.json()["outcome"] == "ended"
    assert response.json()["shift"]["running"] is False
    response = post(manager, f"{API_DUTY}/{made['id']}/end")
    assert response.status_code == 400 and response.json()["code"] == "ended"


# --- end to end: a real alert's center tier ----------------------------------------------


def test_a_real_alert_reaches_the_doctor_put_on_duty_on_the_page(world):
    """An SOS from a resident's button after a shift was added on the page: the center tier
    notifies that doctor (and the family), not the township hospital's other doctors (with
    nobody on duty it would be both: test_escalation)."""
    w = world
    thc = w.team.node.medical_member
    now = timezone.now()
    response = client_for(w.manager).post(
        ROSTER,
        {
            "institution": thc.pk,
            "user": w.duty.pk,
            "starts_at": local(now - HOUR),
            "ends_at": local(now + 8 * HOUR),
        },
    )
    assert response.status_code == 302
    send_ticked(w.home.device, msg(1, "sos", {}))
    alert = Alert.objects.get()
    assert timers.run_due(alert.opened_at + 2 * datetime.timedelta(minutes=1)) == 1
    assert notified(alert, 2) == {"duty-doctor", "daughter"}  # not the off-duty leader
