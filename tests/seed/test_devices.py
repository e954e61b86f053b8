"""The demo's home devices: registered for the demo team's consenting residents, bound to
them, deterministic per seed (serials and secrets), and able to send readings."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.common import crypto
from yiyang.devices import protocol
from yiyang.devices.models import Binding, Device, DeviceKind, DeviceStatus, Reading, Source
from yiyang.devices.services import ingest
from yiyang.residents.models import Condition, Consent, ConsentPurpose, Resident
from yiyang.seed import seed
from yiyang.seed.devices import demo_secret, write_devices

TODAY = datetime.date(2026, 5, 4)
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def _rows() -> list[tuple]:
    return [
        (
            d.serial,
            d.kind,
            d.model,
            d.firmware,
            d.resident_id,
            d.battery_pct,
            crypto.decrypt(d.secret),
        )
        for d in Device.objects.order_by("serial")
    ]


@pytest.mark.django_db
def test_demo_devices_are_bound_to_consenting_residents_of_the_team():
    report = seed("demo", 7, TODAY)
    n = report.counts["devices"]
    assert n == Device.objects.count() > 10
    chen = Resident.objects.get(name="陈秀英")
    team = chen.grid.teams.first()
    grids = set(team.grids.values_list("pk", flat=True))
    owner = team.node.medical_member

    # 陈秀英: exactly her three devices, fixed serials, bound to her.
    mine = {d.serial: d.kind for d in Device.objects.filter(resident=chen)}
    assert mine == {
        "BP-DEMO-0001": DeviceKind.BP_MONITOR,
        "GLU-DEMO-0001": DeviceKind.GLUCOMETER,
        "SOS-DEMO-0001": DeviceKind.SOS_BUTTON,
    }

    consenting = set(
        Consent.objects.filter(
            purpose=ConsentPurpose.DEVICE_MONITORING, withdrawn_at__isnull=True
        ).values_list("resident_id", flat=True)
    )
    bindings = {b.device_id: b for b in Binding.objects.filter(unbound_at__isnull=True)}
    assert len(bindings) == n == Binding.objects.count()
    nurse = User.objects.get(username="nurse")
    for device in Device.objects.select_related("resident"):
        assert device.status == DeviceStatus.ACTIVE
        assert device.institution_id == owner.pk
        assert device.resident_id in consenting
        assert device.resident.grid_id in grids
        binding = bindings[device.pk]
        assert binding.resident_id == device.resident_id
        assert binding.bound_by == nurse
        assert binding.bound_at >= device.secret_issued_at
        secret = crypto.decrypt(device.secret)
        assert secret == demo_secret(7, device.serial) and len(secret) == 43

    # The kinds follow the record: a BP monitor means hypertension, a glucometer diabetes,
    # a pulse oximeter COPD, an SOS button living alone (the demo resident is fixed).
    codes: dict[int, set[str]] = {}
    for rid, code in Condition.objects.values_list("resident_id", "icd10"):
        codes.setdefault(rid, set()).add(code)
    kinds = set()
    for device in Device.objects.exclude(resident=chen).select_related("resident"):
        kinds.add(device.kind)
        own = codes.get(device.resident_id, set())
        if device.kind == DeviceKind.BP_MONITOR:
            assert any(c.startswith("I1") for c in own)
        elif device.kind == DeviceKind.GLUCOMETER:
            assert any(c.startswith("E1") for c in own)
        elif device.kind == DeviceKind.PULSE_OXIMETER:
            assert any(c.startswith("J44") for c in own)
        elif device.kind == DeviceKind.SOS_BUTTON:
            assert device.resident.living_alone
        else:
            assert device.kind == DeviceKind.FALL_SENSOR
            assert device.resident.age_on(TODAY) >= 80
    assert {DeviceKind.BP_MONITOR, DeviceKind.GLUCOMETER} <= kinds
    # Generated serials in the service's form, numbered per kind from 1.
    county6 = owner.region.code[:6]
    bp = sorted(
        Device.objects.filter(kind=DeviceKind.BP_MONITOR)
        .exclude(resident=chen)
        .values_list("serial", flat=True)
    )
    assert bp[0] == f"BP-{county6}-000001"
    assert bp[-1] == f"BP-{county6}-{len(bp):06d}"


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_devices_and_secrets():
    seed("demo", 7, TODAY)
    first = _rows()
    chen = Resident.objects.get(name="陈秀英")
    team = chen.grid.teams.first()
    Binding.objects.all().delete()
    Device.objects.all().delete()
    n = write_devices(
        list(team.grids.values_list("pk", flat=True)),
        team.node.medical_member_id,
        TODAY,
        7,
        bound_by=User.objects.get(username="nurse"),
        demo_resident_id=chen.pk,
    )
    assert n == len(first)
    assert _rows() == first
    # Another seed: other secrets for the same serials.
    assert demo_secret(8, "BP-DEMO-0001") != demo_secret(7, "BP-DEMO-0001")
    assert demo_secret(7, "BP-DEMO-0001") == demo_secret(7, "BP-DEMO-0001")


@pytest.mark.django_db
def test_a_seeded_device_sends_a_signed_reading():
    seed("demo", 7, TODAY)
    device = Device.objects.get(serial="BP-DEMO-0001")
    secret = crypto.decrypt(device.secret)
    payload = json.dumps(
        {
            "seq": 1,
            "ts": timezone.now().astimezone(SHANGHAI).isoformat(timespec="seconds"),
            "kind": "bp",
            "values": {"sys": 152, "dia": 94, "hr": 78},
        }
    ).encode()
    [outcome] = ingest.process(
        [protocol.Envelope(Source.MQTT, device.serial, payload, protocol.sign(secret, payload))]
    )
    assert (outcome.accepted, outcome.duplicates, outcome.rejected) == (1, 0, [])
    reading = Reading.objects.get(device=device)
    assert reading.resident.name == "陈秀英"
    assert reading.values == {"sys": 152.0, "dia": 94.0, "hr": 78.0}
    # A secret from another seed is refused.
    bad = protocol.sign(demo_secret(8, device.serial), payload)
    [outcome] = ingest.process([protocol.Envelope(Source.MQTT, device.serial, payload, bad)])
    assert [r.code for r in outcome.rejected] == ["bad_signature"]


@pytest.mark.django_db
def test_a_fresh_demo_has_no_silent_device():
    """Each seeded device last reported within half its expected interval: the alert
    timers' first silence check finds nobody — until a device really stays quiet."""
    from yiyang.devices.services.timers import silent_devices

    seed("demo", 7, TODAY)
    watched = Device.objects.filter(expected_interval_minutes__gt=0)
    assert watched.exists() and not watched.filter(last_seen_at__isnull=True).exists()
    now = timezone.now()
    assert silent_devices(now) == []
    longest = max(watched.values_list("expected_interval_minutes", flat=True))
    assert len(silent_devices(now + datetime.timedelta(minutes=longest + 1))) == watched.count()
