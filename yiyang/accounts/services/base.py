"""The guards and helpers the account actions share: the actor's permission, the target
user's visibility, "not on yourself", and revoking a user's API tokens.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from yiyang.accounts import selectors
from yiyang.accounts.models import ApiToken, User
from yiyang.common.errors import NotFound, PermissionDenied
from yiyang.common.permissions import Permission


def require(actor: User, perm: Permission) -> None:
    """Refuse an actor who is not signed in or lacks ``perm``."""
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm_code(perm):
        raise PermissionDenied(_("Your role may not do this."))


def require_visible(actor: User, user: User) -> None:
    """A user outside the actor's scope is reported as missing."""
    if not selectors.is_visible(actor, user):
        raise NotFound("user")


def not_self(actor: User, user: User, detail: str) -> None:
    """Refuse (with ``detail``) an action of the actor on their own account."""
    if actor.pk == user.pk:
        raise PermissionDenied(detail)


def revoke_tokens(user: User, *, keep_id: int | None = None) -> int:
    """Revoke the user's live API tokens (but ``keep_id``); how many were revoked."""
    rows = ApiToken.objects.filter(user=user, revoked=False)
    if keep_id is not None:
        rows = rows.exclude(pk=keep_id)
    return rows.update(revoked=True)
