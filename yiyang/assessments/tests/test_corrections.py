"""Corrections after a discarded correction draft: the assessment can be corrected
again (the "one correction" rule counts only corrections that were not discarded), and
``superseded_by`` names the live correction, never the discarded one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from yiyang.assessments.models import Assessment, SessionStatus
from yiyang.assessments.services.sessions import submit
from yiyang.assessments.tests.test_api_sessions import call, open_draft
from yiyang.assessments.tests.test_scoring import EXAMPLE_GBT
from yiyang.testing.clients import client_for


def final_session(w) -> int:
    doctor = client_for(w.doctor)
    draft = open_draft(doctor, w)
    call(doctor, "patch", f"/sessions/{draft['id']}/answers", {"answers": EXAMPLE_GBT})
    submit(w.doctor, draft["id"], cosigned_by=w.nurse)
    return draft["id"]


def test_discard_a_correction_then_correct_again(w):
    doctor = client_for(w.doctor)
    pk = final_session(w)
    body = {"correction_reason": "漏录痴呆诊断", "second_assessor": w.nurse.pk}
    first = call(doctor, "post", f"/sessions/{pk}/corrections", body)
    assert first.status_code == 201
    r = call(doctor, "post", f"/sessions/{first.json()['id']}/discard")
    assert r.status_code == 200 and r.json()["status"] == "discarded"
    assert call(doctor, "get", f"/sessions/{pk}").json()["superseded_by"] is None

    second = call(doctor, "post", f"/sessions/{pk}/corrections", body)
    assert second.status_code == 201, second.content
    again = second.json()
    assert again["supersedes"] == pk and again["status"] == "draft"
    assert call(doctor, "get", f"/sessions/{pk}").json()["superseded_by"] == again["id"]
    # While that one is open, a third is refused (400, not a 500).
    r = call(doctor, "post", f"/sessions/{pk}/corrections", body)
    assert r.status_code == 400 and r.json()["code"] == "already_corrected"

    # The correction goes through; the old session is superseded by it.
    answers = {**EXAMPLE_GBT, "B.1.1": 3}
    call(doctor, "patch", f"/sessions/{again['id']}/answers", {"answers": answers})
    done = submit(w.doctor, again["id"], cosigned_by=w.nurse)
    assert done.status == SessionStatus.FINAL
    old = call(doctor, "get", f"/sessions/{pk}").json()
    assert old["status"] == "superseded" and old["superseded_by"] == again["id"]
    statuses = sorted(Assessment.objects.filter(supersedes_id=pk).values_list("status", flat=True))
    assert statuses == ["discarded", "final"]


def test_the_result_page_offers_to_correct_again_after_a_discarded_correction(w):
    doctor = client_for(w.doctor)
    pk = final_session(w)
    body = {"correction_reason": "漏录痴呆诊断", "second_assessor": w.nurse.pk}
    first = call(doctor, "post", f"/sessions/{pk}/corrections", body).json()
    call(doctor, "post", f"/sessions/{first['id']}/discard")
    page = doctor.get(f"/assessments/{pk}/").content.decode()
    assert 'id="correct-link"' in page and 'id="corrected-by"' not in page
    r = doctor.post(
        f"/assessments/new/?resident={w.old.pk}&supersedes={pk}",
        {
            "instrument": "gbt42195-2022",
            "reason": "dispute",
            "assessed_on": first["assessed_on"],
            "place": "home",
            "second_assessor": str(w.nurse.pk),
            "correction_reason": "再次更正",
        },
    )
    assert r.status_code == 302
    fix = Assessment.objects.get(supersedes_id=pk, status=SessionStatus.DRAFT)
    assert r["Location"] == f"/assessments/{fix.pk}/"


@pytest.mark.django_db(transaction=True)
def test_a_database_blocked_by_a_discarded_correction_recovers_by_migration(w):
    """Before migration 0006 a discarded correction draft held the one-to-one
    ``supersedes``: the assessment could never be corrected again. After it, it can."""
    pk = final_session(w)
    executor = MigrationExecutor(connection)
    before = [("assessments", "0005_sync_ltc_ad8")]
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    OldAssessment = old_apps.get_model("assessments", "Assessment")  # noqa: N806
    old = OldAssessment.objects.get(pk=pk)
    OldAssessment.objects.create(
        resident_id=old.resident_id,
        instrument_id=old.instrument_id,
        reason="dispute",
        status="discarded",
        assessed_on=old.assessed_on,
        place="home",
        assessor_id=w.doctor.pk,
        supersedes_id=pk,
        correction_reason="漏录痴呆诊断",
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("assessments"))  # 0006 and later

    doctor = client_for(w.doctor)
    body = {"correction_reason": "漏录痴呆诊断", "second_assessor": w.nurse.pk}
    r = call(doctor, "post", f"/sessions/{pk}/corrections", body)
    assert r.status_code == 201, r.content
    assert r.json()["supersedes"] == pk
