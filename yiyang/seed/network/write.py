"""Writing the network plan (``write_network``): every level inserted with
``bulk_create``, parents first, so each foreign key resolves to the pk just returned;
province and city rows already in the database are reused, missing skills added."""

from __future__ import annotations

from yiyang.network.models import (
    Agreement,
    Alliance,
    ChainNode,
    Grid,
    Institution,
    Region,
    RegionLevel,
    Skill,
    Staff,
    StaffMembership,
    Team,
    TeamMember,
)
from yiyang.seed.network.catalogue import SKILLS
from yiyang.seed.network.plan import NetworkPlan

BATCH = 1000


def _existing_or_new(regions: list[Region]) -> list[Region]:
    """Reuse province/city rows already in the database; return the ones to insert."""
    existing = {r.code: r.pk for r in Region.objects.filter(code__in=[r.code for r in regions])}
    new = []
    for region in regions:
        if region.code in existing:
            region.pk = existing[region.code]
            region._state.adding = False
            region._state.db = "default"
        else:
            new.append(region)
    return new


def write_network(plan: NetworkPlan) -> dict[str, int]:
    """Insert the plan with bulk_create (call inside a transaction). Returns row counts."""
    for level in (RegionLevel.PROVINCE, RegionLevel.CITY):
        Region.objects.bulk_create(_existing_or_new(plan.regions[level]), batch_size=BATCH)
    for level in (RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        Region.objects.bulk_create(plan.regions[level], batch_size=BATCH)
    Grid.objects.bulk_create(plan.grids, batch_size=BATCH)
    Institution.objects.bulk_create(plan.institutions, batch_size=BATCH)
    Alliance.objects.bulk_create(plan.alliances, batch_size=BATCH)
    members = Alliance.members.through
    members.objects.bulk_create(
        [members(alliance=a, institution=i) for a, i in plan.alliance_members], batch_size=BATCH
    )
    ChainNode.objects.bulk_create(plan.centers, batch_size=BATCH)
    ChainNode.objects.bulk_create(plan.stations, batch_size=BATCH)
    Agreement.objects.bulk_create(plan.agreements, batch_size=BATCH)

    skills = {s.code: s for s in Skill.objects.filter(code__in=list(SKILLS))}
    missing = [Skill(code=c, name=n) for c, n in SKILLS.items() if c not in skills]
    for skill in Skill.objects.bulk_create(missing, batch_size=BATCH):
        skills[skill.code] = skill
    Staff.objects.bulk_create(plan.staff, batch_size=BATCH)
    staff_skills = Staff.skills.through
    staff_skills.objects.bulk_create(
        [staff_skills(staff=s, skill=skills[c]) for s, c in plan.staff_skills], batch_size=BATCH
    )
    StaffMembership.objects.bulk_create(plan.memberships, batch_size=BATCH)
    Team.objects.bulk_create(plan.teams, batch_size=BATCH)
    TeamMember.objects.bulk_create(plan.team_members, batch_size=BATCH)
    team_grids = Team.grids.through
    team_grids.objects.bulk_create(
        [team_grids(team=t, grid=g) for t, g in plan.team_grids], batch_size=BATCH
    )
    return plan.counts()
