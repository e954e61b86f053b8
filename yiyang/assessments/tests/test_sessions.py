"""Assessment sessions (services): drafts and resume, all-or-nothing submit, second
assessor, immutability, corrections, standing, eligibility rules as data, the schedule."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from yiyang.assessments.models import (
    Assessment,
    Due,
    DueReason,
    EligibilityRule,
    ImmutableAssessment,
    SchedulePolicy,
    SessionStatus,
    Standing,
)
from yiyang.assessments.services.schedule import open_dues, report_change
from yiyang.assessments.services.sessions import (
    AnswersInvalid,
    discard,
    history,
    save_answers,
    sign_off,
    start,
    submit,
)
from yiyang.assessments.services.standing import evaluate
from yiyang.assessments.tests.conftest import World
from yiyang.assessments.tests.test_scoring import EXAMPLE_GBT
from yiyang.audit.models import AuditEvent
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.residents.models import Resident

TODAY = timezone.localdate


def _start(w: World, resident: Resident | None = None, **kw) -> Assessment:
    args = {
        "instrument": "gbt42195-2022",
        "reason": "first",
        "assessed_on": TODAY(),
        "place": "home",
        "second_assessor": w.nurse,
    }
    args.update(kw)
    return start(w.doctor, resident or w.old, **args)


def _final(w: World, answers=None, context=None, **kw) -> Assessment:
    session = _start(w, **kw)
    save_answers(w.doctor, session, answers or EXAMPLE_GBT, context)
    return submit(w.doctor, session, cosigned_by=w.nurse)


def test_draft_resumes_with_partial_answers_and_a_running_score(w):
    session = _start(w)
    half = dict(list(EXAMPLE_GBT.items())[:8])  # B.1: 4,3,2,3,2,3,4,3 = 24
    save_answers(w.doctor, session, half)
    session.refresh_from_db()
    assert session.status == SessionStatus.DRAFT and session.answers == half
    from yiyang.assessments.progress import running

    run = running(session.instrument.definition, session.answers)
    assert run["answered"] == 8 and run["count"] == 26
    assert run["total"] == 24 and run["domains"] == {"B.1": 24, "B.2": 0, "B.3": 0, "B.4": 0}
    # A form posts strings; None clears an answer.
    save_answers(w.doctor, session, {"B.2.1": "4", "B.1.1": None})
    session.refresh_from_db()
    assert session.answers["B.2.1"] == 4 and "B.1.1" not in session.answers


def test_bad_partial_answers_are_all_named_and_nothing_is_saved(w):
    session = _start(w)
    save_answers(w.doctor, session, {"B.1.1": 4})
    with pytest.raises(AnswersInvalid) as exc:
        save_answers(w.doctor, session, {"B.1.2": 9, "B.9.9": 1, "B.2.4": 4, "B.1.3": 2})
    assert {e.item for e in exc.value.errors} == {"B.1.2", "B.9.9", "B.2.4"}
    assert exc.value.status == 422
    session.refresh_from_db()
    assert session.answers == {"B.1.1": 4}


def test_submit_is_all_or_nothing(w):
    session = _start(w)
    save_answers(w.doctor, session, dict(list(EXAMPLE_GBT.items())[:20]))
    with pytest.raises(AnswersInvalid) as exc:
        submit(w.doctor, session, cosigned_by=w.nurse)
    assert {e.item for e in exc.value.errors} == set(list(EXAMPLE_GBT)[20:])
    session.refresh_from_db()
    assert session.status == SessionStatus.DRAFT and session.result is None
    assert not Standing.objects.filter(resident=w.old).exists()


def test_the_worked_example_sets_level_standing_eligibility_and_next_due(w):
    session = _final(w, context={"diagnoses": ["F03"]})
    assert session.status == SessionStatus.FINAL
    assert session.total == 64 and session.level == 3
    assert session.result["instrument"] == "gbt42195-2022" and session.result["version"] == "1"
    assert session.second_signed_at is not None
    standing = Standing.objects.get(resident=w.old)
    assert standing.ability_level == 3 and standing.ability_assessment == session
    # 85 years old, level 3 ≥ 中度失能 (2): the high-age allowance; no LTC grade yet.
    assert session.eligibility_before == {
        "high_age_disability_allowance": False,
        "ltc_insurance": False,
    }
    assert session.eligibility_after["high_age_disability_allowance"] is True
    assert session.eligibility_after["ltc_insurance"] is False
    due = Due.objects.get(resident=w.old, done_by__isnull=True)
    assert due.reason == DueReason.ROUTINE
    assert due.due_on == session.assessed_on + datetime.timedelta(days=365)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"assessments.assessment.submit", "assessments.standing.update"} <= actions


def test_a_younger_resident_is_not_eligible_for_the_high_age_allowance(w):
    session = _final(w, resident=w.young)
    assert session.level == 2
    assert session.eligibility_after["high_age_disability_allowance"] is False


def test_rules_are_data_a_local_edit_changes_the_outcome(w):
    EligibilityRule.objects.filter(code="high_age_disability_allowance").update(min_age=70)
    session = _final(w, resident=w.young)
    assert session.eligibility_after["high_age_disability_allowance"] is True
    EligibilityRule.objects.create(code="severe_only", name_zh="重度", name_en="severe",
                                   min_ability_level=3)  # fmt: skip
    standing = Standing.objects.get(resident=w.young)
    assert evaluate(w.young, standing, TODAY())["severe_only"] is False


def test_second_assessor_required_by_policy(w):
    session = _start(w, second_assessor=None)
    save_answers(w.doctor, session, EXAMPLE_GBT)
    with pytest.raises(ValidationFailed) as exc:
        submit(w.doctor, session)
    assert exc.value.field == "second_assessor"
    # Named but not signed yet: pending, no effect until the second assessor signs.
    session = _start(w, second_assessor=None, resident=w.young)
    Assessment.objects.filter(pk=session.pk).update(second_assessor=w.nurse)
    save_answers(w.doctor, session, EXAMPLE_GBT)
    session = submit(w.doctor, session)
    assert session.status == SessionStatus.PENDING_SIGNOFF
    assert not Standing.objects.filter(resident=w.young).exists()
    with pytest.raises(ValidationFailed):
        sign_off(w.doctor, session)  # not the second assessor
    session = sign_off(w.nurse, session)
    assert session.status == SessionStatus.FINAL
    assert Standing.objects.get(resident=w.young).ability_level == 2


def test_policy_without_second_assessor(w):
    SchedulePolicy.objects.filter(instrument_code="gbt42195-2022").update(
        requires_second_assessor=False, interval_days=180
    )
    session = _start(w, second_assessor=None)
    save_answers(w.doctor, session, EXAMPLE_GBT)
    session = submit(w.doctor, session)
    assert session.status == SessionStatus.FINAL
    due = Due.objects.get(resident=w.old, done_by__isnull=True)
    assert due.due_on == session.assessed_on + datetime.timedelta(days=180)


def test_second_assessor_must_be_another_recording_user(w):
    with pytest.raises(ValidationFailed):
        _start(w, second_assessor=w.doctor)
    with pytest.raises(ValidationFailed):
        _start(w, second_assessor=w.caregiver)


def test_a_submitted_session_is_immutable(w):
    session = _final(w)
    with pytest.raises(ValidationFailed):
        save_answers(w.doctor, session, {"B.1.1": 0})
    with pytest.raises(ValidationFailed):
        submit(w.doctor, session, cosigned_by=w.nurse)
    session.answers = {**session.answers, "B.1.1": 0}
    with pytest.raises(ImmutableAssessment):
        session.save()
    session.refresh_from_db()
    assert session.answers["B.1.1"] == EXAMPLE_GBT["B.1.1"]


def test_a_correction_supersedes_with_a_reason(w):
    first = _final(w)
    assert first.level == 2
    with pytest.raises(ValidationFailed) as exc:
        _start(w, supersedes=first.pk)
    assert exc.value.field == "correction_reason"
    fix = _start(w, supersedes=first.pk, correction_reason="诊断漏录", reason="dispute")
    assert fix.answers == first.answers  # starts from the corrected answers
    with pytest.raises(ValidationFailed):
        _start(w, supersedes=first.pk, correction_reason="twice")
    save_answers(w.doctor, fix, context={"diagnoses": ["F01.1"]})
    fix = submit(w.doctor, fix, cosigned_by=w.nurse)
    first.refresh_from_db()
    assert first.status == SessionStatus.SUPERSEDED and first.level == 2  # never rescored
    assert fix.level == 3
    assert Standing.objects.get(resident=w.old).ability_assessment == fix
    assert Due.objects.filter(resident=w.old, done_by__isnull=True).count() == 1


def test_a_back_dated_assessment_does_not_override_a_newer_one(w):
    newer = _final(w)
    older = _final(
        w, assessed_on=TODAY() - datetime.timedelta(days=30), context={"diagnoses": ["F03"]}
    )
    standing = Standing.objects.get(resident=w.old)
    assert standing.ability_assessment == newer and standing.ability_level == newer.level
    assert older.status == SessionStatus.FINAL


def test_reported_change_makes_an_immediate_due_closed_by_the_next_assessment(w):
    routine = _final(w)
    due = report_change(w.doctor, w.old, reason=DueReason.FALL, note="跌倒")
    assert due.due_on == TODAY()
    team = w.net.a.team
    listed = list(open_dues(w.doctor, team=team))
    assert due in listed
    assert list(open_dues(w.outsider)) == []
    again = _final(w, reason="immediate")
    due.refresh_from_db()
    assert due.done_by == again and routine.pk != again.pk
    with pytest.raises(ValidationFailed):
        report_change(w.doctor, w.old, reason="bored")


def test_input_checks_scope_consent_and_permission(w):
    with pytest.raises(ValidationFailed) as exc:
        _start(w, instrument="nope")
    assert exc.value.field == "instrument"
    with pytest.raises(ValidationFailed) as exc:
        _start(w, reason="whim")
    assert exc.value.field == "reason"
    with pytest.raises(ValidationFailed) as exc:
        _start(w, assessed_on=TODAY() + datetime.timedelta(days=1))
    assert exc.value.field == "assessed_on"
    with pytest.raises(ValidationFailed) as exc:
        _start(w, resident=w.no_consent)
    assert exc.value.code == "no_consent"
    with pytest.raises(NotFound):
        start(
            w.outsider,
            w.old,
            instrument="gbt42195-2022",
            reason="first",
            assessed_on=TODAY(),
            place="home",
        )
    with pytest.raises(PermissionDenied):
        start(
            w.caregiver,
            w.old,
            instrument="gbt42195-2022",
            reason="first",
            assessed_on=TODAY(),
            place="home",
        )
    session = _start(w)
    with pytest.raises(NotFound):
        save_answers(w.outsider, session, {"B.1.1": 4})
    assert Assessment.objects.count() == 1


def test_discarded_drafts_leave_the_history(w):
    session = _start(w)
    discard(w.doctor, session)
    assert list(history(w.old)) == []
    with pytest.raises(ValidationFailed):
        save_answers(w.doctor, session, {"B.1.1": 4})


def test_running_score_sums_the_ltc_indicators():
    from yiyang.assessments.instruments import current
    from yiyang.assessments.progress import running

    definition = current("ltc-disability-2021")
    run = running(definition, {"feeding": 10, "bathing": 5, "cognition.time": 3, "x": 1})
    assert run["answered"] == 3 and run["count"] == 17 and run["total"] == 18
    assert run["domains"] == {"adl": 15, "cognition": 3, "perception": 0}
