"""Account actions: sign-in, second factor, tokens, passwords and account management.

Every action runs in one transaction and writes its audit row inside it. The login page,
the token API and the management pages all call these functions. Sign-in failures are
written (failure row + audit row) and committed before the refusal is raised.
"""

from __future__ import annotations

import datetime
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiyang.accounts import lockout, selectors
from yiyang.accounts.api_auth import hash_token
from yiyang.accounts.errors import AccountError
from yiyang.accounts.models import ApiToken, User
from yiyang.accounts.permissions import AccountPerm
from yiyang.audit.models import Outcome
from yiyang.audit.services import normalise_address, record
from yiyang.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import (
    ADMIN_ROLES,
    PUBLIC_ROLES,
    STAFF_ROLES,
    Permission,
    Role,
    mfa_required,
)
from yiyang.common.scope import ScopeKind, contains, scope_of

TOTP_ISSUER = "Yiyang"


class LoginRefused(DomainError):
    """A sign-in attempt that did not succeed (wrong password, code, locked …)."""

    status = 401


# --- helpers ------------------------------------------------------------------------------


def _require(actor: User, perm: Permission) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm_code(perm):
        raise PermissionDenied(_("Your role may not do this."))


def _require_visible(actor: User, user: User) -> None:
    if not selectors.is_visible(actor, user):
        raise NotFound("user")


def _not_self(actor: User, user: User, detail: str) -> None:
    if actor.pk == user.pk:
        raise PermissionDenied(detail)


def _revoke_tokens(user: User, *, keep_id: int | None = None) -> int:
    rows = ApiToken.objects.filter(user=user, revoked=False)
    if keep_id is not None:
        rows = rows.exclude(pk=keep_id)
    return rows.update(revoked=True)


def mfa_enrolment_needed(user: User) -> bool:
    """A user of an MFA-required role who has not enrolled TOTP yet."""
    return mfa_required(user.role) and not user.totp_confirmed


# --- TOTP ---------------------------------------------------------------------------------


