"""Deterministic synthetic data: ``yiyang seed --preset demo|county|city --seed N``.

The same (preset, seed) always gives the same regions, names, codes, licence numbers and
residents (``random.Random`` streams derived from the seed, never the global generator or
the clock); ``today`` anchors agreement dates (so "expiring in 30 days" and "expired"
markers always show), ages and the year of readings. What the seed records as having
happened (readings, consents, diagnoses, assessments, bindings) is never later than the
moment it runs: its "now" is 09:00 on ``today`` in the deployment's time zone, or the clock
when that is still to come; a ``today`` after the clock's date is refused.

Bulk synthetic data bypasses the per-object service functions on purpose: the network is
written with ``bulk_create``, the residents and their health data with ``COPY`` on
PostgreSQL (``yiyang.seed.bulk``, ADR 0014), all in one transaction, and one audit row
(action ``seed.run``, with the preset, seed and row counts) records the whole load instead
of one row per object. On PostgreSQL the tables are analysed after the load (inside the
transaction, before the indexes a large load drops are rebuilt) and, after a large load,
vacuumed once it has committed.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from yiyang.audit.services import record
from yiyang.common.errors import ValidationFailed
from yiyang.network.models import Region
from yiyang.seed.assessments import write_assessments
from yiyang.seed.devices import write_devices
from yiyang.seed.errors import SeedError
from yiyang.seed.network.builder import plan_network
from yiyang.seed.network.plan import NetworkPlan
from yiyang.seed.network.write import write_network
from yiyang.seed.presets import PRESETS, Preset, get_preset
from yiyang.seed.residents.write import DEFER_INDEXES_FROM, vacuum, write_residents
from yiyang.seed.users import (
    DEMO_PASSWORD,
    DEMO_USERNAMES,
    plan_users,
    seed_recorder,
    write_users,
)

__all__ = ["DEMO_PASSWORD", "DEMO_USERNAMES", "PRESETS", "SeedReport", "seed"]


@dataclass
class SeedReport:
    preset: str
    seed: int
    county_codes: list[str]
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)


def seed_clock(
    today: datetime.date | None = None,
) -> tuple[datetime.datetime, datetime.date]:
    """(now, today) for a seed: ``today`` defaults to the clock's date in the deployment's
    time zone; "now", the moment the seed's records are written at, is 09:00 on ``today``
    there (the same for every run on that day) unless the clock has not reached it yet.
    A ``today`` after the clock's date would put readings and events in the future: it is
    refused (ValidationFailed, field ``today``)."""
    clock = timezone.now()
    clock_today = timezone.localdate(clock)
    today = today or clock_today
    if today > clock_today:
        raise ValidationFailed(
            SeedError.SEED_TODAY_IN_FUTURE,
            f"today {today.isoformat()} is after the clock's date ({clock_today.isoformat()}): "
            "the seeded readings and events would lie in the future. Nothing was written.",
            field="today",
        )
    morning = datetime.datetime.combine(today, datetime.time(9, 0), timezone.get_current_timezone())
    return min(morning, clock), today


def seed(
    preset: str,
    seed: int,
    today: datetime.date | None = None,
    *,
    actor=None,
    users: bool | None = None,
    residents: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Build the preset's network, its residents with their health data (and, for the
    demo, its users) in one transaction.

    ``residents``: how many residents in all (spread evenly over the counties; default
    the preset's size, 0 for none). ``progress(message)`` is called after each county's
    residents.

    Refuses (ValidationFailed, nothing written) when a county it would create already
    exists: seeding the same preset and seed twice, or over an earlier seed with the same
    codes, is an error rather than a silent merge.
    """
    spec = get_preset(preset)
    now, today = seed_clock(today)
    started = time.perf_counter()
    plan: NetworkPlan = plan_network(spec, seed, today)
    want_users = spec.users if users is None else users
    total = spec.residents.per_county * spec.counties if residents is None else residents
    if total < 0:
        raise ValueError("residents must not be negative")
    user_objs = plan_users(plan) if want_users else []
    seconds = {"plan": time.perf_counter() - started}

    existing = list(Region.objects.filter(code__in=plan.county_codes).values_list("code", "name"))
    if existing:
        shown = ", ".join(f"{code} {name}" for code, name in existing[:3])
        raise ValidationFailed(
            SeedError.SEED_REGION_EXISTS,
            f"the database already has region {shown}: this preset and seed were seeded "
            "before (or another seed used the same codes). Use another --seed or an empty "
            "database; nothing was written.",
            field="seed",
        )
    with transaction.atomic():
        with _timed(seconds, "network"):
            counts = write_network(plan)
        if user_objs:
            with _timed(seconds, "users"):
                counts["users"] = write_users(user_objs)
        if total:
            _write_people(plan, spec, seed, total, user_objs, now, today, progress, counts, seconds)
        county = plan.regions["county"][0]
        record(
            actor=actor,
            action="seed.run",
            obj=county,
            details={"preset": preset, "seed": seed, "today": today.isoformat(), "counts": counts},
        )
        mark = time.perf_counter()
    # Leaving the block commits: PostgreSQL checks the deferred foreign keys now.
    seconds["commit"] = time.perf_counter() - mark
    if total >= DEFER_INDEXES_FROM:
        seconds["vacuum"] = vacuum()
    seconds["total"] = time.perf_counter() - started
    return SeedReport(preset, seed, plan.county_codes, counts, seconds)


@contextmanager
def _timed(seconds: dict[str, float], key: str) -> Iterator[None]:
    """``seconds[key]``: how long the block took."""
    mark = time.perf_counter()
    yield
    seconds[key] = time.perf_counter() - mark


def _write_people(
    plan: NetworkPlan,
    spec: Preset,
    seed: int,
    total: int,
    user_objs: list[Any],
    now: datetime.datetime,
    today: datetime.date,
    progress: Callable[[str], None] | None,
    counts: dict[str, int],
    seconds: dict[str, float],
) -> None:
    """The ``total`` residents with their health data and, for the demo team (when the plan
    has one), their assessments and devices; their row counts go to ``counts``, their
    times to ``seconds``."""
    with _timed(seconds, "residents"):
        demo_users = {u.username: u for u in user_objs}
        recorder = demo_users.get("doctor") or seed_recorder()
        loaded = write_residents(
            plan,
            spec.residents,
            total,
            now=now,
            recorder=recorder,
            demo_users=demo_users,
            progress=progress,
        )
        counts.update(loaded.counts)
    seconds.update({f"residents_{k}": v for k, v in loaded.seconds.items()})
    if plan.targets is None:
        return
    team = plan.targets.team
    demo_resident_id = loaded.demo.resident_id if loaded.demo else None
    with _timed(seconds, "assessments"):
        counts["assessments"] = write_assessments(
            [g.pk for t, g in plan.team_grids if t is team],
            today,
            seed,
            assessor=demo_users.get("assessor") or recorder,
            second=demo_users.get("nurse"),
            demo_resident_id=demo_resident_id,
        )
    with _timed(seconds, "devices"):
        counts["devices"] = write_devices(
            [g.pk for t, g in plan.team_grids if t is team],
            plan.targets.center_medical.pk,
            today,
            seed,
            bound_by=demo_users.get("nurse") or recorder,
            demo_resident_id=demo_resident_id,
        )
