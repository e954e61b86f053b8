"""The permission matrix's building blocks, shared by ``tests/test_permission_matrix.py``
and the rule modules in ``tests/matrix_rules/`` (one per app area).

A rule module exports ``RULES: list[Rule]`` and may export ``build(world)`` to add the
objects its rules need (in scope: county A; out of scope: county B) to ``world.extra``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms as django_forms

from yiyang.accounts.models import User
from yiyang.common.permissions import Permission, role_permissions
from yiyang.testing.network import Network

ANONYMOUS = "anonymous"
PASSWORD = "Yiyang#2026"


def holders(*perms: Permission) -> frozenset[str]:
    """The roles that hold any of ``perms`` (each app's permissions.py declares them)."""
    return frozenset(role for role, held in role_permissions().items() if held & set(perms))


@dataclass
class World:
    net: Network
    users: dict[str, User]
    account_in: User  # an account inside county A (a nurse scoped to A's township hospital)
    account_out: User  # the same in county B
    # Residents: ``resident_in`` lives in county A (its own login is users["resident"],
    # users["family"] holds a view-only proxy grant), ``resident_out`` in county B. Both
    # have consent to health data processing and family sharing on record.
    resident_in: Any = None
    resident_out: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def a(self) -> Any:
        return self.net.a

    @property
    def b(self) -> Any:
        return self.net.b


Kwargs = Callable[[World], dict[str, Any]]
Payload = Callable[[World, User], Any]


def no_kwargs(w: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Rule:
    name: str  # "namespace:url_name"
    method: str
    roles: frozenset[str]  # who may use it
    kwargs: Kwargs = no_kwargs  # URL kwargs for an object in scope ("?name": a query param)
    out: Kwargs | None = None  # URL kwargs for an object out of scope (→ 404)
    data: Payload | None = None  # request body
    out_data: Payload | None = None  # a body that reaches out of scope
    # What reaching out of scope answers: 404 like a missing object; a page form whose
    # choices are scoped redisplays with "select a valid choice" (200); a service that
    # names the reference in a validation error answers 400 — never a change.
    out_status: int = 404
    ok: int | Callable[[str], int] = 200
    state: Callable[[World], Any] | None = None  # what a refused write must not change
    body: str = "json"  # json | form (multipart)
    prepare: Callable[[World, User], None] | None = None
    changes: bool = True  # an accepted write changes ``state``

    @property
    def api(self) -> bool:
        return self.name.startswith("api:")

    def expected(self, role: str) -> int:
        return self.ok(role) if callable(self.ok) else self.ok

    def __str__(self) -> str:
        return f"{self.method} {self.name}"


def pk(get: Callable[[World], Any], key: str = "pk") -> Kwargs:
    return lambda w: {key: get(w).pk}


def rows(model: Any, *fields: str) -> Callable[[World], Any]:
    return lambda w: list(model.objects.order_by("pk").values_list("pk", *fields))


def form_values(form: django_forms.BaseForm, **overrides: Any) -> dict[str, Any]:
    """What a browser posts back for an unchanged form, with ``overrides``."""
    data: dict[str, Any] = {}
    for name, fld in form.fields.items():
        if isinstance(fld, django_forms.FileField):
            continue
        value = form[name].value()
        if isinstance(fld, django_forms.BooleanField):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        elif isinstance(value, list | tuple):
            data[name] = [str(getattr(v, "pk", v)) for v in value]
        elif isinstance(value, datetime.date):
            data[name] = value.isoformat()
        else:
            data[name] = str(value)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
