"""Resident search, always inside the user's data scope (``residents_for``).

``q`` is read by its shape:

* a full 18-character ID number → exact match on the keyed hash;
* 11 digits → exact match on the phone's keyed hash;
* Chinese characters → the name starts with them (surname, or the full name: an indexed
  prefix match — a substring match would read every row of a million-row registry);
* latin letters → full pinyin starts with them when they contain a vowel and some
  resident in scope matches ("zhang", "zhangsan"), else pinyin initials ("zs", "zxy",
  and "wah" for 王爱华);
* anything else → the name contains it.

Results are ordered by the column searched — pinyin initials, full pinyin, else the name —
then id, so that a page is one range read of the matching index in order (``(name, id)``,
``(name_pinyin, id)``, ``(name_initials, id)``), never a sort of every match: keyset
paging (``forms.keyset_page``) reads the key from the queryset's ordering. The prefix is
also given as a range on the same column, which the index serves whatever the database's
collation (pinyin is ``[a-z0-9]`` only; for Chinese names only where text sorts by code
point, see ``codepoint_collation``).

Filters: ``region`` (a region or a code prefix: its subtree), ``grid`` (id, or ``"none"``
for the residents without a grid: the "to be assigned a grid" work list), ``status``,
``care_setting``, ``min_age``/``max_age`` (completed years, turned into birth-date bounds)
and ``flags`` (special-group flag names, all of which must be set).
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterable
from typing import Any

from django.db import connections
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.common import crypto
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.network.models import Region
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import FLAGS, Resident
from yiyang.residents.selectors.registry import residents_for

ID_RE = re.compile(r"[0-9]{17}[0-9Xx]")
PHONE_RE = re.compile(r"[0-9]{11}")
LATIN_RE = re.compile(r"[A-Za-z]+")
CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
NO_GRID = "none"  # the ``grid`` filter value for residents without a grid


def birth_bound(today: datetime.date, years: int) -> datetime.date:
    """The latest birth date of someone at least ``years`` old on ``today`` (a 29 February
    birthday counts from 1 March, as in ``IdNumber.age_on``)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # today is 29 February, that year has none
        return today.replace(year=today.year - years, day=28)


MAX_CHAR = "\U0010ffff"
VOWELS = set("aeiouv")


@functools.cache
def codepoint_collation(alias: str) -> bool:
    """Whether text on database ``alias`` sorts by code point (SQLite; PostgreSQL with a
    C/POSIX collation such as ``C.UTF-8``): then "starts with p" is the range
    [p, p + U+10FFFF)."""
    connection = connections[alias]
    if connection.vendor == "sqlite":
        return True
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        row = cursor.fetchone()
    return bool(row) and str(row[0]).split(".")[0].upper() in ("C", "POSIX")


def _latin_range(column: str, letters: str, max_length: int) -> Q:
    # Every [a-z0-9] string starting with ``letters`` lies in [letters, letters + "zzz…"]
    # in any collation (and the LIKE keeps it exact).
    return Q(
        **{
            f"{column}__gte": letters,
            f"{column}__lte": letters + "z" * max(max_length - len(letters), 0),
            f"{column}__startswith": letters,
        }
    )


def _query(qs: QuerySet[Resident], q: str) -> tuple[QuerySet[Resident], str]:
    """``qs`` filtered by ``q``, and the column the result is ordered by."""
    text = q.strip()
    compact = re.sub(r"[\s\-]", "", text)
    if ID_RE.fullmatch(compact):
        return qs.filter(id_number_index=crypto.blind_index(compact.upper())), "name"
    if PHONE_RE.fullmatch(compact):
        return qs.filter(phone_index=crypto.blind_index(compact)), "name"
    if CJK_RE.search(text):
        qs = qs.filter(name__startswith=text)
        if codepoint_collation(qs.db):
            qs = qs.filter(name__gte=text, name__lt=text + MAX_CHAR)
        return qs, "name"
    if LATIN_RE.fullmatch(compact):
        letters = compact.lower()
        if len(letters) > 1 and VOWELS & set(letters):
            by_pinyin = qs.filter(_latin_range("name_pinyin", letters, 200))
            if by_pinyin.exists():
                return by_pinyin, "name_pinyin"
        return qs.filter(_latin_range("name_initials", letters, 50)), "name_initials"
    return qs.filter(name__icontains=text), "name"


def _int(value: Any, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            CommonError.INVALID, _("%(f)s must be a whole number.") % {"f": field}, field=field
        ) from None
    if number < 0:
        raise ValidationFailed(
            CommonError.INVALID, _("%(f)s must not be negative.") % {"f": field}, field=field
        )
    return number


def search_residents(
    user: User,
    q: str = "",
    *,
    region: Region | str | None = None,
    grid: int | str | None = None,
    status: str | None = None,
    care_setting: str | None = None,
    min_age: int | None = None,
    max_age: int | None = None,
    flags: Iterable[str] = (),
    today: datetime.date | None = None,
) -> QuerySet[Resident]:
    """Residents in ``user``'s scope matching ``q`` and the filters, ordered by the column
    searched (see the module docstring), then id."""
    qs = residents_for(user)
    key = "name"
    if q and q.strip():
        qs, key = _query(qs, q)
    narrow = False
    if region:
        prefix = region.prefix if isinstance(region, Region) else str(region).strip()
        qs = qs.filter(region_code__startswith=prefix)
        narrow = len(prefix) >= NARROW_PREFIX
    if grid == NO_GRID:  # the work list of residents waiting for a grid (ADR 0010)
        qs = qs.filter(grid__isnull=True)
    elif grid:
        qs = qs.filter(grid_id=_int(grid, "grid"))
        narrow = True
    if status:
        qs = qs.filter(status=status)
    if care_setting:
        qs = qs.filter(care_setting=care_setting)
    day = today or timezone.localdate()
    if min_age not in (None, ""):
        qs = qs.filter(birth_date__lte=birth_bound(day, _int(min_age, "min_age")))
    if max_age not in (None, ""):
        qs = qs.filter(birth_date__gt=birth_bound(day, _int(max_age, "max_age") + 1))
    for flag in flags:
        if flag not in FLAGS:
            raise ValidationFailed(
                ResidentError.UNKNOWN_FILTER,
                _("Unknown special group %(flag)s.") % {"flag": flag},
                field="flags",
            )
        qs = qs.filter(**{flag: True})
    if narrow and not (q and q.strip()):
        qs = _preselect(qs)
    return qs.order_by(key, "pk")


# A filter to a township, a village or a grid keeps a few thousand residents at most. For
# those, PostgreSQL's planner still tends to walk the whole name order looking for a page
# of matches of a second filter (living alone, an age band: measured 240–440 ms at
# 1,000,000 residents), because it prices the bitmap read of the region's rows too high.
# Reading the region's ids first (no order: one bitmap scan) and then ordering just those
# is ~10 ms. Only when they are at most NARROW_CAP; otherwise the query stays as it is.
NARROW_PREFIX = 9  # digits of a township code
NARROW_CAP = 20_000


def _preselect(qs: QuerySet[Resident]) -> QuerySet[Resident]:
    ids = list(qs.order_by().values_list("pk", flat=True)[: NARROW_CAP + 1])
    if len(ids) > NARROW_CAP:
        return qs
    return qs.model.objects.filter(pk__in=ids).select_related("region", "grid")
