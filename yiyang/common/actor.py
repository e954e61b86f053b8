"""The acting user of a request (ground floor; ADR 0024).

Pages get the logged-in user (``request.user``), the API the caller its authentication
found (``request.auth``: a bearer token's user or the session's, ``accounts.api_auth``).
``actor(request)`` is that user. The user model lives in the accounts app, above this
floor, so here the user is typed by what the floor needs of it, ``Actor``;
``accounts.actor`` gives the same user typed as the model, for the apps above accounts.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.http import HttpRequest

from yiyang.common.errors import PermissionDenied


class Actor(Protocol):
    """What the ground floor and the audit trail need of a user (``accounts.User`` is
    one)."""

    pk: Any
    role: str
    is_active: bool
    scope_kind: str

    @property
    def is_authenticated(self) -> bool: ...

    def get_username(self) -> str: ...

    def has_perm_code(self, perm: str) -> bool: ...


def actor(request: HttpRequest) -> Actor:
    """The user acting in ``request``: the API's authenticated caller, else the page's
    logged-in user. ``PermissionDenied`` when there is none (the API's and the pages'
    login checks run first, so this is a programming error made safe)."""
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied()
    return user  # type: ignore[no-any-return]
