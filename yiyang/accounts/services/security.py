"""Security administration: lifting a lockout and resetting a user's second factor."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from yiyang.accounts import lockout
from yiyang.accounts.errors import AccountError
from yiyang.accounts.models import User
from yiyang.accounts.permissions import AccountPerm
from yiyang.accounts.services.base import not_self, require, require_visible, revoke_tokens
from yiyang.audit.services import normalise_address, record
from yiyang.common.errors import NotFound, ValidationFailed
from yiyang.common.scope import scope_of


def unlock(actor: User, *, username: str, address: str | None = None) -> int:
    """A security administrator lifts a lockout: deletes the failures of the username
    from ``address`` (or from every address when None). Returns how many were deleted."""
    require(actor, AccountPerm.SECURITY)
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
        require_visible(actor, user)
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
    require(actor, AccountPerm.SECURITY)
    require_visible(actor, user)
    not_self(actor, user, _("Ask another security administrator to reset your own second factor."))
    if not user.totp_secret and not user.totp_confirmed:
        raise ValidationFailed(
            AccountError.TOTP_NOT_ENROLLED, _("This account has no second factor to reset.")
        )
    with transaction.atomic():
        was_confirmed = user.totp_confirmed
        user.totp_secret = ""
        user.totp_confirmed = False
        user.save(update_fields=["totp_secret", "totp_confirmed"])
        revoked = revoke_tokens(user)
        record(
            actor=actor,
            action="accounts.totp_reset",
            obj=user,
            details={"was_confirmed": was_confirmed, "tokens_revoked": revoked},
        )
    return user
