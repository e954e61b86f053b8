"""Test helpers: a small realistic care network and users with a role and a data scope.

    net = build_network()
    net.a.center, net.a.stations[0], net.a.team, net.b.lead …
    user = make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc)

Two counties (A: 2 townships, 3 villages, a center and 2 stations; B: 1 township,
1 village, a center and 1 station), each with a lead hospital leading its alliance and
center, member institutions, staff with licences and memberships, a family-doctor team
with members and grids, and a cooperation agreement. Built through the service functions
(so the audit trail has one row per write) by ``net.admin``, a system admin with scope
"all".
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.common.scope import ScopeKind
from yiyang.network.models import (
    Agreement,
    AgreementKind,
    Alliance,
    AllianceKind,
    ChainNode,
    Grid,
    Institution,
    InstitutionType,
    IntegrationMode,
    NodeLevel,
    Profession,
    Region,
    Skill,
    Staff,
    Team,
    TeamRole,
)
from yiyang.network.services.agreements import create_agreement
from yiyang.network.services.alliances import create_alliance
from yiyang.network.services.grids import create_grid
from yiyang.network.services.institutions import create_institution
from yiyang.network.services.nodes import create_node
from yiyang.network.services.regions import create_region
from yiyang.network.services.staff import create_skill, create_staff
from yiyang.network.services.teams import create_team

PASSWORD = "Yiyang#2026"


def in_force(
    today: datetime.date | None = None, *, since: int = 365, left: int = 730
) -> tuple[datetime.date, datetime.date]:
    """(valid_from, valid_to) of an agreement in force on ``today`` (default: today in
    the deployment's time zone) since ``since`` days and for ``left`` more: far from both
    ends of the 30-day "expiring" window whatever the day the tests run on."""
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=since), today + datetime.timedelta(days=left)


def make_user(
    role: str,
    scope: Any = None,
    *,
    username: str | None = None,
    staff: Staff | None = None,
    password: str = PASSWORD,
    **extra: Any,
) -> User:
    """A user with ``role`` and a data scope.

    ``scope``: ``"all"``, ``"self"``/``None``, a ``Region`` (its subtree), an
    ``Institution`` or a ``Team``.
    """
    fields: dict[str, Any] = {"scope_kind": ScopeKind.SELF}
    if scope == "all" or scope == ScopeKind.ALL:
        fields["scope_kind"] = ScopeKind.ALL
    elif isinstance(scope, Region):
        fields.update(scope_kind=ScopeKind.REGION, scope_region=scope)
    elif isinstance(scope, Institution):
        fields.update(scope_kind=ScopeKind.INSTITUTION, scope_institution=scope)
    elif isinstance(scope, Team):
        fields.update(scope_kind=ScopeKind.TEAM, scope_team=scope)
    elif scope not in (None, "self", ScopeKind.SELF):
        raise ValueError(f"unknown scope {scope!r}")
    if username is None:
        username = f"{role}-{User.objects.count() + 1}"
        while User.objects.filter(username=username).exists():
            username += "x"
    fields.update(extra)
    user = User(username=username, role=role, staff=staff, **fields)
    user.password = _password_hash(password)  # argon2 is slow on purpose: hash once per run
    user.save()
    return user


@functools.cache
def _password_hash(password: str) -> str:
    return make_password(password)


@dataclass
class County:
    county: Region
    townships: list[Region]
    villages: list[Region]
    lead: Institution  # the county hospital (lead_hospital)
    alliance: Alliance
    thc: Institution  # the center's medical member (township hospital)
    care_home: Institution  # the center's elderly-care member
    center: ChainNode
    clinics: list[Institution]  # the stations' medical members
    happiness_homes: list[Institution]  # the stations' elderly-care members
    stations: list[ChainNode]
    doctor: Staff
    nurse: Staff
    caregiver: Staff
    team: Team
    grids: list[Grid]
    agreement: Agreement

    @property
    def institutions(self) -> list[Institution]:
        return [self.lead, self.thc, self.care_home, *self.clinics, *self.happiness_homes]


@dataclass
class Network:
    admin: User
    province: Region
    city: Region
    a: County
    b: County
    skills: dict[str, Skill] = field(default_factory=dict)


# (county code, county name, [(township code, name, [(village code, name), …]), …])
_COUNTIES = [
    (
        "411521000000",
        "罗山县",
        [
            (
                "411521101000",
                "周党镇",
                [("411521101201", "周党村"), ("411521101202", "杨店村")],
            ),
            ("411521200000", "龙山乡", [("411521200201", "龙山村")]),
        ],
    ),
    (
        "411522000000",
        "光山县",
        [("411522102000", "泼陂河镇", [("411522102201", "何畈村")])],
    ),
]


def build_network(admin: User | None = None) -> Network:
    """Build the two-county network (see the module docstring)."""
    if admin is None:
        admin = make_user(Role.SYSTEM_ADMIN, scope="all", username="network-admin")
    province = create_region(admin, code="410000000000", name="河南省")
    city = create_region(admin, code="411500000000", name="信阳市")
    skills = {
        code: create_skill(admin, code=code, name=name)
        for code, name in [
            ("chronic", "慢病管理"),
            ("tcm", "中医适宜技术"),
            ("rehab", "康复护理"),
            ("elder_care", "生活照料"),
        ]
    }
    counties = [
        _build_county(admin, idx, data, skills) for idx, data in enumerate(_COUNTIES, start=1)
    ]
    return Network(admin, province, city, counties[0], counties[1], skills)


def _build_county(admin: User, idx: int, data: tuple, skills: dict[str, Skill]) -> County:
    """County number ``idx`` (from 1) of ``_COUNTIES``: its regions, the lead hospital
    leading the alliance and the center of its first township, the stations of that
    township's villages, the center's staff, grids and team, and a cooperation agreement.
    Each written through its service function, in this order."""
    county_code, county_name, townships_data = data
    county, townships, villages = _regions(admin, county_code, county_name, townships_data)
    town = townships[0]
    town_villages = [v for v in villages if v.code.startswith(town.code[:9])]
    lic = f"{county_code[:6]}"
    lead, thc, care_home = _center_members(admin, county, county_name, town, lic)
    alliance = create_alliance(
        admin,
        name=f"{county_name}县域医共体",
        kind=AllianceKind.COUNTY_COMMUNITY,
        region=county,
        lead=lead,
        members=[thc],
    )
    center = create_node(
        admin,
        level=NodeLevel.CENTER,
        name=f"{town.name}医养服务中心",
        region=town,
        medical_member=thc,
        care_member=care_home,
        integration_mode=IntegrationMode.ONE_CAMPUS,
        lead=lead,
    )
    clinics, homes, stations = _stations(admin, town_villages, center, lic)
    doctor, nurse, caregiver = _staff(admin, idx, thc, care_home, skills)
    grids, team = _team(admin, town, town_villages, center, doctor, nurse, caregiver)
    agreement = _agreement(admin, town, thc, care_home)
    return County(
        county=county,
        townships=townships,
        villages=villages,
        lead=lead,
        alliance=alliance,
        thc=thc,
        care_home=care_home,
        center=center,
        clinics=clinics,
        happiness_homes=homes,
        stations=stations,
        doctor=doctor,
        nurse=nurse,
        caregiver=caregiver,
        team=team,
        grids=grids,
        agreement=agreement,
    )


def _regions(
    admin: User, county_code: str, county_name: str, townships_data: list
) -> tuple[Region, list[Region], list[Region]]:
    """The county, its townships and their villages (``_COUNTIES`` rows)."""
    county = create_region(admin, code=county_code, name=county_name)
    townships: list[Region] = []
    villages: list[Region] = []
    for t_code, t_name, village_data in townships_data:
        townships.append(create_region(admin, code=t_code, name=t_name))
        for v_code, v_name in village_data:
            villages.append(create_region(admin, code=v_code, name=v_name))
    return county, townships, villages


def _center_members(
    admin: User, county: Region, county_name: str, town: Region, lic: str
) -> tuple[Institution, Institution, Institution]:
    """The county hospital, the township hospital and the nursing home of ``town`` (the
    center's two members); ``lic``: the county's code in their licence numbers."""
    lead = create_institution(
        admin,
        name=f"{county_name}人民医院",
        type=InstitutionType.LEAD_HOSPITAL,
        region=county,
        medical_licence_no=f"PDY{lic}0001",
        beds_medical=600,
        founded_on=datetime.date(1952, 5, 1),
        elderly_friendly=True,
        tcm_services=True,
        mi_designated=True,
    )
    thc = create_institution(
        admin,
        name=f"{town.name}卫生院",
        type=InstitutionType.THC,
        region=town,
        medical_licence_no=f"PDY{lic}0101",
        beds_medical=40,
        mi_designated=True,
        tcm_services=True,
    )
    care_home = create_institution(
        admin,
        name=f"{town.name}敬老院",
        type=InstitutionType.NURSING_HOME,
        region=town,
        care_filing_no=f"YLBA{lic}0101",
        beds_care=80,
        ltc_designated=True,
    )
    return lead, thc, care_home


def _stations(
    admin: User, villages: list[Region], center: ChainNode, lic: str
) -> tuple[list[Institution], list[Institution], list[ChainNode]]:
    """A station of ``center`` in each village: a village clinic and a happiness home.
    Returns the clinics, the homes and the stations."""
    clinics: list[Institution] = []
    homes: list[Institution] = []
    stations: list[ChainNode] = []
    for n, village in enumerate(villages, start=1):
        clinic = create_institution(
            admin,
            name=f"{village.name}卫生室",
            type=InstitutionType.VILLAGE_CLINIC,
            region=village,
            medical_licence_no=f"PDY{lic}02{n:02d}",
        )
        home = create_institution(
            admin,
            name=f"{village.name}幸福院",
            type=InstitutionType.HAPPINESS_HOME,
            region=village,
            care_filing_no=f"YLBA{lic}02{n:02d}",
            beds_care=10,
        )
        clinics.append(clinic)
        homes.append(home)
        stations.append(
            create_node(
                admin,
                level=NodeLevel.STATION,
                name=f"{village.name}医养服务站",
                region=village,
                medical_member=clinic,
                care_member=home,
                integration_mode=IntegrationMode.CONTRACTED,
                center=center,
            )
        )
    return clinics, homes, stations


def _staff(
    admin: User, idx: int, thc: Institution, care_home: Institution, skills: dict[str, Skill]
) -> tuple[Staff, Staff, Staff]:
    """The center's doctor and nurse (at ``thc``) and caregiver (at ``care_home``), with
    licences and skills; names and numbers differ per county (``idx``)."""
    doctor = create_staff(
        admin,
        name=["王建国", "陈立"][idx - 1],
        sex="M",
        phone=f"1390376{idx:04d}",
        profession=Profession.DOCTOR,
        licence_no=f"1104115{idx:08d}",
        skills=[skills["chronic"], skills["tcm"]],
        memberships=[{"institution": thc, "position": "全科医生", "primary": True}],
    )
    nurse = create_staff(
        admin,
        name=["李秀英", "赵敏"][idx - 1],
        sex="F",
        profession=Profession.NURSE,
        licence_no=f"2024115{idx:08d}",
        skills=[skills["rehab"]],
        memberships=[{"institution": thc, "position": "护士", "primary": True}],
    )
    caregiver = create_staff(
        admin,
        name=["张桂兰", "刘芳"][idx - 1],
        sex="F",
        profession=Profession.CAREGIVER,
        skills=[skills["elder_care"]],
        memberships=[{"institution": care_home, "position": "护理员", "primary": True}],
    )
    return doctor, nurse, caregiver


def _team(
    admin: User,
    town: Region,
    villages: list[Region],
    center: ChainNode,
    doctor: Staff,
    nurse: Staff,
    caregiver: Staff,
) -> tuple[list[Grid], Team]:
    """A grid in each village, and the center's family-doctor team (the doctor leading,
    the nurse and the caregiver) serving them. Returns the grids and the team."""
    grids = [
        create_grid(
            admin, village=village, code=f"{village.code}-01", name=f"{village.name}第一网格"
        )
        for village in villages
    ]
    team = create_team(
        admin,
        name=f"{town.name}家庭医生团队",
        node=center,
        leader=doctor,
        members=[
            {"staff": doctor, "role": TeamRole.LEADER},
            {"staff": nurse, "role": TeamRole.NURSE},
            {"staff": caregiver, "role": TeamRole.CAREGIVER},
        ],
        grids=grids,
    )
    return grids, team


def _agreement(admin: User, town: Region, thc: Institution, care_home: Institution) -> Agreement:
    """The center's cooperation agreement (township hospital and nursing home), in force
    (``in_force``)."""
    valid_from, valid_to = in_force()
    return create_agreement(
        admin,
        kind=AgreementKind.COOPERATION,
        party_a=thc,
        party_b=care_home,
        title=f"{town.name}医养签约协议",
        responsibilities="卫生院负责巡诊、健康管理和急症转诊；敬老院负责生活照料。",
        service_standards="每周巡诊一次，每年体检一次。",
        valid_from=valid_from,
        valid_to=valid_to,
        status="active",
    )
