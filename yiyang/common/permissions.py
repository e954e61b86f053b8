"""Roles, the permission registry and ``require_perm`` (ground floor: no app imported).

Each app declares its own permissions and which roles hold them, in its
``permissions.py``, and registers them here; tests check them as a matrix.

The three-way split of administrators (三员分立, GB/T 22239 level 3):

* **System administrator** (``accounts.manage``): runs the platform and its accounts —
  creates users, assigns roles and data scopes, deactivates and reactivates accounts, and
  maintains the care network. Cannot unlock accounts, reset a second factor or read the
  audit trail.
* **Security administrator** (``accounts.security``): runs security — lists locked
  accounts and unlocks them, resets a user's TOTP second factor (which also revokes that
  user's API tokens). Cannot create users, assign roles or scopes, or read the audit trail.
* **Audit administrator** (``audit.view``): reads and exports the audit trail, nothing else.

No administrator can change their own role, scope, activity or second factor through the
management actions, so none of them alone can both act and hide it. Every action of each
of them writes an audit row that only the audit administrator reads.

Scopes by role: staff roles need a region, institution or team scope; residents and family
members get "self"; administrators get the whole deployment ("all") or a region.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiyang.common.actor import Actor
from yiyang.common.errors import PermissionDenied


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    INSTITUTION_ADMIN = "institution_admin", _("Institution administrator")
    DOCTOR = "doctor", _("Doctor")
    NURSE = "nurse", _("Nurse")
    CAREGIVER = "caregiver", _("Caregiver")
    DISPATCHER = "dispatcher", _("Dispatcher")
    ASSESSOR = "assessor", _("Assessor")
    RESIDENT = "resident", _("Resident")
    FAMILY = "family", _("Family member")


# The three-way split (三员分立): the system admin runs the platform and its users, the
# security admin runs security, the audit admin reads the trail — none of them alone can
# both act and hide it.
STAFF_ROLES = {
    Role.SUPERVISOR,
    Role.INSTITUTION_ADMIN,
    Role.DOCTOR,
    Role.NURSE,
    Role.CAREGIVER,
    Role.DISPATCHER,
    Role.ASSESSOR,
}
ADMIN_ROLES = {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}
PUBLIC_ROLES = {Role.RESIDENT, Role.FAMILY}

# --- the permission registry ------------------------------------------------------------
# Each app declares its permissions as a StrEnum in its own ``permissions.py`` (codes
# "<app>.<action>") together with the roles that hold each one, and registers both here
# when that module is imported (its AppConfig.ready() imports it). The platform knows no
# app's permission by name.

# The type of any app's permission (each app's enum is a StrEnum of codes).
Permission = StrEnum

_PERMISSIONS: dict[str, StrEnum] = {}
_GRANTS: dict[str, set[str]] = {}


def register_permissions(
    perms: type[StrEnum], grants: Mapping[str, Iterable[StrEnum]]
) -> type[StrEnum]:
    """Register an app's permission enum and the roles that hold each permission.

    ``grants`` maps a role to the permissions of ``perms`` it holds. A code registered
    twice by different enums, a grant to an unknown role, or a grant of another app's
    permission is a configuration error (found at start-up, not at the first request).
    Registering the same enum again (a module reloaded in tests) changes nothing.
    """
    for perm in perms:
        known = _PERMISSIONS.get(perm.value)
        if known is not None and type(known).__qualname__ != perms.__qualname__:
            raise ImproperlyConfigured(
                f"permission {perm.value!r} is declared by {type(known).__qualname__} "
                f"and {perms.__qualname__}"
            )
        _PERMISSIONS[perm.value] = perm
    for role, held in grants.items():
        if role not in Role.values:
            raise ImproperlyConfigured(f"{perms.__qualname__} grants to unknown role {role!r}")
        for perm in held:
            if perm.value not in {member.value for member in perms}:
                raise ImproperlyConfigured(
                    f"{perms.__qualname__} grants {perm.value!r}, which it does not declare"
                )
            _GRANTS.setdefault(str(role), set()).add(perm.value)
    return perms


def registered_permissions() -> list[StrEnum]:
    """Every registered permission, ordered by code."""
    return [_PERMISSIONS[code] for code in sorted(_PERMISSIONS)]


def role_permissions() -> dict[str, frozenset[str]]:
    """Each role and the permission codes it holds (every role, also those holding none)."""
    return {str(role): perms_for(role) for role in Role.values}


# Roles whose users must enrol a TOTP second factor before using the platform (default:
# every administrative role). Overridable with YIYANG_MFA_REQUIRED_ROLES (comma list of
# role codes; empty = no role), read into settings.MFA_REQUIRED_ROLES.
DEFAULT_MFA_REQUIRED = {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}


def perms_for(role: str) -> frozenset[str]:
    """The permission codes ``role`` holds (StrEnum members compare equal to their code)."""
    return frozenset(_GRANTS.get(str(role), ()))


def require_perm(user: Actor, perm: str) -> None:
    """Raise ``PermissionDenied`` unless ``user`` is active and its role holds ``perm``."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied()
    if not user.has_perm_code(perm):
        raise PermissionDenied()


def mfa_required_roles() -> frozenset[str]:
    """The roles that must use TOTP: ``settings.MFA_REQUIRED_ROLES`` when set (a comma list
    or an iterable of role codes), else ``DEFAULT_MFA_REQUIRED``."""
    from django.conf import settings

    configured = getattr(settings, "MFA_REQUIRED_ROLES", None)
    if configured is None:
        return frozenset(str(r) for r in DEFAULT_MFA_REQUIRED)
    if isinstance(configured, str):
        configured = configured.split(",")
    roles = frozenset(str(r).strip() for r in configured if str(r).strip())
    unknown = roles - set(Role.values)
    if unknown:
        raise ImproperlyConfigured(
            f"YIYANG_MFA_REQUIRED_ROLES names unknown roles: {', '.join(sorted(unknown))}"
        )
    return roles


def mfa_required(role: str) -> bool:
    return role in mfa_required_roles()
