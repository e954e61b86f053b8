"""Permission-matrix rules of the assessments API (see ``tests/matrix_support.py``).

Who: holders of ``assessments.score`` may score an instrument. The endpoint is stateless
(nothing in scope or out of it, nothing stored), so there is no out-of-scope case and an
accepted call changes nothing.
"""

from __future__ import annotations

from typing import Any

from tests.matrix_support import Rule, World, holders
from yiyang.accounts.roles import Perm
from yiyang.assessments.models import InstrumentVersion

SCORE = holders(Perm.ASSESSMENT_SCORE)


def _selfcare(w: World, user: Any) -> dict[str, Any]:
    answers = dict.fromkeys(("eating", "washing", "dressing", "toileting", "activity"), "mild")
    return {"instrument": "selfcare-5", "answers": answers, "context": {}}


def _versions(w: World) -> list[Any]:
    return list(InstrumentVersion.objects.order_by("pk").values_list("pk", "definition"))


RULES: list[Rule] = [
    Rule(
        "api:assessments_score",
        "POST",
        SCORE,
        data=_selfcare,
        state=_versions,
        changes=False,
    ),
]
