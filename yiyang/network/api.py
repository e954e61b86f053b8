"""The care network API, mounted at ``/api/v1/network``.

Lists are scoped to the caller's data scope and paginated (``?page=&page_size=``); an
object outside the scope answers 404 like a missing one. Writes call ``services``; their
errors come back as ``{"code", "detail", "field"}``.
"""

import re
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate

from yiyang.accounts.actor import actor
from yiyang.accounts.models import User
from yiyang.common.errors import PermissionDenied
from yiyang.common.params import INT64_MAX, INT64_MIN, Id, Pagination
from yiyang.common.schemas import ErrorOut
from yiyang.network.models import LEVEL_DIGITS, RegionLevel, expiry_q
from yiyang.network.permissions import NetworkPerm
from yiyang.network.regions import check_code, import_failed, import_regions
from yiyang.network.schemas import (
    AgreementIn,
    AgreementOut,
    AgreementPatch,
    AllianceIn,
    AllianceOut,
    AlliancePatch,
    GridIn,
    GridOut,
    GridPatch,
    ImportErrorOut,
    ImportReportOut,
    InstitutionIn,
    InstitutionOut,
    InstitutionPatch,
    NodeIn,
    NodeOut,
    NodePatch,
    RegionIn,
    RegionOut,
    RegionPatch,
    StaffIn,
    StaffOut,
    StaffPatch,
    TeamIn,
    TeamOut,
    TeamPatch,
    TreeLeadOut,
)
from yiyang.network.selectors.institutions import (
    agreements_for,
    alliances_for,
    get_agreement_for,
    get_alliance_for,
    get_institution_for,
    get_node_for,
    institutions_for,
    nodes_for,
)
from yiyang.network.selectors.regions import get_grid_for, get_region_for, grids_for, regions_for
from yiyang.network.selectors.staff import get_staff_for, staff_for
from yiyang.network.selectors.teams import get_team_for, teams_for
from yiyang.network.selectors.tree import network_tree
from yiyang.network.services.agreements import create_agreement, update_agreement
from yiyang.network.services.alliances import create_alliance, update_alliance
from yiyang.network.services.grids import create_grid, update_grid
from yiyang.network.services.institutions import create_institution, update_institution
from yiyang.network.services.nodes import create_node, update_node
from yiyang.network.services.regions import create_region, update_region
from yiyang.network.services.staff import create_staff, update_staff
from yiyang.network.services.teams import create_team, update_team

router = Router(tags=["network"])

PAGE_SIZE = 50
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def region_prefix(value: str) -> str:
    """A region filter value as a code prefix: a full 12-digit code becomes its significant
    digits (``411521000000`` → ``411521``); anything else is used as given (digits only)."""
    value = value.strip()
    try:
        level = check_code(value)
    except ValueError:
        return re.sub(r"[^0-9]", "", value)
    return value[: LEVEL_DIGITS[RegionLevel(level)]]


# --- regions ----------------------------------------------------------------------------


class RegionFilter(Schema):
    level: RegionLevel | None = None
    prefix: str | None = None
    parent: Id | None = None
    q: str | None = None


@router.get(
    "/regions", response=list[RegionOut], url_name="network_region_list", summary="List regions"
)
@paginate(Pagination, page_size=PAGE_SIZE)
def region_list(request: HttpRequest, filters: Query[RegionFilter]) -> QuerySet:
    qs = regions_for(actor(request)).select_related("parent")
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.prefix:
        qs = qs.filter(code__startswith=region_prefix(filters.prefix))
    if filters.parent:
        qs = qs.filter(parent_id=filters.parent)
    if filters.q:
        qs = qs.filter(name__icontains=filters.q)
    return qs


@router.get(
    "/regions/{int:pk}",
    response={200: RegionOut, **ERRORS},
    url_name="network_region_detail",
)
def region_detail(request: HttpRequest, pk: Id) -> Any:
    return get_region_for(actor(request), pk)


@router.post("/regions", response={201: RegionOut, **ERRORS}, url_name="network_region_create")
def region_create(request: HttpRequest, payload: RegionIn) -> Any:
    return 201, create_region(actor(request), **payload.dict())


@router.patch(
    "/regions/{int:pk}", response={200: RegionOut, **ERRORS}, url_name="network_region_update"
)
def region_update(request: HttpRequest, pk: Id, payload: RegionPatch) -> Any:
    return update_region(actor(request), pk, **payload.dict(exclude_unset=True))


