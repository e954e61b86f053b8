"""Passwords: the password policy check and the user's own password change (which
revokes their other API tokens).
"""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.errors import AccountError
from yiyang.accounts.models import User
from yiyang.accounts.services.base import revoke_tokens
from yiyang.audit.services import record
from yiyang.common.errors import ValidationFailed


def policy_errors(password: str, user: User) -> str | None:
    """The password policy's complaints about ``password`` as one text; None when it passes."""
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
    problems = policy_errors(new_password, actor)
    if problems:
        raise ValidationFailed(AccountError.PASSWORD_POLICY, problems, field="new_password")
    with transaction.atomic():
        actor.set_password(new_password)
        actor.password_changed_at = timezone.now()
        actor.must_change_password = False
        actor.save(update_fields=["password", "password_changed_at", "must_change_password"])
        revoked = revoke_tokens(actor, keep_id=keep_token_id)
        record(
            actor=actor,
            action="accounts.password_change",
            obj=actor,
            details={"tokens_revoked": revoked},
        )
