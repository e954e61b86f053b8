"""Permission-matrix rules of the assessments API (see ``tests/matrix_support.py``).

Who: holders of ``assessments.score`` may score an instrument. The endpoint is stateless
(nothing in scope or out of it, nothing stored), so there is no out-of-scope case and an
accepted call changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tests.matrix_support import Kwargs, Payload, Rule, World, holders, rows
from yiyang.assessments.models import (
    Assessment,
    Due,
    EligibilityRule,
    InstrumentVersion,
    Place,
    Reason,
    SchedulePolicy,
    SessionStatus,
)
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.assessments.policy import RULE_FIELDS
from yiyang.assessments.scoring import score
from yiyang.assessments.selectors import current_version
from yiyang.assessments.tests.test_scoring import EXAMPLE_GBT
from yiyang.common.permissions import Role
from yiyang.residents.permissions import ResidentPerm

SCORE = holders(AssessmentPerm.SCORE)


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


# --- sessions, standing, dues (``/api/v1/assessments/…``) -------------------------------
#
# Who: ``assessments.record`` holders open, answer, submit, co-sign, discard and correct;
# reading a session or a resident's assessments needs the right to see her health record
# (``residents.health_view``, her own login, a family login with ``can_view_readings``);
# the due list needs ``assessments.record`` or ``residents.health_view``. Out of scope: the
# same objects of ``world.resident_out`` answer 404 and change nothing. A draft can only
# be changed by its assessors, so ``prepare`` makes the calling user the assessor (or the
# named second assessor for a sign-off).

READ = holders(ResidentPerm.HEALTH_VIEW) | {Role.RESIDENT, Role.FAMILY}
RECORD = holders(AssessmentPerm.RECORD)
DUE_LIST = holders(AssessmentPerm.RECORD) | holders(ResidentPerm.HEALTH_VIEW)
SESSIONS = rows(Assessment, "status", "answers", "assessor_id", "second_assessor_id")
DUES = rows(Due, "resident_id", "due_on", "done_by_id")


def build(w: World) -> None:
    """For each side a final, a draft and a pending session of GB/T 42195 (``a_final_in``,
    ``a_draft_in``, ``a_pending_in``, … ``_out``), written as rows."""
    version = current_version("gbt42195-2022")
    definition = version.definition
    result = score(definition, EXAMPLE_GBT, {})
    by = w.net.admin
    today = timezone.localdate()
    for side, resident in (("in", w.resident_in), ("out", w.resident_out)):
        common = {
            "resident": resident,
            "instrument": version,
            "reason": Reason.FIRST,
            "assessed_on": today,
            "place": Place.HOME,
            "assessor": by,
            "answers": dict(EXAMPLE_GBT),
        }
        w.extra[f"a_final_{side}"] = Assessment.objects.create(
            **common,
            status=SessionStatus.FINAL,
            result=result,
            total=result["total"],
            level=result["level"],
        )
        w.extra[f"a_draft_{side}"] = Assessment.objects.create(**common)
        w.extra[f"a_pending_{side}"] = Assessment.objects.create(
            **common,
            status=SessionStatus.PENDING_SIGNOFF,
            result=result,
            total=result["total"],
            level=result["level"],
        )


def session(kind: str, side: str) -> Kwargs:
    return lambda w: {"pk": w.extra[f"a_{kind}_{side}"].pk}


def resident(side: str) -> Kwargs:
    return lambda w: {"pk": getattr(w, f"resident_{side}").pk}


def be_assessor(w: World, user: Any) -> None:
    Assessment.objects.filter(pk__in=[w.extra["a_draft_in"].pk, w.extra["a_draft_out"].pk]).update(
        assessor=user, second_assessor=w.account_in
    )


def be_second(w: World, user: Any) -> None:
    Assessment.objects.filter(
        pk__in=[w.extra["a_pending_in"].pk, w.extra["a_pending_out"].pk]
    ).update(second_assessor=user)


def body(**values: Any) -> Payload:
    return lambda w, user: dict(values)


def new_session(side: str) -> Payload:
    def payload(w: World, user: Any) -> dict[str, Any]:
        return {
            "resident": getattr(w, f"resident_{side}").pk,
            "instrument": "gbt42195-2022",
            "reason": "first",
            "place": "home",
        }

    return payload


RULES += [
    Rule("api:assessments_instruments", "GET", SCORE),
    Rule("api:assessments_instrument", "GET", SCORE, lambda w: {"code": "barthel"}),
    Rule("api:assessments_rules", "GET", SCORE),
    Rule(
        "api:assessments_session_create",
        "POST",
        RECORD,
        data=new_session("in"),
        out_data=new_session("out"),
        ok=201,
        state=SESSIONS,
    ),
    Rule(
        "api:assessments_session", "GET", READ, session("final", "in"), out=session("final", "out")
    ),
    Rule(
        "api:assessments_session_answers",
        "PATCH",
        RECORD,
        session("draft", "in"),
        out=session("draft", "out"),
        data=body(answers={"B.1.1": 0}),
        state=SESSIONS,
        prepare=be_assessor,
    ),
    Rule(
        "api:assessments_session_submit",
        "POST",
        RECORD,
        session("draft", "in"),
        out=session("draft", "out"),
        state=SESSIONS,
        prepare=be_assessor,
    ),
    Rule(
        "api:assessments_session_sign",
        "POST",
        RECORD,
        session("pending", "in"),
        out=session("pending", "out"),
        state=SESSIONS,
        prepare=be_second,
    ),
    Rule(
        "api:assessments_session_discard",
        "POST",
        RECORD,
        session("draft", "in"),
        out=session("draft", "out"),
        state=SESSIONS,
        prepare=be_assessor,
    ),
    Rule(
        "api:assessments_session_correct",
        "POST",
        RECORD,
        session("final", "in"),
        out=session("final", "out"),
        data=body(correction_reason="漏录诊断"),
        ok=201,
        state=SESSIONS,
    ),
    Rule("api:assessments_resident_sessions", "GET", READ, resident("in"), out=resident("out")),
    Rule("api:assessments_resident_standing", "GET", READ, resident("in"), out=resident("out")),
    Rule(
        "api:assessments_report_change",
        "POST",
        RECORD,
        resident("in"),
        out=resident("out"),
        data=body(reason="fall", note="跌倒"),
        ok=201,
        state=DUES,
    ),
    Rule("api:assessments_due", "GET", DUE_LIST),
]


# --- pages: the due list, the resident's Assessments tab, policy ---------------------------
#
# The due list: ``assessments.record`` or ``residents.health_view``. The tab: like the other
# health tabs (resident out of scope → 404). Reporting a change: ``assessments.record``.
# Policy pages (rules and schedule): ``assessments.policy`` — county-wide settings, not
# scoped objects.

POLICY = holders(AssessmentPerm.POLICY)
RULE_ROWS = rows(EligibilityRule, "code", "name_en", "min_age", "active")
SCHEDULE_ROWS = rows(SchedulePolicy, "instrument_code", "interval_days")


def change_form(w: World, user: Any) -> dict[str, Any]:
    return {"change-reason": "fall", "change-instrument": "gbt42195-2022", "change-note": "跌倒"}


def new_rule(w: World, user: Any) -> dict[str, Any]:
    return {
        "code": "m_rule",
        "name_zh": "测试补贴",
        "name_en": "Test allowance",
        "min_age": "75",
        "min_ability_level": "",
        "min_disability_grade": "",
        "source": "matrix",
        "active": "on",
    }


def rule_kwargs(w: World) -> dict[str, Any]:
    return {"pk": EligibilityRule.objects.get(code="ltc_insurance").pk}


def edit_rule(w: World, user: Any) -> dict[str, Any]:
    rule = EligibilityRule.objects.get(code="ltc_insurance")
    data = {name: getattr(rule, name) for name in RULE_FIELDS}
    data["name_en"] = "LTC insurance (edited)"
    return {
        k: ("on" if v is True else "" if v in (None, False) else str(v))
        for k, v in data.items()
        if v is not False
    }


def edit_schedule(w: World, user: Any) -> dict[str, Any]:
    return {"interval_days": "180", "requires_second_assessor": "on"}


RULES += [
    Rule("assessments:due", "GET", DUE_LIST),
    Rule("assessments:resident", "GET", READ, resident("in"), out=resident("out")),
    Rule(
        "assessments:report_change",
        "POST",
        RECORD,
        resident("in"),
        out=resident("out"),
        body="form",
        data=change_form,
        ok=302,
        state=DUES,
    ),
    Rule("assessments:policy", "GET", POLICY),
    Rule("assessments:rule_create", "GET", POLICY),
    Rule(
        "assessments:rule_create",
        "POST",
        POLICY,
        body="form",
        data=new_rule,
        ok=302,
        state=RULE_ROWS,
    ),
    Rule("assessments:rule_edit", "GET", POLICY, rule_kwargs),
    Rule(
        "assessments:rule_edit",
        "POST",
        POLICY,
        rule_kwargs,
        body="form",
        data=edit_rule,
        ok=302,
        state=RULE_ROWS,
    ),
    Rule("assessments:schedule_edit", "GET", POLICY, lambda w: {"code": "gbt42195-2022"}),
    Rule(
        "assessments:schedule_edit",
        "POST",
        POLICY,
        lambda w: {"code": "gbt42195-2022"},
        body="form",
        data=edit_schedule,
        ok=302,
        state=SCHEDULE_ROWS,
    ),
]


# --- pages: the session (start, bedside form, submit, sign-off, discard, result, PDF) ----
#
# Starting, answering, submitting, signing and discarding need ``assessments.record``
# (checked before the scope); reading a session or its PDF needs the health-record right.


def start_query(side: str) -> Kwargs:
    return lambda w: {"?resident": getattr(w, f"resident_{side}").pk}


def start_form(w: World, user: Any) -> dict[str, Any]:
    return {
        "instrument": "gbt42195-2022",
        "reason": "first",
        "reason_note": "",
        "assessed_on": timezone.localdate().isoformat(),
        "place": "home",
        "place_note": "",
        "second_assessor": "",
    }


RULES += [
    Rule("assessments:start", "GET", RECORD, start_query("in"), out=start_query("out")),
    Rule(
        "assessments:start",
        "POST",
        RECORD,
        start_query("in"),
        out=start_query("out"),
        body="form",
        data=start_form,
        ok=302,
        state=SESSIONS,
    ),
    Rule("assessments:session", "GET", READ, session("final", "in"), out=session("final", "out")),
    Rule("assessments:report", "GET", READ, session("final", "in"), out=session("final", "out")),
    Rule(
        "assessments:answer",
        "POST",
        RECORD,
        session("draft", "in"),
        out=session("draft", "out"),
        body="form",
        data=body(**{"a-B.1.1": "0"}),
        ok=302,
        state=SESSIONS,
        prepare=be_assessor,
    ),
    Rule(
        "assessments:submit",
        "POST",
        RECORD,
        session("draft", "in"),
        out=session("draft", "out"),
        body="form",
        data=body(mode="submit"),
        ok=302,
        state=SESSIONS,
        prepare=be_assessor,
    ),
    Rule(
        "assessments:sign_off",
        "POST",
        RECORD,
        session("pending", "in"),
        out=session("pending", "out"),
        body="form",
        ok=302,
        state=SESSIONS,
        prepare=be_second,
    ),
    Rule(
        "assessments:discard",
        "POST",
        RECORD,
        session("draft", "in"),
        out=session("draft", "out"),
        body="form",
        ok=302,
        state=SESSIONS,
        prepare=be_assessor,
    ),
]


def name_second(w: World, user: Any) -> dict[str, Any]:
    return {
        "second_assessor": w.users[Role.ASSESSOR].pk
        if user.role != Role.ASSESSOR
        else w.users[Role.DOCTOR].pk
    }


RULES += [
    Rule(
        "api:assessments_session_report",
        "GET",
        READ,
        session("final", "in"),
        out=session("final", "out"),
    ),
    Rule(
        "api:assessments_session_second",
        "PUT",
        RECORD,
        session("draft", "in"),
        out=session("draft", "out"),
        data=name_second,
        state=SESSIONS,
        prepare=be_assessor,
    ),
]