def totp_step(secret: str, code: str, *, at: datetime.datetime | None = None) -> int | None:
    """The 30-second time step whose code ``code`` is (now, one before or one after)."""
    code = (code or "").replace(" ", "").strip()
    if not secret or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(at or timezone.now())
    for step in (now_step, now_step - 1, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _consume_step(user: User, step: int) -> bool:
    """Mark the step used; False when it (or a later one) was used already (replay)."""
    used = User.objects.filter(pk=user.pk, totp_last_step__lt=step).update(totp_last_step=step)
    if used:
        user.totp_last_step = step
    return bool(used)


def totp_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(
        name=user.username, issuer_name=TOTP_ISSUER
    )


# --- sign-in ------------------------------------------------------------------------------


def _locked_error(until: datetime.datetime) -> LoginRefused:
    minutes = lockout.minutes_left(until)
    return LoginRefused(
        AccountError.ACCOUNT_LOCKED,
        ngettext(
            "This account is locked after too many failed logins from your address. "
            "Try again after %(minutes)d minute.",
            "This account is locked after too many failed logins from your address. "
            "Try again after %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes},
        status=403,
    )


def _attempt_row(username: str, user: User | None, reason: str, **details: Any) -> None:
    record(
        actor=None,
        action="auth.login_failed",
        object_type="accounts.user",
        object_id=user.pk if user is not None else "",
        object_repr=username,
        outcome=Outcome.DENIED,
        details={"username": username, "reason": reason, **details},
    )


def invalid_credentials() -> LoginRefused:
    """The one refusal of a sign-in whose password or second factor is wrong or missing.

    The same code and text whatever was wrong, so that the answer never tells whether the
    password was right (for an account with TOTP, "code required" or "wrong code" would
    confirm it) nor whether the account uses a second factor. The audit row keeps the
    real reason."""
    return LoginRefused(AccountError.INVALID_CREDENTIALS, _("Wrong username, password or code."))


def _failure(username: str, address: str | None, reason: str, user: User | None = None):
    """Count a failed attempt, audit it (and the lockout it may cause); the refusal."""
    if user is None:
        user = User.objects.filter(username=username).first()
    with transaction.atomic():
        lockout.note_failure(username, address)
        _attempt_row(username, user, reason)
        until = lockout.locked_until(username, address)
        if until is not None:
            record(
                actor=None,
                action="auth.lockout",
                object_type="accounts.user",
                object_id=user.pk if user is not None else "",
                object_repr=username,
                outcome=Outcome.DENIED,
                details={
                    "username": username,
                    "until": until.isoformat(),
                    "failures": settings.LOCKOUT_MAX_FAILURES,
                    "minutes": settings.LOCKOUT_MINUTES,
                },
            )
    if until is not None:
        return _locked_error(until)
    return invalid_credentials()


def _refuse_if_locked(username: str, address: str | None, user: User | None = None) -> None:
    until = lockout.locked_until(username, address)
    if until is None:
        return
    if user is None:
        user = User.objects.filter(username=username).first()
    with transaction.atomic():
        _attempt_row(username, user, "locked", until=until.isoformat())
    raise _locked_error(until)


def check_password(request, *, username: str, password: str) -> User:
    """The password, under the lockout. Returns the user. A sign-in must also pass
    ``check_second_factor`` (``sign_in`` does both)."""
    username = (username or "").strip()
    address = lockout.address_of(request)
    _refuse_if_locked(username, address)
    user = authenticate(request, username=username, password=password) if password else None
    if user is None:
        raise _failure(username, address, "password")
    return user


def check_second_factor(request, user: User, code: str | None) -> None:
    """The TOTP code of a user who has enrolled (nothing to check otherwise); each time
    step is accepted once. A missing, wrong or reused code is refused exactly like a
    wrong password (``invalid_credentials``) and counts towards the lockout; the audit
    row says which it was (reason ``totp_missing``, ``totp``, ``totp_reused``)."""
    if not user.totp_confirmed:
        return
    address = lockout.address_of(request)
    _refuse_if_locked(user.username, address, user)
    code = (code or "").strip()
    if not code:
        raise _failure(user.username, address, "totp_missing", user)
    step = totp_step(user.totp_secret, code)
    if step is None:
        raise _failure(user.username, address, "totp", user)
    if not _consume_step(user, step):
        raise _failure(user.username, address, "totp_reused", user)


def sign_in(request, *, username: str, password: str, code: str | None) -> User:
    """A complete credential check — password, then the code of a user with TOTP — that
    answers the same ``invalid_credentials`` whichever part was wrong. Returns the user;
    the caller then calls ``login_succeeded``."""
    user = check_password(request, username=username, password=password)
    check_second_factor(request, user, code)
    return user


def login_succeeded(request, user: User, *, channel: str, **details: Any) -> None:
    """A complete sign-in: clears the pair's failures and writes the audit row."""
    with transaction.atomic():
        lockout.clear(user.username, lockout.address_of(request))
        record(
            actor=user,
            action="auth.login",
            obj=user,
            details={"channel": channel, "second_factor": user.totp_confirmed, **details},
        )


def record_logout(user: User, *, reason: str = "user") -> None:
    with transaction.atomic():
        record(actor=user, action="auth.logout", obj=user, details={"reason": reason})


@dataclass(frozen=True)
class IssuedToken:
    key: str  # shown once; only its SHA-256 is stored
    token: ApiToken


def issue_token(request, *, username: str, password: str, totp: str | None = None) -> IssuedToken:
    """Sign in for the API: password (+ TOTP when enrolled) → a new bearer token."""
    user = sign_in(request, username=username, password=password, code=totp)
    if not user.totp_confirmed and mfa_required(user.role):
        raise LoginRefused(
            AccountError.MFA_ENROLMENT_REQUIRED,
            _(
                "Your role must use two-step login: sign in on the web and set up an "
                "authenticator app on the Security page first."
            ),
            status=403,
        )
    if user.must_change_password:
        raise LoginRefused(
            AccountError.PASSWORD_CHANGE_REQUIRED,
            _(
                "Your password was set by someone else: sign in on the web and choose your "
                "own password first."
            ),
            status=403,
        )
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            key_hash=hash_token(key),
            prefix=key[:8],
            expires_at=timezone.now() + datetime.timedelta(days=settings.API_TOKEN_DAYS),
        )
        login_succeeded(request, user, channel="api", token_id=token.pk)
    return IssuedToken(key=key, token=token)


def revoke_token(actor: User, token: ApiToken) -> ApiToken:
    """Revoke one of the actor's own tokens."""
    if token.user_id != actor.pk:
        raise NotFound("token")
    if token.revoked:
        raise ValidationFailed(AccountError.TOKEN_REVOKED, _("This token is already revoked."))
    with transaction.atomic():
        token.revoked = True
        token.save(update_fields=["revoked"])
        record(
            actor=actor,
            action="auth.token_revoke",
            obj=token,
            object_repr=f"token {token.prefix}…",
        )
    return token


# --- self service -------------------------------------------------------------------------


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    uri: str


def enrol_totp(actor: User) -> TotpEnrolment:
    """Start (or restart) TOTP enrolment: a new secret, not active until confirmed."""
    if actor.totp_confirmed:
        raise ValidationFailed(
            AccountError.TOTP_ENROLLED,
            _("Two-step login is already set up. Ask a security administrator to reset it."),
        )
    with transaction.atomic():
        actor.totp_secret = pyotp.random_base32()
        actor.save(update_fields=["totp_secret"])
        record(actor=actor, action="accounts.totp_enrol_start", obj=actor)
    return TotpEnrolment(secret=actor.totp_secret, uri=totp_uri(actor))


def confirm_totp(actor: User, code: str) -> None:
    """Finish enrolment with a current code from the authenticator app."""
    if actor.totp_confirmed:
        raise ValidationFailed(
            AccountError.TOTP_ENROLLED, _("Two-step login is already set up."), field="code"
        )
    if not actor.totp_secret:
        raise ValidationFailed(
            AccountError.TOTP_NOT_STARTED,
            _("Start the set-up first to get a secret."),
            field="code",
        )
    step = totp_step(actor.totp_secret, code)
    if step is None:
        raise ValidationFailed(
            AccountError.TOTP_INVALID,
            _("Wrong or expired code. Enter the current 6-digit code of your authenticator app."),
            field="code",
        )
    with transaction.atomic():
        if not _consume_step(actor, step):
            raise ValidationFailed(
                AccountError.TOTP_REUSED,
                _("This code has already been used. Wait for the next code of your app."),
                field="code",
            )
        actor.totp_confirmed = True
        actor.save(update_fields=["totp_confirmed"])
        record(actor=actor, action="accounts.totp_enrol", obj=actor)


def _policy_errors(password: str, user: User) -> str | None:
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        return " ".join(str(m) for m in exc.messages)
    return None


def change_password(
    actor: User, *, old_password: str, new_password: str, keep_token_id: int | None = None
) -> None:
    """The actor changes their own password; their other API tokens are revoked."""
    if not actor.check_password(old_password or ""):
        raise ValidationFailed(
            AccountError.WRONG_PASSWORD, _("The current password is wrong."), field="old_password"
        )
    if old_password == new_password:
        raise ValidationFailed(
            AccountError.PASSWORD_UNCHANGED,
            _("The new password must differ from the current one."),
            field="new_password",
        )
    problems = _policy_errors(new_password, actor)
    if problems:
        raise ValidationFailed(AccountError.PASSWORD_POLICY, problems, field="new_password")
    with transaction.atomic():
        actor.set_password(new_password)
        actor.password_changed_at = timezone.now()
        actor.must_change_password = False
        actor.save(update_fields=["password", "password_changed_at", "must_change_password"])
        revoked = _revoke_tokens(actor, keep_id=keep_token_id)
        record(
            actor=actor,
            action="accounts.password_change",
            obj=actor,
            details={"tokens_revoked": revoked},
        )


# --- account management (system administrator) --------------------------------------------


@dataclass(frozen=True)
class ScopeChoice:
    kind: str
    region: Any = None
    institution: Any = None
    team: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "region": self.region.code if self.region else None,
            "institution": self.institution.pk if self.institution else None,
            "team": self.team.pk if self.team else None,
        }


