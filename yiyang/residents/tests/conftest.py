"""Fixtures for the residents tests: the two-county network and residents in it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest

from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.network.models import Region
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import Resident
from yiyang.residents.services.registry import register_resident
from yiyang.testing.network import Network, build_network, make_user


def family_login(world, resident: Resident) -> User:
    """A family login holding a view-only proxy grant for ``resident`` (with the
    resident's consent to family sharing), written directly as rows."""
    from django.utils import timezone

    from yiyang.residents.models import (
        Consent,
        ConsentGiver,
        ConsentPurpose,
        Contact,
        ProxyGrant,
        Relation,
    )

    user = make_user(Role.FAMILY, scope="self")
    now = timezone.now()

    def consent(purpose: str) -> Consent:
        return Consent.objects.create(
            resident=resident,
            purpose=purpose,
            given_by=ConsentGiver.SELF,
            given_at=now,
            recorded_by=world.registrar,
        )

    consent(ConsentPurpose.FAMILY_SHARING)
    contact = Contact.objects.create(
        resident=resident, name="张小红", relation=Relation.DAUGHTER, account=user
    )
    ProxyGrant.objects.create(
        resident=resident,
        contact=contact,
        user=user,
        consent=consent(ConsentPurpose.PROXY_ACCESS),
    )
    return user


def id_for(village: Region, born: datetime.date, sequence: int) -> str:
    """A valid ID number issued in ``village``'s county."""
    return make_id_number(village.code[:6], born, sequence)


def register(actor: User, village: Region, name: str, born: datetime.date, seq: int, **extra: Any):
    resident, _ = register_resident(
        actor, name=name, id_number=id_for(village, born, seq), region=village, **extra
    )
    return resident


@dataclass
class World:
    net: Network
    registrar: User  # institution admin, scope "all"
    zhang: Resident  # 张三, 周党村 (county A, township 周党镇), grid of team A
    li: Resident  # 李四, 杨店村 (county A, township 周党镇), no grid
    wang: Resident  # 王五, 龙山村 (county A, township 龙山乡)
    zhao: Resident  # 赵六, 何畈村 (county B), grid of team B
    sun: Resident  # 孙七, 何畈村 (county B), in the care of county A's nursing home


@pytest.fixture
def net(db) -> Network:
    return build_network()


@pytest.fixture
def world(net: Network) -> World:
    registrar = make_user(Role.INSTITUTION_ADMIN, scope="all", username="registrar")
    a, b = net.a, net.b
    zhang = register(
        registrar,
        a.villages[0],
        "张三",
        datetime.date(1950, 3, 15),
        11,
        grid=a.grids[0],
        phone="13800000001",
        empty_nest=True,
    )
    li = register(registrar, a.villages[1], "李四", datetime.date(1960, 6, 1), 22)
    wang = register(
        registrar, a.villages[2], "王五", datetime.date(1940, 1, 2), 33, living_alone=True
    )
    zhao = register(
        registrar, b.villages[0], "赵六", datetime.date(1955, 8, 8), 44, grid=b.grids[0]
    )
    sun = register(
        registrar,
        b.villages[0],
        "孙七",
        datetime.date(1945, 12, 31),
        55,
        care_setting="institution",
        institution=a.care_home,
    )
    return World(net, registrar, zhang, li, wang, zhao, sun)
