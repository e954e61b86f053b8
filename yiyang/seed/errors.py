"""Error codes of the seed (``yiyang seed`` / ``yiyang demo``): why a seed is refused.

Deliberately NOT registered with ``register_error_codes``, so they are not listed in
``docs/api-errors.md``: no API endpoint runs a seed, so an API client never receives these
codes. The ``seed`` command shows a refusal's ``detail`` as its error (``demo`` seeds only a
database without regions); the codes are for the code and the tests that catch a refusal.
(``yiyang.seed`` is not an installed app either, so ``CommonConfig.ready`` does not import
this module.)
"""

from __future__ import annotations

from enum import StrEnum


class SeedError(StrEnum):
    """Why a seed is refused; nothing was written in each case."""

    #: ``today`` is after the clock's date: the seeded readings and events would lie in the
    #: future.
    SEED_TODAY_IN_FUTURE = "seed_today_in_future"
    #: The database already has a county this preset and seed would create: they were
    #: seeded before (or another seed used the same codes). Use another ``--seed`` or an
    #: empty database.
    SEED_REGION_EXISTS = "seed_region_exists"
    #: Demo logins the preset would create already exist: they are seeded once per
    #: database (use an empty database or a preset without users).
    SEED_USERS_EXIST = "seed_users_exist"
