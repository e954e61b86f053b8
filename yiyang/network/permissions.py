"""Permissions: the care network (regions, institutions, nodes, agreements, teams, staff).

Each permission, and the roles that hold it.

Registered with the platform's permission registry (``yiyang.common.permissions``) when
this module is imported; the app's ``AppConfig.ready()`` imports it.
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.permissions import Role, register_permissions


class NetworkPerm(StrEnum):
    VIEW = "network.view"  # see the network: regions, institutions, nodes, teams
    MANAGE = "network.manage"  # create/edit institutions, nodes, agreements, teams
    REGION_IMPORT = "network.region_import"  # import the region code table
    STAFF_VIEW = "network.staff_view"  # see staff (person) records
    STAFF_MANAGE = "network.staff_manage"


register_permissions(
    NetworkPerm,
    {
        Role.SYSTEM_ADMIN: {
            NetworkPerm.VIEW,
            NetworkPerm.MANAGE,
            NetworkPerm.REGION_IMPORT,
            NetworkPerm.STAFF_VIEW,
            NetworkPerm.STAFF_MANAGE,
        },
        Role.SUPERVISOR: {NetworkPerm.VIEW, NetworkPerm.STAFF_VIEW},
        Role.INSTITUTION_ADMIN: {
            NetworkPerm.VIEW,
            NetworkPerm.MANAGE,
            NetworkPerm.STAFF_VIEW,
            NetworkPerm.STAFF_MANAGE,
        },
        Role.DOCTOR: {NetworkPerm.VIEW, NetworkPerm.STAFF_VIEW},
        Role.NURSE: {NetworkPerm.VIEW, NetworkPerm.STAFF_VIEW},
        Role.CAREGIVER: {NetworkPerm.VIEW},
        Role.DISPATCHER: {NetworkPerm.VIEW, NetworkPerm.STAFF_VIEW},
        Role.ASSESSOR: {NetworkPerm.VIEW},
    },
)
