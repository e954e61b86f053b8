"""The world the API fuzz runs in: the demo's data (``yiyang.seed``, small), a few rows the
seed does not make (an allergy, an encounter, a document, an SOS alert with its emergency
call and notifications, a duty shift, an import job), and a bearer token per fuzzed role.

The world is built once per module inside a transaction that is rolled back when the module
ends, so the rest of the suite never sees it; every test (and every request, see
``test_api.py``) runs in a savepoint inside it.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.testing.accounts import bearer_token

# The roles the API is fuzzed as (demo usernames): a county supervisor (reads across the
# county, manages little), a family doctor (team scope, writes health records) and an
# institution admin (manages the network and staff of one township hospital).
ROLES = ("supervisor", "doctor", "instadmin")
SEED = 20261207
RESIDENTS = 40

# A one-pixel PNG: enough for the document checks (type by content).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class World:
    tokens: dict[str, str]  # role → bearer token
    # Values for path parameters that name a real object every fuzzed role may see, by the
    # path segment before the parameter ("residents" → a resident id, "contacts" → one of
    # her contacts, …); ``by_role`` overrides them for one role (own notifications).
    known: dict[str, Any]
    by_role: dict[str, dict[str, Any]] = field(default_factory=dict)

    def value(self, role: str, segment: str) -> Any:
        return self.by_role.get(role, {}).get(segment, self.known.get(segment))


def _sos(resident: Any) -> None:
    """An SOS press from the demo resident's button, through the ingestion: an alert, its
    emergency call and the notifications of both."""
    from yiyang.devices.models import Device
    from yiyang.devices.protocol import Envelope
    from yiyang.devices.services.ingest import process

    device = Device.objects.get(resident=resident, kind="sos_button")
    body = {"seq": 1, "ts": (timezone.now() - datetime.timedelta(seconds=30)).isoformat()}
    body |= {"kind": "sos", "values": {}}
    [out] = process([Envelope("http", device.serial, json.dumps(body).encode(), None, True)])
    assert not out.rejected, out.rejected


def build_world() -> World:
    from yiyang.assessments.models import Assessment
    from yiyang.audit.models import AuditEvent
    from yiyang.devices.models import Alert, AlertRule, Device
    from yiyang.emergency.models import EmergencyCall
    from yiyang.network.models import (
        Agreement,
        Alliance,
        ChainNode,
        DutyShift,
        Grid,
    )
    from yiyang.network.services.duty import add_duty
    from yiyang.notifications.models import Notification
    from yiyang.notifications.services import notify
    from yiyang.residents.models import (
        Allergy,
        Condition,
        Consent,
        Contact,
        Document,
        Encounter,
        ImportJob,
        Medication,
        Observation,
        ProxyGrant,
        Resident,
    )
    from yiyang.residents.services.documents import upload_document
    from yiyang.residents.services.health import add_allergy, add_encounter
    from yiyang.seed import seed

    seed("demo", SEED, residents=RESIDENTS)
    users = {u.username: u for u in User.objects.filter(username__in=[*ROLES, "sysadmin"])}
    doctor = users["doctor"]
    resident = Resident.objects.get(account__username="resident")
    team = doctor.scope_team
    inst = users["instadmin"].scope_institution

    add_allergy(doctor, resident, substance="青霉素", reaction="皮疹")
    add_encounter(doctor, resident, kind="home_visit", date=datetime.date.today())
    upload_document(
        doctor, resident, file=SimpleUploadedFile("scan.png", PNG, "image/png"), kind="other"
    )
    _sos(resident)
    now = timezone.now()
    add_duty(
        users["sysadmin"],
        institution=inst,
        user=doctor,
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(hours=8),
    )

    def first(queryset: Any) -> Any:
        row = queryset.order_by("pk").first()
        return None if row is None else row.pk

    alert = Alert.objects.filter(resident=resident).order_by("pk").first()
    grid = Grid.objects.filter(teams=team).order_by("pk").first()
    known: dict[str, Any] = {
        # network
        "regions": resident.region_id,
        "grids": grid.pk if grid else None,
        "institutions": inst.pk,
        "alliances": first(Alliance.objects.all()),
        "nodes": first(ChainNode.objects.filter(medical_member=inst)),
        "agreements": first(Agreement.objects.filter(party_a=inst))
        or first(Agreement.objects.all()),
        "staff": doctor.staff_id,
        "teams": team.pk,
        # accounts, audit
        "users": users["doctor"].pk,
        "events": AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first(),
        # residents and the health record
        "residents": resident.pk,
        "contacts": first(Contact.objects.filter(resident=resident)),
        "consents": first(Consent.objects.filter(resident=resident)),
        "proxies": first(ProxyGrant.objects.filter(resident=resident)),
        "conditions": first(Condition.objects.filter(resident=resident)),
        "medications": first(Medication.objects.filter(resident=resident)),
        "allergies": first(Allergy.objects.filter(resident=resident)),
        "encounters": first(Encounter.objects.filter(resident=resident)),
        "observations": first(Observation.objects.filter(resident=resident)),
        "documents": first(Document.objects.filter(resident=resident)),
        # assessments
        "instruments": "barthel",
        "sessions": first(Assessment.objects.filter(resident=resident))
        or first(Assessment.objects.all()),
        # devices, alerts, escalation, emergency
        "devices": first(Device.objects.filter(resident=resident)),
        "alerts": alert.pk if alert else None,
        "rules": AlertRule.objects.order_by("pk").values_list("code", flat=True).first(),
        "duty": first(DutyShift.objects.all()),
        "calls": first(EmergencyCall.objects.all()),
    }
    params = {"resident": resident.name, "severity_en": "High", "severity_zh": "高"}
    params |= {"rule_en": "SOS", "rule_zh": "紧急呼叫", "summary_en": "SOS", "summary_zh": "呼救"}
    notify(
        [users[role] for role in ROLES],
        topic="devices.alert",
        params=params,
        link=f"/devices/alerts/{alert.pk}/" if alert else "",
    )
    by_role: dict[str, dict[str, Any]] = {}
    tokens = {}
    for role in ROLES:
        user = users[role]
        tokens[role] = bearer_token(user)
        job = ImportJob.objects.create(
            created_by=user, original_name="residents.csv", state="done", total=0
        )
        by_role[role] = {
            "notifications": first(Notification.objects.filter(recipient=user)),
            "imports": job.pk,
        }
    return World(tokens=tokens, known=known, by_role=by_role)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """The world (see the module docstring), rolled back when the module's tests end.

    Requests go to the WSGI application, not through Django's test client, so Django's
    ``close_old_connections`` must not run at their start and end: inside the test's
    transaction it would close the connection (as the test client, it is disconnected)."""
    media = tmp_path_factory.mktemp("fuzz-media")
    storages = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media)},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with (
            override_settings(STORAGES=storages, MEDIA_ROOT=media),
            django_db_blocker.unblock(),
            transaction.atomic(),
        ):
            from yiyang.assessments.defaults import restore_reference_data
            from yiyang.devices.defaults import restore_reference_data as restore_alert_rules

            restore_reference_data()
            restore_alert_rules()
            world = build_world()
            yield world
            transaction.set_rollback(True)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
