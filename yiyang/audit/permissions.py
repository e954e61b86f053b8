"""Permissions: the audit trail.

Each permission, and the roles that hold it.

Registered with the platform's permission registry (``yiyang.common.permissions``) when
this module is imported; the app's ``AppConfig.ready()`` imports it.
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.permissions import Role, register_permissions


class AuditPerm(StrEnum):
    VIEW = "audit.view"  # browse and export the audit trail


register_permissions(
    AuditPerm,
    {
        Role.AUDIT_ADMIN: {AuditPerm.VIEW},
    },
)
