"""Who may see and change which part of a resident's record (beyond the registry scope
applied by ``selectors``).

* Staff: ``ResidentPerm.HEALTH_VIEW`` to read the health record,
  ``ResidentPerm.HEALTH_MANAGE`` to edit it, ``ResidentPerm.OBSERVATION_RECORD`` to record
  a measurement.
* The resident's own login sees her whole record.
* A family login sees what its active proxy grant allows (``can_view_readings`` → the
  health record; ``can_view_alerts`` → her device alerts, read-only:
  ``followed_for_alerts``) while the resident's consent to sharing with family is
  active.
* Writing to the health record needs the resident's active consent to health-data
  processing (PIPL art. 28–29: health data are sensitive personal information).

Callers pass a resident already fetched through ``selectors.registry.get_resident_for``
(so it is in the user's scope).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.common.errors import PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import Consent, ConsentPurpose, ProxyGrant, Resident, active_consent
from yiyang.residents.permissions import ResidentPerm


def has_consent(resident: Resident | int, purpose: str) -> bool:
    """Whether the resident's consent for ``purpose`` is on record and not withdrawn."""
    pk = resident.pk if isinstance(resident, Resident) else resident
    return Consent.objects.active().filter(resident_id=pk, purpose=purpose).exists()


def consenting_to(purpose: str, resident_ref: str = "resident_id") -> Exists:
    """An expression for "the resident named by ``resident_ref`` (a field of the outer
    query) has consented to ``purpose`` and not withdrawn" — to annotate or filter another
    app's rows (a device's, for ingestion) in the same query."""
    return Exists(
        Consent.objects.active().filter(resident_id=OuterRef(resident_ref), purpose=purpose)
    )


def proxied_resident_ids(user_id: int, right: str | None = None) -> QuerySet[Any]:
    """Ids of the residents ``user_id`` holds an active proxy grant for (with ``right``,
    e.g. ``"can_view_alerts"``, set when given), while the resident's consent to sharing
    with family is active."""
    grants = ProxyGrant.objects.filter(
        active_consent("consent__"),
        active_consent("resident__consents__"),
        user_id=user_id,
        resident__consents__purpose=ConsentPurpose.FAMILY_SHARING,
    )
    if right:
        grants = grants.filter(**{right: True})
    return grants.values("resident_id")


def proxy_right(user: User, resident: Resident, right: str) -> bool:
    """Whether a family login holds ``right`` (a ``ProxyGrant`` flag) for ``resident`` now."""
    if getattr(user, "role", None) != Role.FAMILY:
        return False
    return proxied_resident_ids(user.pk, right).filter(resident_id=resident.pk).exists()


def can_view_health(user: User, resident: Resident) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.RESIDENT:
        return resident.account_id == user.pk
    if user.role == Role.FAMILY:
        return proxy_right(user, resident, "can_view_readings")
    return bool(user.has_perm_code(ResidentPerm.HEALTH_VIEW))


def followed_for_alerts(user: User) -> Any:
    """For a family login: the ids of the residents whose alerts it may follow (an active
    grant with ``can_view_alerts``, the consent to family sharing active), as a queryset
    of ``resident_id``; ``None`` for any other user (staff: ``devices.view`` and the
    registry scope decide)."""
    if getattr(user, "role", None) != Role.FAMILY:
        return None
    return proxied_resident_ids(user.pk, "can_view_alerts")


def require_health_view(user: User, resident: Resident) -> None:
    if not can_view_health(user, resident):
        raise PermissionDenied()


def require_health_consent(resident: Resident) -> None:
    """A write to the health record needs active consent to health-data processing."""
    if not has_consent(resident, ConsentPurpose.HEALTH_DATA):
        raise ValidationFailed(
            ResidentError.NO_CONSENT,
            _(
                "%(name)s has not consented to the processing of health data (or has "
                "withdrawn it): record the consent first."
            )
            % {"name": resident.name},
            field="consent",
        )
