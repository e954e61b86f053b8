"""Pydantic schemas of the residents registry API (``/api/v1/residents/``).

Outputs never carry a full ID number or phone: ``id_number_masked`` and ``phone_masked``
only; the full values come from ``POST /{id}/reveal`` (``residents.reveal``, audited).
Inputs name references by id under the field names the services use (``region``,
``grid``, ``household``, ``institution``) so that an error's ``field`` is the input field
at fault; ``region`` also takes a 12-digit village code. Special-group flags travel as a
list of names (``["empty_nest", "veteran"]``) both ways.

Other areas (people, health, imports) import ``ResidentRef`` from here and keep their own
schema modules; every API answers errors in ``common.schemas.ErrorOut``.
"""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from yiyang.common.crypto import mask_phone
from yiyang.common.params import Id
from yiyang.common.schemas import PatchSchema
from yiyang.network.schemas import Ref, RegionRef, ref, region_ref
from yiyang.residents.models import (
    CareSetting,
    ConsentGiver,
    ConsentPurpose,
    Insurance,
    Relation,
    ResidentStatus,
    Sex,
)

__all__ = [
    "CandidateOut",
    "GridRef",
    "GuardianIn",
    "HouseholdRef",
    "RegisterOut",
    "ResidentIn",
    "ResidentListOut",
    "ResidentOut",
    "ResidentPatch",
    "ResidentRef",
    "RevealOut",
]


class GridRef(Schema):
    id: int
    code: str
    name: str


class HouseholdRef(Schema):
    id: int
    address: str


class ResidentRef(Schema):
    """A resident named in another object (masked, no personal details beyond the name)."""

    id: int
    name: str


def _phone_masked(obj: Any) -> str:
    return mask_phone(obj.phone) if obj.phone else ""


class ResidentOut(Schema):
    id: int
    name: str
    sex: Sex
    birth_date: datetime.date
    age: int
    id_number_masked: str
    phone_masked: str
    address: str
    region: RegionRef
    grid: GridRef | None
    household: HouseholdRef | None
    ethnicity: str
    insurance: Insurance
    ltc_insured: bool
    status: ResidentStatus
    deceased_on: datetime.date | None
    care_setting: CareSetting
    institution: Ref | None
    flags: list[str]
    permanent_resident: bool
    merged_into: int | None
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_phone_masked(obj: Any) -> str:
        return _phone_masked(obj)

    @staticmethod
    def resolve_region(obj: Any) -> dict[str, Any] | None:
        return region_ref(obj.region)

    @staticmethod
    def resolve_grid(obj: Any) -> dict[str, Any] | None:
        grid = obj.grid
        return None if grid is None else {"id": grid.pk, "code": grid.code, "name": grid.name}

    @staticmethod
    def resolve_household(obj: Any) -> dict[str, Any] | None:
        household = obj.household
        return None if household is None else {"id": household.pk, "address": household.address}

    @staticmethod
    def resolve_institution(obj: Any) -> dict[str, Any] | None:
        return ref(obj.institution)

    @staticmethod
    def resolve_merged_into(obj: Any) -> int | None:
        return obj.merged_into_id


class ResidentListOut(Schema):
    """One page of a resident list. There is no total on purpose: counting a
    million-row registry on every page is what makes lists slow. ``has_more`` says whether
    another page follows; ``next`` is its URL (same filters, ``after`` = the last id)."""

    items: list[ResidentOut]
    has_more: bool
    next: str | None
    next_after: int | None


class CandidateOut(Schema):
    """A possible duplicate: same name + birth date + village, or the same phone."""

    id: int
    name: str
    sex: Sex
    birth_date: datetime.date
    id_number_masked: str
    phone_masked: str
    region: RegionRef
    status: ResidentStatus

    @staticmethod
    def resolve_phone_masked(obj: Any) -> str:
        return _phone_masked(obj)

    @staticmethod
    def resolve_region(obj: Any) -> dict[str, Any] | None:
        return region_ref(obj.region)


class RegisterOut(Schema):
    resident: ResidentOut
    duplicate_candidates: list[CandidateOut]


class RevealOut(Schema):
    id: int
    id_number: str
    phone: str


class GuardianIn(Schema):
    """A guardian named at registration: recorded as the resident's guardian contact."""

    name: str
    relation: Relation = Relation.GUARDIAN
    phone: str = ""


class _ResidentFields(PatchSchema):
    nullable = frozenset({"grid", "household", "deceased_on", "institution"})

    sex: Sex | None = None
    birth_date: datetime.date | None = None
    phone: str | None = None
    address: str | None = None
    grid: Id | None = None
    household: Id | None = None
    ethnicity: str | None = None
    insurance: Insurance | None = None
    ltc_insured: bool | None = None
    status: ResidentStatus | None = None
    deceased_on: datetime.date | None = None
    care_setting: CareSetting | None = None
    institution: Id | None = None
    flags: list[str] | None = Field(
        None, description="special-group flags that are set; the others are cleared"
    )
    permanent_resident: bool | None = None


class ResidentIn(_ResidentFields):
    name: str
    id_number: str = Field(..., description="18 characters; a lower-case x is accepted")
    region: Id | str = Field(..., description="the village: its id or its 12-digit code")
    consents: list[ConsentPurpose] = Field(
        default_factory=list,
        description="purposes consented to at registration (health_data, "
        "device_monitoring, family_sharing, platform_exchange)",
    )
    consent_given_by: ConsentGiver = Field(
        ConsentGiver.SELF, description="self, or guardian (then name the guardian)"
    )
    consent_note: str = ""
    guardian: GuardianIn | None = Field(
        None, description="the guardian who gave the consents (recorded as a contact)"
    )


class ResidentPatch(_ResidentFields):
    name: str | None = None
    id_number: str | None = None
    region: Id | str | None = None
