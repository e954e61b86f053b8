"""Scoped reads: every scope kind sees exactly its part of the network."""

from __future__ import annotations

import pytest

from yiyang.audit.models import AuditEvent
from yiyang.common.errors import NotFound, PermissionDenied
from yiyang.common.permissions import Role
from yiyang.network.selectors.institutions import (
    agreements_for,
    alliances_for,
    get_agreement_for,
    get_institution_for,
    get_node_for,
    institutions_for,
    nodes_for,
)
from yiyang.network.selectors.regions import grids_for, regions_for
from yiyang.network.selectors.staff import get_staff_for, staff_for
from yiyang.network.selectors.teams import get_team_for, teams_for
from yiyang.network.selectors.tree import network_tree
from yiyang.network.services.grids import create_grid
from yiyang.network.services.institutions import create_institution
from yiyang.network.services.nodes import create_node
from yiyang.network.services.teams import create_team
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")


def names(qs) -> set[str]:
    return {obj.name for obj in qs}


def test_all_scope_sees_everything(net):
    user = make_user(Role.SUPERVISOR, scope="all")
    assert institutions_for(user).count() == 12
    assert nodes_for(user).count() == 5
    assert staff_for(user).count() == 6
    assert teams_for(user).count() == 2
    assert agreements_for(user).count() == 2
    assert alliances_for(user).count() == 2
    assert grids_for(user).count() == 3
    assert regions_for(user).count() == 2 + 2 + 3 + 4


def test_region_scope_county(net):
    user = make_user(Role.SUPERVISOR, scope=net.a.county)
    assert names(institutions_for(user)) == {i.name for i in net.a.institutions}
    assert names(nodes_for(user)) == {
        "周党镇医养服务中心",
        "周党村医养服务站",
        "杨店村医养服务站",
    }
    assert names(staff_for(user)) == {"王建国", "李秀英", "张桂兰"}
    assert names(teams_for(user)) == {"周党镇家庭医生团队"}
    assert list(agreements_for(user)) == [net.a.agreement]
    assert list(alliances_for(user)) == [net.a.alliance]
    assert {r.code for r in regions_for(user)} == {
        "411521000000",
        "411521101000",
        "411521200000",
        "411521101201",
        "411521101202",
        "411521200201",
    }


def test_region_scope_township_excludes_the_county_hospital(net):
    user = make_user(Role.SUPERVISOR, scope=net.a.townships[0])
    assert names(institutions_for(user)) == {
        "周党镇卫生院",
        "周党镇敬老院",
        "周党村卫生室",
        "周党村幸福院",
        "杨店村卫生室",
        "杨店村幸福院",
    }
    assert list(alliances_for(user)) == []
    assert names(grids_for(user)) == {"周党村第一网格", "杨店村第一网格"}


def test_region_scope_village(net):
    user = make_user(Role.DOCTOR, scope=net.a.villages[0])
    assert names(institutions_for(user)) == {"周党村卫生室", "周党村幸福院"}
    assert names(nodes_for(user)) == {"周党村医养服务站"}
    assert list(staff_for(user)) == []
    assert list(teams_for(user)) == []
    assert list(agreements_for(user)) == []
    assert names(grids_for(user)) == {"周党村第一网格"}


def test_institution_scope_member_of_a_center(net):
    user = make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc)
    assert names(institutions_for(user)) == {"周党镇卫生院", "周党镇敬老院"}
    assert list(nodes_for(user)) == [net.a.center]
    assert names(staff_for(user)) == {"王建国", "李秀英"}
    assert list(teams_for(user)) == [net.a.team]
    assert list(agreements_for(user)) == [net.a.agreement]
    assert list(alliances_for(user)) == [net.a.alliance]
    assert names(grids_for(user)) == {"周党村第一网格", "杨店村第一网格"}


def test_institution_scope_lead_sees_its_centers_and_stations(net):
    user = make_user(Role.INSTITUTION_ADMIN, scope=net.a.lead)
    assert names(institutions_for(user)) == {i.name for i in net.a.institutions}
    assert names(nodes_for(user)) == {
        "周党镇医养服务中心",
        "周党村医养服务站",
        "杨店村医养服务站",
    }
    assert list(staff_for(user)) == []  # nobody has a membership at the lead
    assert list(teams_for(user)) == [net.a.team]
    assert list(alliances_for(user)) == [net.a.alliance]


