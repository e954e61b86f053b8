"""Fixtures of the ground floor's own tests: registries emptied for one test, so that a
test's registrations neither see the platform's nor leak into other tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from yiyang.common import permissions, registry


@pytest.fixture
def clean_permissions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(permissions, "_PERMISSIONS", {})
    monkeypatch.setattr(permissions, "_GRANTS", {})
    yield


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for table in ("_NAV", "_PAGES", "_API_ROUTERS", "_HOMES"):
        monkeypatch.setattr(registry, table, {})
    yield


class FakeUser:
    """What the ground floor needs of a user: role, activity, the permission check."""

    def __init__(self, role: str, *, active: bool = True, authenticated: bool = True):
        self.role = role
        self.is_active = active
        self.is_authenticated = authenticated
        self.pk = 7

    def has_perm_code(self, perm: str) -> bool:
        return self.is_active and perm in permissions.perms_for(self.role)
