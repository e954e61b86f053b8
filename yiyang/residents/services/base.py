"""The steps the people actions share (``services.people``, ``services.proxies``,
``services.merge``): looking up a resident or a contact in the actor's scope, refusing a
merged record, checking a flag, who may withdraw a consent, who gives one, and closing it.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.common.errors import CommonError, NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role, require_perm
from yiyang.common.validation import field_label
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import Consent, ConsentGiver, Contact, Resident, ResidentStatus
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.people import is_own_login
from yiyang.residents.selectors.registry import scoped_residents


def pk_of(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


def one_or_none(qs: QuerySet[Any], pk: Any) -> Any:
    """The row of ``qs`` with primary key ``pk``, or None (also for a malformed key)."""
    if pk is None or isinstance(pk, bool):
        return None
    try:
        return qs.filter(pk=pk).first()
    except (ValueError, TypeError):
        return None


def scoped_resident(actor: User, resident: Any, *, lock: bool = False) -> Resident:
    qs = scoped_residents(actor)
    if lock:
        qs = qs.select_for_update(no_key=True)
    target = one_or_none(qs, pk_of(resident))
    if target is None:
        raise NotFound("resident")
    return target


def require_not_merged(resident: Resident) -> None:
    if resident.status == ResidentStatus.MERGED:
        raise ValidationFailed(
            ResidentError.RESIDENT_MERGED,
            _("This record was merged into record %(id)s: make the change there.")
            % {"id": resident.merged_into_id},
        )


def strict_bool(value: Any, name: str, label: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(
            CommonError.INVALID, _("%(f)s must be true or false.") % {"f": label}, field=name
        )
    return value


def require_withdraw_role(actor: User) -> None:
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


def require_withdraw_right(actor: User, resident: Resident) -> None:
    if actor.role == Role.RESIDENT and not is_own_login(actor, resident):
        raise PermissionDenied()


def scoped_contact(actor: User, contact: Any, resident: Any = None) -> Contact:
    qs = Contact.objects.filter(resident__in=scoped_residents(actor))
    if resident is not None:
        qs = qs.filter(resident_id=pk_of(resident))
    target = one_or_none(qs, pk_of(contact))
    if target is None:
        raise NotFound("contact")
    return target


def consent_label(name: str) -> str:
    return field_label((Consent,), name)


def consent_giver(resident: Resident, given_by: Any, guardian: Any) -> tuple[str, Contact | None]:
    """Who gives the consent: the resident herself, or a contact recorded as her legal
    guardian."""
    given_by = given_by or ConsentGiver.SELF
    if given_by not in ConsentGiver.values:
        raise ValidationFailed(
            CommonError.INVALID,
            _("%(f)s: unknown value %(v)s.") % {"f": consent_label("given_by"), "v": given_by},
            field="given_by",
        )
    if given_by == ConsentGiver.SELF:
        if guardian not in (None, ""):
            raise ValidationFailed(
                ResidentError.GUARDIAN_NOT_ALLOWED,
                _("A guardian is named only when the guardian gives the consent."),
                field="guardian",
            )
        return str(given_by), None
    if guardian in (None, ""):
        raise ValidationFailed(
            ResidentError.GUARDIAN_REQUIRED,
            _("Name the guardian who gives the consent."),
            field="guardian",
        )
    contact = one_or_none(Contact.objects.filter(resident=resident), pk_of(guardian))
    if contact is None:
        raise ValidationFailed(
            CommonError.UNKNOWN_REFERENCE,
            _("Guardian: %(name)s has no contact with id %(id)s.")
            % {"name": resident.name, "id": pk_of(guardian)},
            field="guardian",
        )
    if not contact.is_guardian:
        raise ValidationFailed(
            ResidentError.NOT_GUARDIAN,
            _(
                "%(contact)s is not recorded as the legal guardian of %(name)s: mark the "
                "contact as guardian first."
            )
            % {"contact": contact.name, "name": resident.name},
            field="guardian",
        )
    return str(given_by), contact


def close_consent(actor: User, consent: Consent, note: str) -> None:
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = actor
    consent.withdrawal_note = note
    consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_note"])
