"""What the resident generator needs from the network plan: the counties (``counties_of``)
with their villages (weighted: communities are bigger), grids and residential-care
institutions, and ``split``, which shares a total out in proportion to weights."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass

from yiyang.network.models import InstitutionType, RegionLevel
from yiyang.seed.network.plan import NetworkPlan


@dataclass
class Village:
    pk: int
    code: str
    name: str
    township: str
    rural: bool
    grids: list[int]
    weight: float


@dataclass
class County:
    code6: str
    index: int
    villages: list[Village]
    care_homes: list[int]  # institutions giving residential care in the county
    care_cum: list[float]
    ltc_pilot: bool


def counties_of(plan: NetworkPlan, seed: int) -> list[County]:
    """The plan's counties with their villages (written: primary keys set), grids and
    residential-care institutions."""
    grids: dict[str, list[int]] = defaultdict(list)
    for grid in plan.grids:
        grids[grid.village.code].append(grid.pk)
    care: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for inst in plan.institutions:
        beds = inst.beds_care or 0
        if inst.type in {InstitutionType.NURSING_HOME, InstitutionType.HAPPINESS_HOME} and beds:
            care[inst.region.code[:6]].append((inst.pk, beds))
    rng = random.Random(f"villages:{seed}")  # noqa: S311 - synthetic data
    out: list[County] = []
    for index, county in enumerate(plan.regions[RegionLevel.COUNTY]):
        code6 = county.code[:6]
        villages = [
            Village(
                pk=v.pk,
                code=v.code,
                name=v.name,
                township=v.parent.name if v.parent else "",
                rural=v.code[9:] >= "200",
                grids=sorted(grids.get(v.code, [])),
                # communities (towns) are bigger than villages
                weight=(1.6 if v.code[9:] < "200" else 1.0) * rng.uniform(0.5, 1.5),
            )
            for v in plan.regions[RegionLevel.VILLAGE]
            if v.code.startswith(code6)
        ]
        homes = care.get(code6, [])
        cum: list[float] = []
        running = 0.0
        for _pk, beds in homes:
            running += beds
            cum.append(running)
        out.append(
            County(
                code6=code6,
                index=index,
                villages=villages,
                care_homes=[pk for pk, _ in homes],
                care_cum=cum,
                ltc_pilot=index % 2 == 0,
            )
        )
    return out


def split(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders; sums exactly)."""
    if not weights:
        return []
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [math.floor(x) for x in exact]
    left = total - sum(counts)
    order = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[:left]:
        counts[i] += 1
    return counts
