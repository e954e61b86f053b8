"""The registry part of ``/api/v1/residents/``: list/search, register, read, update,
reveal.

* ``GET /residents`` — search (``q``: full ID number, 11-digit phone, name, pinyin or
  initials) and filters, inside the caller's scope. Paged by keyset without a total:
  ``items`` (``limit``, at most 200), ``has_more``, and ``next`` — the URL of the next
  page (``after`` = the last id). ``offset`` is accepted when no cursor is given.
* ``POST /residents`` — register (201): the resident and ``duplicate_candidates`` (same
  name + birth date + village, or same phone: a warning; the record is saved).
* ``GET /residents/{id}`` — one resident (an audited read). Identifiers masked.
* ``PATCH /residents/{id}`` — change the fields given.
* ``POST /residents/{id}/reveal`` — the full ID number and phone (``residents.reveal``;
  audited).

Resident and family logins may list and read their own record(s) ("self" scope); any other
resident answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from yiyang.accounts.actor import actor
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.common.paging import keyset_page
from yiyang.common.params import Age, Count, Id
from yiyang.common.permissions import require_perm
from yiyang.common.schemas import ErrorOut
from yiyang.network.models import Region
from yiyang.residents.errors import ResidentError
from yiyang.residents.forms import region_prefix
from yiyang.residents.models import (
    FLAGS,
    CareSetting,
    ConsentPurpose,
    Resident,
    ResidentStatus,
)
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.schemas import (
    HouseholdRef,
    RegisterOut,
    ResidentIn,
    ResidentListOut,
    ResidentOut,
    ResidentPatch,
    RevealOut,
)
from yiyang.residents.search import search_residents
from yiyang.residents.selectors.registry import get_resident_for
from yiyang.residents.services.people import register_with_consents
from yiyang.residents.services.registry import reveal_identifiers, start_household, update_resident

router = Router(tags=["residents"])

ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
MAX_LIMIT = 200


class ResidentFilter(Schema):
    q: str | None = Field(None, description="ID number, phone, name, pinyin or initials")
    region: str | None = Field(None, description="region code or code prefix (its subtree)")
    grid: Id | None = None
    status: ResidentStatus | None = None
    care_setting: CareSetting | None = None
    min_age: Age | None = Field(None, ge=0)
    max_age: Age | None = Field(None, ge=0)
    flags: list[str] = Field(default_factory=list, description="all of these special groups")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=10_000)
    after: Count | None = Field(None, description="the last id of the previous page")


def _region_id(value: Any) -> Any:
    """A village given by its 12-digit code → its id (the service checks the scope)."""
    if not isinstance(value, str):
        return value
    code = value.strip()
    region = Region.objects.filter(code=code).only("pk").first() if len(code) == 12 else None
    if region is None:
        raise ValidationFailed(
            CommonError.UNKNOWN_REFERENCE,
            _("Village: code %(code)s does not exist in your data scope.") % {"code": value},
            field="region",
        )
    return region.pk


def _service_fields(data: dict[str, Any]) -> dict[str, Any]:
    """API input → the service's keyword arguments (flags list → one boolean each)."""
    fields = dict(data)
    if "region" in fields:
        fields["region"] = _region_id(fields["region"])
    if fields.get("status") == ResidentStatus.MERGED:
        raise ValidationFailed(
            CommonError.INVALID,
            _("A record becomes “merged” only through a merge."),
            field="status",
        )
    if "flags" in fields:
        flags = fields.pop("flags") or []
        unknown = [name for name in flags if name not in FLAGS]
        if unknown:
            raise ValidationFailed(
                ResidentError.UNKNOWN_FILTER,
                _("Unknown special group %(flag)s.") % {"flag": unknown[0]},
                field="flags",
            )
        fields.update({name: name in flags for name in FLAGS})
    return fields


