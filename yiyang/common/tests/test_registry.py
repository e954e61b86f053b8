"""The registries apps plug into: navigation, page routes, API routers, home pages."""

from __future__ import annotations

from enum import StrEnum

import pytest
from django.core.exceptions import ImproperlyConfigured

from yiyang.common import registry
from yiyang.common.permissions import Role, register_permissions
from yiyang.common.tests.conftest import FakeUser

pytestmark = pytest.mark.usefixtures("clean_registry", "clean_permissions")


class ParcelPerm(StrEnum):
    VIEW = "parcels.view"


def test_navigation_is_ordered_and_shown_by_permission_or_predicate():
    register_permissions(ParcelPerm, {Role.DOCTOR: {ParcelPerm.VIEW}})
    registry.register_nav("Later", "parcels:late", ParcelPerm.VIEW, order=500)
    registry.register_nav("Earlier", "parcels:early", ParcelPerm.VIEW, order=100)
    registry.register_nav("Nurses", "parcels:nurse", lambda u: u.role == Role.NURSE, order=300)
    assert [e.label for e in registry.nav_entries()] == ["Earlier", "Nurses", "Later"]
    doctor, nurse = FakeUser(Role.DOCTOR), FakeUser(Role.NURSE)
    assert [e.label for e in registry.nav_entries() if e.shown_to(doctor)] == ["Earlier", "Later"]
    assert [e.label for e in registry.nav_entries() if e.shown_to(nurse)] == ["Nurses"]


def test_the_same_page_and_order_replaces_the_entry():
    registry.register_nav("Old", "parcels:list", ParcelPerm.VIEW, order=100)
    registry.register_nav("New", "parcels:list", ParcelPerm.VIEW, order=100)
    assert [e.label for e in registry.nav_entries()] == ["New"]


def test_routes_keep_registration_order_and_refuse_a_taken_prefix():
    registry.register_pages("parcels/", "parcels.urls")
    registry.register_pages("", "web.urls")
    registry.register_pages("parcels/", "parcels.urls")  # again: no change
    assert registry.page_routes() == [("parcels/", "parcels.urls"), ("", "web.urls")]
    with pytest.raises(ImproperlyConfigured, match="'parcels/' is taken by parcels.urls"):
        registry.register_pages("parcels/", "letters.urls")
    registry.register_api_router("/parcels", "parcels.api.router")
    with pytest.raises(ImproperlyConfigured, match="API prefix '/parcels'"):
        registry.register_api_router("/parcels", "letters.api.router")
    assert registry.api_routers() == [("/parcels", "parcels.api.router")]


def test_a_role_may_get_its_own_home():
    registry.register_home(Role.RESIDENT, "parcels.pages.home")
    assert registry.home_for(Role.RESIDENT) == "parcels.pages.home"
    assert registry.home_for(Role.DOCTOR) is None
    with pytest.raises(ImproperlyConfigured):
        registry.register_home(Role.RESIDENT, "letters.pages.home")
