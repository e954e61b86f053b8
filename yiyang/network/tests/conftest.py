"""Fixtures for the network tests (also available to the page tests in this folder)."""

from __future__ import annotations

import pytest

from yiyang.testing.network import Network, build_network


@pytest.fixture
def net(db) -> Network:
    return build_network()
