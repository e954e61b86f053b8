"""``actor(request)``: the API caller or the page's user, never an anonymous one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from yiyang.common.actor import actor
from yiyang.common.errors import PermissionDenied


def _user(name: str) -> SimpleNamespace:
    return SimpleNamespace(username=name, is_authenticated=True)


def test_the_api_caller_comes_first_then_the_page_user():
    request = RequestFactory().get("/")
    request.user = _user("page")
    assert actor(request).username == "page"
    request.auth = _user("token")
    assert actor(request).username == "token"


def test_nobody_logged_in_is_refused():
    request = RequestFactory().get("/")
    with pytest.raises(PermissionDenied):
        actor(request)
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        actor(request)
