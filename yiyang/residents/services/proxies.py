"""Family proxy grants (ADR 0011): a contact gets a family login acting for the resident
with the chosen rights — ``grant_proxy``, ``update_proxy``, ``revoke_proxy``. A grant's
life is its own consent (purpose ``proxy_access``): revoking the grant withdraws it, and a
change of rights replaces both. Granting needs the resident's active consent to sharing
with family. Each action follows the house rule of ``services.people``.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.errors import AccountError
from yiyang.accounts.models import User
from yiyang.accounts.services.users import bootstrap_user
from yiyang.audit.services import record
from yiyang.common.errors import NotFound, ValidationFailed
from yiyang.common.permissions import Role, require_perm
from yiyang.common.scope import ScopeKind
from yiyang.common.validation import clean_text, field_label
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import (
    Consent,
    ConsentPurpose,
    Contact,
    ProxyGrant,
    Resident,
    active_consent,
)
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.registry import scoped_residents
from yiyang.residents.services.base import (
    close_consent,
    consent_giver,
    consent_label,
    one_or_none,
    pk_of,
    require_not_merged,
    require_withdraw_right,
    require_withdraw_role,
    scoped_contact,
    scoped_resident,
    strict_bool,
)

RIGHTS: tuple[str, ...] = (
    "can_view_readings",
    "can_view_alerts",
    "can_book_services",
    "can_view_bills",
)
# The rights a grant can give today: what a family login can actually do. Booking services
# and seeing bills have no pages yet: they are kept as stored (false, or true on an older
# grant, where they grant nothing) but not offered, and giving them is refused.
OFFERED_RIGHTS: tuple[str, ...] = ("can_view_readings", "can_view_alerts")
_LOWER = "abcdefghijkmnpqrstuvwxyz"  # no l, o: easy to read aloud and copy by hand
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O
_DIGITS = "23456789"  # no 0, 1


def one_time_password() -> str:
    """A strong generated password (four groups of four, ~92 bits), e.g. ``Kp3w-x7Qa-…``;
    it has lower- and upper-case letters, digits and a symbol, so any sane policy passes."""
    alphabet = _LOWER + _UPPER + _DIGITS
    while True:
        groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4)]
        password = "-".join(groups)
        if (
            any(c in _LOWER for c in password)
            and any(c in _UPPER for c in password)
            and any(c in _DIGITS for c in password)
        ):
            return password


def _new_username() -> str:
    for _attempt in range(50):
        username = f"fam{secrets.randbelow(10**7):07d}"
        if not User.objects.filter(username=username).exists():
            return username
    raise RuntimeError("no free family username after 50 attempts")  # pragma: no cover


def _usable_login(user: User) -> User:
    if user.role != Role.FAMILY:
        raise ValidationFailed(
            ResidentError.NOT_FAMILY_LOGIN,
            _("The login %(u)s is not a family-member login.") % {"u": user.username},
            field="username",
        )
    if not user.is_active:
        raise ValidationFailed(
            ResidentError.LOGIN_INACTIVE,
            _("The family login %(u)s is deactivated: ask a system administrator to reactivate it.")
            % {"u": user.username},
            field="username",
        )
    return user


def _family_login(contact: Contact, username: Any) -> tuple[User, str | None]:
    """The contact's family login: the one it has, the named login of the same person
    (another contact with the same phone holds it), or a new one with a generated
    password (returned, to be shown once)."""
    wanted = "" if username is None else str(username).strip()
    if contact.account_id is not None:
        user = contact.account
        assert user is not None
        if wanted and wanted != user.username:
            raise ValidationFailed(
                ResidentError.LOGIN_EXISTS,
                _("%(name)s already has the family login %(u)s; it is used for this grant.")
                % {"name": contact.name, "u": user.username},
                field="username",
            )
        return _usable_login(user), None
    if wanted:
        existing = User.objects.filter(username=wanted).first()
        if existing is not None:
            same_person = bool(contact.phone_index) and (
                Contact.objects.filter(account=existing, phone_index=contact.phone_index)
                .exclude(pk=contact.pk)
                .exists()
            )
            if existing.role != Role.FAMILY or not same_person:
                raise ValidationFailed(
                    AccountError.USERNAME_TAKEN,
                    _(
                        "The username %(u)s is taken. An existing family login is reused only "
                        "for a contact with the same phone number."
                    )
                    % {"u": wanted},
                    field="username",
                )
            user = _usable_login(existing)
            contact.account = user
            contact.save(update_fields=["account"])
            return user, None
    password = one_time_password()
    user = bootstrap_user(
        username=wanted or _new_username(),
        password=password,
        role=Role.FAMILY,
        scope_kind=ScopeKind.SELF,
        display_name=contact.name,
        via="residents.proxy_grant",
    )
    # The one-time password is handed over by staff: she chooses her own at first login.
    user.must_change_password = True
    user.save(update_fields=["must_change_password"])
    contact.account = user
    contact.save(update_fields=["account"])
    return user, password


def _not_offered(values: dict[str, Any], before: dict[str, bool] | None = None) -> None:
    """Refuse turning on a right that is not offered yet (booking, bills)."""
    for name in RIGHTS:
        if name in OFFERED_RIGHTS or values.get(name) is not True:
            continue
        if before is not None and before.get(name):
            continue  # an older grant keeps what it was given
        raise ValidationFailed(
            ResidentError.RIGHT_NOT_AVAILABLE,
            _("“%(right)s” is not available yet: a family login cannot do that on the platform.")
            % {"right": field_label((ProxyGrant,), name)},
            field=name,
        )


def _rights(values: dict[str, Any]) -> dict[str, bool]:
    rights = {}
    for name in RIGHTS:
        rights[name] = strict_bool(values[name], name, field_label((ProxyGrant,), name))
    if not any(rights.values()):
        raise ValidationFailed(
            ResidentError.NO_RIGHTS,
            _("Choose at least one right for the family login."),
            field="can_view_readings",
        )
    return rights


def _require_family_sharing(resident: Resident) -> None:
    if (
        not Consent.objects.active()
        .filter(resident=resident, purpose=ConsentPurpose.FAMILY_SHARING)
        .exists()
    ):
        raise ValidationFailed(
            ResidentError.NO_FAMILY_SHARING,
            _(
                "%(name)s has not consented to sharing her data with family (or has withdrawn "
                "it): record that consent first."
            )
            % {"name": resident.name},
        )


def _scoped_grant(actor: User, grant: Any, resident: Any = None) -> ProxyGrant:
    qs = ProxyGrant.objects.filter(resident__in=scoped_residents(actor))
    if resident is not None:
        qs = qs.filter(resident_id=pk_of(resident))
    target = one_or_none(qs, pk_of(grant))
    if target is None:
        raise NotFound("proxy grant")
    return target


def grant_proxy(
    actor: User,
    contact: Any,
    can_view_readings: bool = True,
    can_view_alerts: bool = False,
    can_book_services: bool = False,
    can_view_bills: bool = False,
    username: str | None = None,
    *,
    resident: Any = None,
    given_by: str = "self",
    guardian: Any = None,
    note: str = "",
) -> tuple[ProxyGrant, str | None]:
    """Give a contact a family login acting for the resident with the chosen rights.

    Needs the resident's active consent to sharing with family. Records a consent of
    purpose ``proxy_access`` (the grant's life) and the grant; creates the contact's
    family login when it has none. Returns the grant and the new login's generated
    password (None when an existing login is used) — shown once, never stored in clear.
    """
    require_perm(actor, ResidentPerm.MANAGE)
    given = {
        "can_view_readings": can_view_readings,
        "can_view_alerts": can_view_alerts,
        "can_book_services": can_book_services,
        "can_view_bills": can_view_bills,
    }
    _not_offered(given)
    rights = _rights(given)
    with transaction.atomic():
        found = scoped_contact(actor, contact, resident)
        owner = scoped_resident(actor, found.resident_id, lock=True)
        target = Contact.objects.select_for_update(no_key=True).get(pk=found.pk)
        require_not_merged(owner)
        _require_family_sharing(owner)
        if target.grants.filter(active_consent("consent__")).exists():
            raise ValidationFailed(
                ResidentError.ALREADY_GRANTED,
                _("%(name)s already has an active grant: change its rights or revoke it.")
                % {"name": target.name},
            )
        giver, guardian_contact = consent_giver(owner, given_by, guardian)
        text = clean_text(note, "note", consent_label("note"))
        user, password = _family_login(target, username)
        consent = Consent.objects.create(
            resident=owner,
            purpose=ConsentPurpose.PROXY_ACCESS,
            given_by=giver,
            guardian=guardian_contact,
            given_at=timezone.now(),
            recorded_by=actor,
            note=text,
        )
        grant = ProxyGrant.objects.create(
            resident=owner, contact=target, user=user, consent=consent, **rights
        )
        record(
            actor=actor,
            action="residents.proxy.grant",
            obj=grant,
            details={
                "resident": owner.pk,
                "contact": target.pk,
                "user": user.pk,
                "username": user.username,
                "login_created": password is not None,
                "consent": consent.pk,
                "given_by": giver,
                "rights": rights,
            },
        )
    return grant, password


def revoke_proxy(actor: User, grant: Any, note: str = "", *, resident: Any = None) -> ProxyGrant:
    """Revoke a grant at once: its consent is withdrawn. The family login itself stays
    (it may act for another resident); it no longer finds this one."""
    require_withdraw_role(actor)
    with transaction.atomic():
        found = _scoped_grant(actor, grant, resident)
        owner = scoped_resident(actor, found.resident_id, lock=True)
        require_withdraw_right(actor, owner)
        consent = Consent.objects.select_for_update(no_key=True).get(pk=found.consent_id)
        if consent.withdrawn_at is not None:
            raise ValidationFailed(
                ResidentError.ALREADY_REVOKED, _("This grant is already revoked.")
            )
        close_consent(actor, consent, clean_text(note, "note", consent_label("withdrawal_note")))
        found.consent = consent
        record(
            actor=actor,
            action="residents.proxy.revoke",
            obj=found,
            details={
                "resident": owner.pk,
                "contact": found.contact_id,
                "user": found.user_id,
                "consent": consent.pk,
            },
        )
    return found


def update_proxy(
    actor: User,
    grant: Any,
    *,
    resident: Any = None,
    can_view_readings: bool | None = None,
    can_view_alerts: bool | None = None,
    can_book_services: bool | None = None,
    can_view_bills: bool | None = None,
    given_by: str | None = None,
    guardian: Any = None,
    note: str = "",
) -> ProxyGrant:
    """Change a grant's rights (None keeps a right as it is). A grant is one consent, so a
    change replaces it: the old consent is withdrawn ("rights changed") and a new consent
    and grant for the same contact and login are recorded (given by the same person unless
    ``given_by`` says otherwise). Returns the new grant (the old one when nothing
    changed)."""
    require_perm(actor, ResidentPerm.MANAGE)
    rights = {
        "can_view_readings": can_view_readings,
        "can_view_alerts": can_view_alerts,
        "can_book_services": can_book_services,
        "can_view_bills": can_view_bills,
    }
    with transaction.atomic():
        found = _scoped_grant(actor, grant, resident)
        owner = scoped_resident(actor, found.resident_id, lock=True)
        old_consent = Consent.objects.select_for_update(no_key=True).get(pk=found.consent_id)
        if old_consent.withdrawn_at is not None:
            raise ValidationFailed(
                ResidentError.GRANT_REVOKED, _("This grant is revoked: give a new one instead.")
            )
        require_not_merged(owner)
        before = {name: getattr(found, name) for name in RIGHTS}
        _not_offered(rights, before)
        after = _rights({n: before[n] if rights[n] is None else rights[n] for n in RIGHTS})
        if after == before:
            return found
        _require_family_sharing(owner)
        if given_by is None:
            giver, guardian_contact = old_consent.given_by, old_consent.guardian
            if guardian_contact is not None and not guardian_contact.is_guardian:
                raise ValidationFailed(
                    ResidentError.NOT_GUARDIAN,
                    _("%(contact)s is no longer recorded as guardian: say who consents now.")
                    % {"contact": guardian_contact.name},
                    field="given_by",
                )
        else:
            giver, guardian_contact = consent_giver(owner, given_by, guardian)
        close_consent(actor, old_consent, "rights changed")
        consent = Consent.objects.create(
            resident=owner,
            purpose=ConsentPurpose.PROXY_ACCESS,
            given_by=giver,
            guardian=guardian_contact,
            given_at=timezone.now(),
            recorded_by=actor,
            note=clean_text(note, "note", consent_label("note")),
        )
        new = ProxyGrant.objects.create(
            resident=owner, contact=found.contact, user=found.user, consent=consent, **after
        )
        record(
            actor=actor,
            action="residents.proxy.update",
            obj=new,
            details={
                "resident": owner.pk,
                "replaces": found.pk,
                "withdrawn_consent": old_consent.pk,
                "consent": consent.pk,
                "before": before,
                "after": after,
            },
        )
    return new
