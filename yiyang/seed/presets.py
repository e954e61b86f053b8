"""Sizes of the synthetic data sets (``yiyang seed --preset NAME``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    counties: int
    townships_per_county: int
    villages_per_county: int  # spread evenly over the county's townships
    teams_per_center: int
    grids_per_village: tuple[int, int]  # inclusive range
    users: bool  # one login per role (demo only: usernames are fixed)


PRESETS: dict[str, Preset] = {
    # One county to click through: 3 townships, 20 villages, 3 centers, 20 stations.
    "demo": Preset("demo", 1, 3, 20, 2, (2, 3), users=True),
    # A realistic county: ~15 townships, ~300 villages.
    "county": Preset("county", 1, 15, 300, 2, (2, 4), users=False),
    # A city for performance work: 10 counties x 15 townships x 20 villages.
    "city": Preset("city", 10, 15, 300, 2, (2, 4), users=False),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown preset {name!r}: choose one of {', '.join(sorted(PRESETS))}"
        ) from None
