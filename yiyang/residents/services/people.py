"""The people around a resident and what she agreed to: contacts, consent, family proxy
grants — and merging two records of one person (ADR 0011).

Writes follow the house rule: each function checks the actor's permission, fetches the
resident (and the contact, consent or grant) through the actor's data scope (``NotFound``
for a missing and an out-of-scope object alike), validates the input (``ValidationFailed``
naming the field and saying why), runs in one transaction and writes one audit row in it.
Phones are stored encrypted with a keyed index and appear masked in audit rows and output.

Consent (PIPL separate consent): one active consent per resident and purpose; a withdrawal
takes effect at once because every read checks the consent rows (``selectors``,
``access``). A proxy grant's life is its own consent (purpose ``proxy_access``): revoking
the grant withdraws it. Withdrawing the consent to sharing with family suspends every
grant of the resident at once (they stay revoked-by-gate until it is given again).

Reads: ``contacts_for``, ``consents_for``, ``grants_for`` — staff holding
``ResidentPerm.VIEW`` and the resident's own login; a family login sees none of them.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from yiyang.accounts import services as account_services
from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common import crypto
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import PUBLIC_ROLES, Role, require_perm
from yiyang.common.scope import ScopeKind
from yiyang.common.validation import clean_fields, clean_text, field_label, required
from yiyang.residents.models import (
    Consent,
    ConsentGiver,
    ConsentPurpose,
    Contact,
    ProxyGrant,
    Relation,
    Resident,
    ResidentStatus,
)
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.registry import get_resident_for, scoped_residents
from yiyang.residents.services.registry import RESIDENT_FIELDS, normalise_phone, register_resident

CONTACT_FIELDS: tuple[str, ...] = (
    "name",
    "relation",
    "phone",
    "is_guardian",
    "is_emergency",
    "address",
    "note",
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
# Purposes given with ``give_consent``; ``proxy_access`` comes with a proxy grant.
GIVEN_PURPOSES: tuple[str, ...] = tuple(
    p for p in ConsentPurpose.values if p != ConsentPurpose.PROXY_ACCESS
)
MERGE_NOTE = "merged"
# A consent may be recorded with the time it was signed on paper, never in the future
# (a few minutes of clock difference between devices are tolerated).
_CLOCK_SKEW = datetime.timedelta(minutes=5)


# --- shared helpers ---------------------------------------------------------------------


def _pk(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


def _one(qs: QuerySet[Any], pk: Any) -> Any:
    """The row of ``qs`` with primary key ``pk``, or None (also for a malformed key)."""
    if pk is None or isinstance(pk, bool):
        return None
    try:
        return qs.filter(pk=pk).first()
    except (ValueError, TypeError):
        return None


def _scoped_resident(actor: Any, resident: Any, *, lock: bool = False) -> Resident:
    qs = scoped_residents(actor)
    if lock:
        qs = qs.select_for_update(no_key=True)
    target = _one(qs, _pk(resident))
    if target is None:
        raise NotFound("resident")
    return target


def _not_merged(resident: Resident) -> None:
    if resident.status == ResidentStatus.MERGED:
        raise ValidationFailed(
            "resident_merged",
            _("This record was merged into record %(id)s: make the change there.")
            % {"id": resident.merged_into_id},
        )


def _bool(value: Any, name: str, label: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(
            "invalid", _("%(f)s must be true or false.") % {"f": label}, field=name
        )
    return value


def _masked(phone: str) -> str:
    return crypto.mask_phone(phone) if phone else ""


def _is_active_login(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and actor.is_active)


def _is_own_login(actor: Any, resident: Resident) -> bool:
    return (
        _is_active_login(actor) and actor.role == Role.RESIDENT and resident.account_id == actor.pk
    )


def _require_withdraw_role(actor: Any) -> None:
    """Who may withdraw a consent (or revoke a grant): ``RESIDENT_MANAGE`` holders, and a
    resident's own login (checked against the record once it is fetched) — PIPL art. 15:
    withdrawing must be as easy as giving."""
    if (
        getattr(actor, "is_authenticated", False)
        and actor.is_active
        and actor.role == Role.RESIDENT
    ):
        return
    require_perm(actor, ResidentPerm.MANAGE)


def _require_withdraw_right(actor: Any, resident: Resident) -> None:
    if actor.role == Role.RESIDENT and not _is_own_login(actor, resident):
        raise PermissionDenied()


# --- contacts ---------------------------------------------------------------------------


def _contact_label(name: str) -> str:
    return field_label((Contact,), name)


def _contact_audit(name: str, value: Any) -> Any:
    return _masked(value) if name == "phone" else value


def _apply_contact(contact: Contact, data: dict[str, Any]) -> list[str]:
    """Validate ``data`` and set it on ``contact``; the names of the changed fields."""
    unknown = sorted(set(data) - set(CONTACT_FIELDS))
    if unknown:
        raise ValidationFailed(
            "unknown_field", _("Unknown field %(f)s.") % {"f": unknown[0]}, field=unknown[0]
        )
    changed: list[str] = []

    def put(name: str, value: Any) -> None:
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            changed.append(name)

    if "name" in data:
        name = clean_text(data["name"], "name", _contact_label("name"), 100)
        if not name:
            raise required("name", _contact_label("name"))
        put("name", name)
    if "relation" in data:
        relation = data["relation"]
        if relation in (None, ""):
            raise required("relation", _contact_label("relation"))
        if relation not in Relation.values:
            raise ValidationFailed(
                "invalid_relation",
                _("Unknown relation %(value)s.") % {"value": relation},
                field="relation",
            )
        put("relation", relation)
    if "phone" in data:
        phone = normalise_phone(data["phone"])
        put("phone", phone)
        put("phone_index", crypto.blind_index(phone) if phone else "")
    for name in ("is_guardian", "is_emergency"):
        if name in data:
            put(name, _bool(data[name], name, _contact_label(name)))
    for name in ("address", "note"):
        if name in data:
            put(name, clean_text(data[name], name, _contact_label(name)))
    clean_fields(contact, ["phone", "phone_index", "resident", "account"], _contact_label)
    return changed


def _scoped_contact(actor: Any, contact: Any, resident: Any = None) -> Contact:
    qs = Contact.objects.filter(resident__in=scoped_residents(actor))
    if resident is not None:
        qs = qs.filter(resident_id=_pk(resident))
    target = _one(qs, _pk(contact))
    if target is None:
        raise NotFound("contact")
    return target


def add_contact(actor: Any, resident: Any, **data: Any) -> Contact:
    """Add a family member, guardian or other contact (name and relation required)."""
    require_perm(actor, ResidentPerm.MANAGE)
    for name in ("name", "relation"):
        if data.get(name) in (None, ""):
            raise required(name, _contact_label(name))
    with transaction.atomic():
        target = _scoped_resident(actor, resident, lock=True)
        _not_merged(target)
        contact = Contact(resident=target)
        _apply_contact(contact, data)
        contact.save(force_insert=True)
        record(
            actor=actor,
            action="residents.contact.create",
            obj=contact,
            details={
                "resident": target.pk,
                "fields": {n: _contact_audit(n, getattr(contact, n)) for n in CONTACT_FIELDS},
            },
        )
    return contact


def _guardian_consents(contact: Contact) -> QuerySet[Consent]:
    return Consent.objects.filter(guardian=contact, withdrawn_at__isnull=True)


def update_contact(actor: Any, contact: Any, *, resident: Any = None, **changes: Any) -> Contact:
    """Change a contact's fields (only those given). A guardian who gave consents that are
    still active stays a guardian until those are withdrawn."""
    require_perm(actor, ResidentPerm.MANAGE)
    with transaction.atomic():
        found = _scoped_contact(actor, contact, resident)
        _scoped_resident(actor, found.resident_id, lock=True)
        target = Contact.objects.select_for_update(no_key=True).get(pk=found.pk)
        _not_merged(target.resident)
        was_guardian = target.is_guardian
        changed = _apply_contact(target, changes)
        if was_guardian and not target.is_guardian and _guardian_consents(target).exists():
            raise ValidationFailed(
                "guardian_has_consents",
                _(
                    "%(name)s gave consents as guardian that are still active: withdraw them "
                    "(or have them given again by the new guardian) first."
                )
                % {"name": target.name},
                field="is_guardian",
            )
        if changed:
            target.save(update_fields=changed)
            record(
                actor=actor,
                action="residents.contact.update",
                obj=target,
                details={
                    "resident": target.resident_id,
                    "changed": {
                        n: _contact_audit(n, getattr(target, n))
                        for n in changed
                        if n != "phone_index"
                    },
                },
            )
    return target


def remove_contact(actor: Any, contact: Any, *, resident: Any = None, note: str = "") -> None:
    """Delete a contact. Refused while the contact holds an active proxy grant (revoke it
    first) or is named as the guardian on any consent (the consent history needs it).
    Revoked grants go with the contact; their (withdrawn) consents stay on record."""
    require_perm(actor, ResidentPerm.MANAGE)
    with transaction.atomic():
        found = _scoped_contact(actor, contact, resident)
        _scoped_resident(actor, found.resident_id, lock=True)
        target = Contact.objects.select_for_update(no_key=True).get(pk=found.pk)
        if target.grants.filter(consent__withdrawn_at__isnull=True).exists():
            raise ValidationFailed(
                "contact_has_active_grant",
                _("%(name)s has an active family login for this resident: revoke it first.")
                % {"name": target.name},
            )
        if Consent.objects.filter(guardian=target).exists():
            raise ValidationFailed(
                "contact_gave_consents",
                _(
                    "%(name)s is named as the guardian on consent records, which must be kept: "
                    "the contact cannot be deleted."
                )
                % {"name": target.name},
            )
        grants = sorted(target.grants.values_list("pk", flat=True))
        record(
            actor=actor,
            action="residents.contact.delete",
            obj=target,
            details={
                "resident": target.resident_id,
                "revoked_grants_removed": grants,
                "note": clean_text(note, "note", _("note")),
            },
        )
        target.delete()


# --- consent ----------------------------------------------------------------------------


def _consent_label(name: str) -> str:
    return field_label((Consent,), name)


def _purpose(value: Any) -> str:
    if value in (None, ""):
        raise required("purpose", _consent_label("purpose"))
    if value == ConsentPurpose.PROXY_ACCESS:
        raise ValidationFailed(
            "proxy_via_grant",
            _("Consent to family proxy access is given with the family login (proxy grant)."),
            field="purpose",
        )
    if value not in GIVEN_PURPOSES:
        raise ValidationFailed(
            "invalid_purpose",
            _("Unknown consent purpose %(value)s.") % {"value": value},
            field="purpose",
        )
    return str(value)


def _giver(resident: Resident, given_by: Any, guardian: Any) -> tuple[str, Contact | None]:
    """Who gives the consent: the resident herself, or a contact recorded as her legal
    guardian."""
    given_by = given_by or ConsentGiver.SELF
    if given_by not in ConsentGiver.values:
        raise ValidationFailed(
            "invalid",
            _("%(f)s: unknown value %(v)s.") % {"f": _consent_label("given_by"), "v": given_by},
            field="given_by",
        )
    if given_by == ConsentGiver.SELF:
        if guardian not in (None, ""):
            raise ValidationFailed(
                "guardian_not_allowed",
                _("A guardian is named only when the guardian gives the consent."),
                field="guardian",
            )
        return str(given_by), None
    if guardian in (None, ""):
        raise ValidationFailed(
            "guardian_required",
            _("Name the guardian who gives the consent."),
            field="guardian",
        )
    contact = _one(Contact.objects.filter(resident=resident), _pk(guardian))
    if contact is None:
        raise ValidationFailed(
            "unknown_reference",
            _("Guardian: %(name)s has no contact with id %(id)s.")
            % {"name": resident.name, "id": _pk(guardian)},
            field="guardian",
        )
    if not contact.is_guardian:
        raise ValidationFailed(
            "not_guardian",
            _(
                "%(contact)s is not recorded as the legal guardian of %(name)s: mark the "
                "contact as guardian first."
            )
            % {"contact": contact.name, "name": resident.name},
            field="guardian",
        )
    return str(given_by), contact


def _given_at(value: Any) -> datetime.datetime:
    if value in (None, ""):
        return timezone.now()
    when: datetime.datetime | None
    if isinstance(value, datetime.datetime):
        when = value
    elif isinstance(value, datetime.date):
        when = datetime.datetime.combine(value, datetime.time.min)
    else:
        text = str(value).strip()
        try:
            when = parse_datetime(text)
            if when is None:
                when = datetime.datetime.combine(
                    datetime.date.fromisoformat(text), datetime.time.min
                )
        except ValueError:
            when = None
    if when is None:
        raise ValidationFailed(
            "invalid_datetime",
            _("%(f)s: %(v)s is not a date and time (use YYYY-MM-DD HH:MM).")
            % {"f": _consent_label("given_at"), "v": value},
            field="given_at",
        )
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when > timezone.now() + _CLOCK_SKEW:
        raise ValidationFailed(
            "given_at_future",
            _("A consent cannot be given in the future."),
            field="given_at",
        )
    return when


def _already_given(resident: Resident, purpose: str) -> ValidationFailed:
    return ValidationFailed(
        "already_given",
        _(
            "%(name)s's consent to %(purpose)s is already given and active: withdraw it "
            "first to record a new one."
        )
        % {"name": resident.name, "purpose": ConsentPurpose(purpose).label},
        field="purpose",
    )


def give_consent(
    actor: Any,
    resident: Any,
    purpose: str,
    given_by: str = "self",
    guardian: Any = None,
    note: str = "",
    given_at: Any = None,
) -> Consent:
    """Record the resident's consent for ``purpose`` (given by herself or by her legal
    guardian, a contact marked ``is_guardian``); one active consent per purpose."""
    require_perm(actor, ResidentPerm.MANAGE)
    purpose = _purpose(purpose)
    with transaction.atomic():
        target = _scoped_resident(actor, resident, lock=True)
        _not_merged(target)
        giver, guardian_contact = _giver(target, given_by, guardian)
        when = _given_at(given_at)
        text = clean_text(note, "note", _consent_label("note"))
        if Consent.objects.filter(
            resident=target, purpose=purpose, withdrawn_at__isnull=True
        ).exists():
            raise _already_given(target, purpose)
        consent = Consent(
            resident=target,
            purpose=purpose,
            given_by=giver,
            guardian=guardian_contact,
            given_at=when,
            recorded_by=actor,
            note=text,
        )
        try:
            with transaction.atomic():
                consent.save(force_insert=True)
        except IntegrityError:
            raise _already_given(target, purpose) from None
        details: dict[str, Any] = {
            "resident": target.pk,
            "purpose": purpose,
            "given_by": giver,
            "guardian": guardian_contact.pk if guardian_contact else None,
            "given_at": when.isoformat(),
        }
        if purpose == ConsentPurpose.FAMILY_SHARING:
            details["proxy_grants_resumed"] = _active_grant_ids(target)
        record(actor=actor, action="residents.consent.give", obj=consent, details=details)
    return consent


def _active_grant_ids(resident: Resident) -> list[int]:
    return sorted(
        ProxyGrant.objects.filter(
            resident=resident, consent__withdrawn_at__isnull=True
        ).values_list("pk", flat=True)
    )


def _close(actor: Any, consent: Consent, note: str) -> None:
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = actor
    consent.withdrawal_note = note
    consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_note"])


def withdraw_consent(actor: Any, consent: Any, note: str = "", *, resident: Any = None) -> Consent:
    """Withdraw a consent, effective at once: without ``health_data`` the health record
    refuses writes; without ``family_sharing`` every family login of the resident loses
    access; a ``proxy_access`` consent is its grant (withdrawn = revoked). Recorded by a
    ``RESIDENT_MANAGE`` holder or by the resident's own login."""
    _require_withdraw_role(actor)
    with transaction.atomic():
        qs = Consent.objects.filter(resident__in=scoped_residents(actor))
        if resident is not None:
            qs = qs.filter(resident_id=_pk(resident))
        found = _one(qs, _pk(consent))
        if found is None:
            raise NotFound("consent")
        owner = _scoped_resident(actor, found.resident_id, lock=True)
        _require_withdraw_right(actor, owner)
        target = Consent.objects.select_for_update(no_key=True).get(pk=found.pk)
        if target.withdrawn_at is not None:
            raise ValidationFailed("already_withdrawn", _("This consent is already withdrawn."))
        text = clean_text(note, "note", _consent_label("withdrawal_note"))
        _close(actor, target, text)
        details: dict[str, Any] = {"resident": owner.pk, "purpose": target.purpose}
        if target.purpose == ConsentPurpose.FAMILY_SHARING:
            details["proxy_grants_suspended"] = _active_grant_ids(owner)
        elif target.purpose == ConsentPurpose.HEALTH_DATA:
            details["health_record_writes_blocked"] = True
        elif target.purpose == ConsentPurpose.PROXY_ACCESS:
            grant = ProxyGrant.objects.filter(consent=target).first()
            details["grant"] = grant.pk if grant else None
        record(actor=actor, action="residents.consent.withdraw", obj=target, details=details)
    return target


