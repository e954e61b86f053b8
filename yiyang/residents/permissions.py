"""Permissions: the resident registry and the health record.

Each permission, and the roles that hold it.

Registered with the platform's permission registry (``yiyang.common.permissions``) when
this module is imported; the app's ``AppConfig.ready()`` imports it.
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.permissions import Role, register_permissions


class ResidentPerm(StrEnum):
    VIEW = "residents.view"  # see resident records (masked identifiers)
    MANAGE = "residents.manage"  # register and edit residents
    REVEAL = "residents.reveal"  # see a resident's full ID number (audited)
    MERGE = "residents.merge"  # merge two records of one person (audited)
    IMPORT = "residents.import"  # import residents from Excel/CSV
    EXPORT = "residents.export"  # export a resident list to Excel
    HEALTH_VIEW = "residents.health_view"  # see the health record
    HEALTH_MANAGE = "residents.health_manage"  # edit conditions, medications, encounters …
    OBSERVATION_RECORD = "residents.observation_record"  # record a measurement (BP, glucose)


register_permissions(
    ResidentPerm,
    {
        Role.SUPERVISOR: {ResidentPerm.VIEW, ResidentPerm.EXPORT},
        Role.INSTITUTION_ADMIN: {
            ResidentPerm.VIEW,
            ResidentPerm.MANAGE,
            ResidentPerm.REVEAL,
            ResidentPerm.MERGE,
            ResidentPerm.IMPORT,
            ResidentPerm.EXPORT,
        },
        Role.DOCTOR: {
            ResidentPerm.VIEW,
            ResidentPerm.MANAGE,
            ResidentPerm.REVEAL,
            ResidentPerm.IMPORT,
            ResidentPerm.EXPORT,
            ResidentPerm.HEALTH_VIEW,
            ResidentPerm.HEALTH_MANAGE,
            ResidentPerm.OBSERVATION_RECORD,
        },
        Role.NURSE: {
            ResidentPerm.VIEW,
            ResidentPerm.MANAGE,
            ResidentPerm.REVEAL,
            ResidentPerm.IMPORT,
            ResidentPerm.EXPORT,
            ResidentPerm.HEALTH_VIEW,
            ResidentPerm.HEALTH_MANAGE,
            ResidentPerm.OBSERVATION_RECORD,
        },
        Role.CAREGIVER: {
            ResidentPerm.VIEW,
            ResidentPerm.HEALTH_VIEW,
            ResidentPerm.OBSERVATION_RECORD,
        },
        Role.DISPATCHER: {ResidentPerm.VIEW, ResidentPerm.HEALTH_VIEW},
        Role.ASSESSOR: {ResidentPerm.VIEW, ResidentPerm.MANAGE, ResidentPerm.HEALTH_VIEW},
    },
)
