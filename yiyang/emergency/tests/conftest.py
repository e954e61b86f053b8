"""A county-A resident with an SOS button, a health record and a daughter on record; a
county-B resident; dispatchers of each county and a caregiver (no ``emergency.call``)."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from yiyang.common import crypto
from yiyang.common.permissions import Role
from yiyang.devices.models import Alert, Binding, Device
from yiyang.devices.protocol import Envelope
from yiyang.devices.services.ingest import process
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import (
    Allergy,
    Condition,
    Consent,
    ConsentGiver,
    ConsentPurpose,
    Contact,
    Medication,
    Relation,
    Resident,
)
from yiyang.residents.services.registry import register_resident
from yiyang.testing.network import Network, build_network, make_user

RESIDENT_PHONE = "13912340001"
DAUGHTER_PHONE = "13812345678"
OTHER_PHONE = "13700009999"


@dataclass
class Scene:
    net: Network
    resident: Resident  # county A, grid A-1, SOS button ``sos``
    other: Resident  # county B, glucometer ``meter_b``
    daughter: Contact
    sos: Device
    meter: Device  # a glucometer of ``resident``
    meter_b: Device
    dispatcher: Any  # county A
    dispatcher_b: Any  # county B
    caregiver: Any  # county A, without emergency.call
    seq: dict[str, int]

    def send(self, device: Device, kind: str, values: dict | None = None) -> None:
        """One message from ``device`` through the ingestion (HTTP, authenticated)."""
        self.seq[device.serial] = self.seq.get(device.serial, 0) + 1
        when = timezone.now() - datetime.timedelta(seconds=30)
        body = {"seq": self.seq[device.serial], "ts": when.isoformat(), "kind": kind,
                "values": values or {}}  # fmt: skip
        [out] = process([Envelope("http", device.serial, json.dumps(body).encode(), None, True)])
        assert not out.rejected, out.rejected

    def sos_alert(self) -> Alert:
        self.send(self.sos, "sos")
        return Alert.objects.filter(resident=self.resident, rule__code="sos").latest("pk")


def _device(serial: str, kind: str, institution: Any, resident: Resident) -> Device:
    device = Device.objects.create(
        serial=serial,
        kind=kind,
        institution=institution,
        secret=crypto.encrypt("secret-" + serial),
        secret_issued_at=timezone.now(),
        resident=resident,
    )
    Binding.objects.create(device=device, resident=resident, bound_at=timezone.now())
    return device


@pytest.fixture
def scene(db) -> Scene:
    net = build_network()
    admin = make_user(Role.INSTITUTION_ADMIN, scope="all", username="registrar")
    people = []
    for county, name, seq, phone in ((net.a, "陈秀英", 11, RESIDENT_PHONE),
                                     (net.b, "赵桂兰", 22, OTHER_PHONE)):  # fmt: skip
        village = county.villages[0]
        resident, _ = register_resident(
            admin,
            name=name,
            id_number=make_id_number(village.code[:6], datetime.date(1944, 3, 1), seq),
            region=village,
            grid=county.grids[0],
            phone=phone,
            address="幸福路 8 号",
        )
        for purpose in (ConsentPurpose.DEVICE_MONITORING, ConsentPurpose.HEALTH_DATA):
            Consent.objects.create(
                resident=resident,
                purpose=purpose,
                given_by=ConsentGiver.SELF,
                given_at=timezone.now(),
                recorded_by=admin,
            )
        people.append(resident)
    resident, other = people
    daughter = Contact.objects.create(
        resident=resident,
        name="王芳",
        relation=Relation.DAUGHTER,
        phone=DAUGHTER_PHONE,
        phone_index=crypto.blind_index(DAUGHTER_PHONE),
        is_emergency=True,
    )
    Condition.objects.create(resident=resident, icd10="I10", name="原发性高血压")
    Medication.objects.create(resident=resident, name="氨氯地平", dose="5 mg", frequency="qd")
    Allergy.objects.create(
        resident=resident, substance="青霉素", reaction="皮疹", severity="severe"
    )
    return Scene(
        net=net,
        resident=resident,
        other=other,
        daughter=daughter,
        sos=_device("SOS-TEST-0001", "sos_button", net.a.thc, resident),
        meter=_device("GLU-TEST-0001", "glucometer", net.a.thc, resident),
        meter_b=_device("GLU-TEST-0002", "glucometer", net.b.thc, other),
        dispatcher=make_user(Role.DISPATCHER, net.a.county, username="dispatcher-a"),
        dispatcher_b=make_user(Role.DISPATCHER, net.b.county, username="dispatcher-b"),
        caregiver=make_user(Role.CAREGIVER, net.a.county, username="caregiver-a"),
        seq={},
    )