def _scope_of_user(user: User) -> ScopeChoice:
    return ScopeChoice(
        kind=user.scope_kind,
        region=user.scope_region,
        institution=user.scope_institution,
        team=user.scope_team,
    )


def _scope_models() -> tuple[Any, Any, Any]:
    """The models a data scope names (institution, region, team), read off ``User``'s
    foreign keys."""
    field = User._meta.get_field
    return (
        field("scope_institution").related_model,
        field("scope_region").related_model,
        field("scope_team").related_model,
    )


def _resolve_scope(
    actor: User | None,
    role: str,
    kind: str | None,
    region_code: str | None,
    institution_id: int | None,
    team_id: int | None,
) -> ScopeChoice:
    """Check role and scope against the rules and the actor's own scope.

    A target outside the actor's scope is reported exactly like a missing one.
    """
    # The network's models through the user's own foreign keys: accounts sits below the
    # network app and imports none of it (ADR 0024).
    Institution, Region, Team = _scope_models()

    if role not in Role.values:
        raise ValidationFailed(
            AccountError.INVALID_ROLE, _("Unknown role %(role)s.") % {"role": role}, field="role"
        )
    kind = kind or ""
    if role in PUBLIC_ROLES:
        if kind not in ("", ScopeKind.SELF):
            raise ValidationFailed(
                AccountError.SCOPE_NOT_ALLOWED,
                _("Residents and family members can only have the scope 'own records only'."),
                field="scope_kind",
            )
        kind = ScopeKind.SELF
    elif role in STAFF_ROLES:
        if kind not in (ScopeKind.REGION, ScopeKind.INSTITUTION, ScopeKind.TEAM):
            raise ValidationFailed(
                AccountError.SCOPE_REQUIRED,
                _("Staff roles need a region, institution or team as data scope."),
                field="scope_kind",
            )
    elif role in ADMIN_ROLES and kind not in (ScopeKind.ALL, ScopeKind.REGION):
        raise ValidationFailed(
            AccountError.SCOPE_NOT_ALLOWED,
            _("Administrators have the whole deployment or a region as data scope."),
            field="scope_kind",
        )
    outer = scope_of(actor) if actor is not None else None
    choice = ScopeChoice(kind=kind)
    if kind == ScopeKind.REGION:
        code = (region_code or "").strip()
        if not code:
            raise ValidationFailed(
                AccountError.SCOPE_REGION_MISSING,
                _("Enter the region code of the scope."),
                field="scope_region",
            )
        region = Region.objects.filter(code=code).first()
        if region is None or (outer is not None and not contains(outer, kind, region=region)):
            raise ValidationFailed(
                AccountError.UNKNOWN_REGION,
                _("There is no region with code %(code)s.") % {"code": code},
                field="scope_region",
            )
        choice = ScopeChoice(kind=kind, region=region)
    elif kind == ScopeKind.INSTITUTION:
        if not institution_id:
            raise ValidationFailed(
                AccountError.SCOPE_INSTITUTION_MISSING,
                _("Choose the institution of the scope."),
                field="scope_institution",
            )
        institution = Institution.objects.select_related("region").filter(pk=institution_id).first()
        if institution is None or (
            outer is not None and not contains(outer, kind, institution=institution)
        ):
            raise ValidationFailed(
                AccountError.UNKNOWN_INSTITUTION,
                _("There is no institution with id %(id)s.") % {"id": institution_id},
                field="scope_institution",
            )
        choice = ScopeChoice(kind=kind, institution=institution)
    elif kind == ScopeKind.TEAM:
        if not team_id:
            raise ValidationFailed(
                AccountError.SCOPE_TEAM_MISSING,
                _("Choose the team of the scope."),
                field="scope_team",
            )
        team = Team.objects.select_related("node__region").filter(pk=team_id).first()
        if team is None or (outer is not None and not contains(outer, kind, team=team)):
            raise ValidationFailed(
                AccountError.UNKNOWN_TEAM,
                _("There is no team with id %(id)s.") % {"id": team_id},
                field="scope_team",
            )
        choice = ScopeChoice(kind=kind, team=team)
    elif kind in (ScopeKind.ALL, ScopeKind.SELF):
        if outer is not None and not contains(outer, kind):
            raise ValidationFailed(
                AccountError.SCOPE_OUTSIDE,
                _("This scope is wider than your own data scope."),
                field="scope_kind",
            )
    else:
        raise ValidationFailed(
            AccountError.INVALID_SCOPE,
            _("Unknown data scope %(kind)s.") % {"kind": kind},
            field="scope_kind",
        )
    return choice


