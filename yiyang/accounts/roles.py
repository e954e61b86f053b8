"""Roles and the permissions each one holds (declared once; tested as a matrix).

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

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


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


class Perm(StrEnum):
    """Every permission of the platform. Apps add theirs here as they grow."""

    NETWORK_VIEW = "network.view"  # see the network: regions, institutions, nodes, teams
    NETWORK_MANAGE = "network.manage"  # create/edit institutions, nodes, agreements, teams
    REGION_IMPORT = "network.region_import"  # import the region code table
    STAFF_VIEW = "network.staff_view"  # see staff (person) records
    STAFF_MANAGE = "network.staff_manage"
    ACCOUNTS_MANAGE = "accounts.manage"  # create users, assign roles and scopes
    SECURITY_MANAGE = "accounts.security"  # unlock accounts, reset MFA, security policy
    AUDIT_VIEW = "audit.view"  # browse and export the audit trail
    RESIDENT_VIEW = "residents.view"  # see resident records (masked identifiers)
    RESIDENT_MANAGE = "residents.manage"  # register and edit residents
    RESIDENT_REVEAL = "residents.reveal"  # see a resident's full ID number (audited)
    RESIDENT_MERGE = "residents.merge"  # merge two records of one person (audited)
    RESIDENT_IMPORT = "residents.import"  # import residents from Excel/CSV
    RESIDENT_EXPORT = "residents.export"  # export a resident list to Excel
    HEALTH_VIEW = "residents.health_view"  # see the health record
    HEALTH_MANAGE = "residents.health_manage"  # edit conditions, medications, encounters …
    OBSERVATION_RECORD = "residents.observation_record"  # record a measurement (BP, glucose)
    ASSESSMENT_SCORE = "assessments.score"  # score an instrument (stateless, nothing stored)
    ASSESSMENT_RECORD = "assessments.record"  # record, submit, co-sign, correct assessments
    ASSESSMENT_POLICY = "assessments.policy"  # edit eligibility rules and schedule policies
    DEVICE_VIEW = "devices.view"  # see home devices, their bindings and latest readings
    DEVICE_MANAGE = "devices.manage"  # register, edit, bind/unbind, rotate secret, retire
    DEVICE_QUARANTINE = "devices.quarantine"  # see the device messages that were refused
    ALERT_HANDLE = "devices.alert_handle"  # acknowledge, handle and close alerts
    ALERT_POLICY = "devices.alert_policy"  # edit the alert rules and the escalation schedule
    EMERGENCY_CALL = "emergency.call"  # take and log emergency calls, record steps, close


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

_RES_VIEW = {Perm.RESIDENT_VIEW}
_RES_MANAGE = {Perm.RESIDENT_VIEW, Perm.RESIDENT_MANAGE}
_RES_ALL = {Perm.RESIDENT_VIEW, Perm.RESIDENT_MANAGE, Perm.RESIDENT_REVEAL}
_CLINICAL = {
    Perm.ASSESSMENT_SCORE,
    Perm.ASSESSMENT_RECORD,
    Perm.HEALTH_VIEW,
    Perm.HEALTH_MANAGE,
    Perm.OBSERVATION_RECORD,
    Perm.RESIDENT_IMPORT,
    Perm.RESIDENT_EXPORT,
}

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.SYSTEM_ADMIN: frozenset(
        {
            Perm.NETWORK_VIEW,
            Perm.NETWORK_MANAGE,
            Perm.REGION_IMPORT,
            Perm.STAFF_VIEW,
            Perm.STAFF_MANAGE,
            Perm.ACCOUNTS_MANAGE,
        }
    ),
    Role.SECURITY_ADMIN: frozenset({Perm.SECURITY_MANAGE}),
    Role.AUDIT_ADMIN: frozenset({Perm.AUDIT_VIEW}),
    Role.SUPERVISOR: frozenset(
        {
            Perm.NETWORK_VIEW,
            Perm.STAFF_VIEW,
            *_RES_VIEW,
            Perm.RESIDENT_EXPORT,
            Perm.ASSESSMENT_SCORE,
            Perm.ASSESSMENT_POLICY,
            Perm.DEVICE_VIEW,
            Perm.DEVICE_QUARANTINE,
            Perm.ALERT_POLICY,
        }
    ),
    Role.INSTITUTION_ADMIN: frozenset(
        {
            Perm.NETWORK_VIEW,
            Perm.NETWORK_MANAGE,
            Perm.STAFF_VIEW,
            Perm.STAFF_MANAGE,
            *_RES_ALL,
            Perm.RESIDENT_MERGE,
            Perm.RESIDENT_IMPORT,
            Perm.RESIDENT_EXPORT,
            Perm.ASSESSMENT_SCORE,
            Perm.DEVICE_VIEW,
            Perm.DEVICE_MANAGE,
            Perm.DEVICE_QUARANTINE,
        }
    ),
    Role.DOCTOR: frozenset(
        {
            Perm.NETWORK_VIEW,
            Perm.STAFF_VIEW,
            *_RES_ALL,
            *_CLINICAL,
            Perm.DEVICE_VIEW,
            Perm.ALERT_HANDLE,
            Perm.EMERGENCY_CALL,
        }
    ),
    Role.NURSE: frozenset(
        {
            Perm.NETWORK_VIEW,
            Perm.STAFF_VIEW,
            *_RES_ALL,
            *_CLINICAL,
            Perm.DEVICE_VIEW,
            Perm.ALERT_HANDLE,
            Perm.EMERGENCY_CALL,
        }
    ),
    Role.CAREGIVER: frozenset(
        {
            Perm.NETWORK_VIEW,
            *_RES_VIEW,
            Perm.HEALTH_VIEW,
            Perm.OBSERVATION_RECORD,
            Perm.ASSESSMENT_SCORE,
            Perm.DEVICE_VIEW,
            Perm.ALERT_HANDLE,
        }
    ),
    Role.DISPATCHER: frozenset(
        {
            Perm.NETWORK_VIEW,
            Perm.STAFF_VIEW,
            *_RES_VIEW,
            Perm.HEALTH_VIEW,
            Perm.DEVICE_VIEW,
            Perm.ALERT_HANDLE,
            Perm.EMERGENCY_CALL,
        }
    ),
    Role.ASSESSOR: frozenset(
        {
            Perm.NETWORK_VIEW,
            *_RES_MANAGE,
            Perm.HEALTH_VIEW,
            Perm.ASSESSMENT_SCORE,
            Perm.ASSESSMENT_RECORD,
        }
    ),
    Role.RESIDENT: frozenset(),
    Role.FAMILY: frozenset(),
}

# Roles whose users must enrol a TOTP second factor before using the platform (default:
# every administrative role). Overridable with YIYANG_MFA_REQUIRED_ROLES (comma list of
# role codes; empty = no role), read into settings.MFA_REQUIRED_ROLES.
DEFAULT_MFA_REQUIRED = {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}


def perms_for(role: str) -> frozenset[Perm]:
    return ROLE_PERMS.get(role, frozenset())


def mfa_required_roles() -> frozenset[str]:
    """The roles that must use TOTP: ``settings.MFA_REQUIRED_ROLES`` when set (a comma list
    or an iterable of role codes), else ``DEFAULT_MFA_REQUIRED``."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

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
