"""Authentication with lockout by (username, client address)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from yiyang.accounts import lockout


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        address = lockout.address_of(request)
        if username and lockout.is_locked(username, address):
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if username and user is None:
            lockout.note_failure(username, address)
        elif user is not None:
            lockout.clear(username, address)
        return user
