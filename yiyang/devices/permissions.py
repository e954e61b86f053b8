"""Permissions: home devices, their readings, alerts and escalation.

Each permission, and the roles that hold it.

Registered with the platform's permission registry (``yiyang.common.permissions``) when
this module is imported; the app's ``AppConfig.ready()`` imports it.
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.permissions import Role, register_permissions


class DevicePerm(StrEnum):
    VIEW = "devices.view"  # see home devices, their bindings and latest readings
    MANAGE = "devices.manage"  # register, edit, bind/unbind, rotate secret, retire
    QUARANTINE = "devices.quarantine"  # see the device messages that were refused
    ALERT_HANDLE = "devices.alert_handle"  # acknowledge, handle and close alerts
    ALERT_POLICY = "devices.alert_policy"  # edit the alert rules and the escalation schedule


register_permissions(
    DevicePerm,
    {
        Role.SUPERVISOR: {DevicePerm.VIEW, DevicePerm.QUARANTINE, DevicePerm.ALERT_POLICY},
        Role.INSTITUTION_ADMIN: {DevicePerm.VIEW, DevicePerm.MANAGE, DevicePerm.QUARANTINE},
        Role.DOCTOR: {DevicePerm.VIEW, DevicePerm.ALERT_HANDLE},
        Role.NURSE: {DevicePerm.VIEW, DevicePerm.ALERT_HANDLE},
        Role.CAREGIVER: {DevicePerm.VIEW, DevicePerm.ALERT_HANDLE},
        Role.DISPATCHER: {DevicePerm.VIEW, DevicePerm.ALERT_HANDLE},
    },
)
