"""Error codes of the assessments app: assessment sessions, their sign-off and
corrections, scoring, and the local assessment policy.

Registered with the platform's error-code registry (``yiyang.common.errors``) when this
module is imported; ``CommonConfig.ready`` imports it. ``docs/api-errors.md`` lists the
codes with the ``#:`` comment above each member.
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.errors import register_error_codes


class AssessmentError(StrEnum):
    """Assessment sessions, their sign-off and corrections, scoring, and the local
    assessment policy."""

    # --- instruments and answers ---

    #: No instrument has this code.
    UNKNOWN_INSTRUMENT = "unknown_instrument"
    #: Some answers are missing or invalid (422): ``errors`` lists every offending item
    #: (``item``, ``code``, ``detail``), or where the body itself is wrong. Nothing was
    #: stored.
    INVALID_ANSWERS = "invalid_answers"

    # --- sessions ---

    #: The assessment is no longer a draft (or no longer waiting for its sign-off) and
    #: cannot be changed.
    NOT_EDITABLE = "not_editable"
    #: You (or the person named) may not record assessments, or only the assessors of the
    #: session (for the second assessor: only the first assessor) may make this change.
    NOT_ASSESSOR = "not_assessor"
    #: The instrument needs a second assessor (local policy): name one.
    SECOND_ASSESSOR_REQUIRED = "second_assessor_required"
    #: The second assessor must be another person than the first.
    SAME_ASSESSOR = "same_assessor"
    #: The second assessor named is not among the assessors you work with.
    UNKNOWN_USER = "unknown_user"
    #: The second assessor named cannot open this resident's record (outside their data
    #: scope), so cannot sign the assessment.
    OUT_OF_SCOPE = "out_of_scope"
    #: Only the named second assessor can sign this assessment.
    NOT_SECOND_ASSESSOR = "not_second_assessor"

    # --- corrections ---

    #: Only a submitted (final) assessment can be corrected.
    NOT_FINAL = "not_final"
    #: A correction must be of the same resident and instrument as the assessment it
    #: corrects.
    WRONG_CORRECTION = "wrong_correction"
    #: The assessment already has a correction.
    ALREADY_CORRECTED = "already_corrected"

    # --- local policy (eligibility rules, schedule policies) ---

    #: A value has the wrong type: a whole number, a text or true/false was expected.
    WRONG_TYPE = "wrong_type"
    #: An eligibility rule's code is not lower-case letters, digits, ``-`` and ``_`` (at
    #: most 50 characters, starting with a letter or digit).
    INVALID_CODE = "invalid_code"


register_error_codes(AssessmentError)