def _apply_scope(user: User, role: str, choice: ScopeChoice) -> None:
    user.role = role
    user.scope_kind = choice.kind
    user.scope_region = choice.region
    user.scope_institution = choice.institution
    user.scope_team = choice.team


def _create(
    actor: User | None,
    *,
    username: str,
    password: str,
    role: str,
    scope_kind: str | None,
    region_code: str | None,
    institution_id: int | None,
    team_id: int | None,
    display_name: str,
    email: str,
    details: dict[str, Any],
) -> User:
    username = (username or "").strip()
    if not username:
        raise ValidationFailed(
            AccountError.USERNAME_MISSING, _("Enter a username."), field="username"
        )
    try:
        User.username_validator(username)
    except ValidationError:
        raise ValidationFailed(
            AccountError.USERNAME_INVALID,
            _("Use at most 150 letters, digits and @ . + - _ for the username."),
            field="username",
        ) from None
    if len(username) > 150:
        raise ValidationFailed(
            AccountError.USERNAME_INVALID,
            _("The username is longer than 150 characters."),
            field="username",
        )
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(
            AccountError.USERNAME_TAKEN,
            _("The username %(u)s is taken.") % {"u": username},
            field="username",
        )
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationFailed(
                AccountError.EMAIL_INVALID, _("Enter a valid e-mail address."), field="email"
            ) from None
    choice = _resolve_scope(actor, role, scope_kind, region_code, institution_id, team_id)
    user = User(username=username, display_name=(display_name or "").strip()[:100], email=email)
    _apply_scope(user, role, choice)
    problems = _policy_errors(password or "", user)
    if problems:
        raise ValidationFailed(AccountError.PASSWORD_POLICY, problems, field="password")
    user.set_password(password)
    user.password_changed_at = timezone.now()
    try:
        with transaction.atomic():
            user.save(force_insert=True)
            record(
                actor=actor,
                action="accounts.user_create",
                obj=user,
                details={"role": role, "scope": choice.as_dict(), **details},
            )
    except IntegrityError:
        raise ValidationFailed(
            AccountError.USERNAME_TAKEN,
            _("The username %(u)s is taken.") % {"u": username},
            field="username",
        ) from None
    return user


