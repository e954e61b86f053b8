"""Error codes of the network app: regions, institutions, staff, alliances and agreements,
chain nodes, teams and the duty roster.

Registered with the platform's error-code registry (``yiyang.common.errors``) when this
module is imported; ``CommonConfig.ready`` imports it. ``docs/api-errors.md`` lists the
codes with the ``#:`` comment above each member.
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.errors import register_error_codes


class NetworkError(StrEnum):
    """The service network: regions and their import, institutions and their staff,
    alliances and agreements, chain nodes (centers and stations), teams and the duty
    roster."""

    # --- regions ---

    #: A region code breaks the rules of the 12-digit administrative division code (12
    #: digits, a known province, levels that fit together, a township part from 001 to 399,
    #: a parent region that exists); ``detail`` says which.
    INVALID_REGION_CODE = "invalid_region_code"
    #: The region file has bad rows, so nothing was imported; ``detail`` names the first,
    #: the answer's ``report`` lists them all (line, code, reason, message).
    INVALID_REGION_FILE = "invalid_region_file"
    #: Another change to the regions happened during the import, so nothing was imported:
    #: send the file again.
    IMPORT_CONFLICT = "import_conflict"
    #: The region is not of the level this field needs (e.g. a grid's village, a center's
    #: township, an alliance's county or city); ``detail`` names the level wanted.
    WRONG_REGION_LEVEL = "wrong_region_level"
    #: An institution, village, station or grid does not lie inside the region it must lie
    #: in: an alliance's region, the township of the station's center, the region of the
    #: team's node (or a center's new region would leave one of its stations outside).
    OUTSIDE_REGION = "outside_region"

    # --- institutions and staff ---

    #: The licence number (an institution's medical practice licence or elderly-care
    #: filing number, a staff member's licence) is already held by another institution or
    #: staff member; ``detail`` names the holder.
    DUPLICATE_LICENCE = "duplicate_licence"
    #: A date lies in the future where only a past date or today makes sense (an
    #: institution's founding date). Other parts of the API answer ``future_date``.
    DATE_IN_FUTURE = "date_in_future"
    #: The institution's type does not fit its place in a chain node: the medical member
    #: must be a medical institution, the elderly-care member an elderly-care one (also
    #: changing the type of an institution that is such a member).
    WRONG_MEMBER_TYPE = "wrong_member_type"
    #: No skill has this code.
    UNKNOWN_SKILL = "unknown_skill"
    #: A staff member's memberships name the same institution twice.
    DUPLICATE_MEMBERSHIP = "duplicate_membership"
    #: More than one of a staff member's memberships is marked as the primary one.
    MULTIPLE_PRIMARY = "multiple_primary"
    #: A period ends before it starts: an agreement's ``valid_to`` before its
    #: ``valid_from``, a membership's end before its start.
    INVALID_DATES = "invalid_dates"

    # --- alliances, agreements, chain nodes ---

    #: The institution cannot lead: an alliance's lead must be a medical institution, a
    #: center's lead a lead hospital or a medical institution of an alliance.
    INVALID_LEAD = "invalid_lead"
    #: An agreement names the same institution as both parties.
    SAME_PARTY = "same_party"
    #: The agreement's document is not an allowed kind of file or is too large;
    #: ``detail`` gives the allowed extensions or the limit.
    INVALID_DOCUMENT = "invalid_document"
    #: A center was given a center: a center belongs to no other center.
    UNEXPECTED_CENTER = "unexpected_center"
    #: A station was given a lead institution: a station has none of its own, it belongs to
    #: a center.
    UNEXPECTED_LEAD = "unexpected_lead"
    #: The node named as a station's center is a station, not a center.
    INVALID_CENTER = "invalid_center"
    #: A node's level (center or station) cannot change: create a new node instead.
    IMMUTABLE = "immutable"

    # --- teams ---

    #: A team's members name the same staff member twice.
    DUPLICATE_MEMBER = "duplicate_member"
    #: The team's leader is not one of its members.
    LEADER_NOT_MEMBER = "leader_not_member"

    # --- duty roster ---

    #: The doctor already has a shift at this institution during part of this time.
    OVERLAP = "overlap"
    #: The shift is already over: it can no longer be ended or cancelled.
    ENDED = "ended"


register_error_codes(NetworkError)
