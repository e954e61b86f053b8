"""The people around a resident and what she agreed to: her contacts and her consents
(and registering her with the consents she gives at once). Family proxy grants are in
``services.proxies``, merging two records of one person in ``services.merge``, the reads in
``selectors.people``.

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
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common import crypto
from yiyang.common.errors import CommonError, NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.validation import clean_fields, clean_text, field_label, required
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import (
    Consent,
    ConsentGiver,
    ConsentPurpose,
    Contact,
    ProxyGrant,
    Relation,
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
from yiyang.residents.services.registry import normalise_phone, register_resident

CONTACT_FIELDS: tuple[str, ...] = (
    "name",
    "relation",
    "phone",
    "is_guardian",
    "is_emergency",
    "address",
    "note",
)
# Purposes given with ``give_consent``; ``proxy_access`` comes with a proxy grant.
GIVEN_PURPOSES: tuple[str, ...] = tuple(
    p for p in ConsentPurpose.values if p != ConsentPurpose.PROXY_ACCESS
)
# A consent may be recorded with the time it was signed on paper, never in the future
# (a few minutes of clock difference between devices are tolerated).
_CLOCK_SKEW = datetime.timedelta(minutes=5)


# --- helpers (those shared with proxies and merge are in services.base) -----------------


def _masked(phone: str) -> str:
    return crypto.mask_phone(phone) if phone else ""


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
            CommonError.UNKNOWN_FIELD,
            _("Unknown field %(f)s.") % {"f": unknown[0]},
            field=unknown[0],
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
                ResidentError.INVALID_RELATION,
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
            put(name, strict_bool(data[name], name, _contact_label(name)))
    for name in ("address", "note"):
        if name in data:
            put(name, clean_text(data[name], name, _contact_label(name)))
    clean_fields(contact, ["phone", "phone_index", "resident", "account"], _contact_label)
    return changed


def add_contact(actor: User, resident: Any, **data: Any) -> Contact:
    """Add a family member, guardian or other contact (name and relation required)."""
    require_perm(actor, ResidentPerm.MANAGE)
    for name in ("name", "relation"):
        if data.get(name) in (None, ""):
            raise required(name, _contact_label(name))
    with transaction.atomic():
        target = scoped_resident(actor, resident, lock=True)
        require_not_merged(target)
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
    return Consent.objects.active().filter(guardian=contact)


def update_contact(actor: User, contact: Any, *, resident: Any = None, **changes: Any) -> Contact:
    """Change a contact's fields (only those given). A guardian who gave consents that are
    still active stays a guardian until those are withdrawn."""
    require_perm(actor, ResidentPerm.MANAGE)
    with transaction.atomic():
        found = scoped_contact(actor, contact, resident)
        scoped_resident(actor, found.resident_id, lock=True)
        target = Contact.objects.select_for_update(no_key=True).get(pk=found.pk)
        require_not_merged(target.resident)
        was_guardian = target.is_guardian
        changed = _apply_contact(target, changes)
        if was_guardian and not target.is_guardian and _guardian_consents(target).exists():
            raise ValidationFailed(
                ResidentError.GUARDIAN_HAS_CONSENTS,
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


def remove_contact(actor: User, contact: Any, *, resident: Any = None, note: str = "") -> None:
    """Delete a contact. Refused while the contact holds an active proxy grant (revoke it
    first) or is named as the guardian on any consent (the consent history needs it).
    Revoked grants go with the contact; their (withdrawn) consents stay on record."""
    require_perm(actor, ResidentPerm.MANAGE)
    with transaction.atomic():
        found = scoped_contact(actor, contact, resident)
        scoped_resident(actor, found.resident_id, lock=True)
        target = Contact.objects.select_for_update(no_key=True).get(pk=found.pk)
        if target.grants.filter(active_consent("consent__")).exists():
            raise ValidationFailed(
                ResidentError.CONTACT_HAS_ACTIVE_GRANT,
                _("%(name)s has an active family login for this resident: revoke it first.")
                % {"name": target.name},
            )
        if Consent.objects.filter(guardian=target).exists():
            raise ValidationFailed(
                ResidentError.CONTACT_GAVE_CONSENTS,
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


def _purpose(value: Any) -> str:
    if value in (None, ""):
        raise required("purpose", consent_label("purpose"))
    if value == ConsentPurpose.PROXY_ACCESS:
        raise ValidationFailed(
            ResidentError.PROXY_VIA_GRANT,
            _("Consent to family proxy access is given with the family login (proxy grant)."),
            field="purpose",
        )
    if value not in GIVEN_PURPOSES:
        raise ValidationFailed(
            ResidentError.INVALID_PURPOSE,
            _("Unknown consent purpose %(value)s.") % {"value": value},
            field="purpose",
        )
    return str(value)


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
            ResidentError.INVALID_DATETIME,
            _("%(f)s: %(v)s is not a date and time (use YYYY-MM-DD HH:MM).")
            % {"f": consent_label("given_at"), "v": value},
            field="given_at",
        )
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when > timezone.now() + _CLOCK_SKEW:
        raise ValidationFailed(
            ResidentError.GIVEN_AT_FUTURE,
            _("A consent cannot be given in the future."),
            field="given_at",
        )
    return when


def _already_given(resident: Resident, purpose: str) -> ValidationFailed:
    return ValidationFailed(
        ResidentError.ALREADY_GIVEN,
        _(
            "%(name)s's consent to %(purpose)s is already given and active: withdraw it "
            "first to record a new one."
        )
        % {"name": resident.name, "purpose": ConsentPurpose(purpose).label},
        field="purpose",
    )


def give_consent(
    actor: User,
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
        target = scoped_resident(actor, resident, lock=True)
        require_not_merged(target)
        giver, guardian_contact = consent_giver(target, given_by, guardian)
        when = _given_at(given_at)
        text = clean_text(note, "note", consent_label("note"))
        if Consent.objects.active().filter(resident=target, purpose=purpose).exists():
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
        ProxyGrant.objects.filter(active_consent("consent__"), resident=resident).values_list(
            "pk", flat=True
        )
    )


def withdraw_consent(actor: User, consent: Any, note: str = "", *, resident: Any = None) -> Consent:
    """Withdraw a consent, effective at once: without ``health_data`` the health record
    refuses writes; without ``family_sharing`` every family login of the resident loses
    access; a ``proxy_access`` consent is its grant (withdrawn = revoked). Recorded by a
    ``RESIDENT_MANAGE`` holder or by the resident's own login."""
    require_withdraw_role(actor)
    with transaction.atomic():
        qs = Consent.objects.filter(resident__in=scoped_residents(actor))
        if resident is not None:
            qs = qs.filter(resident_id=pk_of(resident))
        found = one_or_none(qs, pk_of(consent))
        if found is None:
            raise NotFound("consent")
        owner = scoped_resident(actor, found.resident_id, lock=True)
        require_withdraw_right(actor, owner)
        target = Consent.objects.select_for_update(no_key=True).get(pk=found.pk)
        if target.withdrawn_at is not None:
            raise ValidationFailed(
                ResidentError.ALREADY_WITHDRAWN, _("This consent is already withdrawn.")
            )
        text = clean_text(note, "note", consent_label("withdrawal_note"))
        close_consent(actor, target, text)
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


# --- registration with its consents ---------------------------------------------------


class DuplicateUnconfirmed(Exception):
    """Possible duplicates were found and the user has not confirmed (nothing saved)."""

    def __init__(self, candidates: list[Resident]) -> None:
        super().__init__("possible duplicates")
        self.candidates = candidates


def register_with_consents(
    actor: User,
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

    Composes the actions ``services.registry.register_resident``, ``add_contact`` and
    ``give_consent`` (each checks permission and scope and writes its audit row);
    used by this page and by ``POST /api/v1/residents/``."""
    if purposes and given_by == ConsentGiver.GUARDIAN and not guardian:
        raise ValidationFailed(
            CommonError.REQUIRED,
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
