"""``BulkWriter``: rows as tuples with ids given up front, defaults for unnamed fields, values
stored as the ORM stores them, and (PostgreSQL) indexes and constraints dropped for a large
load come back exactly as they were."""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection

from yiyang.common import crypto
from yiyang.residents.models import Household, Observation, Resident
from yiyang.seed.bulk import BulkWriter
from yiyang.testing.network import build_network

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_rows_are_stored_as_the_orm_stores_them():
    village = build_network().a.villages[0]
    Household.objects.create(address="already here", region=village)
    writer = BulkWriter()
    households = writer.table(Household, ("id", "address", "region"))
    residents = writer.table(
        Resident,
        (
            "id",
            "name",
            "id_number",
            "id_number_index",
            "sex",
            "birth_date",
            "region",
            "region_code",
            "household",
            "created_at",
            "updated_at",
        ),
    )
    readings = writer.table(
        Observation, ("resident", "code", "value", "unit", "effective_at", "panel", "recorded_at")
    )
    hid = writer.next_id(households)
    assert hid == Household.objects.get().pk + 1
    writer.add(households, (hid, "青溪村1号", village.pk))
    rid = writer.next_id(residents)
    at = datetime.datetime(2026, 2, 1, 7, 30, tzinfo=TZ)
    panel = uuid.uuid4()
    id_number = "110101195003150113"
    writer.add(
        residents,
        (
            rid,
            "张三",
            crypto.encrypt(id_number),
            crypto.blind_index(id_number),
            "M",
            datetime.date(1950, 3, 15),
            village.pk,
            village.code,
            hid,
            at,
            at,
        ),
    )
    writer.add(readings, (rid, "8480-6", 138, "mmHg", at, panel, at))
    writer.add(readings, (rid, "14771-0", "7.4", "mmol/L", at, None, at))
    assert writer.finish() == {
        "residents_household": 1,
        "residents_resident": 1,
        "residents_observation": 2,
    }
    resident = Resident.objects.get(pk=rid)
    assert resident.household.address == "青溪村1号"
    assert resident.id_number == id_number
    assert Resident.objects.filter(id_number_index=crypto.blind_index(id_number)).exists()
    # unnamed fields got their defaults
    assert (resident.status, resident.care_setting, resident.insurance) == (
        "active",
        "home",
        "none",
    )
    assert resident.permanent_resident and not resident.empty_nest
    assert resident.created_at == at
    systolic = Observation.objects.get(code="8480-6")
    assert (systolic.value, systolic.panel, systolic.effective_at) == (Decimal(138), panel, at)
    assert Observation.objects.get(code="14771-0").value == Decimal("7.4")
    # the ORM numbers the next row after the writer's ids
    assert Household.objects.create(address="later", region=village).pk == hid + 1


def test_unknown_and_missing_fields_are_refused():
    writer = BulkWriter()
    with pytest.raises(ValueError, match="has no field nickname"):
        writer.table(Household, ("address", "nickname"))
    with pytest.raises(ValueError, match="Resident.birth_date has no default"):
        writer.table(Resident, ("name",))


def catalogue() -> set[tuple[str, str]]:
    tables = ("residents_household", "residents_resident")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [list(tables)]
        )
        found = set(cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[])",
            [list(tables)],
        )
        found |= set(cursor.fetchall())
    return found


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_deferred_indexes_and_constraints_come_back_exactly():
    village = build_network().a.villages[0]
    before = catalogue()
    writer = BulkWriter()
    households = writer.table(Household, ("id", "address", "region"))
    writer.table(Resident, ("id", "name", "birth_date", "region", "created_at", "updated_at"))
    writer.defer_indexes()
    assert len(catalogue()) < len(before)
    writer.add(households, (writer.next_id(households), "1号", village.pk))
    writer.finish()
    assert catalogue() == before
    assert Household.objects.count() == 1