def test_institution_scope_station_member(net):
    user = make_user(Role.DOCTOR, scope=net.a.clinics[0])
    assert names(institutions_for(user)) == {"周党村卫生室", "周党村幸福院"}
    assert list(nodes_for(user)) == [net.a.stations[0]]
    assert list(teams_for(user)) == []
    assert names(grids_for(user)) == {"周党村第一网格"}
    assert list(alliances_for(user)) == []


def test_team_scope(net):
    user = make_user(Role.NURSE, scope=net.a.team)
    assert list(teams_for(user)) == [net.a.team]
    # The home node, plus the stations of the two villages its grids lie in.
    assert names(nodes_for(user)) == {
        "周党镇医养服务中心",
        "周党村医养服务站",
        "杨店村医养服务站",
    }
    assert names(institutions_for(user)) == {
        "周党镇卫生院",
        "周党镇敬老院",
        "周党村卫生室",
        "周党村幸福院",
        "杨店村卫生室",
        "杨店村幸福院",
    }
    assert names(staff_for(user)) == {"王建国", "李秀英", "张桂兰"}
    assert names(grids_for(user)) == {"周党村第一网格", "杨店村第一网格"}
    assert list(agreements_for(user)) == [net.a.agreement]


def test_self_scope_sees_nothing(net):
    user = make_user(Role.DOCTOR, scope="self")
    assert institutions_for(user).count() == 0
    assert nodes_for(user).count() == 0
    assert staff_for(user).count() == 0
    assert teams_for(user).count() == 0
    assert agreements_for(user).count() == 0
    assert alliances_for(user).count() == 0
    assert grids_for(user).count() == 0
    assert regions_for(user).count() == 0
    assert network_tree(user) == []


def test_out_of_scope_detail_is_not_found_like_a_missing_one(net):
    user = make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc)
    assert get_institution_for(user, net.a.thc.pk) == net.a.thc
    for getter, obj in [
        (get_institution_for, net.b.thc),
        (get_node_for, net.b.center),
        (get_agreement_for, net.b.agreement),
        (get_team_for, net.b.team),
        (get_staff_for, net.b.doctor),
    ]:
        with pytest.raises(NotFound) as out_of_scope:
            getter(user, obj.pk)
        with pytest.raises(NotFound) as missing:
            getter(user, 999_999)
        assert out_of_scope.value.as_dict() == missing.value.as_dict()


def test_reads_need_the_permission(net):
    resident = make_user(Role.RESIDENT, scope="self")
    for selector in (
        institutions_for,
        nodes_for,
        teams_for,
        regions_for,
        network_tree,
    ):
        with pytest.raises(PermissionDenied):
            selector(resident)
    caregiver = make_user(Role.CAREGIVER, scope="all")  # network yes, staff records no
    assert institutions_for(caregiver).count() == 12
    with pytest.raises(PermissionDenied):
        staff_for(caregiver)
    with pytest.raises(PermissionDenied):
        get_staff_for(caregiver, net.a.doctor.pk)


def test_staff_detail_read_is_audited(net):
    user = make_user(Role.DOCTOR, scope=net.a.thc)
    staff = get_staff_for(user, net.a.doctor.pk)
    assert staff == net.a.doctor
    event = AuditEvent.objects.get(action="network.staff.read")
    assert (event.actor_id, event.object_type, event.object_id) == (
        user.pk,
        "network.staff",
        str(net.a.doctor.pk),
    )
    with pytest.raises(NotFound):
        get_staff_for(user, net.b.doctor.pk)
    assert AuditEvent.objects.filter(action="network.staff.read").count() == 1


# --- the tree ---------------------------------------------------------------------------


def test_tree_for_all_scope(net, django_assert_num_queries):
    user = make_user(Role.SUPERVISOR, scope="all")
    with django_assert_num_queries(4):
        tree = network_tree(user)
    assert [lead.institution.name for lead in tree] == ["光山县人民医院", "罗山县人民医院"]
    luoshan = tree[1]
    assert luoshan.in_scope
    [center] = luoshan.centers
    assert (center.node, center.medical_member, center.care_member) == (
        net.a.center,
        net.a.thc,
        net.a.care_home,
    )
    assert [s.node.name for s in center.stations] == ["周党村医养服务站", "杨店村医养服务站"]
    assert [t.team for t in center.teams] == [net.a.team]
    assert [g.name for g in center.teams[0].grids] == ["周党村第一网格", "杨店村第一网格"]
    assert center.stations[0].care_member == net.a.happiness_homes[0]


