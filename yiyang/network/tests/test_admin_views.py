"""The network management pages (teams, chain nodes, regions, grids) through the HTTP test
client: access (login → permission → scope), the service's message next to the field with
nothing changed, and successful writes with their audit rows."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role
from yiyang.network.models import ChainNode, Grid, Institution, Region, Team
from yiyang.network.tests.pagehelpers import audit_rows, field_error, page_text
from yiyang.testing.network import Network, make_user

# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def manager(net: Network):
    """An institution admin of county A: may manage the network, may not import regions."""
    return make_user(Role.INSTITUTION_ADMIN, scope=net.a.county, username="manager-a")


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def as_doctor(client, net):
    """A doctor of county A: may view the network, may not manage it."""
    client.force_login(make_user(Role.DOCTOR, scope=net.a.county, username="doctor-a"))
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def sysadmin(net, settings):
    """A system admin of county A: may also import regions (inside county A)."""
    settings.MFA_REQUIRED_ROLES = ""
    return make_user(Role.SYSTEM_ADMIN, scope=net.a.county, username="sys-a")


@pytest.fixture
def as_sysadmin(client, sysadmin):
    client.force_login(sysadmin)
    client.cookies["django_language"] = "en"
    return client


def _counts() -> tuple[int, ...]:
    return (
        Team.objects.count(),
        ChainNode.objects.count(),
        Grid.objects.count(),
        Region.objects.count(),
        AuditEvent.objects.exclude(action="access.denied").count(),  # 403s are audited
    )


def _pages(net: Network, side: str) -> list[tuple[str, str]]:
    c = getattr(net, side)
    return [
        ("team edit", reverse("network:team_edit", args=[c.team.pk])),
        ("node edit", reverse("network:node_edit", args=[c.center.pk])),
        ("station edit", reverse("network:node_edit", args=[c.stations[0].pk])),
        ("grid edit", reverse("network:grid_edit", args=[c.grids[0].pk])),
    ]


CREATE_PAGES = ["network:team_create", "network:node_create", "network:grid_create"]


# --- access -----------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, net):
    names = [*CREATE_PAGES, "network:regions", "network:region_import", "network:grids"]
    for url in [reverse(n) for n in names] + [u for _, u in _pages(net, "a")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('web:login')}?next={url}", url


def test_manager_opens_every_page_in_scope(as_manager, net):
    for url in [reverse(n) for n in [*CREATE_PAGES, "network:regions", "network:grids"]]:
        assert as_manager.get(url).status_code == 200, url
    for label, url in _pages(net, "a"):
        assert as_manager.get(url).status_code == 200, label


def test_out_of_scope_objects_answer_404(as_manager, net):
    for label, url in _pages(net, "b"):
        response = as_manager.get(url)
        assert response.status_code == 404, label
        assert 'id="error-404"' in page_text(response)
    assert as_manager.get(reverse("network:team_edit", args=[999_999])).status_code == 404


def test_viewer_gets_403_and_posting_changes_nothing(as_doctor, net):
    for name in CREATE_PAGES:
        assert as_doctor.get(reverse(name)).status_code == 403, name
    for label, url in _pages(net, "a"):
        response = as_doctor.get(url)
        assert response.status_code == 403, label
        assert 'id="error-403"' in page_text(response)
    before = _counts()
    response = as_doctor.post(
        reverse("network:team_edit", args=[net.a.team.pk]), {"name": "改名团队"}
    )
    assert response.status_code == 403
    assert Team.objects.get(pk=net.a.team.pk).name == "周党镇家庭医生团队"
    assert _counts() == before
    # lists and pages open, without the management buttons
    assert as_doctor.get(reverse("network:grids")).status_code == 200
    assert as_doctor.get(reverse("network:regions")).status_code == 200
    for url, link in [
        (reverse("network:teams"), reverse("network:team_create")),
        (
            reverse("network:team", args=[net.a.team.pk]),
            reverse("network:team_edit", args=[net.a.team.pk]),
        ),
        (
            reverse("network:node", args=[net.a.center.pk]),
            reverse("network:node_edit", args=[net.a.center.pk]),
        ),
        (reverse("network:tree"), reverse("network:node_create")),
        (reverse("network:tree"), reverse("network:region_import")),
        (reverse("network:grids"), reverse("network:grid_create")),
    ]:
        assert link not in page_text(as_doctor.get(url)), url


def test_region_import_needs_the_import_permission(as_manager, net):
    assert as_manager.get(reverse("network:region_import")).status_code == 403
    before = _counts()
    csv_file = SimpleUploadedFile("r.csv", b"411521102000,new town\n", "text/csv")
    response = as_manager.post(reverse("network:region_import"), {"file": csv_file, "year": 2023})
    assert response.status_code == 403
    assert _counts() == before
    tree = page_text(as_manager.get(reverse("network:tree")))
    assert reverse("network:region_import") not in tree
    assert reverse("network:regions") in tree


def test_manager_sees_the_management_links(as_manager, net):
    assert reverse("network:team_create") in page_text(as_manager.get(reverse("network:teams")))
    team = page_text(as_manager.get(reverse("network:team", args=[net.a.team.pk])))
    assert reverse("network:team_edit", args=[net.a.team.pk]) in team
    node = page_text(as_manager.get(reverse("network:node", args=[net.a.center.pk])))
    assert reverse("network:node_edit", args=[net.a.center.pk]) in node
    tree = page_text(as_manager.get(reverse("network:tree")))
    assert reverse("network:node_create") in tree
    assert reverse("network:grids") in tree
    grids = page_text(as_manager.get(reverse("network:grids")))
    assert reverse("network:grid_create") in grids
    assert reverse("network:grid_edit", args=[net.a.grids[0].pk]) in grids


# --- teams ------------------------------------------------------------------------------


def _team_post(name: str, node, leader, members, grids=()) -> dict:
    data = {"name": name, "node": node.pk, "leader": leader.pk, "grids": [g.pk for g in grids]}
    for i, (staff, role) in enumerate(members):
        data[f"members-{i}-staff"] = staff.pk
        data[f"members-{i}-role"] = role
    # one empty row, as the browser posts it: ignored
    data[f"members-{len(members)}-staff"] = ""
    data[f"members-{len(members)}-role"] = "other"
    return data


def test_team_create_form_offers_only_the_scope(as_manager, net):
    form = as_manager.get(reverse("network:team_create")).context["form"]
    assert set(form.fields["node"].queryset) == {net.a.center, *net.a.stations}
    assert set(form.fields["grids"].queryset) == set(net.a.grids)
    assert set(form.fields["leader"].queryset) == {net.a.doctor, net.a.nurse, net.a.caregiver}
    text = page_text(as_manager.get(reverse("network:team_create")))
    assert 'name="members-0-staff"' in text and 'name="members-2-role"' in text
    assert net.b.doctor.name not in text


def test_team_create_saves_members_roles_and_grids_with_an_audit_row(as_manager, manager, net):
    a = net.a
    station = a.stations[0]
    data = _team_post(
        "周党村家庭医生团队",
        station,
        a.nurse,
        [(a.nurse, "leader"), (a.caregiver, "caregiver")],
        [a.grids[0]],
    )
    response = as_manager.post(reverse("network:team_create"), data)
    team = Team.objects.get(name="周党村家庭医生团队")
    assert response.status_code == 302
    assert response["Location"] == reverse("network:team", args=[team.pk])
    assert (team.node_id, team.leader_id) == (station.pk, a.nurse.pk)
    assert sorted(team.memberships.values_list("staff__name", "role")) == [
        ("张桂兰", "caregiver"),
        ("李秀英", "leader"),
    ]
    assert list(team.grids.all()) == [a.grids[0]]
    [event] = audit_rows("network.team.create", manager)
    assert (event.actor_id, event.object_id) == (manager.pk, str(team.pk))
    assert event.details == {
        "fields": {
            "name": "周党村家庭医生团队",
            "node": station.pk,
            "leader": a.nurse.pk,
            "members": [
                {"staff": a.nurse.pk, "role": "leader"},
                {"staff": a.caregiver.pk, "role": "caregiver"},
            ],
            "grids": [a.grids[0].pk],
        }
    }


def test_team_create_with_a_leader_who_is_no_member_shows_the_error(as_manager, net):
    a = net.a
    before = _counts()
    data = _team_post("新团队", a.center, a.doctor, [(a.nurse, "nurse")])
    response = as_manager.post(reverse("network:team_create"), data)
    assert response.status_code == 200
    assert field_error(response, "leader") == [
        "The leader 王建国 must also be a member of the team."
    ]
    assert _counts() == before
    # the rows the user entered are shown again
    assert re.search(
        rf'name="members-0-staff".*?<option value="{a.nurse.pk}" selected>',
        page_text(response),
        re.S,
    )


def test_team_create_with_a_member_twice_shows_the_error(as_manager, net):
    a = net.a
    before = _counts()
    data = _team_post("新团队", a.center, a.doctor, [(a.doctor, "leader"), (a.doctor, "doctor")])
    response = as_manager.post(reverse("network:team_create"), data)
    assert response.status_code == 200
    assert field_error(response, "members") == ["王建国 is listed twice."]
    assert _counts() == before


def test_team_create_cannot_pick_staff_outside_the_scope(as_manager, net):
    a, b = net.a, net.b
    before = _counts()
    data = _team_post("新团队", a.center, a.doctor, [(a.doctor, "leader"), (b.nurse, "nurse")])
    response = as_manager.post(reverse("network:team_create"), data)
    assert response.status_code == 200
    assert field_error(response, "members") == [
        f"Select a valid staff member: {b.nurse.pk} is not one of the choices."
    ]
    assert _counts() == before


def test_team_edit_changes_roles_removes_a_member_and_is_audited(as_manager, manager, net):
    a = net.a
    url = reverse("network:team_edit", args=[a.team.pk])
    form = as_manager.get(url).context["form"]
    assert form["members"].value() == [
        (a.doctor.pk, "leader"),
        (a.nurse.pk, "nurse"),
        (a.caregiver.pk, "caregiver"),
    ]
    data = _team_post(
        a.team.name, a.center, a.doctor, [(a.doctor, "leader"), (a.nurse, "public_health")], a.grids
    )
    response = as_manager.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("network:team", args=[a.team.pk])
    assert sorted(a.team.memberships.values_list("staff_id", "role")) == sorted(
        [(a.doctor.pk, "leader"), (a.nurse.pk, "public_health")]
    )
    [event] = audit_rows("network.team.update", manager)
    assert event.actor_id == manager.pk
    before = sorted([(a.doctor.pk, "leader"), (a.nurse.pk, "nurse"), (a.caregiver.pk, "caregiver")])
    after = sorted([(a.doctor.pk, "leader"), (a.nurse.pk, "public_health")])
    assert event.details == {
        "changed": {
            "members": {
                "from": [{"staff": pk, "role": r} for pk, r in before],
                "to": [{"staff": pk, "role": r} for pk, r in after],
            }
        }
    }


def test_team_edit_with_a_grid_outside_the_node_region_changes_nothing(as_manager, net):
    """Moving the team to a station whose village does not hold the team's grids."""
    a = net.a
    team = a.team
    url = reverse("network:team_edit", args=[team.pk])
    members = [(a.doctor, "leader"), (a.nurse, "nurse"), (a.caregiver, "caregiver")]
    before = _counts()
    response = as_manager.post(
        url, _team_post("改名团队", a.stations[1], a.doctor, members, a.grids)
    )
    assert response.status_code == 200
    assert field_error(response, "grids") == [
        f"Grid {a.grids[0].name} is not inside {a.stations[1].region.name}, "
        "the region of the team's node."
    ]
    team.refresh_from_db()
    assert (team.name, team.node_id) == ("周党镇家庭医生团队", a.center.pk)
    assert _counts() == before


