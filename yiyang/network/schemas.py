"""Pydantic schemas of the network API. Inputs name references by id under the same
field names the services use (``region``, ``lead``, ``members`` …), so an error's
``field`` is the input field at fault."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from yiyang.common.params import Count, Id, Int64
from yiyang.common.schemas import ErrorOut, PatchSchema
from yiyang.network.models import (
    AgreementKind,
    AgreementStatus,
    AllianceKind,
    InstitutionType,
    IntegrationMode,
    NodeLevel,
    Profession,
    RegionLevel,
    TeamRole,
)

# --- shared references ------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class RegionRef(Schema):
    id: int
    code: str
    name: str


def ref(obj: Any) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": obj.name}


def region_ref(region: Any) -> dict[str, Any] | None:
    return None if region is None else {"id": region.pk, "code": region.code, "name": region.name}


# --- regions and grids ------------------------------------------------------------------


class RegionOut(Schema):
    id: int
    code: str
    name: str
    level: RegionLevel
    parent: RegionRef | None
    code_year: Int64

    @staticmethod
    def resolve_parent(obj: Any) -> dict[str, Any] | None:
        return region_ref(obj.parent)


class RegionIn(Schema):
    code: str = Field(..., description="12-digit statistical division code")
    name: str
    code_year: Int64 = 2023


class RegionPatch(PatchSchema):
    name: str | None = None
    code_year: Int64 | None = None


class RowErrorOut(Schema):
    line: int
    code: str
    reason: str
    message: str


class ImportReportOut(Schema):
    ok: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    errors: list[RowErrorOut]


class ImportErrorOut(ErrorOut):
    report: ImportReportOut | None = Field(
        None, description="the rows' report (absent when the body itself was unreadable)"
    )


class GridOut(Schema):
    id: int
    code: str
    name: str
    description: str
    village: RegionRef

    @staticmethod
    def resolve_village(obj: Any) -> dict[str, Any] | None:
        return region_ref(obj.village)


class GridIn(Schema):
    village: Id
    code: str
    name: str
    description: str = ""


class GridPatch(PatchSchema):
    village: Id | None = None
    code: str | None = None
    name: str | None = None
    description: str | None = None


# --- institutions and alliances ---------------------------------------------------------


class InstitutionOut(Schema):
    id: int
    name: str
    type: InstitutionType
    region: RegionRef
    address: str
    phone: str
    medical_licence_no: str | None
    care_filing_no: str | None
    beds_medical: Count
    beds_care: Count
    beds_home: Count
    founded_on: datetime.date | None
    elderly_friendly: bool
    tcm_services: bool
    mi_designated: bool
    ltc_designated: bool
    active: bool

    @staticmethod
    def resolve_region(obj: Any) -> dict[str, Any] | None:
        return region_ref(obj.region)


class InstitutionIn(Schema):
    name: str
    type: InstitutionType
    region: Id
    address: str = ""
    phone: str = ""
    medical_licence_no: str | None = None
    care_filing_no: str | None = None
    beds_medical: Count = Field(0, ge=0)
    beds_care: Count = Field(0, ge=0)
    beds_home: Count = Field(0, ge=0)
    founded_on: datetime.date | None = None
    elderly_friendly: bool = False
    tcm_services: bool = False
    mi_designated: bool = False
    ltc_designated: bool = False
    active: bool = True


class InstitutionPatch(PatchSchema):
    nullable = frozenset({"medical_licence_no", "care_filing_no", "founded_on"})

    name: str | None = None
    type: InstitutionType | None = None
    region: Id | None = None
    address: str | None = None
    phone: str | None = None
    medical_licence_no: str | None = None
    care_filing_no: str | None = None
    beds_medical: Count | None = Field(None, ge=0)
    beds_care: Count | None = Field(None, ge=0)
    beds_home: Count | None = Field(None, ge=0)
    founded_on: datetime.date | None = None
    elderly_friendly: bool | None = None
    tcm_services: bool | None = None
    mi_designated: bool | None = None
    ltc_designated: bool | None = None
    active: bool | None = None


class AllianceOut(Schema):
    id: int
    name: str
    kind: AllianceKind
    region: RegionRef
    lead: Ref
    members: list[Ref]

    @staticmethod
    def resolve_region(obj: Any) -> dict[str, Any] | None:
        return region_ref(obj.region)

    @staticmethod
    def resolve_lead(obj: Any) -> dict[str, Any] | None:
        return ref(obj.lead)

    @staticmethod
    def resolve_members(obj: Any) -> list[dict[str, Any]]:
        return [{"id": m.pk, "name": m.name} for m in obj.members.all()]


class AllianceIn(Schema):
    name: str
    kind: AllianceKind
    region: Id
    lead: Id
    members: list[Id] = []


class AlliancePatch(PatchSchema):
    name: str | None = None
    kind: AllianceKind | None = None
    region: Id | None = None
    lead: Id | None = None
    members: list[Id] | None = None


# --- chain nodes ------------------------------------------------------------------------


class NodeOut(Schema):
    id: int
    level: NodeLevel
    name: str
    region: RegionRef
    medical_member: Ref
    care_member: Ref
    integration_mode: IntegrationMode
    center: Ref | None
    lead: Ref | None

    @staticmethod
    def resolve_region(obj: Any) -> dict[str, Any] | None:
        return region_ref(obj.region)

    @staticmethod
    def resolve_medical_member(obj: Any) -> dict[str, Any] | None:
        return ref(obj.medical_member)

    @staticmethod
    def resolve_care_member(obj: Any) -> dict[str, Any] | None:
        return ref(obj.care_member)

    @staticmethod
    def resolve_center(obj: Any) -> dict[str, Any] | None:
        return ref(obj.center)

    @staticmethod
    def resolve_lead(obj: Any) -> dict[str, Any] | None:
        return ref(obj.lead)


class NodeIn(Schema):
    level: NodeLevel
    name: str
    region: Id
    medical_member: Id
    care_member: Id
    integration_mode: IntegrationMode
    center: Id | None = Field(None, description="stations: their center")
    lead: Id | None = Field(None, description="centers: their lead institution")


class NodePatch(PatchSchema):
    nullable = frozenset({"center", "lead"})

    name: str | None = None
    region: Id | None = None
    medical_member: Id | None = None
    care_member: Id | None = None
    integration_mode: IntegrationMode | None = None
    center: Id | None = None
    lead: Id | None = None


# --- agreements -------------------------------------------------------------------------


class AgreementOut(Schema):
    id: int
    kind: AgreementKind
    party_a: Ref
    party_b: Ref
    title: str
    responsibilities: str
    service_standards: str
    valid_from: datetime.date
    valid_to: datetime.date
    status: AgreementStatus
    document: str | None = Field(None, description="URL of the attached document")
    expiry: str = Field(
        ...,
        description='"expired", "not_yet_valid" (starts later), "expiring" (in force, ends '
        'within 30 days) or "" (in force)',
    )

    @staticmethod
    def resolve_party_a(obj: Any) -> dict[str, Any] | None:
        return ref(obj.party_a)

    @staticmethod
    def resolve_party_b(obj: Any) -> dict[str, Any] | None:
        return ref(obj.party_b)

    @staticmethod
    def resolve_document(obj: Any) -> str | None:
        return obj.document.url if obj.document else None

    @staticmethod
    def resolve_expiry(obj: Any) -> str:
        return obj.expiry_marker()


class AgreementIn(Schema):
    kind: AgreementKind
    party_a: Id
    party_b: Id
    title: str = ""
    responsibilities: str = ""
    service_standards: str = ""
    valid_from: datetime.date
    valid_to: datetime.date
    status: AgreementStatus = AgreementStatus.DRAFT


class AgreementPatch(PatchSchema):
    kind: AgreementKind | None = None
    party_a: Id | None = None
    party_b: Id | None = None
    title: str | None = None
    responsibilities: str | None = None
    service_standards: str | None = None
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None
    status: AgreementStatus | None = None


# --- staff and teams --------------------------------------------------------------------


def mask_phone(phone: str) -> str:
    if not phone:
        return ""
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


class MembershipOut(Schema):
    institution: Ref
    position: str
    primary: bool
    start_on: datetime.date | None
    end_on: datetime.date | None


class MembershipIn(Schema):
    institution: Id
    position: str = ""
    primary: bool = False
    start_on: datetime.date | None = None
    end_on: datetime.date | None = None


class StaffOut(Schema):
    id: int
    name: str
    sex: str
    phone: str = Field(..., description="masked")
    profession: Profession
    licence_no: str | None
    active: bool
    skills: list[str]
    memberships: list[MembershipOut]

    @staticmethod
    def resolve_phone(obj: Any) -> str:
        return mask_phone(obj.phone or "")

    @staticmethod
    def resolve_skills(obj: Any) -> list[str]:
        return [s.code for s in obj.skills.all()]

    @staticmethod
    def resolve_memberships(obj: Any) -> list[dict[str, Any]]:
        return [
            {
                "institution": ref(m.institution),
                "position": m.position,
                "primary": m.primary,
                "start_on": m.start_on,
                "end_on": m.end_on,
            }
            for m in obj.memberships.all()
        ]


class StaffIn(Schema):
    name: str
    sex: str = ""
    phone: str = ""
    profession: Profession
    licence_no: str | None = None
    active: bool = True
    skills: list[str] = Field([], description="skill codes")
    memberships: list[MembershipIn] = []


class StaffPatch(PatchSchema):
    nullable = frozenset({"licence_no"})

    name: str | None = None
    sex: str | None = None
    phone: str | None = None
    profession: Profession | None = None
    licence_no: str | None = None
    active: bool | None = None
    skills: list[str] | None = None
    memberships: list[MembershipIn] | None = None


class TeamMemberOut(Schema):
    staff: Ref
    role: TeamRole


class TeamMemberIn(Schema):
    staff: Id
    role: TeamRole = TeamRole.OTHER


class TeamOut(Schema):
    id: int
    name: str
    node: Ref
    leader: Ref
    members: list[TeamMemberOut]
    grids: list[Ref]

    @staticmethod
    def resolve_node(obj: Any) -> dict[str, Any] | None:
        return ref(obj.node)

    @staticmethod
    def resolve_leader(obj: Any) -> dict[str, Any] | None:
        return ref(obj.leader)

    @staticmethod
    def resolve_members(obj: Any) -> list[dict[str, Any]]:
        return [{"staff": ref(m.staff), "role": m.role} for m in obj.memberships.all()]

    @staticmethod
    def resolve_grids(obj: Any) -> list[dict[str, Any]]:
        return [{"id": g.pk, "name": g.name} for g in obj.grids.all()]


class TeamIn(Schema):
    name: str
    node: Id
    leader: Id
    members: list[TeamMemberIn]
    grids: list[Id] = []


class TeamPatch(PatchSchema):
    name: str | None = None
    node: Id | None = None
    leader: Id | None = None
    members: list[TeamMemberIn] | None = None
    grids: list[Id] | None = None


# --- the tree ---------------------------------------------------------------------------


class TreeInstitution(Schema):
    id: int
    name: str
    type: InstitutionType


class TreeGrid(Schema):
    id: int
    code: str
    name: str


class TreeTeamOut(Schema):
    id: int
    name: str
    leader: str | None
    grids: list[TreeGrid]


class TreeRegion(Schema):
    code: str
    name: str


class TreeNodeOut(Schema):
    id: int
    level: NodeLevel
    name: str
    in_scope: bool
    region: TreeRegion
    integration_mode: IntegrationMode
    medical_member: TreeInstitution
    care_member: TreeInstitution
    teams: list[TreeTeamOut]
    stations: list[TreeNodeOut]


class TreeLeadOut(Schema):
    institution: TreeInstitution
    in_scope: bool
    centers: list[TreeNodeOut]


TreeNodeOut.model_rebuild()