def test_tree_query_count_does_not_grow_with_the_network(net, django_assert_num_queries):
    a, t2, v3 = net.a, net.a.townships[1], net.a.villages[2]
    thc = create_institution(net.admin, name="龙山乡卫生院", type="thc", region=t2)
    home = create_institution(net.admin, name="龙山乡敬老院", type="nursing_home", region=t2)
    center = create_node(
        net.admin,
        level="center",
        name="龙山乡医养服务中心",
        region=t2,
        medical_member=thc,
        care_member=home,
        integration_mode="contracted",
        lead=a.lead,
    )
    clinic = create_institution(net.admin, name="龙山村卫生室", type="village_clinic", region=v3)
    day_care = create_institution(net.admin, name="龙山村日间照料中心", type="day_care", region=v3)
    station = create_node(
        net.admin,
        level="station",
        name="龙山村医养服务站",
        region=v3,
        medical_member=clinic,
        care_member=day_care,
        integration_mode="contracted",
        center=center,
    )
    grid = create_grid(net.admin, village=v3, code="G-LS-1", name="龙山村网格")
    create_team(
        net.admin,
        name="龙山村团队",
        node=station,
        leader=a.nurse,
        members=[{"staff": a.nurse, "role": "leader"}],
        grids=[grid],
    )
    user = make_user(Role.SUPERVISOR, scope="all")
    with django_assert_num_queries(4):
        tree = network_tree(user)
    assert [c.node.name for c in tree[1].centers] == ["周党镇医养服务中心", "龙山乡医养服务中心"]
    assert [t.team.name for t in tree[1].centers[1].stations[0].teams] == ["龙山村团队"]


def test_tree_shows_ancestors_of_a_visible_station_as_context(net):
    user = make_user(Role.DOCTOR, scope=net.a.villages[0])
    [lead] = network_tree(user)
    assert (lead.institution, lead.in_scope) == (net.a.lead, False)
    [center] = lead.centers
    assert (center.node, center.in_scope, center.teams) == (net.a.center, False, [])
    assert [(s.node, s.in_scope) for s in center.stations] == [(net.a.stations[0], True)]


def test_tree_as_dict_for_team_scope(net):
    user = make_user(Role.NURSE, scope=net.b.team)
    assert [lead.as_dict() for lead in network_tree(user)] == [
        {
            "institution": {"id": net.b.lead.pk, "name": "光山县人民医院", "type": "lead_hospital"},
            "in_scope": False,
            "centers": [
                {
                    "id": net.b.center.pk,
                    "level": "center",
                    "name": "泼陂河镇医养服务中心",
                    "in_scope": True,
                    "region": {"code": "411522102000", "name": "泼陂河镇"},
                    "integration_mode": "one_campus",
                    "medical_member": {
                        "id": net.b.thc.pk,
                        "name": "泼陂河镇卫生院",
                        "type": "thc",
                    },
                    "care_member": {
                        "id": net.b.care_home.pk,
                        "name": "泼陂河镇敬老院",
                        "type": "nursing_home",
                    },
                    "teams": [
                        {
                            "id": net.b.team.pk,
                            "name": "泼陂河镇家庭医生团队",
                            "leader": "陈立",
                            "grids": [
                                {
                                    "id": net.b.grids[0].pk,
                                    "code": "411522102201-01",
                                    "name": "何畈村第一网格",
                                }
                            ],
                        }
                    ],
                    # The station of the village its grid lies in (team scope).
                    "stations": [
                        {
                            "id": net.b.stations[0].pk,
                            "level": "station",
                            "name": "何畈村医养服务站",
                            "in_scope": True,
                            "region": {"code": "411522102201", "name": "何畈村"},
                            "integration_mode": "contracted",
                            "medical_member": {
                                "id": net.b.clinics[0].pk,
                                "name": "何畈村卫生室",
                                "type": "village_clinic",
                            },
                            "care_member": {
                                "id": net.b.happiness_homes[0].pk,
                                "name": "何畈村幸福院",
                                "type": "happiness_home",
                            },
                            "teams": [],
                            "stations": [],
                        }
                    ],
                }
            ],
        }
    ]
