"""Schemas of the contacts, consent, proxy-grant and merge API (``api/people.py``).

Phones come out masked (``138****1111``); a one-time password comes out once, in the
answer to the grant that created the login, and is never stored in clear.
"""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from yiyang.common.crypto import mask_phone
from yiyang.common.params import Id
from yiyang.common.schemas import PatchSchema
from yiyang.residents.access import has_consent
from yiyang.residents.models import ConsentGiver, ConsentPurpose, Relation
from yiyang.residents.selectors.people import grant_state


class PersonRef(Schema):
    id: int
    name: str


class ContactOut(Schema):
    id: int
    resident: Id = Field(..., alias="resident_id")
    name: str
    relation: Relation
    relation_label: str
    phone: str = Field("", description="masked, e.g. 138****1111")
    is_guardian: bool
    is_emergency: bool
    address: str
    note: str
    family_login: str | None = Field(None, description="username of the contact's login")
    created_at: datetime.datetime

    @staticmethod
    def resolve_relation_label(obj: Any) -> str:
        return str(obj.get_relation_display())

    @staticmethod
    def resolve_phone(obj: Any) -> str:
        return mask_phone(obj.phone) if obj.phone else ""

    @staticmethod
    def resolve_family_login(obj: Any) -> str | None:
        return obj.account.username if obj.account_id else None


class ContactIn(Schema):
    name: str
    relation: Relation
    phone: str = ""
    is_guardian: bool = False
    is_emergency: bool = False
    address: str = ""
    note: str = ""


class ContactPatch(PatchSchema):
    name: str | None = None
    relation: Relation | None = None
    phone: str | None = None
    is_guardian: bool | None = None
    is_emergency: bool | None = None
    address: str | None = None
    note: str | None = None


class ConsentOut(Schema):
    id: int
    resident: Id = Field(..., alias="resident_id")
    purpose: ConsentPurpose
    purpose_label: str
    given_by: ConsentGiver
    guardian: PersonRef | None
    given_at: datetime.datetime
    recorded_by: str
    note: str
    active: bool
    withdrawn_at: datetime.datetime | None
    withdrawn_by: str | None
    withdrawal_note: str
    grant: int | None = Field(None, description="the proxy grant of a proxy_access consent")

    @staticmethod
    def resolve_purpose_label(obj: Any) -> str:
        return str(obj.get_purpose_display())

    @staticmethod
    def resolve_guardian(obj: Any) -> dict[str, Any] | None:
        g = obj.guardian
        return None if g is None else {"id": g.pk, "name": g.name}

    @staticmethod
    def resolve_recorded_by(obj: Any) -> str:
        return obj.recorded_by.username

    @staticmethod
    def resolve_withdrawn_by(obj: Any) -> str | None:
        return obj.withdrawn_by.username if obj.withdrawn_by_id else None

    @staticmethod
    def resolve_grant(obj: Any) -> int | None:
        grant = getattr(obj, "grant", None) if obj.purpose == ConsentPurpose.PROXY_ACCESS else None
        return grant.pk if grant is not None else None


class ConsentIn(Schema):
    purpose: ConsentPurpose
    given_by: ConsentGiver = ConsentGiver.SELF
    guardian: Id | None = Field(None, description="contact id of the legal guardian")
    note: str = ""
    given_at: datetime.datetime | None = Field(None, description="default: now")


class NoteIn(Schema):
    note: str = ""


class ProxyOut(Schema):
    id: int
    resident: Id = Field(..., alias="resident_id")
    contact: PersonRef
    username: str
    can_view_readings: bool
    can_view_alerts: bool
    can_book_services: bool
    can_view_bills: bool
    consent: int = Field(..., alias="consent_id")
    state: str = Field(..., description="active, suspended (no family-sharing consent), revoked")
    created_at: datetime.datetime
    revoked_at: datetime.datetime | None

    @staticmethod
    def resolve_contact(obj: Any) -> dict[str, Any]:
        return {"id": obj.contact_id, "name": obj.contact.name}

    @staticmethod
    def resolve_username(obj: Any) -> str:
        return obj.user.username

    @staticmethod
    def resolve_revoked_at(obj: Any) -> datetime.datetime | None:
        return obj.consent.withdrawn_at

    @staticmethod
    def resolve_state(obj: Any) -> str:
        sharing = getattr(obj, "family_sharing", None)
        if sharing is None:
            sharing = has_consent(obj.resident_id, ConsentPurpose.FAMILY_SHARING)
        return grant_state(obj, sharing)


class ProxyIn(Schema):
    contact: Id
    can_view_readings: bool = True
    can_view_alerts: bool = False
    can_book_services: bool = Field(False, description="not available yet: true is refused")
    can_view_bills: bool = Field(False, description="not available yet: true is refused")
    username: str | None = Field(None, description="default: generated (famNNNNNNN)")
    given_by: ConsentGiver = ConsentGiver.SELF
    guardian: Id | None = None
    note: str = ""


class ProxyPatch(PatchSchema):
    nullable = frozenset({"guardian"})

    can_view_readings: bool | None = None
    can_view_alerts: bool | None = None
    can_book_services: bool | None = Field(None, description="not available yet")
    can_view_bills: bool | None = Field(None, description="not available yet")
    given_by: ConsentGiver | None = None
    guardian: Id | None = None
    note: str = ""


class ProxyCreatedOut(Schema):
    grant: ProxyOut
    username: str
    password: str | None = Field(
        None, description="the new login's one-time password; null when an existing login is used"
    )


class MergeIn(Schema):
    remove: Id = Field(..., description="id of the duplicate record, merged into this one")
    reason: str


class MergeOut(Schema):
    keep: int
    removed: int
    moved: dict[str, int]
    consents_withdrawn: list[int]
    filled: list[str]
    differed: list[str]
    account_moved: bool
