"""A new session takes its context from the resident's health record (GB/T 42195: her
active diagnoses; TCM: her latest BMI), says so on the bedside form, and the assessor may
change it. With the demo's data (陈秀英: 80+, mild disability by the items, F03 in her
record) that is the difference between level 1 and level 2 — and the high-age allowance."""

from __future__ import annotations

import datetime

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yiyang.assessments.models import Assessment, SessionStatus
from yiyang.assessments.selectors import current_version
from yiyang.assessments.tests.test_api_sessions import call
from yiyang.residents import loinc
from yiyang.residents.models import ConditionStatus
from yiyang.residents.services.health import add_condition
from yiyang.residents.services.observations import record_observation
from yiyang.seed.assessments import demo_answers
from yiyang.testing.clients import client_for as api_client
from yiyang.testing.network import PASSWORD

GBT = "gbt42195-2022"
ALLOWANCE = "high_age_disability_allowance"


def zh_client(user) -> Client:
    client = Client()  # no language cookie: the default UI language, Chinese
    client.force_login(user)
    return client


def with_record(w) -> None:
    """Her record: hypertension, diabetes, dementia (active), an old depression (resolved)."""
    for code in ("I10", "E11", "F03"):
        add_condition(w.doctor, w.old, icd10=code)
    add_condition(w.doctor, w.old, icd10="F32", status=ConditionStatus.RESOLVED)


def start(client: Client, w) -> Assessment:
    r = client.post(
        reverse("assessments:start") + f"?resident={w.old.pk}",
        {
            "instrument": GBT,
            "reason": "routine",
            "assessed_on": timezone.localdate().isoformat(),
            "place": "home",
            "second_assessor": str(w.nurse.pk),
        },
    )
    assert r.status_code == 302, r.content.decode()
    return Assessment.objects.get(pk=int(r["Location"].strip("/").split("/")[-1]))


def answer_all(client: Client, session: Assessment) -> None:
    answers = demo_answers(current_version(GBT).definition, 1)  # total 72: level 1
    data = {f"a-{code}": value for code, value in answers.items()}
    r = client.post(reverse("assessments:answer", args=[session.pk]), data)
    assert r.status_code == 302


def cosign(client: Client, session: Assessment) -> Assessment:
    r = client.post(
        reverse("assessments:submit", args=[session.pk]),
        {"mode": "cosign", "cosign_username": "nurse-a", "cosign_password": PASSWORD},
    )
    assert r.status_code == 302, r.content.decode()
    return Assessment.objects.get(pk=session.pk)


def test_the_diagnoses_come_from_her_record_and_make_her_eligible(w):
    with_record(w)
    doctor = zh_client(w.doctor)
    session = start(doctor, w)
    today = timezone.localdate().isoformat()
    assert session.context == {"diagnoses": ["E11", "F03", "I10"]}
    assert session.context_source == {
        "diagnoses": {"from": "health_record", "on": today, "value": ["E11", "F03", "I10"]}
    }
    page = doctor.get(reverse("assessments:session", args=[session.pk])).content.decode()
    assert 'value="E11, F03, I10"' in page
    assert (
        f'<small class="source" id="ctx-source-diagnoses">来自健康档案（{today}）</small>' in page
    )

    answer_all(doctor, session)
    done = cosign(doctor, session)
    assert done.status == SessionStatus.FINAL
    assert done.result["preliminary_level"] == 1 and done.result["changes"] == ["dementia"]
    assert done.level == 2
    assert done.eligibility_before[ALLOWANCE] is False
    assert done.eligibility_after[ALLOWANCE] is True
    result = doctor.get(reverse("assessments:session", args=[session.pk])).content.decode()
    assert f"<li>诊断（ICD-10）：E11、F03、I10（来自健康档案，{today}）</li>" in result


def test_the_assessor_may_change_the_diagnoses_and_the_page_says_what_the_record_had(w):
    with_record(w)
    doctor = zh_client(w.doctor)
    session = start(doctor, w)
    r = doctor.post(
        reverse("assessments:answer", args=[session.pk]),
        {"ctx": "1", "ctx-diagnoses": "I10", "ctx-risk_events_30d": "0"},
    )
    assert r.status_code == 302
    english = api_client(w.doctor)  # the English UI
    page = english.get(reverse("assessments:session", args=[session.pk])).content.decode()
    today = timezone.localdate().isoformat()
    assert (
        f'<small class="source" id="ctx-source-diagnoses">Changed by the assessor; the health '
        f"record ({today}) has: E11, F03, I10</small>" in page
    )
    answer_all(doctor, session)
    done = cosign(doctor, session)
    assert done.level == 1 and done.eligibility_after[ALLOWANCE] is False
    result = english.get(reverse("assessments:session", args=[session.pk])).content.decode()
    assert (
        f"<li>Diagnoses (ICD-10): I10 (changed by the assessor; the health record of {today} "
        "has: E11, F03, I10)</li>" in result
    )


def test_the_api_returns_the_prefilled_context_and_its_source(w):
    with_record(w)
    client = api_client(w.doctor)
    body = {"resident": w.old.pk, "instrument": GBT, "reason": "routine", "place": "home"}
    r = call(client, "post", "/sessions", body)
    assert r.status_code == 201
    today = timezone.localdate().isoformat()
    assert r.json()["context"] == {"diagnoses": ["E11", "F03", "I10"]}
    assert r.json()["context_source"] == {
        "diagnoses": {"from": "health_record", "on": today, "value": ["E11", "F03", "I10"]}
    }


def test_an_empty_record_is_said_too(w):
    session = start(zh_client(w.doctor), w)
    assert session.context == {"diagnoses": []}
    page = api_client(w.doctor).get(reverse("assessments:session", args=[session.pk]))
    today = timezone.localdate().isoformat()
    assert f"From the health record ({today}): no active diagnosis." in page.content.decode()


def test_the_tcm_questionnaire_takes_her_latest_bmi(w):
    measured = timezone.now() - datetime.timedelta(days=3)
    record_observation(w.doctor, w.old, loinc.HEIGHT, "160", "cm", effective_at=measured)
    record_observation(w.doctor, w.old, loinc.WEIGHT, "56.3", "kg", effective_at=measured)
    client = api_client(w.doctor)
    body = {
        "resident": w.old.pk,
        "instrument": "tcm-constitution-elderly",
        "reason": "routine",
        "place": "home",
    }
    r = call(client, "post", "/sessions", body)
    assert r.status_code == 201, r.content
    day = timezone.localtime(measured).date().isoformat()
    assert r.json()["context"] == {"bmi": 22.0}
    assert r.json()["context_source"] == {
        "bmi": {"from": "health_record", "on": day, "value": 22.0}
    }