# --- family proxies ---------------------------------------------------------------------

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
            "not_family_login",
            _("The login %(u)s is not a family-member login.") % {"u": user.username},
            field="username",
        )
    if not user.is_active:
        raise ValidationFailed(
            "login_inactive",
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
                "login_exists",
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
                    "username_taken",
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
    user = account_services.bootstrap_user(
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
            "right_not_available",
            _("“%(right)s” is not available yet: a family login cannot do that on the platform.")
            % {"right": field_label((ProxyGrant,), name)},
            field=name,
        )


def _rights(values: dict[str, Any]) -> dict[str, bool]:
    rights = {}
    for name in RIGHTS:
        rights[name] = _bool(values[name], name, field_label((ProxyGrant,), name))
    if not any(rights.values()):
        raise ValidationFailed(
            "no_rights",
            _("Choose at least one right for the family login."),
            field="can_view_readings",
        )
    return rights


def _require_family_sharing(resident: Resident) -> None:
    if not Consent.objects.filter(
        resident=resident, purpose=ConsentPurpose.FAMILY_SHARING, withdrawn_at__isnull=True
    ).exists():
        raise ValidationFailed(
            "no_family_sharing",
            _(
                "%(name)s has not consented to sharing her data with family (or has withdrawn "
                "it): record that consent first."
            )
            % {"name": resident.name},
        )


def _scoped_grant(actor: Any, grant: Any, resident: Any = None) -> ProxyGrant:
    qs = ProxyGrant.objects.filter(resident__in=scoped_residents(actor))
    if resident is not None:
        qs = qs.filter(resident_id=_pk(resident))
    target = _one(qs, _pk(grant))
    if target is None:
        raise NotFound("proxy grant")
    return target


def grant_proxy(
    actor: Any,
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
        found = _scoped_contact(actor, contact, resident)
        owner = _scoped_resident(actor, found.resident_id, lock=True)
        target = Contact.objects.select_for_update(no_key=True).get(pk=found.pk)
        _not_merged(owner)
        _require_family_sharing(owner)
        if target.grants.filter(consent__withdrawn_at__isnull=True).exists():
            raise ValidationFailed(
                "already_granted",
                _("%(name)s already has an active grant: change its rights or revoke it.")
                % {"name": target.name},
            )
        giver, guardian_contact = _giver(owner, given_by, guardian)
        text = clean_text(note, "note", _consent_label("note"))
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


def revoke_proxy(actor: Any, grant: Any, note: str = "", *, resident: Any = None) -> ProxyGrant:
    """Revoke a grant at once: its consent is withdrawn. The family login itself stays
    (it may act for another resident); it no longer finds this one."""
    _require_withdraw_role(actor)
    with transaction.atomic():
        found = _scoped_grant(actor, grant, resident)
        owner = _scoped_resident(actor, found.resident_id, lock=True)
        _require_withdraw_right(actor, owner)
        consent = Consent.objects.select_for_update(no_key=True).get(pk=found.consent_id)
        if consent.withdrawn_at is not None:
            raise ValidationFailed("already_revoked", _("This grant is already revoked."))
        _close(actor, consent, clean_text(note, "note", _consent_label("withdrawal_note")))
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
    actor: Any,
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
        owner = _scoped_resident(actor, found.resident_id, lock=True)
        old_consent = Consent.objects.select_for_update(no_key=True).get(pk=found.consent_id)
        if old_consent.withdrawn_at is not None:
            raise ValidationFailed(
                "grant_revoked", _("This grant is revoked: give a new one instead.")
            )
        _not_merged(owner)
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
                    "not_guardian",
                    _("%(contact)s is no longer recorded as guardian: say who consents now.")
                    % {"contact": guardian_contact.name},
                    field="given_by",
                )
        else:
            giver, guardian_contact = _giver(owner, given_by, guardian)
        _close(actor, old_consent, "rights changed")
        consent = Consent.objects.create(
            resident=owner,
            purpose=ConsentPurpose.PROXY_ACCESS,
            given_by=giver,
            guardian=guardian_contact,
            given_at=timezone.now(),
            recorded_by=actor,
            note=clean_text(note, "note", _consent_label("note")),
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


# --- merge ------------------------------------------------------------------------------

# Fields of ``keep`` filled from ``remove`` when blank on ``keep`` (never overwritten).
FILLABLE: tuple[str, ...] = ("phone", "address", "ethnicity", "grid", "household")
# Fields compared for the audit row and the side-by-side page.
COMPARED: tuple[str, ...] = RESIDENT_FIELDS


@dataclass(frozen=True)
class Link:
    """A relation from any model to ``Resident`` (found by introspection, so a later app's
    table is moved too)."""

    model: type[models.Model]
    field: str
    unique: bool

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


def resident_links() -> list[Link]:
    """Every foreign key and one-to-one pointing at ``Resident``, from any installed app
    (hidden ones and many-to-many tables included)."""
    links = []
    for rel in Resident._meta.get_fields(include_hidden=True):
        if not rel.is_relation or rel.concrete or not rel.auto_created:
            continue
        if rel.many_to_many:  # its table's own foreign key is listed separately
            continue
        remote = rel.field  # type: ignore[union-attr]
        links.append(Link(rel.related_model, remote.name, bool(rel.one_to_one)))  # type: ignore[arg-type]
    return sorted(links, key=lambda link: (link.label, link.field))


def linked_counts(resident: Resident) -> dict[str, int]:
    """How many rows of each model point at ``resident`` (models with none left out)."""
    counts: dict[str, int] = {}
    for link in resident_links():
        n = link.model._base_manager.filter(**{link.field: resident}).count()
        if n:
            counts[link.label] = counts.get(link.label, 0) + n
    return counts


@dataclass
class MergeResult:
    keep: Resident
    removed: Resident
    moved: dict[str, int] = field(default_factory=dict)
    consents_withdrawn: list[int] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)
    differed: list[str] = field(default_factory=list)
    account_moved: bool = False


def _attname(name: str) -> str:
    f = Resident._meta.get_field(name)
    return f.attname if isinstance(f, models.Field) else name


def _value(resident: Resident, name: str) -> Any:
    return getattr(resident, _attname(name))


def differing_fields(keep: Resident, remove: Resident) -> list[str]:
    return [name for name in COMPARED if _value(keep, name) != _value(remove, name)]


def _blank(value: Any) -> bool:
    return value in (None, "")


def _merge_conflict(link: Link) -> ValidationFailed:
    return ValidationFailed(
        "merge_conflict",
        _(
            "Both records have a %(what)s, which a resident can have only once: resolve that "
            "on one of the records before merging."
        )
        % {"what": link.model._meta.verbose_name},
    )


def _move(link: Link, keep: Resident, remove: Resident) -> int:
    manager = link.model._base_manager
    rows = manager.filter(**{link.field: remove})
    if link.unique and rows.exists() and manager.filter(**{link.field: keep}).exists():
        raise _merge_conflict(link)
    try:
        with transaction.atomic():
            return rows.update(**{link.field: keep})
    except IntegrityError:
        raise _merge_conflict(link) from None


def _dedupe_consents(actor: Any, keep: Resident, remove: Resident) -> list[int]:
    """Where both records hold an active consent for a purpose, the older stays active
    (on ``keep`` after the move) and the newer is withdrawn with the note "merged"."""
    withdrawn = []
    for purpose in GIVEN_PURPOSES:
        active = list(
            Consent.objects.select_for_update(no_key=True)
            .filter(resident__in=[keep, remove], purpose=purpose, withdrawn_at__isnull=True)
            .order_by("given_at", "pk")
        )
        for duplicate in active[1:]:
            _close(actor, duplicate, MERGE_NOTE)
            withdrawn.append(duplicate.pk)
    return withdrawn


def _fill(keep: Resident, remove: Resident) -> list[str]:
    """Copy ``remove``'s value into ``keep``'s blank fields (grid and household only when
    they lie in ``keep``'s village). The names of the fields filled."""
    filled = []
    for name in FILLABLE:
        mine, theirs = _value(keep, name), _value(remove, name)
        if not _blank(mine) or _blank(theirs):
            continue
        if name == "grid" and remove.grid is not None and remove.grid.village_id != keep.region_id:
            continue
        household = remove.household if name == "household" else None
        if household is not None and household.region_id != keep.region_id:
            continue
        setattr(keep, _attname(name), theirs)
        filled.append(name)
        if name == "phone":
            keep.phone_index = remove.phone_index
            filled.append("phone_index")
    return filled


def _int_pk(value: Any) -> int:
    try:
        return int(_pk(value))
    except (TypeError, ValueError):
        raise NotFound("resident") from None


def merge_residents(actor: Any, keep: Any, remove: Any, reason: str) -> MergeResult:
    """Merge ``remove`` into ``keep`` (two records of one person; ``ResidentPerm.MERGE``).

    Every row of any app pointing at ``remove`` is moved to ``keep``; duplicate active
    consents are resolved (the older stays); ``remove``'s own login moves when ``keep`` has
    none (both having one is refused); ``keep``'s fields win — its blank fields are filled
    from ``remove`` and the fields that differed are named in the audit row. ``remove`` is
    then marked merged into ``keep``; it stays for the audit trail and old links.
    """
    require_perm(actor, ResidentPerm.MERGE)
    text = clean_text(reason, "reason", _("reason"))
    if not text:
        raise required("reason", _("reason"))
    if _pk(remove) in (None, ""):
        raise required("remove", _("duplicate record"))
    keep_pk, remove_pk = _int_pk(keep), _int_pk(remove)
    if keep_pk == remove_pk:
        raise ValidationFailed(
            "same_record", _("A record cannot be merged into itself."), field="remove"
        )
    with transaction.atomic():
        locked = {}
        for pk in sorted([keep_pk, remove_pk]):  # always the same lock order: no deadlock
            locked[pk] = _scoped_resident(actor, pk, lock=True)
        kept, removed = locked[keep_pk], locked[remove_pk]
        for resident in (kept, removed):
            if resident.status == ResidentStatus.MERGED:
                raise ValidationFailed(
                    "already_merged",
                    _("Record %(id)s (%(name)s) was already merged into record %(into)s.")
                    % {"id": resident.pk, "name": resident.name, "into": resident.merged_into_id},
                    field="remove" if resident is removed else None,
                )
        if kept.account_id is not None and removed.account_id is not None:
            raise ValidationFailed(
                "both_have_login",
                _(
                    "Both records have their own resident login: deactivate the login of the "
                    "duplicate (or unlink it) before merging."
                ),
                field="remove",
            )
        result = MergeResult(keep=kept, removed=removed)
        result.differed = differing_fields(kept, removed)
        result.consents_withdrawn = _dedupe_consents(actor, kept, removed)
        for link in resident_links():
            n = _move(link, kept, removed)
            if n:
                result.moved[link.label] = result.moved.get(link.label, 0) + n
        changed = _fill(kept, removed)
        result.filled = [name for name in changed if name != "phone_index"]
        removed_before = {
            "status": removed.status,
            "deceased_on": removed.deceased_on.isoformat() if removed.deceased_on else None,
        }
        if removed.account_id is not None:
            kept.account_id, removed.account_id = removed.account_id, None
            removed.save(update_fields=["account"])
            changed.append("account")
            result.account_moved = True
        removed.status = ResidentStatus.MERGED
        removed.merged_into = kept
        removed.deceased_on = None  # "merged" replaces "deceased" (a database check)
        removed.save(update_fields=["status", "merged_into", "deceased_on", "updated_at"])
        if changed:
            kept.save(update_fields=[*changed, "updated_at"])
        record(
            actor=actor,
            action="residents.resident.merge",
            obj=kept,
            details={
                "removed": removed.pk,
                "reason": text,
                "moved": result.moved,
                "consents_withdrawn": result.consents_withdrawn,
                "filled": result.filled,
                "differed": result.differed,
                "account_moved": result.account_moved,
                "removed_before": removed_before,
            },
        )
    return result


# --- reads ------------------------------------------------------------------------------


def can_see_people(user: Any, resident: Resident) -> bool:
    """Contacts, consents and grants: staff with ``RESIDENT_VIEW`` and the resident's own
    login (a family login acts for the resident but does not see her other contacts)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role in PUBLIC_ROLES:
        return _is_own_login(user, resident)
    return bool(user.has_perm_code(ResidentPerm.VIEW))


def _visible(user: Any, resident: Any) -> Resident:
    """The resident, checked: permission first (403), then scope (404)."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied()
    if getattr(user, "role", None) not in PUBLIC_ROLES:
        require_perm(user, ResidentPerm.VIEW)
    if isinstance(resident, Resident):
        if not scoped_residents(user).filter(pk=resident.pk).exists():
            raise NotFound("resident")
        target = resident
    else:
        target = get_resident_for(user, resident)
    if not can_see_people(user, target):
        raise PermissionDenied()
    return target


def contacts_for(user: Any, resident: Any) -> QuerySet[Contact]:
    target = _visible(user, resident)
    return Contact.objects.filter(resident=target).select_related("account")


def consents_for(user: Any, resident: Any) -> QuerySet[Consent]:
    """Every consent of the resident, withdrawn ones included (the history)."""
    target = _visible(user, resident)
    return (
        Consent.objects.filter(resident=target)
        .select_related("guardian", "recorded_by", "withdrawn_by", "grant__contact")
        .order_by("purpose", "-given_at", "-pk")
    )


def grants_for(user: Any, resident: Any) -> QuerySet[ProxyGrant]:
    """Every proxy grant of the resident, revoked ones included."""
    target = _visible(user, resident)
    return ProxyGrant.objects.filter(resident=target).select_related("contact", "user", "consent")


def active_consents(resident: Resident) -> dict[str, Consent]:
    """The resident's active consent per purpose (proxy grants left out) — for headers."""
    rows = Consent.objects.filter(resident=resident, withdrawn_at__isnull=True).exclude(
        purpose=ConsentPurpose.PROXY_ACCESS
    )
    return {c.purpose: c for c in rows}


def grant_state(grant: ProxyGrant, family_sharing: bool) -> str:
    """``active``, ``suspended`` (the family-sharing consent is withdrawn) or ``revoked``."""
    if grant.consent.withdrawn_at is not None:
        return "revoked"
    return "active" if family_sharing else "suspended"


# --- registration with its consents ---------------------------------------------------


class DuplicateUnconfirmed(Exception):
    """Possible duplicates were found and the user has not confirmed (nothing saved)."""

    def __init__(self, candidates: list[Resident]) -> None:
        super().__init__("possible duplicates")
        self.candidates = candidates


def register_with_consents(
    actor: Any,
    values: dict[str, Any],
    *,
    purposes: Sequence[str] = (),
    given_by: str = "self",
    guardian: dict[str, Any] | None = None,
    note: str = "",
    confirm: bool = True,
) -> tuple[Resident, list[Resident]]:
    """Register a resident and record the consents given with the registration, in one
    transaction (a refused consent leaves no resident behind). With ``confirm=False``,
    possible duplicates (same name + birth date + village, or same phone) roll the
    registration back and raise ``DuplicateUnconfirmed`` listing them.

    A consent given by a guardian needs the guardian (``{"name", "relation", "phone"}``),
    recorded as the resident's guardian contact.

    Composes the actions ``services.register_resident``, ``add_contact`` and
    ``give_consent`` (each checks permission and scope and writes its audit row);
    used by this page and by ``POST /api/v1/residents/``."""
    if purposes and given_by == ConsentGiver.GUARDIAN and not guardian:
        raise ValidationFailed(
            "required",
            _("Name the guardian who gave the consents."),
            field="guardian",
        )
    with transaction.atomic():
        resident, candidates = register_resident(actor, **values)
        if candidates and not confirm:
            raise DuplicateUnconfirmed(candidates)
        contact = None
        if guardian and given_by == ConsentGiver.GUARDIAN:
            try:
                contact = add_contact(actor, resident, is_guardian=True, **guardian)
            except ValidationFailed as error:
                field = f"guardian.{error.field}" if error.field else "guardian"
                raise ValidationFailed(error.code, error.detail, field=field) from error
        for purpose in purposes:
            give_consent(
                actor,
                resident,
                purpose,
                given_by=given_by,
                guardian=contact,
                note=note,
            )
    return resident, candidates