@router.post(
    "/regions/import",
    response={200: ImportReportOut, 400: ImportErrorOut, 403: ErrorOut},
    url_name="network_region_import",
    summary="Import a region CSV (code,name): all rows or none",
)
def region_import(
    request: HttpRequest,
    file: File[UploadedFile],
    year: int = Form(2023, ge=INT64_MIN, le=INT64_MAX),
) -> Any:
    user = actor(request)
    if not user.has_perm_code(NetworkPerm.REGION_IMPORT):
        raise PermissionDenied()
    report = import_regions(user, file.read(), year=year, source=file.name or "")
    if not report.ok:
        error = import_failed(report)
        return 400, {**error.as_dict(), "report": report.as_dict()}
    return 200, report.as_dict()


# --- grids ------------------------------------------------------------------------------


class GridFilter(Schema):
    village: Id | None = None
    region: str | None = None
    q: str | None = None


@router.get("/grids", response=list[GridOut], url_name="network_grid_list")
@paginate(Pagination, page_size=PAGE_SIZE)
def grid_list(request: HttpRequest, filters: Query[GridFilter]) -> QuerySet:
    qs = grids_for(actor(request))
    if filters.village:
        qs = qs.filter(village_id=filters.village)
    if filters.region:
        qs = qs.filter(village__code__startswith=region_prefix(filters.region))
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(code__icontains=filters.q))
    return qs


@router.get("/grids/{int:pk}", response={200: GridOut, **ERRORS}, url_name="network_grid_detail")
def grid_detail(request: HttpRequest, pk: Id) -> Any:
    return get_grid_for(actor(request), pk)


@router.post("/grids", response={201: GridOut, **ERRORS}, url_name="network_grid_create")
def grid_create(request: HttpRequest, payload: GridIn) -> Any:
    return 201, create_grid(actor(request), **payload.dict())


@router.patch("/grids/{int:pk}", response={200: GridOut, **ERRORS}, url_name="network_grid_update")
def grid_update(request: HttpRequest, pk: Id, payload: GridPatch) -> Any:
    return update_grid(actor(request), pk, **payload.dict(exclude_unset=True))


# --- institutions -----------------------------------------------------------------------


class InstitutionFilter(Schema):
    type: str | None = None
    region: str | None = None
    q: str | None = None
    active: bool | None = None


@router.get("/institutions", response=list[InstitutionOut], url_name="network_institution_list")
@paginate(Pagination, page_size=PAGE_SIZE)
def institution_list(request: HttpRequest, filters: Query[InstitutionFilter]) -> QuerySet:
    qs = institutions_for(actor(request))
    if filters.type:
        qs = qs.filter(type__in=filters.type.split(","))
    if filters.region:
        qs = qs.filter(region__code__startswith=region_prefix(filters.region))
    if filters.q:
        qs = qs.filter(
            Q(name__icontains=filters.q)
            | Q(medical_licence_no=filters.q)
            | Q(care_filing_no=filters.q)
        )
    if filters.active is not None:
        qs = qs.filter(active=filters.active)
    return qs


@router.get(
    "/institutions/{int:pk}",
    response={200: InstitutionOut, **ERRORS},
    url_name="network_institution_detail",
)
def institution_detail(request: HttpRequest, pk: Id) -> Any:
    return get_institution_for(actor(request), pk)


@router.post(
    "/institutions",
    response={201: InstitutionOut, **ERRORS},
    url_name="network_institution_create",
)
def institution_create(request: HttpRequest, payload: InstitutionIn) -> Any:
    return 201, create_institution(actor(request), **payload.dict())


@router.patch(
    "/institutions/{int:pk}",
    response={200: InstitutionOut, **ERRORS},
    url_name="network_institution_update",
)
def institution_update(request: HttpRequest, pk: Id, payload: InstitutionPatch) -> Any:
    return update_institution(actor(request), pk, **payload.dict(exclude_unset=True))


# --- alliances --------------------------------------------------------------------------


class AllianceFilter(Schema):
    kind: str | None = None
    region: str | None = None


@router.get("/alliances", response=list[AllianceOut], url_name="network_alliance_list")
@paginate(Pagination, page_size=PAGE_SIZE)
def alliance_list(request: HttpRequest, filters: Query[AllianceFilter]) -> QuerySet:
    qs = alliances_for(actor(request))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.region:
        qs = qs.filter(region__code__startswith=region_prefix(filters.region))
    return qs