def create_user(
    actor: User,
    *,
    username: str,
    password: str,
    role: str,
    scope_kind: str | None = None,
    region_code: str | None = None,
    institution_id: int | None = None,
    team_id: int | None = None,
    display_name: str = "",
    email: str = "",
) -> User:
    """A system administrator creates an account inside their own data scope."""
    _require(actor, AccountPerm.MANAGE)
    return _create(
        actor,
        username=username,
        password=password,
        role=role,
        scope_kind=scope_kind,
        region_code=region_code,
        institution_id=institution_id,
        team_id=team_id,
        display_name=display_name,
        email=email,
        details={},
    )


def bootstrap_user(
    *,
    username: str,
    password: str,
    role: str,
    scope_kind: str | None = None,
    region_code: str | None = None,
    institution_id: int | None = None,
    team_id: int | None = None,
    display_name: str = "",
    email: str = "",
    via: str = "cli",
) -> User:
    """Create an account without an acting user: the CLI, the demo seed, test factories.
    Same rules as ``create_user`` except the actor's scope; audited with ``via``."""
    return _create(
        None,
        username=username,
        password=password,
        role=role,
        scope_kind=scope_kind,
        region_code=region_code,
        institution_id=institution_id,
        team_id=team_id,
        display_name=display_name,
        email=email,
        details={"via": via},
    )


