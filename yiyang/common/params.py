"""Typed API parameters shared by every router: bounded integers and the page-number pager.

An ``int`` from a query string, a path or a JSON body is unbounded in Python, but not in the
database (SQLite and PostgreSQL keep 64-bit signed integers; a larger value raised
``OverflowError`` or ``DataError`` → 500) nor in the calendar (an age of 10,000 years has no
birth date). Every integer an API operation accepts is declared with one of these types, so
that a value out of range is a 422 naming the parameter and the bounds are published in the
OpenAPI schema (``tests/test_api_contract.py`` checks that none is unbounded).
"""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

# A row's primary key (BigAutoField): 1 .. 2**63-1.
Id = Annotated[int, Field(ge=1, le=INT64_MAX)]
# Any other whole number stored in the database, where the service checks the domain range.
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
# A whole number that counts something (beds, minutes, a cursor): 0 .. 2**63-1.
Count = Annotated[int, Field(ge=0, le=INT64_MAX)]
# A person's age in whole years.
MAX_AGE = 150
Age = Annotated[int, Field(ge=0, le=MAX_AGE)]

# The last page number a list answers. Beyond it the request is a 422; a page between the
# last page with rows and this one is an empty page (``items: []`` with the real ``count``).
MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 100


class Pagination(PageNumberPagination):
    """Ninja's page-number pagination with bounded inputs: ``page`` 1..1,000,000 and
    ``page_size`` 1..100 (both declared in the schema; outside → 422). Without the bound a
    huge ``page`` became an offset that overflowed the database's 64-bit integer (500)."""

    class Input(Schema):
        page: int = Field(
            1,
            ge=1,
            le=MAX_PAGE,
            description=f"Page number, 1..{MAX_PAGE}; past the last page the list is empty.",
        )
        page_size: int | None = Field(
            None, ge=1, le=MAX_PAGE_SIZE, description="Rows per page (default per list)."
        )

    def __init__(
        self, page_size: int = MAX_PAGE_SIZE, max_page_size: int = MAX_PAGE_SIZE, **kwargs: Any
    ) -> None:
        super().__init__(page_size=page_size, max_page_size=max_page_size, **kwargs)
