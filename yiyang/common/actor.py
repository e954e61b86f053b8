"""The acting user of a request, typed (ground floor; ADR 0024).

Pages get the logged-in user (``request.user``), the API the caller its authentication
found (``request.auth``: a bearer token's user or the session's, ``accounts.api_auth``).
``actor(request)`` is that user as the platform's ``User``, for every service call::

    def resident_list(request):
        residents = residents_for(actor(request))

The user model lives in the accounts app, above this floor; it is named here for type
checkers only (a ``TYPE_CHECKING`` import: no run-time import of accounts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.http import HttpRequest

from yiyang.common.errors import PermissionDenied

if TYPE_CHECKING:
    from yiyang.accounts.models import User


def actor(request: HttpRequest) -> User:
    """The user acting in ``request``: the API's authenticated caller, else the page's
    logged-in user. ``PermissionDenied`` when there is none (the API's and the pages'
    login checks run first, so this is a programming error made safe)."""
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied()
    return cast("User", user)
