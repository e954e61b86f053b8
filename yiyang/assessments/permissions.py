"""Permissions: assessments (instruments, sessions, eligibility and schedule policy).

Each permission, and the roles that hold it.

Registered with the platform's permission registry (``yiyang.common.permissions``) when
this module is imported; the app's ``AppConfig.ready()`` imports it.
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.permissions import Role, register_permissions


class AssessmentPerm(StrEnum):
    SCORE = "assessments.score"  # score an instrument (stateless, nothing stored)
    RECORD = "assessments.record"  # record, submit, co-sign, correct assessments
    POLICY = "assessments.policy"  # edit eligibility rules and schedule policies


register_permissions(
    AssessmentPerm,
    {
        Role.SUPERVISOR: {AssessmentPerm.SCORE, AssessmentPerm.POLICY},
        Role.INSTITUTION_ADMIN: {AssessmentPerm.SCORE},
        Role.DOCTOR: {AssessmentPerm.SCORE, AssessmentPerm.RECORD},
        Role.NURSE: {AssessmentPerm.SCORE, AssessmentPerm.RECORD},
        Role.CAREGIVER: {AssessmentPerm.SCORE},
        Role.ASSESSOR: {AssessmentPerm.SCORE, AssessmentPerm.RECORD},
    },
)
