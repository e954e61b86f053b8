"""Synthetic home devices for the demo team's residents (``yiyang.seed``).

Every active resident in the grids of the demo family-doctor team whose consent to device
monitoring is active gets the devices her record calls for, owned by the team's center
(its medical institution) and bound to her (an open ``Binding`` and ``Device.resident``):

* a blood-pressure monitor with hypertension (ICD-10 I10–I15),
* a glucometer with diabetes (E10–E14),
* a pulse oximeter with COPD (J44),
* an SOS button when she lives alone,
* a fall sensor for some of those aged 80 or more (``FALL_SENSOR_SHARE``).

Serials follow the generated form ``{KIND}-{county6}-{NNNNNN}`` (``services.next_serial``,
numbered per kind in resident order), so devices registered later continue the numbering.
The demo resident (陈秀英) has exactly a BP monitor, a glucometer and an SOS button with the
fixed serials ``BP-DEMO-0001``, ``GLU-DEMO-0001`` and ``SOS-DEMO-0001``.

Deterministic: ``random.Random`` streams derived from the seed and the resident's id, and
each secret is ``demo_secret(seed, serial)`` — an HMAC of the serial keyed with the seed.
**Demo secrets are therefore not secret**: anyone who knows the seed can compute them.
They exist so that the simulator (``manage.py simulate devices``) and tests can talk to a
seeded database; real devices get random secrets from ``services.register_device``. The
secrets are stored encrypted (``yiyang.common.crypto.encrypt``) like any other.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import random
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from yiyang.common import crypto
from yiyang.devices.models import Binding, Device, DeviceKind, DeviceStatus
from yiyang.devices.services.registry import KIND_PREFIX
from yiyang.network.models import Institution
from yiyang.residents.models import (
    Condition,
    ConditionStatus,
    ConsentPurpose,
    Resident,
    ResidentStatus,
    active_consent,
)

BATCH = 2000
FALL_SENSOR_SHARE = 0.35  # of residents aged 80+
FALL_SENSOR_AGE = 80
DEMO_SERIALS: dict[str, str] = {
    DeviceKind.BP_MONITOR: "BP-DEMO-0001",
    DeviceKind.GLUCOMETER: "GLU-DEMO-0001",
    DeviceKind.SOS_BUTTON: "SOS-DEMO-0001",
}
TZ = ZoneInfo("Asia/Shanghai")

# ICD-10 prefixes of the conditions that call for a device.
HYPERTENSION = ("I10", "I11", "I12", "I13", "I15")
DIABETES = ("E10", "E11", "E12", "E13", "E14")
COPD = ("J44",)

# kind → (models to draw from, firmware versions, expected reporting interval in minutes)
CATALOGUE: dict[str, tuple[tuple[str, ...], tuple[str, ...], int]] = {
    DeviceKind.BP_MONITOR: (
        ("Omron HEM-7136", "Yuwell YE660D", "Sinocare BA-803"),
        ("2.1.0", "2.3.1"),
        0,
    ),
    DeviceKind.GLUCOMETER: (
        ("Sinocare GA-3", "Yuwell 580", "Roche Accu-Chek Instant"),
        ("1.4.2", "1.5.0"),
        0,
    ),
    DeviceKind.PULSE_OXIMETER: (("Yuwell YX306", "Choicemmed MD300C"), ("3.0.4",), 0),
    DeviceKind.SOS_BUTTON: (("Yiyang SOS-1",), ("1.0.7", "1.1.0"), 24 * 60),
    DeviceKind.FALL_SENSOR: (("Aqara FP2", "Yiyang Radar-F1"), ("4.2.0",), 24 * 60),
}


def demo_secret(seed: int, serial: str) -> str:
    """The seeded device's secret: 43 URL-safe base64 characters, HMAC-SHA256 of the serial
    keyed with the seed. Not secret (see the module docstring)."""
    digest = hmac.new(f"yiyang-demo-device:{seed}".encode(), serial.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def _last_seen(
    seed: int, serial: str, at: datetime.datetime, interval: int
) -> datetime.datetime | None:
    if interval <= 0:
        return None
    rng = random.Random(f"seen:{seed}:{serial}")  # noqa: S311 - synthetic
    return at - datetime.timedelta(minutes=rng.randint(1, max(1, interval // 2)))


def _has(codes: set[str], prefixes: tuple[str, ...]) -> bool:
    return any(code.upper().startswith(prefixes) for code in codes)


def kinds_for(
    codes: set[str], age: int, living_alone: bool, rng: random.Random, *, demo: bool = False
) -> list[str]:
    """The device kinds a resident with these ICD-10 codes, age and household gets."""
    if demo:
        return [DeviceKind.BP_MONITOR, DeviceKind.GLUCOMETER, DeviceKind.SOS_BUTTON]
    kinds: list[str] = []
    if _has(codes, HYPERTENSION):
        kinds.append(DeviceKind.BP_MONITOR)
    if _has(codes, DIABETES):
        kinds.append(DeviceKind.GLUCOMETER)
    if _has(codes, COPD):
        kinds.append(DeviceKind.PULSE_OXIMETER)
    if living_alone:
        kinds.append(DeviceKind.SOS_BUTTON)
    # Drawn for everyone so the stream does not depend on the age.
    if rng.random() < FALL_SENSOR_SHARE and age >= FALL_SENSOR_AGE:
        kinds.append(DeviceKind.FALL_SENSOR)
    return kinds


def write_devices(
    grid_ids: list[int],
    institution_id: int,
    today: datetime.date,
    seed: int,
    *,
    bound_by: Any = None,
    demo_resident_id: int | None = None,
) -> int:
    """Register and bind the devices (see the module docstring); return how many."""
    if not grid_ids:
        return 0
    owner = Institution.objects.select_related("region").get(pk=institution_id)
    county6 = owner.region.code[:6]
    residents, conditions = _monitored(grid_ids)
    noon = datetime.datetime.combine(today, datetime.time(10, 0), tzinfo=TZ)
    # Each device last reported within half its expected interval before the seeding (so a
    # fresh demo has no silent-device alerts until a device really stays quiet).
    seeded_at = timezone.now()
    numbers: dict[str, int] = defaultdict(int)
    devices: list[Device] = []
    bound_on: list[datetime.datetime] = []
    for resident in residents:
        rng = random.Random(f"devices:{seed}:{resident.pk}")  # noqa: S311 - synthetic
        demo = resident.pk == demo_resident_id
        kinds = kinds_for(
            conditions[resident.pk],
            resident.age_on(today),
            bool(resident.living_alone),
            rng,
            demo=demo,
        )
        for kind in kinds:
            if demo:
                serial = DEMO_SERIALS[kind]
            else:
                numbers[kind] += 1
                serial = f"{KIND_PREFIX[kind]}-{county6}-{numbers[kind]:06d}"
            device = _device(kind, serial, owner, resident, noon, seeded_at, seed, rng)
            devices.append(device)
            bound = device.secret_issued_at + datetime.timedelta(minutes=rng.randint(5, 120))
            bound_on.append(bound)
    _save(devices, bound_on, bound_by)
    return len(devices)


def _monitored(grid_ids: list[int]) -> tuple[list[Resident], dict[int, set[str]]]:
    """The active residents of the grids who consent to device monitoring (id order), and
    the ICD-10 codes of each one's active conditions. Two queries."""
    residents = list(
        Resident.objects.filter(
            active_consent("consents__"),
            grid_id__in=grid_ids,
            status=ResidentStatus.ACTIVE,
            consents__purpose=ConsentPurpose.DEVICE_MONITORING,
        )
        .distinct()
        .order_by("pk")
        .only("pk", "birth_date", "living_alone")
    )
    conditions: dict[int, set[str]] = defaultdict(set)
    for rid, icd10 in Condition.objects.filter(
        resident_id__in=[r.pk for r in residents], status=ConditionStatus.ACTIVE
    ).values_list("resident_id", "icd10"):
        conditions[rid].add(icd10)
    return residents, conditions


