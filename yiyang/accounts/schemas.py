"""Pydantic schemas of the accounts API (``/api/v1/auth``). Input field names are the
ones the services use, so an error's ``field`` names the input at fault."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from yiyang.accounts.models import User
from yiyang.common.params import Id


class TokenIn(Schema):
    username: str = Field(max_length=150)
    password: str = Field(max_length=4096)
    totp: str | None = Field(default=None, max_length=10)


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    prefix: str
    expires_at: datetime.datetime


class RevokedOut(Schema):
    revoked: bool
    prefix: str


class ScopeOut(Schema):
    kind: str
    region_code: str | None = None
    region_prefix: str | None = None
    region_name: str | None = None
    institution_id: Id | None = None
    institution_name: str | None = None
    team_id: Id | None = None
    team_name: str | None = None


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    role_label: str
    scope: ScopeOut
    permissions: list[str]
    mfa_enrolled: bool
    mfa_required: bool


class PasswordIn(Schema):
    old_password: str = Field(max_length=4096)
    new_password: str = Field(max_length=4096)


class OkOut(Schema):
    ok: bool = True


class TotpEnrolOut(Schema):
    secret: str
    uri: str


class TotpConfirmIn(Schema):
    code: str = Field(max_length=10)


def scope_out(user: User) -> ScopeOut:
    """The data scope of an account as the API shows it."""
    kind = user.scope_kind
    region = user.scope_region if kind == "region" else None
    institution = user.scope_institution if kind == "institution" else None
    team = user.scope_team if kind == "team" else None
    return ScopeOut(
        kind=kind,
        region_code=region.code if region else None,
        region_prefix=region.prefix if region else None,
        region_name=region.name if region else None,
        institution_id=institution.pk if institution else None,
        institution_name=institution.name if institution else None,
        team_id=team.pk if team else None,
        team_name=team.name if team else None,
    )


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    role: str
    scope: ScopeOut
    is_active: bool
    mfa_enrolled: bool
    last_login: datetime.datetime | None = None

    @staticmethod
    def resolve_scope(obj: Any) -> ScopeOut:
        return scope_out(obj)

    @staticmethod
    def resolve_mfa_enrolled(obj: Any) -> bool:
        return bool(obj.totp_confirmed)


class UserIn(Schema):
    username: str = Field(max_length=150)
    password: str = Field(max_length=4096)
    role: str
    scope_kind: str | None = None
    region_code: str | None = None
    institution_id: Id | None = None
    team_id: Id | None = None
    display_name: str = Field(default="", max_length=100)
    email: str = Field(default="", max_length=254)


class UserPatch(Schema):
    role: str
    scope_kind: str | None = None
    region_code: str | None = None
    institution_id: Id | None = None
    team_id: Id | None = None
    display_name: str | None = Field(default=None, max_length=100)


class LockOut(Schema):
    username: str
    address: str | None = None
    failures: int
    locked_until: datetime.datetime


class UnlockIn(Schema):
    username: str = Field(max_length=150)
    address: str | None = None


class UnlockOut(Schema):
    username: str
    failures_cleared: int
