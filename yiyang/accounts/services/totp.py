"""The second factor: TOTP codes (the time step of a code, each step used once, the
provisioning URI), whether a user still has to enrol, and the user's own enrolment
(start with a new secret, confirm with a current code).
"""

from __future__ import annotations

import datetime
import hmac
from dataclasses import dataclass

import pyotp
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.errors import AccountError
from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import ValidationFailed
from yiyang.common.permissions import mfa_required

TOTP_ISSUER = "Yiyang"


def mfa_enrolment_needed(user: User) -> bool:
    """A user of an MFA-required role who has not enrolled TOTP yet."""
    return mfa_required(user.role) and not user.totp_confirmed


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


def consume_step(user: User, step: int) -> bool:
    """Mark the step used; False when it (or a later one) was used already (replay)."""
    used = User.objects.filter(pk=user.pk, totp_last_step__lt=step).update(totp_last_step=step)
    if used:
        user.totp_last_step = step
    return bool(used)


def totp_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(
        name=user.username, issuer_name=TOTP_ISSUER
    )


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
        if not consume_step(actor, step):
            raise ValidationFailed(
                AccountError.TOTP_REUSED,
                _("This code has already been used. Wait for the next code of your app."),
                field="code",
            )
        actor.totp_confirmed = True
        actor.save(update_fields=["totp_confirmed"])
        record(actor=actor, action="accounts.totp_enrol", obj=actor)
