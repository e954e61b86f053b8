"""Fixtures for the assessment-session tests: county A with a doctor, a nurse (the
second assessor), a caregiver (may not record), county B's doctor, and residents."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import Consent, ConsentGiver, ConsentPurpose, Resident
from yiyang.residents.search import birth_bound
from yiyang.residents.services.registry import register_resident
from yiyang.testing.network import Network, build_network, make_user

TODAY = timezone.localdate


@dataclass
class World:
    net: Network
    doctor: User  # county A
    nurse: User  # county A, the second assessor
    outsider: User  # county B
    caregiver: User  # county A, may not record
    old: Resident  # 85, county A, LTC insured, consent on record
    young: Resident  # 70, county A, consent on record
    no_consent: Resident  # county A


def _resident(net: Network, actor: User, name: str, born: datetime.date, seq: int, **extra):
    village = net.a.villages[0]
    resident, _ = register_resident(
        actor,
        name=name,
        id_number=make_id_number(village.code[:6], born, seq),
        region=village,
        grid=net.a.grids[0],
        **extra,
    )
    return resident


def _consent(resident: Resident, by: User) -> None:
    Consent.objects.create(
        resident=resident,
        purpose=ConsentPurpose.HEALTH_DATA,
        given_by=ConsentGiver.SELF,
        given_at=timezone.now(),
        recorded_by=by,
    )


@pytest.fixture
def w(db) -> World:
    net = build_network()
    admin = make_user(Role.INSTITUTION_ADMIN, scope="all", username="registrar")
    today = TODAY()
    old = _resident(net, admin, "陈秀英", birth_bound(today, 85), 11, ltc_insured=True)
    young = _resident(net, admin, "李四", datetime.date(today.year - 70, 1, 1), 22)
    no_consent = _resident(net, admin, "王五", datetime.date(1950, 1, 1), 33)
    for r in (old, young):
        _consent(r, admin)
    return World(
        net=net,
        doctor=make_user(Role.DOCTOR, net.a.county, username="doctor-a"),
        nurse=make_user(Role.NURSE, net.a.county, username="nurse-a"),
        outsider=make_user(Role.DOCTOR, net.b.county, username="doctor-b"),
        caregiver=make_user(Role.CAREGIVER, net.a.county, username="carer-a"),
        old=old,
        young=young,
        no_consent=no_consent,
    )
