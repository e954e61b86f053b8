"""The devices tests' fixtures and helpers: a home with a bound device (``home``), a place
with teams, residents and devices for the alert pages (``place``), the escalation world
(``world``), and the helpers that build device messages and send them through the
ingestion core (``msg``, ``http``, ``mqtt``, ``send``, ``send_ticked`` …)."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.common import crypto
from yiyang.common.permissions import Role
from yiyang.devices.models import (
    Alert,
    AlertEvent,
    Binding,
    Device,
)
from yiyang.devices.protocol import KINDS, SENDS, Envelope, sign
from yiyang.devices.services import timers
from yiyang.devices.services.ingest import process
from yiyang.network.models import Grid, Region, Team, TeamRole
from yiyang.network.services.grids import create_grid
from yiyang.network.services.teams import create_team
from yiyang.notifications.models import Notification
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import Consent, ConsentGiver, ConsentPurpose, Resident
from yiyang.residents.services.registry import register_resident
from yiyang.testing.network import Network, build_network, make_user

SECRET = "s3cret-for-tests-0123456789abcdefghijklmnop"


@dataclass
class Home:
    resident: Resident
    device: Device
    other: Device  # another resident's device
    loose: Device  # not bound


def _device(serial: str, institution, resident=None) -> Device:
    device = Device.objects.create(
        serial=serial,
        kind="bp_monitor",
        institution=institution,
        secret=crypto.encrypt(SECRET + serial),
        secret_issued_at=timezone.now(),
        resident=resident,
    )
    if resident is not None:
        Binding.objects.create(device=device, resident=resident, bound_at=timezone.now())
    return device


@pytest.fixture
def home(db) -> Home:
    return _build_home()


@pytest.fixture
def home_committed(transactional_db) -> Home:
    return _build_home()


def _build_home() -> Home:
    net = build_network()
    admin = make_user(Role.INSTITUTION_ADMIN, scope="all", username="registrar")
    village = net.a.villages[0]
    people = []
    for name, seq in (("陈秀英", 11), ("李四", 22)):
        resident, _ = register_resident(
            admin,
            name=name,
            id_number=make_id_number(village.code[:6], datetime.date(1944, 3, 1), seq),
            region=village,
        )
        Consent.objects.create(
            resident=resident,
            purpose=ConsentPurpose.DEVICE_MONITORING,
            given_by=ConsentGiver.SELF,
            given_at=timezone.now(),
            recorded_by=admin,
        )
        people.append(resident)
    inst = net.a.thc
    return Home(
        resident=people[0],
        device=_device("BP-TEST-0001", inst, people[0]),
        other=_device("BP-TEST-0002", inst, people[1]),
        loose=_device("BP-TEST-0003", inst),
    )


def ts(minutes_ago: int = 1) -> str:
    when = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    return when.astimezone(datetime.timezone(datetime.timedelta(hours=8))).isoformat()


def msg(seq: int, kind: str = "bp", values=None, **extra) -> dict:
    values = {"sys": 152, "dia": 94, "hr": 78} if values is None else values
    return {"seq": seq, "ts": ts(), "kind": kind, "values": values, **extra}


def fit(device: Device, body) -> None:
    """Make ``device`` (a test device, "BP-TEST-…") a device type that can send every kind
    of ``body`` (ingestion refuses a kind its type cannot send: ``unsupported_kind``) — the
    tests here are about what happens to a reading, whatever the type of the device that
    sent it. A body of kinds no one type sends is left to be refused."""
    messages = body if isinstance(body, list) else [body]
    kinds = {m.get("kind") for m in messages if isinstance(m, dict)}
    current = Device.objects.filter(pk=device.pk).values_list("kind", flat=True).first()
    if current is None or kinds <= SENDS.get(current, frozenset()) or not kinds <= set(KINDS):
        return
    for kind, sends in SENDS.items():
        if kinds <= sends:
            Device.objects.filter(pk=device.pk).update(kind=kind)
            device.kind = kind
            return


def mqtt(device: Device, body, *, secret: str | None = None, raw: bytes | None = None):
    if raw is None:
        fit(device, body)
    payload = raw if raw is not None else json.dumps(body).encode()
    key = secret if secret is not None else SECRET + device.serial
    return Envelope("mqtt", device.serial, payload, signature=sign(key, payload))


def http(device: Device, body) -> Envelope:
    fit(device, body)
    return Envelope("http", device.serial, json.dumps(body).encode(), authenticated=True)


def post(client, body, serial="BP-TEST-0001", secret=None, raw: bytes | None = None):
    import base64

    secret = SECRET + serial if secret is None else secret
    if raw is None:
        device = Device.objects.filter(serial=serial).first()
        if device is not None:
            fit(device, body)
    token = base64.b64encode(f"{serial}:{secret}".encode()).decode()
    data = raw if raw is not None else json.dumps(body)
    return client.post(
        "/api/v1/ingest",
        data=data,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {token}",
    )


@dataclass
class Place:
    net: Network
    team: Team  # county A's team, serving grid 1 (Chen's)
    team2: Team  # a second county-A team serving grid 2 (Wang's) only
    chen: Resident  # county A, grid 1
    wang: Resident  # county A, grid 2
    zhao: Resident  # county B
    chen_bp: Device
    wang_bp: Device
    zhao_bp: Device
    dispatcher: User  # county A
    carer: User  # team-scoped to ``team``
    nurse2: User  # team-scoped to ``team2``
    supervisor: User  # county A: devices.view, no alert_handle, no health_view
    outsider: User  # a county-B nurse


def _resident(admin: User, village, grid, name: str, seq: int) -> Resident:
    resident, _ = register_resident(
        admin,
        name=name,
        id_number=make_id_number(village.code[:6], datetime.date(1944, 3, 1), seq),
        region=village,
        grid=grid,
    )
    Consent.objects.create(
        resident=resident,
        purpose=ConsentPurpose.DEVICE_MONITORING,
        given_by=ConsentGiver.SELF,
        given_at=timezone.now(),
        recorded_by=admin,
    )
    return resident


@pytest.fixture
def place(db) -> Place:
    net = build_network()
    admin = make_user(Role.INSTITUTION_ADMIN, scope="all", username="registrar")
    village = net.a.villages[0]
    grid2 = create_grid(net.admin, village=village, code=f"{village.code}-02", name="第二网格")
    team2 = create_team(
        net.admin,
        name="第二家庭医生团队",
        node=net.a.center,
        leader=net.a.nurse,
        members=[{"staff": net.a.nurse, "role": TeamRole.LEADER}],
        grids=[grid2],
    )
    chen = _resident(admin, village, net.a.grids[0], "陈秀英", 11)
    wang = _resident(admin, village, grid2, "王桂芳", 22)
    zhao = _resident(admin, net.b.villages[0], net.b.grids[0], "赵兰", 33)
    return Place(
        net=net,
        team=net.a.team,
        team2=team2,
        chen=chen,
        wang=wang,
        zhao=zhao,
        chen_bp=_device("BP-TEST-0001", net.a.thc, chen),
        wang_bp=_device("BP-TEST-0002", net.a.thc, wang),
        zhao_bp=_device("BP-TEST-0003", net.b.thc, zhao),
        dispatcher=make_user(Role.DISPATCHER, net.a.county, username="dispatcher-a"),
        carer=make_user(Role.CAREGIVER, net.a.team, username="carer-team1"),
        nurse2=make_user(Role.NURSE, team2, username="nurse-team2"),
        supervisor=make_user(Role.SUPERVISOR, net.a.county, username="supervisor-a"),
        outsider=make_user(Role.NURSE, net.b.county, username="nurse-b"),
    )


def send(device: Device, *messages: dict) -> Any:
    """Ingest ``messages`` (one envelope) through the HTTP path; none may be refused."""
    body = list(messages) if len(messages) > 1 else messages[0]
    [out] = process([http(device, body)])
    assert not out.rejected, out.rejected
    return out


@dataclass
class World:
    home: Home
    team: Team
    nurse: User  # team member (tier 1)
    leader: User  # team leader, a doctor at the center's township hospital (tier 1, 2)
    scoped: User  # a caregiver whose scope is the team (tier 1)
    duty: User  # another doctor of the township hospital, on duty by roster (tier 2)
    daughter: User  # family proxy with the right to see alerts (tier 2)
    son: User  # family proxy without it (never)
    dispatcher: User  # county A (tier 3)
    far_dispatcher: User  # county B (never)
    manager: User


def _family(resident, name: str, *, alerts_right: bool, registrar) -> User:
    from yiyang.residents.models import (
        Consent,
        ConsentGiver,
        ConsentPurpose,
        Contact,
        ProxyGrant,
        Relation,
    )

    user = make_user(Role.FAMILY, scope="self", username=name)
    now = timezone.now()

    def consent(purpose: str) -> Consent:
        return Consent.objects.create(
            resident=resident, purpose=purpose, given_by=ConsentGiver.SELF, given_at=now,
            recorded_by=registrar,
        )  # fmt: skip

    if not Consent.objects.filter(
        resident=resident, purpose=ConsentPurpose.FAMILY_SHARING
    ).exists():
        consent(ConsentPurpose.FAMILY_SHARING)
    contact = Contact.objects.create(
        resident=resident, name=name, relation=Relation.DAUGHTER, account=user
    )
    ProxyGrant.objects.create(
        resident=resident, contact=contact, user=user, consent=consent(ConsentPurpose.PROXY_ACCESS),
        can_view_alerts=alerts_right,
    )  # fmt: skip
    return user


@pytest.fixture
def world(home) -> World:
    resident = home.resident
    grid = Grid.objects.filter(village__code=resident.region_code).first()
    resident.grid = grid
    resident.save(update_fields=["grid"])
    team = Team.objects.filter(grids=grid).order_by("pk").first()
    members = {m.role: m.staff for m in team.memberships.select_related("staff")}
    registrar = User.objects.get(username="registrar")
    county_a = Region.objects.get(code="411521000000")
    county_b = Region.objects.get(code="411522000000")
    thc = team.node.medical_member
    duty_doctor = make_user(Role.DOCTOR, thc, username="duty-doctor")
    return World(
        home=home,
        team=team,
        nurse=make_user(Role.NURSE, county_a, username="team-nurse", staff=members["nurse"]),
        leader=make_user(Role.DOCTOR, county_a, username="team-leader", staff=members["leader"]),
        scoped=make_user(Role.CAREGIVER, team, username="team-carer"),
        duty=duty_doctor,
        daughter=_family(resident, "daughter", alerts_right=True, registrar=registrar),
        son=_family(resident, "son", alerts_right=False, registrar=registrar),
        dispatcher=make_user(Role.DISPATCHER, county_a, username="dispatch-a"),
        far_dispatcher=make_user(Role.DISPATCHER, county_b, username="dispatch-b"),
        manager=make_user(Role.INSTITUTION_ADMIN, "all", username="manager"),
    )


def send_ticked(device: Device, *messages) -> None:
    """Ingest, then one tick of the alert timers: new alerts' first tier is due at once
    and notified by the timers, not in the ingestion transaction."""
    [out] = process([http(device, list(messages) if len(messages) > 1 else messages[0])])
    assert not out.rejected, out.rejected
    timers.run_due(timezone.now())


def notified(alert: Alert, tier: int) -> set[str]:
    """Usernames of the outbox rows of ``alert`` at ``tier``."""
    return set(
        Notification.objects.filter(ref=f"devices.alert:{alert.pk}", params__tier=tier).values_list(
            "recipient__username", flat=True
        )
    )


def events(alert: Alert) -> list[tuple[str, int | None]]:
    return [(e.kind, e.tier) for e in AlertEvent.objects.filter(alert=alert).order_by("pk")]
