"""Account management: creating accounts (by a system administrator or without an actor:
the CLI, the demo seed, test factories), changing role and scope, deactivating and
reactivating.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.errors import AccountError
from yiyang.accounts.models import User
from yiyang.accounts.permissions import AccountPerm
from yiyang.accounts.services.base import not_self, require, require_visible, revoke_tokens
from yiyang.accounts.services.passwords import policy_errors
from yiyang.accounts.services.scopes import apply_scope, resolve_scope, scope_of_user
from yiyang.audit.services import record
from yiyang.common.errors import ValidationFailed


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
    choice = resolve_scope(actor, role, scope_kind, region_code, institution_id, team_id)
    user = User(username=username, display_name=(display_name or "").strip()[:100], email=email)
    apply_scope(user, role, choice)
    problems = policy_errors(password or "", user)
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
    require(actor, AccountPerm.MANAGE)
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
    require(actor, AccountPerm.MANAGE)
    require_visible(actor, user)
    not_self(actor, user, _("You cannot change your own role or scope."))
    choice = resolve_scope(actor, role, scope_kind, region_code, institution_id, team_id)
    before = {"role": user.role, "scope": scope_of_user(user).as_dict()}
    fields = ["role", "scope_kind", "scope_region", "scope_institution", "scope_team"]
    with transaction.atomic():
        apply_scope(user, role, choice)
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
    require(actor, AccountPerm.MANAGE)
    require_visible(actor, user)
    not_self(actor, user, _("You cannot deactivate or reactivate your own account."))
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
        revoked = 0 if active else revoke_tokens(user)
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
