"""Error codes of the audit log's list and export.

Registered with the platform's error-code registry (``yiyang.common.errors``) when this
module is imported; ``CommonConfig.ready`` imports it. ``docs/api-errors.md`` lists the
codes with the ``#:`` comment above each member.
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.errors import register_error_codes


class AuditError(StrEnum):
    """The audit log's filters and paging."""

    #: The ``outcome`` filter is not one of the outcomes of an audit event; ``detail``
    #: lists them.
    INVALID_OUTCOME = "invalid_outcome"
    #: The filter's end date lies before its start date.
    INVALID_DATE_RANGE = "invalid_date_range"
    #: The page size (``limit``) is outside the allowed range; ``detail`` gives it.
    INVALID_LIMIT = "invalid_limit"


register_error_codes(AuditError)