def test_team_edit_without_changes_saves_nothing(as_manager, net):
    a = net.a
    url = reverse("network:team_edit", args=[a.team.pk])
    members = [(a.doctor, "leader"), (a.nurse, "nurse"), (a.caregiver, "caregiver")]
    before = _counts()
    response = as_manager.post(url, _team_post(a.team.name, a.center, a.doctor, members, a.grids))
    assert response.status_code == 302
    assert _counts() == before


def test_team_form_with_htmx_returns_the_fragment(as_manager, net):
    a = net.a
    url = reverse("network:team_create")
    data = _team_post("新团队", a.center, a.doctor, [(a.nurse, "nurse")])
    response = as_manager.post(url, data, HTTP_HX_REQUEST="true")
    text = page_text(response)
    assert response.status_code == 200
    assert text.lstrip().startswith("<form") and "<html" not in text
    assert "must also be a member of the team" in text
    data = _team_post("新团队", a.center, a.doctor, [(a.doctor, "leader")])
    response = as_manager.post(url, data, HTTP_HX_REQUEST="true")
    team = Team.objects.get(name="新团队")
    assert response["HX-Redirect"] == reverse("network:team", args=[team.pk])


# --- chain nodes ------------------------------------------------------------------------


def _new_village_members(village: Region) -> tuple[Institution, Institution]:
    clinic = Institution.objects.create(name="新卫生室", type="village_clinic", region=village)
    home = Institution.objects.create(name="新幸福院", type="happiness_home", region=village)
    return clinic, home