def _device(
    kind: str,
    serial: str,
    owner: Institution,
    resident: Resident,
    noon: datetime.datetime,
    seeded_at: datetime.datetime,
    seed: int,
    rng: random.Random,
) -> Device:
    """One device of ``resident`` (unsaved): a model and firmware from the catalogue, its
    secret issued some months before ``noon``, a battery level and, for a device that
    reports on a schedule, when it was last seen before ``seeded_at``."""
    models, firmwares, interval = CATALOGUE[kind]
    issued = noon - datetime.timedelta(days=rng.randint(20, 400), minutes=rng.randrange(480))
    return Device(
        serial=serial,
        kind=kind,
        model=rng.choice(models),
        firmware=rng.choice(firmwares),
        institution=owner,
        status=DeviceStatus.ACTIVE,
        secret=crypto.encrypt(demo_secret(seed, serial)),
        secret_issued_at=issued,
        resident=resident,
        battery_pct=rng.randint(35, 100),
        expected_interval_minutes=interval,
        last_seen_at=_last_seen(seed, serial, seeded_at, interval),
    )


def _save(devices: list[Device], bound_on: list[datetime.datetime], bound_by: Any) -> None:
    """Insert the devices, then their open bindings (``bound_on``: each one's time)."""
    Device.objects.bulk_create(devices, batch_size=BATCH)
    if devices and devices[0].pk is None:  # a backend that returns no ids on bulk insert
        ids = dict(
            Device.objects.filter(serial__in=[d.serial for d in devices]).values_list(
                "serial", "pk"
            )
        )
        for device in devices:
            device.pk = ids[device.serial]
    Binding.objects.bulk_create(
        [
            Binding(device=d, resident=d.resident, bound_at=at, bound_by=bound_by)
            for d, at in zip(devices, bound_on, strict=True)
        ],
        batch_size=BATCH,
    )
