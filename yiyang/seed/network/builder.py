"""Planning the synthetic network (``plan_network``): from (preset, seed, today) the
region tree (province, city, counties, townships, villages with grids), each county's lead
hospital and medical community, each township's center and each village's station with
their institutions, staff and agreements, and the centers' family-doctor teams — unsaved,
drawn from one ``random.Random(seed)`` stream in a fixed order."""

from __future__ import annotations

import datetime
import random
from collections import defaultdict

from yiyang.network.models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    Alliance,
    AllianceKind,
    ChainNode,
    Grid,
    Institution,
    InstitutionType,
    IntegrationMode,
    NodeLevel,
    Profession,
    Region,
    RegionLevel,
    Staff,
    StaffMembership,
    Team,
    TeamMember,
    TeamRole,
)
from yiyang.seed import names
from yiyang.seed.network.catalogue import (
    AGREEMENT_TEXT,
    AGREEMENT_TITLE,
    LICENCE_CLASS,
    LICENCE_PREFIX,
    POSITIONS,
    PROFESSION_SKILLS,
    STAFFING,
)
from yiyang.seed.network.plan import DemoTargets, NetworkPlan
from yiyang.seed.presets import Preset


class _Builder:
    """Holds the random stream and the per-county counters while planning."""

    def __init__(self, preset: Preset, seed: int, today: datetime.date) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
        self.plan = NetworkPlan(preset=preset, seed=seed, today=today)
        self.serial: dict[tuple[str, str], int] = defaultdict(int)
        self.area_code = "0571"

    # -- helpers ---------------------------------------------------------------------
    def next_serial(self, county: str, kind: str) -> int:
        self.serial[(county, kind)] += 1
        return self.serial[(county, kind)]

    def date_between(self, start_year: int, end_year: int) -> datetime.date:
        start = datetime.date(start_year, 1, 1)
        span = (datetime.date(end_year, 12, 31) - start).days
        return start + datetime.timedelta(days=self.rng.randrange(span + 1))

    def region(self, code: str, name: str, level: str, parent: Region | None) -> Region:
        obj = Region(code=code, name=name, level=level, parent=parent, code_year=2023)
        self.plan.regions[level].append(obj)
        return obj

    def institution(
        self, name: str, kind: str, region: Region, county: str, address: str
    ) -> Institution:
        rng = self.rng
        medical = kind in {
            InstitutionType.LEAD_HOSPITAL,
            InstitutionType.CHC,
            InstitutionType.THC,
            InstitutionType.CHS,
            InstitutionType.VILLAGE_CLINIC,
        }
        obj = Institution(
            name=name,
            type=kind,
            region=region,
            address=address,
            phone=names.landline(rng, self.area_code),
            founded_on=self.date_between(1952, 2021),
            elderly_friendly=rng.random() < 0.4,
            tcm_services=kind in {InstitutionType.LEAD_HOSPITAL, InstitutionType.THC}
            or (medical and rng.random() < 0.5),
            mi_designated=medical and rng.random() < 0.92,
            ltc_designated=(not medical) and rng.random() < 0.35,
        )
        if medical:
            letter = LICENCE_CLASS.get(kind, "J")
            serial = self.next_serial(county, "medical-licence")
            obj.medical_licence_no = f"PDY{rng.randrange(10**5):05d}{county}{letter}{serial:04d}"
        else:
            serial = self.next_serial(county, "care-filing")
            obj.care_filing_no = f"{county}YL{rng.randrange(2015, 2025)}{serial:04d}"
        if kind == InstitutionType.LEAD_HOSPITAL:
            obj.beds_medical = rng.randrange(300, 901, 10)
            obj.beds_care = rng.choice((0, 30, 50))
        elif kind in {InstitutionType.THC, InstitutionType.CHC}:
            obj.beds_medical = rng.randrange(20, 100)
        elif kind == InstitutionType.NURSING_HOME:
            obj.beds_care = rng.randrange(40, 201)
            obj.beds_home = rng.randrange(0, 81)
        elif kind == InstitutionType.HAPPINESS_HOME:
            obj.beds_care = rng.randrange(0, 21)
            obj.beds_home = rng.randrange(10, 61)
        elif kind == InstitutionType.DAY_CARE:
            obj.beds_home = rng.randrange(10, 61)
        self.plan.institutions.append(obj)
        return obj

    def staff_for(self, institution: Institution, staffing: str, county: str) -> list[Staff]:
        rng = self.rng
        people: list[Staff] = []
        for profession, (low, high) in STAFFING[staffing].items():
            for _ in range(rng.randint(low, high)):
                female_share = (
                    0.9 if profession in {Profession.NURSE, Profession.CAREGIVER} else 0.45
                )
                sex = "F" if rng.random() < female_share else "M"
                prefix = LICENCE_PREFIX[profession]
                licence = None
                if prefix is not None:
                    serial = self.next_serial(county, prefix)
                    licence = f"{prefix}{county}{serial:06d}"
                person = Staff(
                    name=names.person_name(rng, sex),
                    sex=sex,
                    phone=names.mobile(rng),
                    profession=profession,
                    licence_no=licence,
                )
                pool = PROFESSION_SKILLS[profession]
                for code in rng.sample(pool, k=rng.randint(1, min(2, len(pool)))):
                    self.plan.staff_skills.append((person, code))
                self.plan.memberships.append(
                    StaffMembership(
                        staff=person,
                        institution=institution,
                        position=rng.choice(POSITIONS[profession]),
                        primary=True,
                        start_on=self.date_between(2003, 2023),
                    )
                )
                self.plan.staff.append(person)
                people.append(person)
        return people

    def agreement(
        self, kind: str, party_a: Institution, party_b: Institution, expiry: str
    ) -> Agreement:
        """``expiry``: "expiring" (within 30 days), "expired" or "valid". Every one has
        started by ``today`` (an active agreement not yet in force would be a different
        marker): one of 1, 2 or 3 years, the shortest that has begun when the one drawn
        would start later."""
        rng, today = self.rng, self.plan.today
        if expiry == "expiring":
            valid_to = today + datetime.timedelta(days=rng.randint(3, 28))
        elif expiry == "expired":
            valid_to = today - datetime.timedelta(days=rng.randint(5, 120))
        else:
            valid_to = today + datetime.timedelta(days=rng.randint(60, 1000))
        terms = (365, 730, 1095)
        term = rng.choice(terms)
        if valid_to - datetime.timedelta(days=term) > today:
            term = next(t for t in terms if valid_to - datetime.timedelta(days=t) <= today)
        valid_from = valid_to - datetime.timedelta(days=term)
        responsibilities, standards = AGREEMENT_TEXT[kind]
        obj = Agreement(
            kind=kind,
            party_a=party_a,
            party_b=party_b,
            title=f"{party_a.name}与{party_b.name}{AGREEMENT_TITLE[kind]}",
            responsibilities=responsibilities,
            service_standards=standards,
            valid_from=valid_from,
            valid_to=valid_to,
            status=AgreementStatus.ACTIVE,
        )
        self.plan.agreements.append(obj)
        return obj

    # -- the region tree -------------------------------------------------------------
    def build(self) -> NetworkPlan:
        rng, preset = self.rng, self.plan.preset
        province_code, province_name, self.area_code = rng.choice(names.PROVINCES)
        taken: set[str] = set()
        city_no = rng.randint(71, 89)
        city_code = f"{province_code}{city_no:02d}"
        province = self.region(
            f"{province_code}0000000000", province_name, RegionLevel.PROVINCE, None
        )
        city_name = names.place_stem(rng, taken) + "市"
        city = self.region(f"{city_code}00000000", city_name, RegionLevel.CITY, province)
        leads: list[Institution] = []
        for county_no in range(preset.counties):
            county_code = f"{city_code}{21 + county_no:02d}"
            county_name = names.place_stem(rng, taken) + "县"
            county = self.region(f"{county_code}000000", county_name, RegionLevel.COUNTY, city)
            # Township and village names are unique within their county.
            leads.append(self.build_county(county, county_code, set(taken)))
        if preset.counties > 1:
            group = Alliance(
                name=f"{city_name}城市医疗集团",
                kind=AllianceKind.CITY_GROUP,
                region=city,
                lead=leads[0],
            )
            self.plan.alliances.append(group)
            self.plan.alliance_members.extend((group, lead) for lead in leads[1:])
        return self.plan

    def build_county(self, county: Region, county_code: str, taken: set[str]) -> Institution:
        """A county: its lead hospital (with staff) heading the county's medical community
        (``Alliance``), its townships (``build_township``) and, for the first county, the
        demo's targets. Returns the lead hospital."""
        rng, preset, plan = self.rng, self.plan.preset, self.plan
        first_county = not plan.centers
        lead = self.institution(
            f"{county.name}人民医院",
            InstitutionType.LEAD_HOSPITAL,
            county,
            county_code,
            f"{county.name}人民路{rng.randint(1, 300)}号",
        )
        lead_staff = self.staff_for(lead, "lead", county_code)
        alliance = Alliance(
            name=f"{county.name}县域医疗共同体",
            kind=AllianceKind.COUNTY_COMMUNITY,
            region=county,
            lead=lead,
        )
        plan.alliances.append(alliance)

        n_town = preset.townships_per_county
        # Kinds of township-level divisions: a few subdistricts (街道, 001–099), about
        # half towns (镇, 100–199), the rest townships (乡, 200–399).
        n_sub = max(1, n_town // 5)
        n_towns = max(1, (n_town - n_sub + 1) // 2)
        # Towns first: the demo's users sit in the first one (a rural town with villages).
        kinds = ["town"] * n_towns + ["township"] * (n_town - n_sub - n_towns)
        kinds += ["subdistrict"] * n_sub
        villages_left = preset.villages_per_county
        next_no = {"subdistrict": 1, "town": 101, "township": 201}
        suffix = {"subdistrict": "街道", "town": "镇", "township": "乡"}
        for index, kind in enumerate(kinds):
            town_code = f"{county_code}{next_no[kind]:03d}"
            next_no[kind] += 1
            stem = names.place_stem(rng, taken)
            township = self.region(
                f"{town_code}000", stem + suffix[kind], RegionLevel.TOWNSHIP, county
            )
            n_villages = villages_left // (n_town - index)
            villages_left -= n_villages
            self.build_township(
                township, town_code, kind, n_villages, lead, alliance, county_code, taken, index
            )
        if first_county:
            plan.targets = self.demo_targets(county, lead_staff)
        return lead

    def demo_targets(self, county: Region, lead_staff: list[Staff]) -> DemoTargets:
        """What the demo's users are attached to: the first center (of ``county``, just
        built), its first team and the first staff member of each profession there (the
        assessor from the center's care staff or else the lead hospital's)."""
        plan = self.plan
        center = plan.centers[0]
        team = plan.teams[0]
        team_staff = [m for m in plan.team_members if m.team is team]
        care_staff = [m.staff for m in plan.memberships if m.institution is center.care_member]

        def first(people: list[Staff], profession: str) -> Staff:
            return next(p for p in people if p.profession == profession)

        return DemoTargets(
            county=county,
            township=center.region,
            center_medical=center.medical_member,
            center_care=center.care_member,
            team=team,
            doctor=team.leader,
            nurse=first([m.staff for m in team_staff], Profession.NURSE),
            caregiver=first(care_staff, Profession.CAREGIVER),
            dispatcher=first(care_staff, Profession.DISPATCHER),
            assessor=first(care_staff + lead_staff, Profession.ASSESSOR),
        )

    def build_township(
        self,
        township: Region,
        town_code: str,
        kind: str,
        n_villages: int,
        lead: Institution,
        alliance: Alliance,
        county: str,
        taken: set[str],
        index: int,
    ) -> None:
        """A township (``kind`` subdistrict, town or township; ``index``: its place in the
        county): its center with staff and agreements, its ``n_villages`` villages with
        grids and stations, and the center's family-doctor teams."""
        center, medical_staff, care_staff = self.township_center(
            township, kind, lead, alliance, county, index
        )
        # Villages (村委会 200–399) or communities (居委会 001–199): a subdistrict has
        # communities only, a town one community around its seat, a township villages.
        stations: list[tuple[Region, list[Staff], list[Grid]]] = []
        next_no = {"community": 1, "village": 201}
        for v in range(n_villages):
            community = kind == "subdistrict" or (kind == "town" and v == 0)
            vkind = "community" if community else "village"
            code = f"{town_code}{next_no[vkind]:03d}"
            next_no[vkind] += 1
            stations.append(
                self.build_village(township, code, community, center, alliance, county, taken)
            )
        self.build_teams(township, center, medical_staff, care_staff, stations)

    def township_center(
        self,
        township: Region,
        kind: str,
        lead: Institution,
        alliance: Alliance,
        county: str,
        index: int,
    ) -> tuple[ChainNode, list[Staff], list[Staff]]:
        """The township's center: a health center (or, in a subdistrict, a community health
        center) joining the county's alliance, a nursing home, their staff and their three
        agreements. Returns the center and its medical and care staff."""
        rng, plan = self.rng, self.plan
        address = f"{township.name}{rng.choice('中人民解放建设新华和平')}路{rng.randint(1, 200)}号"
        if kind == "subdistrict":
            medical = self.institution(
                f"{township.name}社区卫生服务中心", InstitutionType.CHC, township, county, address
            )
        else:
            head = "中心卫生院" if kind == "town" else "卫生院"
            medical = self.institution(
                f"{township.name}{head}", InstitutionType.THC, township, county, address
            )
        care = self.institution(
            f"{township.name}{rng.choice(('敬老院', '颐养院', '养老服务中心'))}",
            InstitutionType.NURSING_HOME,
            township,
            county,
            address,
        )
        plan.alliance_members.append((alliance, medical))
        mode = rng.choices(list(IntegrationMode), weights=(0.35, 0.3, 0.1, 0.25), k=1)[0]
        center = ChainNode(
            level=NodeLevel.CENTER,
            name=f"{township.name}医养服务中心",
            region=township,
            medical_member=medical,
            care_member=care,
            integration_mode=mode,
            lead=lead,
        )
        plan.centers.append(center)
        medical_staff = self.staff_for(medical, "center_medical", county)
        care_staff = self.staff_for(care, "center_care", county)
        # Agreements with the lead; which one expires is fixed by the center's index so
        # every county shows both markers.
        self.agreement(
            AgreementKind.CHAIN_MEMBERSHIP,
            medical,
            lead,
            "expiring" if index % 3 == 0 else "valid",
        )
        self.agreement(
            AgreementKind.COOPERATION, medical, care, "expired" if index % 3 == 1 else "valid"
        )
        self.agreement(AgreementKind.REFERRAL, medical, lead, "valid")
        return center, medical_staff, care_staff

    def build_village(
        self,
        township: Region,
        code: str,
        community: bool,
        center: ChainNode,
        alliance: Alliance,
        county: str,
        taken: set[str],
    ) -> tuple[Region, list[Staff], list[Grid]]:
        """A village (or, ``community``, a residents' community) with its grids and its
        station under ``center``: a clinic joining the alliance, a care place, their
        agreement and staff. Returns the village, the station's medical staff and the
        grids."""
        rng, plan = self.rng, self.plan
        stem = names.place_stem(rng, taken)
        village = self.region(
            code, stem + ("社区" if community else "村"), RegionLevel.VILLAGE, township
        )
        low, high = plan.preset.grids_per_village
        grids = [
            Grid(
                village=village,
                code=f"{code}G{g:02d}",
                name=f"{village.name}第{g}网格",
                description=f"{village.name}第{g}网格，约{rng.randint(80, 300)}户",
            )
            for g in range(1, rng.randint(low, high) + 1)
        ]
        plan.grids.extend(grids)
        v_address = f"{township.name}{village.name}{rng.randint(1, 99)}号"
        s_medical, s_care = self.station_members(village, community, county, v_address)
        plan.alliance_members.append((alliance, s_medical))
        s_mode = rng.choices(
            (
                IntegrationMode.ONE_CAMPUS,
                IntegrationMode.CONTRACTED,
                IntegrationMode.CARE_IN_MEDICAL,
            ),
            weights=(0.5, 0.4, 0.1),
            k=1,
        )[0]
        plan.stations.append(
            ChainNode(
                level=NodeLevel.STATION,
                name=f"{village.name}医养服务站",
                region=village,
                medical_member=s_medical,
                care_member=s_care,
                integration_mode=s_mode,
                center=center,
            )
        )
        roll = rng.random()
        expiry = "expiring" if roll < 0.08 else "expired" if roll < 0.14 else "valid"
        self.agreement(AgreementKind.COOPERATION, s_medical, s_care, expiry)
        station_staff = self.staff_for(s_medical, "station_medical", county)
        self.staff_for(s_care, "station_care", county)
        return village, station_staff, grids

    def station_members(
        self, village: Region, community: bool, county: str, address: str
    ) -> tuple[Institution, Institution]:
        """The two institutions of a village's station: a community health station and a
        day-care center (``community``), or a village clinic and a happiness home or
        day-care center."""
        if community:
            s_medical = self.institution(
                f"{village.name}卫生服务站", InstitutionType.CHS, village, county, address
            )
            s_care = self.institution(
                f"{village.name}日间照料中心",
                InstitutionType.DAY_CARE,
                village,
                county,
                address,
            )
            return s_medical, s_care
        s_medical = self.institution(
            f"{village.name}卫生室",
            InstitutionType.VILLAGE_CLINIC,
            village,
            county,
            address,
        )
        care_kind = self.rng.choice((InstitutionType.HAPPINESS_HOME, InstitutionType.DAY_CARE))
        care_name = "农村幸福院" if care_kind == InstitutionType.HAPPINESS_HOME else "日间照料中心"
        s_care = self.institution(f"{village.name}{care_name}", care_kind, village, county, address)
        return s_medical, s_care

    def build_teams(
        self,
        township: Region,
        center: ChainNode,
        medical_staff: list[Staff],
        care_staff: list[Staff],
        stations: list[tuple[Region, list[Staff], list[Grid]]],
    ) -> None:
        """The center's family-doctor teams: led by its doctors, with its nurses,
        public-health workers and a caregiver; each serves the grids of a share of the
        villages (``stations``) and takes those villages' doctors in."""
        plan = self.plan
        doctors = [s for s in medical_staff if s.profession == Profession.DOCTOR]
        nurses = [s for s in medical_staff if s.profession == Profession.NURSE]
        public = [s for s in medical_staff if s.profession == Profession.PUBLIC_HEALTH]
        specialists = [
            s
            for s in medical_staff
            if s.profession in {Profession.TCM_DOCTOR, Profession.REHAB_THERAPIST}
        ]
        caregivers = [s for s in care_staff if s.profession == Profession.CAREGIVER]
        n_teams = min(plan.preset.teams_per_center, len(doctors))
        for t in range(n_teams):
            leader = doctors[t]
            team = Team(name=f"{township.name}第{t + 1}家庭医生团队", node=center, leader=leader)
            plan.teams.append(team)
            members = [(leader, TeamRole.LEADER)]
            members += [(d, TeamRole.DOCTOR) for d in doctors[n_teams + t :: n_teams]]
            members += [(n, TeamRole.NURSE) for n in nurses[t::n_teams]]
            members += [(p, TeamRole.PUBLIC_HEALTH) for p in public[t::n_teams]]
            members += [(s, TeamRole.SPECIALIST) for s in specialists[t::n_teams]]
            members += [(c, TeamRole.CAREGIVER) for c in caregivers[t::n_teams][:1]]
            for _village, station_staff, grids in stations[t::n_teams]:
                members += [
                    (s, TeamRole.DOCTOR if s.profession == Profession.DOCTOR else TeamRole.NURSE)
                    for s in station_staff
                ]
                plan.team_grids.extend((team, g) for g in grids)
            plan.team_members.extend(
                TeamMember(team=team, staff=person, role=role) for person, role in members
            )


def plan_network(preset: Preset, seed: int, today: datetime.date) -> NetworkPlan:
    """The whole network for (preset, seed), unsaved. ``today`` only anchors the
    agreements' validity dates (so the demo always shows expiring and expired ones)."""
    return _Builder(preset, seed, today).build()