def _node_post(**values) -> dict:
    return {k: getattr(v, "pk", v) for k, v in values.items() if v is not None}


def test_node_create_station_with_an_audit_row(as_manager, manager, net):
    a = net.a
    village = a.villages[0]
    clinic, home = _new_village_members(village)
    data = _node_post(
        level="station",
        name="周党村第二服务站",
        region=village,
        medical_member=clinic,
        care_member=home,
        integration_mode="contracted",
        center=a.center,
        lead="",
    )
    response = as_manager.post(reverse("network:node_create"), data)
    node = ChainNode.objects.get(name="周党村第二服务站")
    assert response.status_code == 302
    assert response["Location"] == reverse("network:node", args=[node.pk])
    assert (node.level, node.center_id, node.lead_id) == ("station", a.center.pk, None)
    [event] = audit_rows("network.node.create", manager)
    assert (event.actor_id, event.object_id) == (manager.pk, str(node.pk))
    assert event.details["fields"]["center"] == a.center.pk
    assert event.details["fields"]["medical_member"] == clinic.pk


def test_node_create_with_a_care_home_as_medical_member_shows_the_error(as_manager, net):
    a = net.a
    village = a.villages[0]
    clinic, home = _new_village_members(village)
    before = _counts()
    data = _node_post(
        level="station",
        name="错误的服务站",
        region=village,
        medical_member=home,
        care_member=clinic,
        integration_mode="contracted",
        center=a.center,
    )
    response = as_manager.post(reverse("network:node_create"), data)
    assert response.status_code == 200
    assert field_error(response, "medical_member") == [
        "新幸福院 (Rural happiness home) is not a medical institution."
    ]
    assert _counts() == before


