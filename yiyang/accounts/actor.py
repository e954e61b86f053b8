"""The acting user typed as the user model, for the apps above accounts (ADR 0024): the
ground floor's ``actor(request)`` and ``PageRequest`` know the user only as an ``Actor``."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest

from yiyang.accounts.models import User
from yiyang.common import actor as ground
from yiyang.common import pages


class PageRequest(pages.PageRequest):
    """The request a ``page`` view receives: a logged-in ``User``, and htmx details."""

    user: User  # type: ignore[assignment]


def actor(request: HttpRequest) -> User:
    """``common.actor.actor`` as the platform's ``User``."""
    return cast(User, ground.actor(request))
