"""Sizes of the synthetic data sets (``yiyang seed --preset NAME``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizing:
    """How many residents a preset gets per county, and how much of the optional data."""

    per_county: int
    contact_share: float  # households with their children recorded as contacts
    observed_share: float  # residents with hypertension/diabetes given a year of readings


@dataclass(frozen=True)
class Preset:
    name: str
    counties: int
    townships_per_county: int
    villages_per_county: int  # spread evenly over the county's townships
    teams_per_center: int
    grids_per_village: tuple[int, int]  # inclusive range
    users: bool  # one login per role (demo only: usernames are fixed)
    residents: Sizing


PRESETS: dict[str, Preset] = {
    # One county to click through: 3 townships, 20 villages, 3 centers, 20 stations; a
    # few hundred residents, every one with hypertension or diabetes with a year of
    # readings.
    "demo": Preset("demo", 1, 3, 20, 2, (2, 3), users=True, residents=Sizing(300, 1.0, 1.0)),
    # A realistic county: ~15 townships, ~300 villages, 100,000 people aged 60+ (a county
    # of ~500,000 inhabitants).
    "county": Preset(
        "county", 1, 15, 300, 2, (2, 4), users=False, residents=Sizing(100_000, 1.0, 0.05)
    ),
    # A city for performance work: 10 counties x 15 townships x 20 villages, 1,000,000
    # residents; contacts and readings for a share only, to stay within the time budget.
    "city": Preset(
        "city", 10, 15, 300, 2, (2, 4), users=False, residents=Sizing(100_000, 0.3, 0.01)
    ),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown preset {name!r}: choose one of {', '.join(sorted(PRESETS))}"
        ) from None
