"""Keyset paging (ground floor): a page of a queryset ordered by (key, id), with the
cursors of the pages before and after; a list of many thousand rows costs the same on its
first and its last page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from yiyang.common.pages import PAGE_SIZE


@dataclass
class KeysetPage:
    """One page of rows ordered by (key, id), and where the neighbours start."""

    items: list[Any]
    has_next: bool
    has_prev: bool
    limit: int

    @property
    def next_after(self) -> int | None:
        return self.items[-1].pk if self.has_next and self.items else None

    @property
    def prev_before(self) -> int | None:
        return self.items[0].pk if self.has_prev and self.items else None


def _cursor_key(qs: QuerySet[Any], pk: int, key: str) -> Any:
    # Looked up inside ``qs`` (scoped and filtered): an id from outside the user's scope
    # gives no position away.
    return qs.order_by().filter(pk=pk).values_list(key, flat=True).first()


def keyset_page(
    qs: QuerySet[Any],
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int | None = None,
    offset: int = 0,
    key: str | None = None,
) -> KeysetPage:
    """A page of ``qs`` ordered by (``key``, id) after the row ``after`` or before the row
    ``before`` (ids), fetching ``limit + 1`` rows to know whether more follow. ``offset``
    (API only) skips rows when no cursor is given. An unknown cursor starts over.

    ``key`` (default: the first column ``qs`` is ordered by — ``search_residents`` orders
    by the column it searched — else ``name``) must lead an index together with id."""
    limit = limit or PAGE_SIZE
    if key is None:
        ordering = [str(f) for f in qs.query.order_by if str(f).lstrip("-") not in ("pk", "id")]
        key = ordering[0] if ordering else "name"
    if after is not None and (value := _cursor_key(qs, after, key)) is not None:
        rows = list(
            qs.filter(**{f"{key}__gte": value})
            .exclude(**{key: value, "pk__lte": after})
            .order_by(key, "pk")[: limit + 1]
        )
        return KeysetPage(rows[:limit], len(rows) > limit, True, limit)
    if before is not None and (value := _cursor_key(qs, before, key)) is not None:
        rows = list(
            qs.filter(**{f"{key}__lte": value})
            .exclude(**{key: value, "pk__gte": before})
            .order_by(f"-{key}", "-pk")[: limit + 1]
        )
        items = rows[:limit]
        items.reverse()
        return KeysetPage(items, True, len(rows) > limit, limit)
    rows = list(qs.order_by(key, "pk")[offset : offset + limit + 1])
    return KeysetPage(rows[:limit], len(rows) > limit, offset > 0, limit)
