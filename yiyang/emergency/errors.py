"""Error codes of the emergency app: emergency calls and the work on them.

Registered with the platform's error-code registry (``yiyang.common.errors``) when this
module is imported; ``CommonConfig.ready`` imports it. ``docs/api-errors.md`` lists the
codes with the ``#:`` comment above each member.
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.errors import register_error_codes


class EmergencyError(StrEnum):
    """Emergency calls: opening, taking, identifying the resident, steps and closing."""

    #: The alert is no longer live (handled or closed): no call is opened for it any more.
    ALERT_NOT_LIVE = "alert_not_live"
    #: The call is closed and can no longer be changed.
    CLOSED = "closed"
    #: You have already taken this call.
    ALREADY_YOURS = "already_yours"
    #: Someone else holds the call: take it over (``take_over``) to hold it yourself.
    TAKEN = "taken"
    #: The call came with an alert: it belongs to the alert's resident and cannot be moved
    #: to another resident.
    ALERT_RESIDENT = "alert_resident"
    #: The call is already identified as this resident.
    UNCHANGED = "unchanged"
    #: The call is not about a resident yet: identify the resident first.
    UNIDENTIFIED = "unidentified"
    #: The contact has no phone number recorded.
    NO_PHONE = "no_phone"
    #: A call is closed only after at least one step (what was done) is recorded.
    NO_STEPS = "no_steps"


register_error_codes(EmergencyError)
