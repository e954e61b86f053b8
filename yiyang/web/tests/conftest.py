"""Fixtures of the web app's tests: the home page, navigation, language and security
headers seen by a logged-in user."""

from __future__ import annotations

import pytest

from yiyang.common.permissions import Role
from yiyang.testing.network import make_user


@pytest.fixture
def doctor(db):
    """A doctor without a data scope: enough to be logged in and see the console."""
    return make_user(Role.DOCTOR, scope="self", username="doctor")
