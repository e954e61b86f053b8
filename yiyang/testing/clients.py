"""Test clients logged in as a user (every app's page and API tests use them)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.test import Client

from yiyang.accounts.models import User


def client_for(user: User, language: str | None = "en", **client_kwargs: Any) -> Client:
    """A test client with ``user``'s page session, speaking ``language`` (English by default:
    the UI's own default is Simplified Chinese; ``None`` leaves the default)."""
    client = Client(**client_kwargs)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client