def update_user_role_scope(
    actor: User,
    user: User,
    *,
    role: str,
    scope_kind: str | None = None,
    region_code: str | None = None,
    institution_id: int | None = None,
    team_id: int | None = None,
    display_name: str | None = None,
) -> User:
    """A system administrator changes another account's role, scope (and display name)."""
    _require(actor, AccountPerm.MANAGE)
    _require_visible(actor, user)
    _not_self(actor, user, _("You cannot change your own role or scope."))
    choice = _resolve_scope(actor, role, scope_kind, region_code, institution_id, team_id)
    before = {"role": user.role, "scope": _scope_of_user(user).as_dict()}
    fields = ["role", "scope_kind", "scope_region", "scope_institution", "scope_team"]
    with transaction.atomic():
        _apply_scope(user, role, choice)
        if display_name is not None:
            user.display_name = display_name.strip()[:100]
            fields.append("display_name")
        user.save(update_fields=fields)
        record(
            actor=actor,
            action="accounts.user_update",
            obj=user,
            details={"before": before, "after": {"role": role, "scope": choice.as_dict()}},
        )
    user._data_scope = None  # type: ignore[attr-defined]
    return user


def _set_active(actor: User, user: User, active: bool) -> User:
    _require(actor, AccountPerm.MANAGE)
    _require_visible(actor, user)
    _not_self(actor, user, _("You cannot deactivate or reactivate your own account."))
    if user.is_active == active:
        raise ValidationFailed(
            AccountError.ALREADY_ACTIVE if active else AccountError.ALREADY_INACTIVE,
            _("The account is already active.")
            if active
            else _("The account is already deactivated."),
        )
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        revoked = 0 if active else _revoke_tokens(user)
        record(
            actor=actor,
            action="accounts.user_reactivate" if active else "accounts.user_deactivate",
            obj=user,
            details={"tokens_revoked": revoked},
        )
    return user


def deactivate_user(actor: User, user: User) -> User:
    """Disable an account (sessions stop working, API tokens are revoked)."""
    return _set_active(actor, user, False)


def reactivate_user(actor: User, user: User) -> User:
    return _set_active(actor, user, True)


# --- security administration --------------------------------------------------------------


def unlock(actor: User, *, username: str, address: str | None = None) -> int:
    """A security administrator lifts a lockout: deletes the failures of the username
    from ``address`` (or from every address when None). Returns how many were deleted."""
    _require(actor, AccountPerm.SECURITY)
    username = (username or "").strip()
    if address:
        normalised = normalise_address(address)
        if normalised is None:
            raise ValidationFailed(
                AccountError.INVALID_ADDRESS,
                _("%(a)s is not an IP address.") % {"a": address},
                field="address",
            )
        address = normalised
    else:
        address = None
    user = User.objects.filter(username=username).first()
    if user is not None:
        _require_visible(actor, user)
    elif not scope_of(actor).is_all:
        raise NotFound("user")
    with transaction.atomic():
        deleted = lockout.clear(username, address, any_address=address is None)
        if not deleted:
            raise ValidationFailed(
                AccountError.NOT_LOCKED, _("There are no failed logins to clear for this account.")
            )
        record(
            actor=actor,
            action="accounts.unlock",
            object_type="accounts.user",
            object_id=user.pk if user is not None else "",
            object_repr=username,
            details={"username": username, "address": address, "failures_cleared": deleted},
        )
    return deleted


def reset_totp(actor: User, user: User) -> User:
    """A security administrator removes a user's second factor (lost phone); the user
    enrols again at the next login. The user's API tokens are revoked."""
    _require(actor, AccountPerm.SECURITY)
    _require_visible(actor, user)
    _not_self(actor, user, _("Ask another security administrator to reset your own second factor."))
    if not user.totp_secret and not user.totp_confirmed:
        raise ValidationFailed(
            AccountError.TOTP_NOT_ENROLLED, _("This account has no second factor to reset.")
        )
    with transaction.atomic():
        was_confirmed = user.totp_confirmed
        user.totp_secret = ""
        user.totp_confirmed = False
        user.save(update_fields=["totp_secret", "totp_confirmed"])
        revoked = _revoke_tokens(user)
        record(
            actor=actor,
            action="accounts.totp_reset",
            obj=user,
            details={"was_confirmed": was_confirmed, "tokens_revoked": revoked},
        )
    return user
