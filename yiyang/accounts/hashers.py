"""A cheap Argon2 for the test suite only (settings pick it when YIYANG_MODE=test).

Same algorithm and hash format ("argon2$argon2id$…") as production, minimal cost, so the
hundreds of logins the tests perform take milliseconds instead of half a second each.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class TestArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64
    parallelism = 1
