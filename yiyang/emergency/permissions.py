"""Permissions: emergency calls.

Each permission, and the roles that hold it.

Registered with the platform's permission registry (``yiyang.common.permissions``) when
this module is imported; the app's ``AppConfig.ready()`` imports it.
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.permissions import Role, register_permissions


class EmergencyPerm(StrEnum):
    CALL = "emergency.call"  # take and log emergency calls, record steps, close


register_permissions(
    EmergencyPerm,
    {
        Role.DOCTOR: {EmergencyPerm.CALL},
        Role.NURSE: {EmergencyPerm.CALL},
        Role.DISPATCHER: {EmergencyPerm.CALL},
    },
)
