"""Authentication backend that refuses a (username, client address) pair while it is locked.

Counting failures, the second factor and the audit rows live in
``yiyang.accounts.services.signin.check_password`` (used by the login page and the token API);
this backend only guarantees that no caller of ``django.contrib.auth.authenticate`` can
get past a lock.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from yiyang.accounts import lockout


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and lockout.is_locked(username, lockout.address_of(request)):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
