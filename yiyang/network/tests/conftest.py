"""Fixtures for the network tests (also available to the page tests in this folder)."""

from __future__ import annotations

import pytest
from django.utils import translation

from yiyang.testing.network import Network, build_network


@pytest.fixture
def net(db) -> Network:
    return build_network()


@pytest.fixture
def english():
    """Messages in English (the default language is Simplified Chinese)."""
    with translation.override("en"):
        yield
