from __future__ import annotations

from enum import StrEnum

from yiyang.common.permissions import Role, register_permissions


class ExamplePerm(StrEnum):
    VIEW = "plugin_example.view"


register_permissions(ExamplePerm, {Role.DOCTOR: {ExamplePerm.VIEW}})
