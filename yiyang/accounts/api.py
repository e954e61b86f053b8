"""The accounts API, mounted at ``/api/v1/auth``.

``POST /token`` (no authentication) signs in with username, password and — when the user
has enrolled — ``totp``; the bearer token is shown once (only its SHA-256 is stored).
Refusals: 401 ``invalid_credentials`` for a wrong password and, for a user with TOTP, for a
missing, wrong or reused code alike (a distinct answer would confirm the password);
403 ``account_locked`` (after ``LOCKOUT_MAX_FAILURES`` failures of the username from this
address, for ``LOCKOUT_MINUTES``) and ``mfa_enrolment_required`` (a role that must use TOTP,
not enrolled yet). Wrong passwords and codes count towards the lockout shared with the
login page.
Every operation has an explicit ``url_name`` (namespace ``api``) for the permission matrix.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate

from yiyang.accounts import selectors
from yiyang.accounts.actor import actor
from yiyang.accounts.errors import AccountError
from yiyang.accounts.models import User
from yiyang.accounts.permissions import AccountPerm
from yiyang.accounts.schemas import (
    LockOut,
    MeOut,
    OkOut,
    PasswordIn,
    RevokedOut,
    TokenIn,
    TokenOut,
    TotpConfirmIn,
    TotpEnrolOut,
    UnlockIn,
    UnlockOut,
    UserIn,
    UserOut,
    UserPatch,
    scope_out,
)
from yiyang.accounts.services.passwords import change_password
from yiyang.accounts.services.security import reset_totp
from yiyang.accounts.services.security import unlock as unlock_account
from yiyang.accounts.services.tokens import issue_token, revoke_token
from yiyang.accounts.services.totp import confirm_totp, enrol_totp
from yiyang.accounts.services.users import (
    create_user,
    deactivate_user,
    reactivate_user,
    update_user_role_scope,
)
from yiyang.common.errors import PermissionDenied, ValidationFailed
from yiyang.common.params import Id, Pagination
from yiyang.common.permissions import Permission, Role, mfa_required, perms_for
from yiyang.common.schemas import ErrorOut

router = Router(tags=["auth"])

ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _require(request: HttpRequest, *perms: Permission) -> User:
    """The caller, if their role holds any of ``perms``."""
    user = actor(request)
    if not any(user.has_perm_code(perm) for perm in perms):
        raise PermissionDenied()
    return user


# --- sign-in and the caller -------------------------------------------------------------


@router.post("/token", auth=None, response={201: TokenOut, **ERRORS}, url_name="auth_token")
def token(request: HttpRequest, payload: TokenIn):
    """Sign in: a bearer token valid for ``API_TOKEN_DAYS`` days, shown only now."""
    issued = issue_token(
        request, username=payload.username, password=payload.password, totp=payload.totp
    )
    return 201, TokenOut(
        token=issued.key, prefix=issued.token.prefix, expires_at=issued.token.expires_at
    )


def _revoke_current(request: HttpRequest) -> RevokedOut:
    current = getattr(request, "api_token", None)
    if current is None:
        raise ValidationFailed(
            AccountError.NO_BEARER_TOKEN,
            "Revoking needs the token itself in the 'Authorization: Bearer' header.",
        )
    revoke_token(actor(request), current)
    return RevokedOut(revoked=True, prefix=current.prefix)


@router.delete("/token", response={200: RevokedOut, **ERRORS}, url_name="auth_token_revoke")
def token_revoke(request: HttpRequest):
    """Revoke the bearer token of this request."""
    return _revoke_current(request)


@router.post(
    "/token/revoke", response={200: RevokedOut, **ERRORS}, url_name="auth_token_revoke_post"
)
def token_revoke_post(request: HttpRequest):
    """Revoke the bearer token of this request (for clients that cannot send DELETE)."""
    return _revoke_current(request)


@router.get("/me", response={200: MeOut, **ERRORS}, url_name="auth_me")
def me(request: HttpRequest):
    """The caller: role, data scope and permissions."""
    user = actor(request)
    return MeOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        role_label=str(Role(user.role).label) if user.role in Role.values else user.role,
        scope=scope_out(user),
        permissions=sorted(str(p) for p in perms_for(user.role)),
        mfa_enrolled=user.totp_confirmed,
        mfa_required=mfa_required(user.role),
    )


@router.post("/password", response={200: OkOut, **ERRORS}, url_name="auth_password")
def password(request: HttpRequest, payload: PasswordIn):
    """Change the caller's password; the caller's other API tokens are revoked."""
    current = getattr(request, "api_token", None)
    change_password(
        actor(request),
        old_password=payload.old_password,
        new_password=payload.new_password,
        keep_token_id=current.pk if current is not None else None,
    )
    return OkOut()


@router.post("/totp/enrol", response={200: TotpEnrolOut, **ERRORS}, url_name="auth_totp_enrol")
def totp_enrol(request: HttpRequest):
    """Start TOTP enrolment: the secret and otpauth URI for the authenticator app."""
    enrolment = enrol_totp(actor(request))
    return TotpEnrolOut(secret=enrolment.secret, uri=enrolment.uri)


@router.post("/totp/confirm", response={200: OkOut, **ERRORS}, url_name="auth_totp_confirm")
def totp_confirm(request: HttpRequest, payload: TotpConfirmIn):
    confirm_totp(actor(request), payload.code)
    return OkOut()


# --- user management (system administrator) ---------------------------------------------


@router.get("/users", response={200: list[UserOut], **ERRORS}, url_name="auth_users")
@paginate(Pagination, page_size=50)
def users(request: HttpRequest, q: str | None = None, role: str | None = None):
    """Accounts inside the caller's data scope (system and security administrators)."""
    actor = _require(request, AccountPerm.MANAGE, AccountPerm.SECURITY)
    rows = selectors.users_for(actor)
    if q:
        rows = rows.filter(username__icontains=q.strip())
    if role:
        rows = rows.filter(role=role)
    return rows