@router.get(
    "/alliances/{int:pk}",
    response={200: AllianceOut, **ERRORS},
    url_name="network_alliance_detail",
)
def alliance_detail(request: HttpRequest, pk: Id) -> Any:
    return get_alliance_for(actor(request), pk)


@router.post(
    "/alliances", response={201: AllianceOut, **ERRORS}, url_name="network_alliance_create"
)
def alliance_create(request: HttpRequest, payload: AllianceIn) -> Any:
    alliance = create_alliance(actor(request), **payload.dict())
    return 201, get_alliance_for(actor(request), alliance.pk)


@router.patch(
    "/alliances/{int:pk}",
    response={200: AllianceOut, **ERRORS},
    url_name="network_alliance_update",
)
def alliance_update(request: HttpRequest, pk: Id, payload: AlliancePatch) -> Any:
    update_alliance(actor(request), pk, **payload.dict(exclude_unset=True))
    return get_alliance_for(actor(request), pk)


# --- chain nodes ------------------------------------------------------------------------


class NodeFilter(Schema):
    level: str | None = None
    region: str | None = None
    center: Id | None = None
    lead: Id | None = None


@router.get("/nodes", response=list[NodeOut], url_name="network_node_list")
@paginate(Pagination, page_size=PAGE_SIZE)
def node_list(request: HttpRequest, filters: Query[NodeFilter]) -> QuerySet:
    qs = nodes_for(actor(request))
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.region:
        qs = qs.filter(region__code__startswith=region_prefix(filters.region))
    if filters.center:
        qs = qs.filter(center_id=filters.center)
    if filters.lead:
        qs = qs.filter(lead_id=filters.lead)
    return qs


@router.get("/nodes/{int:pk}", response={200: NodeOut, **ERRORS}, url_name="network_node_detail")
def node_detail(request: HttpRequest, pk: Id) -> Any:
    return get_node_for(actor(request), pk)


@router.post("/nodes", response={201: NodeOut, **ERRORS}, url_name="network_node_create")
def node_create(request: HttpRequest, payload: NodeIn) -> Any:
    return 201, create_node(actor(request), **payload.dict())


@router.patch("/nodes/{int:pk}", response={200: NodeOut, **ERRORS}, url_name="network_node_update")
def node_update(request: HttpRequest, pk: Id, payload: NodePatch) -> Any:
    return update_node(actor(request), pk, **payload.dict(exclude_unset=True))


# --- agreements -------------------------------------------------------------------------


class AgreementFilter(Schema):
    kind: str | None = None
    status: str | None = None
    expiry: str | None = None  # "expired" | "expiring" | "not_yet_valid"
    institution: Id | None = None


@router.get("/agreements", response=list[AgreementOut], url_name="network_agreement_list")
@paginate(Pagination, page_size=PAGE_SIZE)
def agreement_list(request: HttpRequest, filters: Query[AgreementFilter]) -> QuerySet:
    qs = agreements_for(actor(request))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.expiry in ("expired", "expiring", "not_yet_valid"):
        qs = qs.filter(expiry_q(filters.expiry, timezone.localdate()))
    if filters.institution:
        qs = qs.filter(Q(party_a_id=filters.institution) | Q(party_b_id=filters.institution))
    return qs.order_by("valid_to", "pk")


@router.get(
    "/agreements/{int:pk}",
    response={200: AgreementOut, **ERRORS},
    url_name="network_agreement_detail",
)
def agreement_detail(request: HttpRequest, pk: Id) -> Any:
    return get_agreement_for(actor(request), pk)


@router.post(
    "/agreements", response={201: AgreementOut, **ERRORS}, url_name="network_agreement_create"
)
def agreement_create(request: HttpRequest, payload: AgreementIn) -> Any:
    return 201, create_agreement(actor(request), **payload.dict())


@router.patch(
    "/agreements/{int:pk}",
    response={200: AgreementOut, **ERRORS},
    url_name="network_agreement_update",
)
def agreement_update(request: HttpRequest, pk: Id, payload: AgreementPatch) -> Any:
    return update_agreement(actor(request), pk, **payload.dict(exclude_unset=True))


@router.post(
    "/agreements/{int:pk}/document",
    response={200: AgreementOut, **ERRORS},
    url_name="network_agreement_document",
    summary="Attach (or replace) the agreement's document (multipart, field 'file')",
)
def agreement_document(request: HttpRequest, pk: Id, file: File[UploadedFile]) -> Any:
    return update_agreement(actor(request), pk, document=file)


