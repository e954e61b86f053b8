"""Writing the generated residents (``write_residents``): every county generated into one
``BulkWriter`` (its indexes deferred for a large load), the demo's daughter given her
proxy grant, and ``vacuum`` for after a large load has committed."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from typing import Any

from yiyang.residents.models import (
    Condition,
    Consent,
    ConsentGiver,
    ConsentPurpose,
    Contact,
    Household,
    Medication,
    Observation,
    Resident,
)
from yiyang.seed.bulk import BulkWriter
from yiyang.seed.network.plan import NetworkPlan
from yiyang.seed.presets import Sizing
from yiyang.seed.residents.base import DemoPeople
from yiyang.seed.residents.counties import counties_of, split
from yiyang.seed.residents.people import ResidentSeeder

# The tables the residents are written to, in the order they are registered.
TABLES = (Household, Resident, Contact, Consent, Condition, Medication, Observation)

# From this many residents on (and at least as many as are already there) the load drops
# the tables' secondary indexes and constraints and rebuilds them afterwards (PostgreSQL).
DEFER_INDEXES_FROM = 50_000


@dataclass
class Loaded:
    counts: dict[str, int]
    seconds: dict[str, float]  # parts of the whole: writing rows, rebuilding, analysing
    demo: DemoPeople | None = None


def write_residents(
    plan: NetworkPlan,
    sizing: Sizing,
    total: int,
    *,
    now: datetime.datetime,
    recorder: Any,
    demo_users: dict[str, Any] | None = None,
    progress: Any = None,
) -> Loaded:
    """Generate and write ``total`` residents (split evenly over the plan's counties, which
    must be written already) with their households, contacts, consents and health record.
    Call inside a transaction. ``now``: the seed's moment (``seed_clock``), the latest time
    written (readings are up to the day before). ``recorder``: the user recorded as having
    entered consents and diagnoses. With the demo's users (``resident``, ``family``,
    ``nurse``), one resident in the demo team's grid gets the resident login and her
    daughter the family login with a proxy grant (readings and alerts)."""
    demo_users = demo_users or {}
    demo = None
    targets = plan.targets
    if {"resident", "family"} <= set(demo_users) and targets is not None:
        team_grids = sorted(g.pk for t, g in plan.team_grids if t is targets.team)
        demo = DemoPeople(
            resident_user=demo_users["resident"].pk,
            family_user=demo_users["family"].pk,
            grid=team_grids[0],
        )
    nurse = demo_users.get("nurse")
    writer = BulkWriter()
    seeder = ResidentSeeder(
        writer,
        plan.seed,
        plan.today,
        sizing,
        now=now,
        recorder=recorder.pk,
        nurse=nurse.pk if nurse is not None else None,
        demo=demo,
    )
    if total >= DEFER_INDEXES_FROM and total >= Resident.objects.count():
        writer.defer_indexes()
    counties = counties_of(plan, plan.seed)
    for county, n in zip(counties, split(total, [1.0] * len(counties)), strict=True):
        seeder.county(county, n)
        writer.flush()
        if progress is not None:
            progress(f"county {county.code6}: {seeder.counts.values['residents']:,} residents")
    writer.finish()
    if demo is not None and demo.resident_id:
        link_demo_people(demo, demo_users, seeder.now)
    counts = dict(seeder.counts.values)
    seconds = {
        "writing": writer.seconds,
        "indexes": writer.rebuild_seconds,
        "analyze": writer.analyze_seconds,
    }
    return Loaded(counts=counts, seconds=seconds, demo=demo)


def link_demo_people(demo: DemoPeople, users: dict[str, Any], now: datetime.datetime) -> None:
    """The demo resident's daughter gets her proxy grant (with its own consent, purpose
    ``proxy_access``): she sees the readings and is told of alerts (escalation's second
    tier); the two logins are named after the people they belong to."""
    from yiyang.residents.models import ProxyGrant

    consent = Consent.objects.create(
        resident_id=demo.resident_id,
        purpose=ConsentPurpose.PROXY_ACCESS,
        given_by=ConsentGiver.SELF,
        given_at=now,
        recorded_by=users.get("doctor") or users["resident"],
        note="family access for her daughter: readings and alerts",
    )
    ProxyGrant.objects.create(
        resident_id=demo.resident_id,
        contact_id=demo.daughter_contact_id,
        user=users["family"],
        consent=consent,
        can_view_readings=True,
        can_view_alerts=True,
        can_book_services=False,
        can_view_bills=False,
    )
    for username, display in (("resident", demo.resident_name), ("family", demo.daughter_name)):
        user = users[username]
        user.display_name = display
        user.save(update_fields=["display_name"])


def vacuum() -> float:
    """PostgreSQL, after a large load has committed: VACUUM the residents tables, so the
    visibility map is set (index-only scans) and the hint bits are written once now
    rather than by the first queries. Not inside a transaction (VACUUM cannot run in one):
    then it is left to autovacuum. Returns the seconds spent."""
    from django.db import connection

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 0.0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in TABLES:
            cursor.execute(f"VACUUM {connection.ops.quote_name(model._meta.db_table)}")
    return time.perf_counter() - started