@router.post("/users", response={201: UserOut, **ERRORS}, url_name="auth_user_create")
def user_create(request: HttpRequest, payload: UserIn):
    user = create_user(actor(request), **payload.model_dump())
    return 201, user


@router.get("/users/{user_id}", response={200: UserOut, **ERRORS}, url_name="auth_user")
def user_detail(request: HttpRequest, user_id: Id):
    actor = _require(request, AccountPerm.MANAGE, AccountPerm.SECURITY)
    return selectors.get_user_for(actor, user_id)


@router.patch("/users/{user_id}", response={200: UserOut, **ERRORS}, url_name="auth_user_update")
def user_update(request: HttpRequest, user_id: Id, payload: UserPatch):
    actor = _require(request, AccountPerm.MANAGE)
    user = selectors.get_user_for(actor, user_id)
    return update_user_role_scope(actor, user, **payload.model_dump())


@router.post(
    "/users/{user_id}/deactivate",
    response={200: UserOut, **ERRORS},
    url_name="auth_user_deactivate",
)
def user_deactivate(request: HttpRequest, user_id: Id):
    actor = _require(request, AccountPerm.MANAGE)
    user = selectors.get_user_for(actor, user_id)
    return deactivate_user(actor, user)


@router.post(
    "/users/{user_id}/reactivate",
    response={200: UserOut, **ERRORS},
    url_name="auth_user_reactivate",
)
def user_reactivate(request: HttpRequest, user_id: Id):
    actor = _require(request, AccountPerm.MANAGE)
    user = selectors.get_user_for(actor, user_id)
    return reactivate_user(actor, user)


# --- security administration ------------------------------------------------------------


@router.get("/lockouts", response={200: list[LockOut], **ERRORS}, url_name="auth_lockouts")
def lockouts(request: HttpRequest):
    """Locked (username, address) pairs."""
    actor = _require(request, AccountPerm.SECURITY)
    return [
        LockOut(
            username=lock.username,
            address=lock.address,
            failures=lock.failures,
            locked_until=lock.until,
        )
        for lock in selectors.locks_for(actor)
    ]


@router.post("/lockouts/unlock", response={200: UnlockOut, **ERRORS}, url_name="auth_unlock")
def unlock(request: HttpRequest, payload: UnlockIn):
    """Clear the failed logins of ``username`` from ``address`` (every address if omitted)."""
    actor = _require(request, AccountPerm.SECURITY)
    cleared = unlock_account(actor, username=payload.username, address=payload.address)
    return UnlockOut(username=payload.username.strip(), failures_cleared=cleared)


@router.post(
    "/users/{user_id}/reset-totp",
    response={200: UserOut, **ERRORS},
    url_name="auth_user_reset_totp",
)
def user_reset_totp(request: HttpRequest, user_id: Id):
    """Remove a user's second factor (lost authenticator); revokes their API tokens."""
    actor = _require(request, AccountPerm.SECURITY)
    user = selectors.get_user_for(actor, user_id)
    return reset_totp(actor, user)
