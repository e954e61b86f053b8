"""The network plan: the unsaved, linked model instances ``plan_network`` builds and
``write_network`` inserts (``NetworkPlan``), and the objects the demo's users are
attached to (``DemoTargets``)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from yiyang.network.models import (
    Agreement,
    Alliance,
    ChainNode,
    Grid,
    Institution,
    Region,
    RegionLevel,
    Staff,
    StaffMembership,
    Team,
    TeamMember,
)
from yiyang.seed.presets import Preset


@dataclass
class DemoTargets:
    """Objects the demo's users are attached to (first county, first township)."""

    county: Region
    township: Region
    center_medical: Institution
    center_care: Institution
    team: Team
    doctor: Staff
    nurse: Staff
    caregiver: Staff
    dispatcher: Staff
    assessor: Staff


@dataclass
class NetworkPlan:
    preset: Preset
    seed: int
    today: datetime.date
    regions: dict[str, list[Region]] = field(default_factory=lambda: defaultdict(list))
    grids: list[Grid] = field(default_factory=list)
    institutions: list[Institution] = field(default_factory=list)
    alliances: list[Alliance] = field(default_factory=list)
    alliance_members: list[tuple[Alliance, Institution]] = field(default_factory=list)
    centers: list[ChainNode] = field(default_factory=list)
    stations: list[ChainNode] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)
    staff_skills: list[tuple[Staff, str]] = field(default_factory=list)
    memberships: list[StaffMembership] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    team_members: list[TeamMember] = field(default_factory=list)
    team_grids: list[tuple[Team, Grid]] = field(default_factory=list)
    targets: DemoTargets | None = None

    @property
    def county_codes(self) -> list[str]:
        return [r.code for r in self.regions[RegionLevel.COUNTY]]

    def counts(self) -> dict[str, int]:
        return {
            "regions": sum(len(v) for v in self.regions.values()),
            "counties": len(self.regions[RegionLevel.COUNTY]),
            "townships": len(self.regions[RegionLevel.TOWNSHIP]),
            "villages": len(self.regions[RegionLevel.VILLAGE]),
            "grids": len(self.grids),
            "institutions": len(self.institutions),
            "alliances": len(self.alliances),
            "centers": len(self.centers),
            "stations": len(self.stations),
            "agreements": len(self.agreements),
            "staff": len(self.staff),
            "teams": len(self.teams),
            "team_members": len(self.team_members),
        }
