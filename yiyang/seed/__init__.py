"""Deterministic synthetic data: ``yiyang seed --preset demo|county|city --seed N``.

The same (preset, seed) always gives the same regions, names, codes and licence numbers
(one ``random.Random(seed)``, never the global generator or the clock); ``today`` only
anchors agreement dates so "expiring in 30 days" and "expired" markers always show.

Bulk synthetic data bypasses the per-object service functions on purpose: it is written
with ``bulk_create`` in one transaction, and one audit row (action ``seed.run``, with
the preset, seed and row counts) records the whole load instead of one row per object.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field

from django.db import transaction

from yiyang.audit.services import record
from yiyang.common.errors import ValidationFailed
from yiyang.network.models import Region
from yiyang.seed.network import NetworkPlan, plan_network, write_network
from yiyang.seed.presets import PRESETS, get_preset
from yiyang.seed.users import DEMO_PASSWORD, DEMO_USERNAMES, plan_users, write_users

__all__ = ["DEMO_PASSWORD", "DEMO_USERNAMES", "PRESETS", "SeedReport", "seed"]


@dataclass
class SeedReport:
    preset: str
    seed: int
    county_codes: list[str]
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)


def seed(
    preset: str,
    seed: int,
    today: datetime.date | None = None,
    *,
    actor=None,
    users: bool | None = None,
) -> SeedReport:
    """Build the preset's network (and, for the demo, its users) in one transaction.

    Refuses (ValidationFailed, nothing written) when a county it would create already
    exists: seeding the same preset and seed twice, or over an earlier seed with the same
    codes, is an error rather than a silent merge.
    """
    spec = get_preset(preset)
    today = today or datetime.date.today()
    started = time.perf_counter()
    plan: NetworkPlan = plan_network(spec, seed, today)
    want_users = spec.users if users is None else users
    user_objs = plan_users(plan) if want_users else []
    seconds = {"plan": time.perf_counter() - started}

    existing = list(Region.objects.filter(code__in=plan.county_codes).values_list("code", "name"))
    if existing:
        shown = ", ".join(f"{code} {name}" for code, name in existing[:3])
        raise ValidationFailed(
            "seed_region_exists",
            f"the database already has region {shown}: this preset and seed were seeded "
            "before (or another seed used the same codes). Use another --seed or an empty "
            "database; nothing was written.",
            field="seed",
        )
    with transaction.atomic():
        mark = time.perf_counter()
        counts = write_network(plan)
        seconds["network"] = time.perf_counter() - mark
        if user_objs:
            mark = time.perf_counter()
            counts["users"] = write_users(user_objs)
            seconds["users"] = time.perf_counter() - mark
        county = plan.regions["county"][0]
        record(
            actor=actor,
            action="seed.run",
            obj=county,
            details={"preset": preset, "seed": seed, "today": today.isoformat(), "counts": counts},
        )
    seconds["total"] = time.perf_counter() - started
    return SeedReport(preset, seed, plan.county_codes, counts, seconds)