@router.get(
    "",
    response={200: ResidentListOut, **ERRORS},
    url_name="residents_list",
    summary="Search and list residents (keyset paging, no total)",
)
def resident_list(request: HttpRequest, filters: Query[ResidentFilter]) -> Any:
    user = actor(request)
    region = None
    if filters.region:
        region = region_prefix(filters.region)
        if not region:
            raise ValidationFailed(
                CommonError.INVALID, _("region must be a region code (digits)."), field="region"
            )
    qs = search_residents(
        user,
        filters.q or "",
        region=region,
        grid=filters.grid,
        status=filters.status,
        care_setting=filters.care_setting,
        min_age=filters.min_age,
        max_age=filters.max_age,
        flags=filters.flags,
    )
    # Related rows by id after the page is cut (a join before the sort makes PostgreSQL
    # join every matching row of a large filter).
    qs = qs.select_related(None).prefetch_related("region", "grid", "household", "institution")
    page = keyset_page(qs, after=filters.after, limit=filters.limit, offset=filters.offset)
    next_url = None
    if page.has_next:
        params = request.GET.copy()
        params.pop("offset", None)
        params["after"] = str(page.next_after)
        next_url = f"{request.path}?{params.urlencode()}"
    return {
        "items": page.items,
        "has_more": page.has_next,
        "next": next_url,
        "next_after": page.next_after,
    }


@router.post(
    "",
    response={201: RegisterOut, **ERRORS},
    url_name="residents_register",
    summary="Register a resident (with the consents given); possible duplicates are listed",
)
def resident_register(request: HttpRequest, payload: ResidentIn) -> Any:
    user = actor(request)
    data = payload.dict(exclude_none=True)
    purposes = data.pop("consents", [])
    given_by = data.pop("consent_given_by", "self")
    note = data.pop("consent_note", "")
    guardian = data.pop("guardian", None)
    if ConsentPurpose.PROXY_ACCESS in purposes:
        raise ValidationFailed(
            CommonError.INVALID,
            _("Proxy access is consented to with the family member's grant."),
            field="consents",
        )
    resident, candidates = register_with_consents(
        user,
        _service_fields(data),
        purposes=purposes,
        given_by=given_by,
        guardian=guardian,
        note=note,
    )
    return 201, {"resident": resident, "duplicate_candidates": candidates}


@router.get(
    "/{int:pk}",
    response={200: ResidentOut, **ERRORS},
    url_name="residents_detail",
    summary="One resident (identifiers masked; the read is audited)",
)
def resident_detail(request: HttpRequest, pk: Id) -> Any:
    return get_resident_for(actor(request), pk)


@router.patch(
    "/{int:pk}",
    response={200: ResidentOut, **ERRORS},
    url_name="residents_update",
    summary="Change a resident's registry fields",
)
def resident_update(request: HttpRequest, pk: Id, payload: ResidentPatch) -> Any:
    user = actor(request)
    require_perm(user, ResidentPerm.MANAGE)
    resident = get_resident_for(user, pk)  # scope (404) and the audited read of the answer
    updated = update_resident(
        user, resident.pk, **_service_fields(payload.dict(exclude_unset=True))
    )
    # The record as saved (a change of care setting may take it out of an institution's
    # scope; the answer still shows what was written).
    return Resident.objects.select_related("region", "grid", "household", "institution").get(
        pk=updated.pk
    )


@router.post(
    "/{int:pk}/reveal",
    response={200: RevealOut, **ERRORS},
    url_name="residents_reveal",
    summary="The full ID number and phone (residents.reveal; audited)",
)
def resident_reveal(request: HttpRequest, pk: Id) -> Any:
    user = actor(request)
    id_number, phone = reveal_identifiers(user, pk)
    return {"id": pk, "id_number": id_number, "phone": phone}


class HouseholdIn(Schema):
    address: str = ""


@router.post(
    "/{int:pk}/household",
    response={201: HouseholdRef, **ERRORS},
    url_name="residents_household",
    summary="Start a household at her address with her as its first member",
)
def resident_household(request: HttpRequest, pk: Id, payload: HouseholdIn) -> Any:
    user = actor(request)
    household = start_household(user, pk, address=payload.address)
    return 201, household
