"""``/api/v1/assessments/``: the stateless scoring API.

``POST /score`` with ``{"instrument", "answers", "context"}`` scores the current active
version of the instrument (``yiyang.assessments.scoring``). Any bad input answers 422
``{"code": "invalid_answers", "detail", "errors": [{"item", "code", "detail"}]}`` naming
each offending item; an unknown instrument is a 422 with code ``unknown_instrument``.
Nothing is stored. Needs ``assessments.score``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from yiyang.accounts.actor import actor
from yiyang.assessments.errors import AssessmentError
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.assessments.scoring import ScoringError, score
from yiyang.assessments.selectors import current_version
from yiyang.common.permissions import require_perm
from yiyang.common.schemas import ErrorOut

# Mounted on ``api.router``, whose tag it takes (the other areas' routers carry the tag
# too, so their operations list it twice in the published schema — as they always have).
router = Router()


class ScoreIn(Schema):
    # Typed loosely on purpose: every bad input answers in the one 422 shape below.
    instrument: Any = None
    answers: Any = None
    context: Any = None


class ItemErrorOut(Schema):
    item: str
    code: str
    detail: str


class BodyErrorOut(Schema):
    """A problem with the body itself (missing, not an object): where and what."""

    loc: list[str]
    msg: str


class InvalidAnswersOut(ErrorOut):
    errors: list[ItemErrorOut | BodyErrorOut] = Field(
        default_factory=list,
        description="each offending item, or where the body itself is wrong",
    )


@router.post(
    "/score",
    response={200: dict[str, Any], 403: ErrorOut, 422: InvalidAnswersOut},
    url_name="assessments_score",
    operation_id="yiyang_assessments_api_score_view",
    summary="Score an instrument (stateless)",
)
def score_view(request: HttpRequest, payload: ScoreIn):
    require_perm(actor(request), AssessmentPerm.SCORE)
    code = payload.instrument
    row = current_version(code) if isinstance(code, str) else None
    if row is None:
        return 422, {
            "code": AssessmentError.UNKNOWN_INSTRUMENT,
            "detail": f"unknown instrument {code!r}",
            "field": "instrument",
            "errors": [{"item": "instrument", "code": "unknown_instrument", "detail": "not known"}],
        }
    try:
        result = score(row.definition, payload.answers, payload.context)
    except ScoringError as exc:
        return 422, {
            "code": AssessmentError.INVALID_ANSWERS,
            "detail": str(exc),
            "field": "answers",
            "errors": [e.as_dict() for e in exc.errors],
        }
    return 200, result
