"""Reads of the people around a resident: ``contacts_for``, ``consents_for``,
``grants_for`` — staff holding ``ResidentPerm.VIEW`` and the resident's own login; a family
login sees none of them. ``active_consents`` and ``grant_state`` are for the headers and
lists that show them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from yiyang.accounts.models import User
from yiyang.common.errors import NotFound, PermissionDenied
from yiyang.common.permissions import PUBLIC_ROLES, Role, require_perm
from yiyang.residents.models import Consent, ConsentPurpose, Contact, ProxyGrant, Resident
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.registry import get_resident_for, scoped_residents


def _is_active_login(actor: User) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and actor.is_active)


def is_own_login(actor: User, resident: Resident) -> bool:
    """Whether ``actor`` is the resident's own login (active)."""
    return (
        _is_active_login(actor) and actor.role == Role.RESIDENT and resident.account_id == actor.pk
    )


def can_see_people(user: User, resident: Resident) -> bool:
    """Contacts, consents and grants: staff with ``RESIDENT_VIEW`` and the resident's own
    login (a family login acts for the resident but does not see her other contacts)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role in PUBLIC_ROLES:
        return is_own_login(user, resident)
    return bool(user.has_perm_code(ResidentPerm.VIEW))


def _visible(user: User, resident: Any) -> Resident:
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


def contacts_for(user: User, resident: Any) -> QuerySet[Contact]:
    target = _visible(user, resident)
    return Contact.objects.filter(resident=target).select_related("account")


def consents_for(user: User, resident: Any) -> QuerySet[Consent]:
    """Every consent of the resident, withdrawn ones included (the history)."""
    target = _visible(user, resident)
    return (
        Consent.objects.filter(resident=target)
        .select_related("guardian", "recorded_by", "withdrawn_by", "grant__contact")
        .order_by("purpose", "-given_at", "-pk")
    )


def grants_for(user: User, resident: Any) -> QuerySet[ProxyGrant]:
    """Every proxy grant of the resident, revoked ones included."""
    target = _visible(user, resident)
    return ProxyGrant.objects.filter(resident=target).select_related("contact", "user", "consent")


def active_consents(resident: Resident) -> dict[str, Consent]:
    """The resident's active consent per purpose (proxy grants left out) — for headers."""
    rows = (
        Consent.objects.active()
        .filter(resident=resident)
        .exclude(purpose=ConsentPurpose.PROXY_ACCESS)
    )
    return {c.purpose: c for c in rows}


def grant_state(grant: ProxyGrant, family_sharing: bool) -> str:
    """``active``, ``suspended`` (the family-sharing consent is withdrawn) or ``revoked``."""
    if grant.consent.withdrawn_at is not None:
        return "revoked"
    return "active" if family_sharing else "suspended"
