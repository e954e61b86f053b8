"""Resident search, always inside the user's data scope (``residents_for``).

``q`` is read by its shape:

* a full 18-character ID number → exact match on the keyed hash;
* 11 digits → exact match on the phone's keyed hash;
* Chinese characters → the name starts with them (surname, or the full name: an indexed
  prefix match — a substring match would read every row of a million-row registry);
* latin letters → pinyin initials or full pinyin start with them ("zs", "zhangsan");
* anything else → the name contains it.

Filters: ``region`` (a region or a code prefix: its subtree), ``grid`` (id), ``status``,
``care_setting``, ``min_age``/``max_age`` (completed years, turned into birth-date bounds)
and ``flags`` (special-group flag names, all of which must be set).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.common import crypto
from yiyang.common.errors import ValidationFailed
from yiyang.network.models import Region
from yiyang.residents.models import FLAGS, Resident
from yiyang.residents.selectors import residents_for

ID_RE = re.compile(r"[0-9]{17}[0-9Xx]")
PHONE_RE = re.compile(r"[0-9]{11}")
LATIN_RE = re.compile(r"[A-Za-z]+")
CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def birth_bound(today: datetime.date, years: int) -> datetime.date:
    """The latest birth date of someone at least ``years`` old on ``today`` (a 29 February
    birthday counts from 1 March, as in ``IdNumber.age_on``)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # today is 29 February, that year has none
        return today.replace(year=today.year - years, day=28)


def _query_q(q: str) -> Q:
    text = q.strip()
    compact = re.sub(r"[\s\-]", "", text)
    if ID_RE.fullmatch(compact):
        return Q(id_number_index=crypto.blind_index(compact.upper()))
    if PHONE_RE.fullmatch(compact):
        return Q(phone_index=crypto.blind_index(compact))
    if CJK_RE.search(text):
        return Q(name__startswith=text)
    if LATIN_RE.fullmatch(compact):
        letters = compact.lower()
        return Q(name_initials__startswith=letters) | Q(name_pinyin__startswith=letters)
    return Q(name__icontains=text)


def _int(value: Any, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            "invalid", _("%(f)s must be a whole number.") % {"f": field}, field=field
        ) from None
    if number < 0:
        raise ValidationFailed(
            "invalid", _("%(f)s must not be negative.") % {"f": field}, field=field
        )
    return number


def search_residents(
    user: Any,
    q: str = "",
    *,
    region: Region | str | None = None,
    grid: int | None = None,
    status: str | None = None,
    care_setting: str | None = None,
    min_age: int | None = None,
    max_age: int | None = None,
    flags: Iterable[str] = (),
    today: datetime.date | None = None,
) -> QuerySet[Resident]:
    """Residents in ``user``'s scope matching ``q`` and the filters, ordered by name."""
    qs = residents_for(user)
    if q and q.strip():
        qs = qs.filter(_query_q(q))
    if region:
        prefix = region.prefix if isinstance(region, Region) else str(region).strip()
        qs = qs.filter(region_code__startswith=prefix)
    if grid:
        qs = qs.filter(grid_id=_int(grid, "grid"))
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
                "unknown_filter",
                _("Unknown special group %(flag)s.") % {"flag": flag},
                field="flags",
            )
        qs = qs.filter(**{flag: True})
    return qs.order_by("name", "pk")
