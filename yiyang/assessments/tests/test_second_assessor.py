"""Who may be named second assessor: only an assessor the actor works with (anyone else
gets the same nameless answer as a missing id), and only one who can open the resident's
record (else the session could never be signed) — through the API and the pages."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.assessments.models import Assessment, SessionStatus
from yiyang.assessments.tests.conftest import World
from yiyang.assessments.tests.test_api_sessions import call, open_draft
from yiyang.assessments.tests.test_scoring import EXAMPLE_GBT
from yiyang.common.permissions import Role
from yiyang.network.models import Profession, TeamRole
from yiyang.network.services.staff import create_staff
from yiyang.network.services.teams import create_team
from yiyang.testing.clients import client_for
from yiyang.testing.network import PASSWORD, make_user


@dataclass
class Teams:
    doctor1: User  # team 1 (serves the residents' grid)
    doctor2: User  # team 2 (another grid), same township hospital
    nurse1: User  # team 1


@pytest.fixture
def t(w: World) -> Teams:
    admin = w.net.admin
    a = w.net.a
    staff2 = create_staff(
        admin,
        name="周医生",
        sex="M",
        profession=Profession.DOCTOR,
        licence_no="110411599990001",
        memberships=[{"institution": a.thc, "position": "全科医生", "primary": True}],
    )
    team2 = create_team(
        admin,
        name="龙山家庭医生团队",
        node=a.center,
        leader=staff2,
        members=[{"staff": staff2, "role": TeamRole.LEADER}],
        grids=[a.grids[1]],  # 杨店村, not the residents' grid
    )
    return Teams(
        doctor1=make_user(Role.DOCTOR, a.team, username="doctor1", staff=a.doctor),
        doctor2=make_user(
            Role.DOCTOR, team2, username="doctor2", staff=staff2, display_name="周医生"
        ),
        nurse1=make_user(Role.NURSE, a.team, username="nurse1", staff=a.nurse),
    )


def put_second(client, draft: dict, user_id) -> object:
    return call(
        client, "put", f"/sessions/{draft['id']}/second-assessor", {"second_assessor": user_id}
    )


def test_naming_someone_the_actor_does_not_work_with_reveals_nothing(w, t):
    doctor = client_for(t.doctor1)
    draft = open_draft(doctor, w, second_assessor=None)
    sysadmin = User.objects.get(username="network-admin")
    sysadmin.display_name = "系统管理员"
    sysadmin.save(update_fields=["display_name"])
    missing = put_second(doctor, draft, 999_999)
    assert missing.status_code == 400
    expected = {
        "code": "unknown_user",
        "detail": "No such assessor among the people you work with.",
        "field": "second_assessor",
    }
    assert missing.json() == expected
    # An administrator, a doctor of another county, a caregiver next door: the same
    # answer as a missing id, no name.
    for user in (sysadmin, w.outsider, w.caregiver):
        r = put_second(doctor, draft, user.pk)
        assert r.status_code == 400 and r.json() == expected, user.username
        assert str(user) not in r.content.decode()
    assert Assessment.objects.get(pk=draft["id"]).second_assessor_id is None
    # A colleague of the same team is accepted.
    r = put_second(doctor, draft, t.nurse1.pk)
    assert r.status_code == 200 and r.json()["second_assessor"] == "nurse1"


def test_a_second_assessor_who_cannot_open_the_resident_is_refused(w, t):
    doctor = client_for(t.doctor1)
    draft = open_draft(doctor, w, second_assessor=None)
    r = put_second(doctor, draft, t.doctor2.pk)
    assert r.status_code == 400
    assert r.json() == {
        "code": "out_of_scope",
        "detail": "周医生 cannot open the record of 陈秀英 (outside their area), so they "
        "could not sign this assessment.",
        "field": "second_assessor",
    }
    assert Assessment.objects.get(pk=draft["id"]).second_assessor_id is None
    # Opening a draft with them is refused too, and nothing is created.
    before = Assessment.objects.count()
    body = {
        "resident": w.old.pk,
        "instrument": "gbt42195-2022",
        "reason": "first",
        "place": "home",
        "second_assessor": t.doctor2.pk,
    }
    r = call(doctor, "post", "/sessions", body)
    assert r.status_code == 400 and r.json()["code"] == "out_of_scope"
    assert Assessment.objects.count() == before


def test_the_start_page_offers_and_accepts_only_assessors_who_can_sign(w, t):
    doctor = client_for(t.doctor1)
    url = reverse("assessments:start") + f"?resident={w.old.pk}"
    page = doctor.get(url).content.decode()
    assert f'value="{t.nurse1.pk}"' in page
    assert f'value="{t.doctor2.pk}"' not in page
    before = Assessment.objects.count()
    form = {
        "instrument": "gbt42195-2022",
        "reason": "first",
        "assessed_on": timezone.localdate().isoformat(),
        "place": "home",
        "second_assessor": str(t.doctor2.pk),
    }
    r = doctor.post(url, form)
    assert r.status_code == 400
    assert 'data-field="second_assessor"' in r.content.decode()
    assert Assessment.objects.count() == before


def test_co_signing_on_the_device_by_someone_who_cannot_open_the_record_is_refused(w, t):
    doctor = client_for(t.doctor1)
    draft = open_draft(doctor, w, second_assessor=None)
    r = call(doctor, "patch", f"/sessions/{draft['id']}/answers", {"answers": EXAMPLE_GBT})
    assert r.status_code == 200
    r = doctor.post(
        reverse("assessments:submit", args=[draft["id"]]),
        {"mode": "cosign", "cosign_username": "doctor2", "cosign_password": PASSWORD},
    )
    assert r.status_code == 400
    assert "周医生 cannot open the record of 陈秀英" in r.content.decode()
    assert Assessment.objects.get(pk=draft["id"]).status == SessionStatus.DRAFT


def test_a_session_left_waiting_for_someone_who_cannot_sign_can_be_handed_to_a_colleague(w, t):
    """Sessions submitted before the check could wait forever for a second assessor
    outside the resident's area: the first assessor names another one, who signs."""
    doctor = client_for(t.doctor1)
    draft = open_draft(doctor, w, second_assessor=None)
    call(doctor, "patch", f"/sessions/{draft['id']}/answers", {"answers": EXAMPLE_GBT})
    Assessment.objects.filter(pk=draft["id"]).update(second_assessor=t.doctor2)  # old data
    r = call(doctor, "post", f"/sessions/{draft['id']}/submit")
    assert r.status_code == 200 and r.json()["status"] == "pending_signoff"
    assert call(client_for(t.doctor2), "post", f"/sessions/{draft['id']}/sign").status_code == 404

    # Clearing it while waiting is refused: a pending session needs someone to sign.
    r = put_second(doctor, draft, None)
    assert r.status_code == 400 and r.json()["code"] == "second_assessor_required"
    # Another assessor outside her area is refused as for a draft.
    assert put_second(doctor, draft, t.doctor2.pk).json()["code"] == "out_of_scope"
    # A colleague who can open her record takes it over and signs.
    r = put_second(doctor, draft, t.nurse1.pk)
    assert r.status_code == 200 and r.json()["second_assessor"] == "nurse1"
    assert r.json()["status"] == "pending_signoff"
    r = call(client_for(t.nurse1), "post", f"/sessions/{draft['id']}/sign")
    assert r.status_code == 200 and r.json()["status"] == "final"