# --- staff ------------------------------------------------------------------------------


class StaffFilter(Schema):
    profession: str | None = None
    institution: Id | None = None
    q: str | None = None
    active: bool | None = None


@router.get("/staff", response=list[StaffOut], url_name="network_staff_list")
@paginate(Pagination, page_size=PAGE_SIZE)
def staff_list(request: HttpRequest, filters: Query[StaffFilter]) -> QuerySet:
    qs = staff_for(actor(request))
    if filters.profession:
        qs = qs.filter(profession=filters.profession)
    if filters.institution:
        qs = qs.filter(memberships__institution_id=filters.institution).distinct()
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(licence_no=filters.q))
    if filters.active is not None:
        qs = qs.filter(active=filters.active)
    return qs


@router.get(
    "/staff/{int:pk}",
    response={200: StaffOut, **ERRORS},
    url_name="network_staff_detail",
    summary="One staff member (the read is audited)",
)
def staff_detail(request: HttpRequest, pk: Id) -> Any:
    return get_staff_for(actor(request), pk)


def _staff_values(payload: Schema, *, partial: bool) -> dict[str, Any]:
    data = payload.dict(exclude_unset=partial)
    if data.get("memberships") is not None:
        data["memberships"] = [dict(m) for m in data["memberships"]]
    return data


def _staff_out(user: User, pk: Id) -> Any:
    """The staff record as the caller may now see it (prefetched, not an audited read)."""
    return staff_for(user).get(pk=pk)


@router.post("/staff", response={201: StaffOut, **ERRORS}, url_name="network_staff_create")
def staff_create(request: HttpRequest, payload: StaffIn) -> Any:
    user = actor(request)
    staff = create_staff(user, **_staff_values(payload, partial=False))
    return 201, _staff_out(user, staff.pk)


@router.patch(
    "/staff/{int:pk}", response={200: StaffOut, **ERRORS}, url_name="network_staff_update"
)
def staff_update(request: HttpRequest, pk: Id, payload: StaffPatch) -> Any:
    user = actor(request)
    update_staff(user, pk, **_staff_values(payload, partial=True))
    return _staff_out(user, pk)


# --- teams ------------------------------------------------------------------------------


class TeamFilter(Schema):
    node: Id | None = None
    region: str | None = None
    q: str | None = None


@router.get("/teams", response=list[TeamOut], url_name="network_team_list")
@paginate(Pagination, page_size=PAGE_SIZE)
def team_list(request: HttpRequest, filters: Query[TeamFilter]) -> QuerySet:
    qs = teams_for(actor(request))
    if filters.node:
        qs = qs.filter(node_id=filters.node)
    if filters.region:
        qs = qs.filter(node__region__code__startswith=region_prefix(filters.region))
    if filters.q:
        qs = qs.filter(name__icontains=filters.q)
    return qs


@router.get("/teams/{int:pk}", response={200: TeamOut, **ERRORS}, url_name="network_team_detail")
def team_detail(request: HttpRequest, pk: Id) -> Any:
    return get_team_for(actor(request), pk)


def _team_values(payload: Schema, *, partial: bool) -> dict[str, Any]:
    data = payload.dict(exclude_unset=partial)
    if data.get("members") is not None:
        data["members"] = [dict(m) for m in data["members"]]
    return data


@router.post("/teams", response={201: TeamOut, **ERRORS}, url_name="network_team_create")
def team_create(request: HttpRequest, payload: TeamIn) -> Any:
    user = actor(request)
    team = create_team(user, **_team_values(payload, partial=False))
    return 201, get_team_for(user, team.pk)


@router.patch("/teams/{int:pk}", response={200: TeamOut, **ERRORS}, url_name="network_team_update")
def team_update(request: HttpRequest, pk: Id, payload: TeamPatch) -> Any:
    user = actor(request)
    update_team(user, pk, **_team_values(payload, partial=True))
    return get_team_for(user, pk)


# --- the tree ---------------------------------------------------------------------------


@router.get(
    "/tree",
    response=list[TreeLeadOut],
    url_name="network_tree",
    summary="Lead institutions → centers → stations, with members, teams and grids",
)
def tree(request: HttpRequest) -> Any:
    return [lead.as_dict() for lead in network_tree(actor(request))]
