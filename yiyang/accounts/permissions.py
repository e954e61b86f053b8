"""Permissions: account management (users, roles, scopes; security administration).

Each permission, and the roles that hold it.

Registered with the platform's permission registry (``yiyang.common.permissions``) when
this module is imported; the app's ``AppConfig.ready()`` imports it.
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.permissions import Role, register_permissions


class AccountPerm(StrEnum):
    MANAGE = "accounts.manage"  # create users, assign roles and scopes
    SECURITY = "accounts.security"  # unlock accounts, reset MFA, security policy


register_permissions(
    AccountPerm,
    {
        Role.SYSTEM_ADMIN: {AccountPerm.MANAGE},
        Role.SECURITY_ADMIN: {AccountPerm.SECURITY},
    },
)
