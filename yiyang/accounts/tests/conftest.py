"""Fixtures for the accounts tests: a small piece of the care network (two counties, an
institution and a family-doctor team in the first) and accounts made by the actions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.network.models import (
    ChainNode,
    Institution,
    IntegrationMode,
    NodeLevel,
    Region,
    RegionLevel,
    Staff,
    Team,
)
from yiyang.testing.accounts import PASSWORD, make_account


@dataclass
class Place:
    county: Region
    other_county: Region
    hospital: Institution
    township_hospital: Institution
    care_home: Institution
    other_hospital: Institution
    team: Team


def _region(code: str, name: str, level: str, parent: Region | None = None) -> Region:
    return Region.objects.create(code=code, name=name, level=level, parent=parent)


@pytest.fixture
def place(db) -> Place:
    province = _region("410000000000", "河南省", RegionLevel.PROVINCE)
    city = _region("411500000000", "信阳市", RegionLevel.CITY, province)
    county = _region("411521000000", "罗山县", RegionLevel.COUNTY, city)
    township = _region("411521101000", "周党镇", RegionLevel.TOWNSHIP, county)
    other = _region("411522000000", "光山县", RegionLevel.COUNTY, city)
    hospital = Institution.objects.create(
        name="罗山县人民医院", type="lead_hospital", region=county
    )
    thc = Institution.objects.create(name="周党镇卫生院", type="thc", region=township)
    care = Institution.objects.create(name="周党镇敬老院", type="nursing_home", region=township)
    other_hospital = Institution.objects.create(
        name="光山县人民医院", type="lead_hospital", region=other
    )
    center = ChainNode.objects.create(
        level=NodeLevel.CENTER,
        name="周党镇医养服务中心",
        region=township,
        medical_member=thc,
        care_member=care,
        integration_mode=IntegrationMode.ONE_CAMPUS,
        lead=hospital,
    )
    leader = Staff.objects.create(name="王医生", profession="doctor")
    team = Team.objects.create(name="周党镇家庭医生一队", node=center, leader=leader)
    return Place(
        county=county,
        other_county=other,
        hospital=hospital,
        township_hospital=thc,
        care_home=care,
        other_hospital=other_hospital,
        team=team,
    )


@pytest.fixture
def sysadmin(db) -> User:
    return make_account(Role.SYSTEM_ADMIN, "all", username="sysadmin")


@pytest.fixture
def secadmin(db) -> User:
    return make_account(Role.SECURITY_ADMIN, "all", username="secadmin")


@pytest.fixture
def auditor(db) -> User:
    return make_account(Role.AUDIT_ADMIN, "all", username="auditor")


@pytest.fixture
def doctor(place) -> User:
    return make_account(Role.DOCTOR, place.township_hospital, username="doctor")


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def client():
    """The test client, in English (the language cookie for pages, Accept-Language for the
    API) so messages compare with the msgids."""
    return english_client()


def english_client():
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client