def test_node_create_station_outside_the_center_township_shows_the_error(as_manager, net):
    a = net.a
    other_village = a.villages[2]  # 龙山村, in 龙山乡 — not the center's township
    clinic, home = _new_village_members(other_village)
    before = _counts()
    data = _node_post(
        level="station",
        name="龙山村服务站",
        region=other_village,
        medical_member=clinic,
        care_member=home,
        integration_mode="contracted",
        center=a.center,
    )
    response = as_manager.post(reverse("network:node_create"), data)
    assert response.status_code == 200
    assert field_error(response, "region") == ["龙山村 is not inside the center's township 周党镇."]
    assert _counts() == before


def test_node_create_cannot_pick_a_region_outside_the_scope(as_manager, net):
    b = net.b
    clinic, home = _new_village_members(b.villages[0])
    before = _counts()
    data = _node_post(
        level="station",
        name="越界服务站",
        region=b.villages[0],
        medical_member=clinic,
        care_member=home,
        integration_mode="contracted",
        center=b.center,
    )
    response = as_manager.post(reverse("network:node_create"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert sorted(errors) == ["care_member", "center", "medical_member", "region"]
    assert _counts() == before


def test_node_edit_renames_with_an_audit_row_and_keeps_the_level(as_manager, manager, net):
    center = net.a.center
    url = reverse("network:node_edit", args=[center.pk])
    form = as_manager.get(url).context["form"]
    assert form.fields["level"].disabled
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(name="周党镇医养结合服务中心", level="station")  # a posted level is ignored
    response = as_manager.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("network:node", args=[center.pk])
    center.refresh_from_db()
    assert (center.name, center.level) == ("周党镇医养结合服务中心", "center")
    [event] = audit_rows("network.node.update", manager)
    assert event.actor_id == manager.pk
    assert event.details == {
        "changed": {"name": {"from": "周党镇医养服务中心", "to": "周党镇医养结合服务中心"}}
    }


def test_node_edit_moving_a_center_away_from_its_stations_changes_nothing(as_manager, net):
    center = net.a.center
    url = reverse("network:node_edit", args=[center.pk])
    data = {k: v for k, v in as_manager.get(url).context["form"].initial.items() if v is not None}
    data.update(region=net.a.townships[1].pk, name="改名中心")
    before = _counts()
    response = as_manager.post(url, data)
    assert response.status_code == 200
    assert field_error(response, "region") == [
        f"Station {net.a.stations[0].name} would no longer be inside 龙山乡."
    ]
    center.refresh_from_db()
    assert (center.name, center.region_id) == ("周党镇医养服务中心", net.a.townships[0].pk)
    assert _counts() == before


# --- regions ----------------------------------------------------------------------------


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("regions.csv", text.encode(), "text/csv")


def test_region_list_is_scoped_filtered_and_paginated(as_manager, net):
    text = page_text(as_manager.get(reverse("network:regions")))
    assert 'id="region-411521101201"' in text  # a village of county A
    assert "411522" not in text  # nothing of county B
    assert "410000000000" not in text  # the province lies above the scope
    response = as_manager.get(reverse("network:regions"), {"level": "village"})
    assert [r.code for r in response.context["page_obj"]] == [
        "411521101201",
        "411521101202",
        "411521200201",
    ]
    response = as_manager.get(reverse("network:regions"), {"code": "411521101"})
    assert [r.code for r in response.context["page_obj"]] == [
        "411521101000",
        "411521101201",
        "411521101202",
    ]
    response = as_manager.get(reverse("network:regions"), {"code": "411521200000"})
    assert [r.code for r in response.context["page_obj"]] == ["411521200000", "411521200201"]
    # out of scope filters find nothing
    response = as_manager.get(reverse("network:regions"), {"code": "411522"})
    assert list(response.context["page_obj"]) == []


def test_region_list_pages(as_sysadmin, net, settings):
    Region.objects.bulk_create(
        [
            Region(
                code=f"411521101{n:03d}", name=f"村{n}", level="village", parent=net.a.townships[0]
            )
            for n in range(300, 360)
        ]
    )
    first = as_sysadmin.get(reverse("network:regions"))
    assert len(first.context["page_obj"]) == 50
    assert first.context["page_obj"].paginator.count == 66
    assert 'rel="next"' in page_text(first)
    second = as_sysadmin.get(reverse("network:regions"), {"page": 2})
    assert len(second.context["page_obj"]) == 16


def test_region_import_success_shows_the_counts(as_sysadmin, sysadmin, net):
    url = reverse("network:region_import")
    assert reverse("network:region_import") in page_text(as_sysadmin.get(reverse("network:tree")))
    data = "code,name\n411521102000,新建镇\n411521102201,新建村\n411521101000,周党镇\n"
    response = as_sysadmin.post(url, {"file": _csv(data), "year": 2023})
    assert response.status_code == 200
    assert response.context["report"].ok
    assert 'id="import-report" data-ok="true"' in page_text(response)
    assert "3 row(s): 2 created, 0 updated, 1 unchanged." in page_text(response)
    assert Region.objects.get(code="411521102201").parent.code == "411521102000"
    [event] = audit_rows("network.region.import", sysadmin)
    assert event.details == {
        "source": "regions.csv",
        "year": 2023,
        "rows": 3,
        "created": 2,
        "updated": 0,
        "unchanged": 1,
    }


def test_region_import_with_bad_rows_lists_them_and_imports_nothing(as_sysadmin, net):
    url = reverse("network:region_import")
    data = (
        "code,name\n"
        "411521102000,新建镇\n"  # good, but the file is rejected
        "41152110300,短码\n"  # 11 digits
        "411522104000,光山县的镇\n"  # county B: outside the scope
        "411521105201,没有上级的村\n"  # its township does not exist
    )
    before = _counts()
    response = as_sysadmin.post(url, {"file": _csv(data), "year": 2023})
    assert response.status_code == 200
    text = page_text(response)
    assert "Nothing was imported" in text
    assert "3 bad rows of 4: the file was rejected and no region was created or changed." in text
    rows = re.findall(
        r'<tr><td class="num">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>'
        r'<td class="muted">([^<]*)</td></tr>',
        text,
    )
    assert [(line, code, reason) for line, code, _msg, reason in rows] == [
        ("3", "41152110300", "length"),
        ("4", "411522104000", "out_of_scope"),
        ("5", "411521105201", "missing_parent"),
    ]
    assert (
        rows[0][2] == "Region code 41152110300 has 11 characters; it must have exactly 12 digits."
    )
    assert _counts() == before
    assert not Region.objects.filter(code="411521102000").exists()


def test_region_import_needs_a_file(as_sysadmin, net):
    before = _counts()
    response = as_sysadmin.post(reverse("network:region_import"), {"year": 2023})
    assert response.status_code == 200
    assert field_error(response, "file") == ["This field is required."]
    assert _counts() == before


def test_region_import_with_htmx_returns_the_fragment(as_sysadmin, net):
    response = as_sysadmin.post(
        reverse("network:region_import"),
        {"file": _csv("411521102000,新建镇\n"), "year": 2024},
        HTTP_HX_REQUEST="true",
    )
    text = page_text(response)
    assert text.lstrip().startswith('<div id="region-import">') and "<html" not in text
    assert "1 row(s): 1 created, 0 updated, 0 unchanged." in text
    assert Region.objects.get(code="411521102000").code_year == 2024


# --- grids ------------------------------------------------------------------------------


def test_grid_list_is_scoped_and_filtered(as_manager, net):
    response = as_manager.get(reverse("network:grids"))
    assert list(response.context["page_obj"]) == net.a.grids
    response = as_manager.get(reverse("network:grids"), {"q": net.a.grids[1].code})
    assert list(response.context["page_obj"]) == [net.a.grids[1]]
    response = as_manager.get(reverse("network:grids"), {"village": "411522"})
    assert list(response.context["page_obj"]) == []


def test_grid_create_with_an_audit_row(as_manager, manager, net):
    village = net.a.villages[2]
    response = as_manager.post(
        reverse("network:grid_create"),
        {"village": village.pk, "code": "411521200201-01", "name": "龙山村第一网格"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("network:grids")
    grid = Grid.objects.get(code="411521200201-01")
    assert (grid.village_id, grid.name) == (village.pk, "龙山村第一网格")
    [event] = audit_rows("network.grid.create", manager)
    assert (event.actor_id, event.object_id) == (manager.pk, str(grid.pk))
    assert event.details == {
        "fields": {"village": village.pk, "code": "411521200201-01", "name": "龙山村第一网格"}
    }


def test_grid_create_with_a_duplicate_code_shows_the_error(as_manager, net):
    before = _counts()
    response = as_manager.post(
        reverse("network:grid_create"),
        {"village": net.a.villages[2].pk, "code": net.b.grids[0].code, "name": "重复网格"},
    )
    assert response.status_code == 200
    assert field_error(response, "code") == [f"Grid code {net.b.grids[0].code} already exists."]
    assert _counts() == before


def test_grid_create_cannot_pick_a_village_outside_the_scope(as_manager, net):
    before = _counts()
    response = as_manager.post(
        reverse("network:grid_create"),
        {"village": net.b.villages[0].pk, "code": "X-1", "name": "越界网格"},
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["village"]
    assert _counts() == before


def test_grid_edit_with_an_audit_row(as_manager, manager, net):
    grid = net.a.grids[0]
    url = reverse("network:grid_edit", args=[grid.pk])
    data = {
        "village": grid.village_id,
        "code": grid.code,
        "name": "周党村东网格",
        "description": "东片",
    }
    response = as_manager.post(url, data)
    assert response.status_code == 302
    grid.refresh_from_db()
    assert (grid.name, grid.description) == ("周党村东网格", "东片")
    [event] = audit_rows("network.grid.update", manager)
    assert event.actor_id == manager.pk
    assert event.details == {
        "changed": {
            "name": {"from": "周党村第一网格", "to": "周党村东网格"},
            "description": {"from": "", "to": "东片"},
        }
    }


def test_grid_edit_with_an_empty_name_changes_nothing(as_manager, net):
    grid = net.a.grids[0]
    url = reverse("network:grid_edit", args=[grid.pk])
    before = _counts()
    response = as_manager.post(url, {"village": grid.village_id, "code": "   ", "name": "新名"})
    assert response.status_code == 200
    assert field_error(response, "code") == ["This field is required."]
    grid.refresh_from_db()
    assert (grid.code, grid.name) == ("411521101201-01", "周党村第一网格")
    assert _counts() == before
