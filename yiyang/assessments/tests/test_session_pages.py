"""The assessment session pages: start, the bedside form with htmx autosave, submit with
on-device co-signing, the result view, sign-off, discard, the PDF report, corrections and
who may do what. The worked example is docs/standards.md §1 (64 → level 2; with F03 →
level 3)."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pypdf
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.assessments.models import Assessment, Due, SessionStatus, Standing
from yiyang.assessments.pages.sessions.start import second_assessor_candidates
from yiyang.assessments.services.sessions import save_answers, start, submit
from yiyang.assessments.tests.conftest import World
from yiyang.assessments.tests.test_scoring import EXAMPLE_GBT
from yiyang.common.permissions import Role
from yiyang.residents.models import (
    Consent,
    ConsentGiver,
    ConsentPurpose,
    Contact,
    ProxyGrant,
    Relation,
    Resident,
)
from yiyang.testing.clients import client_for
from yiyang.testing.network import PASSWORD, make_user

HX = {"HTTP_HX_REQUEST": "true"}
GBT = "gbt42195-2022"
TODAY = timezone.localdate


# Messages in English (the root conftest's ``english`` fixture).
pytestmark = pytest.mark.usefixtures("english")


def text(response) -> str:
    return response.content.decode()


def fieldset(page: str, dom_id: str) -> str:
    """The HTML of the fieldset with ``id``."""
    match = re.search(rf'<fieldset[^>]*id="{re.escape(dom_id)}".*?</fieldset>', page, re.S)
    assert match, f"no fieldset {dom_id}"
    return match.group(0)


def alerts(block: str) -> list[str]:
    return [html.unescape(m).strip() for m in re.findall(r'role="alert"[^>]*>(.*?)</p>', block)]


def url(name: str, session: Assessment | int) -> str:
    pk = session if isinstance(session, int) else session.pk
    return reverse(f"assessments:{name}", args=[pk])


def start_url(resident: Resident, supersedes: Assessment | None = None) -> str:
    query = f"?resident={resident.pk}"
    if supersedes is not None:
        query += f"&supersedes={supersedes.pk}"
    return reverse("assessments:start") + query


def start_post(client: Client, resident: Resident, **extra: Any) -> Any:
    data = {
        "instrument": GBT,
        "reason": "first",
        "assessed_on": TODAY().isoformat(),
        "place": "home",
        "place_note": "",
        "reason_note": "",
        "second_assessor": "",
    }
    supersedes = extra.pop("supersedes", None)
    data.update(extra)
    return client.post(start_url(resident, supersedes), data)


def answer(client: Client, session: Assessment, code: str, value: Any) -> Any:
    return client.post(url("answer", session), {f"a-{code}": value}, **HX)  # type: ignore[arg-type]


def save_all(client: Client, session: Assessment, answers: dict, **context) -> None:
    """A plain (no-script) POST of the whole form: every answer and the context."""
    data = {f"a-{code}": value for code, value in answers.items()}
    if context:
        data["ctx"] = "1"
        data.update({f"ctx-{k}": v for k, v in context.items()})
    response = client.post(url("answer", session), data)
    assert response.status_code == 302, text(response)


def own_login(resident: Resident) -> User:
    user = make_user(Role.RESIDENT, None, username=f"own-{resident.pk}")
    Resident.objects.filter(pk=resident.pk).update(account=user)
    return user


def family_login(resident: Resident, by: User) -> User:
    user = make_user(Role.FAMILY, None, username=f"family-{resident.pk}")

    def consent(purpose: str) -> Consent:
        return Consent.objects.create(
            resident=resident,
            purpose=purpose,
            given_by=ConsentGiver.SELF,
            given_at=timezone.now(),
            recorded_by=by,
        )

    consent(ConsentPurpose.FAMILY_SHARING)
    contact = Contact.objects.create(
        resident=resident, name="陈小红", relation=Relation.DAUGHTER, account=user
    )
    ProxyGrant.objects.create(
        resident=resident,
        contact=contact,
        user=user,
        consent=consent(ConsentPurpose.PROXY_ACCESS),
        can_view_readings=True,
    )
    return user


def started(w: World, client: Client, **extra) -> Assessment:
    extra.setdefault("second_assessor", str(w.nurse.pk))
    response = start_post(client, w.old, **extra)
    assert response.status_code == 302, text(response)
    session = Assessment.objects.latest("id")
    assert response["Location"] == url("session", session)
    return session


# --- the worked example, start to PDF -----------------------------------------------------


def test_worked_example_from_start_to_report(w):
    doctor = client_for(w.doctor)

    # Start: the form offers the current instruments, GB/T 42195 first, and the nurse.
    page = doctor.get(start_url(w.old))
    assert page.status_code == 200
    body = text(page)
    options = re.findall(r'<option value="([^"]+)"', body.split('name="instrument"', 1)[1])
    assert options[0] == GBT
    assert "barthel" in options and "tcm-constitution-elderly" in options
    assert f'<option value="{w.nurse.pk}"' in body
    assert 'name="correction_reason"' not in body
    session = started(w, doctor)
    assert session.status == SessionStatus.DRAFT and session.second_assessor == w.nurse

    # The bedside form: 26 items in 4 domains, each option with its score and anchor.
    page = doctor.get(url("session", session))
    body = text(page)
    assert page.status_code == 200 and 'id="session-form"' in body
    assert body.count('<fieldset class="item') == 26
    for domain in ("B.1", "B.2", "B.3", "B.4"):
        assert f'id="domain-{domain}"' in body
    item = fieldset(body, "item-B_1_1")
    assert "eating" in item and "independent" in item and "fully dependent" in item
    assert f'hx-post="/assessments/{session.pk}/answer/"' in item
    assert 'name="a-B.1.1" value="4"' in item
    assert re.search(r"answered 0/26", body)
    assert 'id="ctx-diagnoses"' in body and 'name="ctx-coma"' in body

    # Autosave one answer: the item's fieldset and the running bar out of band.
    response = answer(doctor, session, "B.1.1", "4")
    assert response.status_code == 200
    fragment = text(response)
    assert "<html" not in fragment
    assert 'id="item-B_1_1"' in fragment and 'value="4" checked' in fragment
    assert 'id="running"' in fragment and 'hx-swap-oob="true"' in fragment
    assert "answered 1/26" in fragment and "running total 4" in fragment
    session.refresh_from_db()
    assert session.answers == {"B.1.1": 4}

    # A refused value: the error at the item, nothing stored, the bar unchanged.
    response = answer(doctor, session, "B.2.4", "4")  # stairs go to 3
    assert response.status_code == 200
    fragment = text(response)
    assert alerts(fieldset(fragment, "item-B_2_4")) == ["B.2.4 must be one of 0, 1, 2, 3"]
    assert "has-error" in fieldset(fragment, "item-B_2_4")
    assert "answered 1/26" in fragment
    session.refresh_from_db()
    assert session.answers == {"B.1.1": 4}

    # Context: a bad ICD-10 code is refused at its field; a good one is stored.
    bad = doctor.post(
        url("answer", session),
        {"ctx": "1", "ctx-diagnoses": "F03, dementia", "ctx-risk_events_30d": "0"},
        **HX,
    )
    errors = alerts(fieldset(text(bad), "context"))
    assert errors == ["Not ICD-10 codes: DEMENTIA (e.g. F03, I10, E11.9)"]
    session.refresh_from_db()
    assert session.context == {"diagnoses": []}  # as pre-filled from her (empty) record
    good = doctor.post(
        url("answer", session),
        {"ctx": "1", "ctx-diagnoses": "f03", "ctx-risk_events_30d": "0"},
        **HX,
    )
    assert alerts(fieldset(text(good), "context")) == []
    session.refresh_from_db()
    assert session.context == {"coma": False, "diagnoses": ["F03"], "risk_events_30d": 0}

    # Resume: 20 answers, then the page shows them checked and the running total.
    first20 = dict(list(EXAMPLE_GBT.items())[:20])
    save_all(doctor, session, first20)
    body = text(doctor.get(url("session", session)))
    assert "answered 20/26" in body
    assert f"running total {sum(first20.values())}" in body
    assert 'name="a-B.1.3" value="2" checked' in body

    # Submit with 6 items missing: 422, every missing item marked, a summary, nothing stored.
    response = doctor.post(url("submit", session), {"mode": "pending"})
    assert response.status_code == 422
    body = text(response)
    assert 'id="error-summary"' in body
    missing = [code for code in EXAMPLE_GBT if code not in first20]
    for code in missing:
        block = fieldset(body, "item-" + code.replace(".", "_"))
        assert "has-error" in block and alerts(block) == ["Not answered yet."], code
    assert "has-error" not in fieldset(body, "item-B_1_1")
    session.refresh_from_db()
    assert session.status == SessionStatus.DRAFT and session.result is None

    save_all(doctor, session, EXAMPLE_GBT)

    # Co-signing: a wrong password is refused and nothing changes.
    response = doctor.post(
        url("submit", session),
        {"mode": "cosign", "cosign_username": w.nurse.username, "cosign_password": "wrong"},
    )
    assert response.status_code == 400
    assert "Wrong username, password or code." in alerts(text(response))
    session.refresh_from_db()
    assert session.status == SessionStatus.DRAFT and session.result is None
    # … so are the assessor's own credentials and a user who may not record.
    for user in (w.doctor, w.caregiver):
        response = doctor.post(
            url("submit", session),
            {"mode": "cosign", "cosign_username": user.username, "cosign_password": PASSWORD},
        )
        assert response.status_code == 400, user
        session.refresh_from_db()
        assert session.status == SessionStatus.DRAFT
    assert not Standing.objects.filter(resident=w.old).exists()

    # The right password: final at once, level 3 (64 → 2, F03 → +1).
    response = doctor.post(
        url("submit", session),
        {"mode": "cosign", "cosign_username": w.nurse.username, "cosign_password": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == url("session", session)
    session.refresh_from_db()
    assert session.status == SessionStatus.FINAL
    assert (session.total, session.level) == (64, 3)
    assert session.result["changes"] == ["dementia"]
    assert session.second_assessor == w.nurse and session.second_signed_at is not None
    assert Standing.objects.get(resident=w.old).ability_level == 3
    assert session.eligibility_before == {
        "high_age_disability_allowance": False,
        "ltc_insurance": False,
    }
    assert session.eligibility_after == {
        "high_age_disability_allowance": True,
        "ltc_insurance": False,
    }

    # The result page.
    page = doctor.get(url("session", session))
    assert page.status_code == 200
    body = text(page)
    assert 'id="session-result"' in body and 'id="session-form"' not in body
    headline = body.split('id="headline"', 1)[1].split("</section>", 1)[0]
    facts = dict(
        (html.unescape(k), html.unescape(v))
        for k, v in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", headline)
    )
    assert facts == {
        "Total": "64",
        "Preliminary level": "2 中度失能",
        "Level changes": "diagnosed dementia (F00–F03): +1 level",
        "Final level": "3 重度失能",
    }
    bars = dict(
        re.findall(r'data-domain="([^"]+)">.*?<span class="bar-value">(.*?)</span>', body, re.S)
    )
    assert bars == {"B.1": "24 / 32", "B.2": "11 / 15", "B.3": "21 / 28", "B.4": "8 / 15"}
    assert 'data-percent="75.0"' in body  # B.1 24/32 (width set by web/yiyang.js)
    elig = body.split('id="eligibility"', 1)[1].split("</section>", 1)[0]
    assert re.search(
        r'<tr class="changed" data-rule="high_age_disability_allowance"'
        r' data-before="no" data-after="yes">',
        elig,
    )
    assert re.search(
        r'<tr class="" data-rule="ltc_insurance" data-before="no" data-after="no">', elig
    )
    assert "High-age disability allowance" in elig
    due = Due.objects.get(resident=w.old, instrument_code=GBT, done_by__isnull=True)
    assert f"Due on {due.due_on:%Y-%m-%d}" in body
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="assessment-history"' in body
    assert 'data-count="1"' in body
    items = body.split('id="items"', 1)[1]
    row = re.search(r'<tr data-item="B.1.3">(.*?)</tr>', items, re.S).group(1)
    assert "bathing" in row and "needs some help, mostly self" in row and ">2</td>" in row
    assert "unverified rule" in body and "changes.stack_plus_one" in body
    assert 'id="report-link"' in body and 'id="correct-link"' in body
    assert 'id="sign-form"' not in body  # final: nothing to sign

    # The PDF.
    response = doctor.get(url("report", session))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (f'inline; filename="{session.number}-{GBT}.pdf"')
    assert response.content.startswith(b"%PDF")
    printed = "".join(
        re.sub(r"\s+", "", p.extract_text())
        for p in pypdf.PdfReader(io.BytesIO(response.content)).pages
    )
    for expected in (
        "老年人能力评估报告",
        session.number,
        "陈秀英",
        w.old.id_number_masked,
        "3重度失能",
        "2中度失能",
        "高龄失能老人补贴",
        "不符合→符合",
        "首次评估",
        "居家",
        "诊断（ICD-10）：F03",
        "未核实规则",
    ):
        assert expected in printed, expected
    assert w.old.id_number not in printed

    # The correction: starts from the old answers, needs a reason, supersedes on submit.
    page = doctor.get(start_url(w.old, session))
    assert page.status_code == 200 and 'name="correction_reason"' in text(page)
    response = start_post(doctor, w.old, supersedes=session, second_assessor=str(w.nurse.pk))
    assert response.status_code == 400
    block = text(response).split('id="field-correction_reason"', 1)[1].split("</div>", 1)[0]
    assert alerts(block) == ["This field is required."]
    assert Assessment.objects.count() == 1
    correction = started(
        w,
        doctor,
        supersedes=session,
        correction_reason="F03 was not confirmed by a psychiatrist",
    )
    assert correction.supersedes == session and correction.answers == EXAMPLE_GBT
    save_all(doctor, correction, {}, diagnoses="", risk_events_30d="0")
    response = doctor.post(
        url("submit", correction),
        {"mode": "cosign", "cosign_username": w.nurse.username, "cosign_password": PASSWORD},
    )
    assert response.status_code == 302
    correction.refresh_from_db()
    session.refresh_from_db()
    assert (correction.status, correction.total, correction.level) == ("final", 64, 2)
    assert session.status == SessionStatus.SUPERSEDED
    assert Standing.objects.get(resident=w.old).ability_level == 2
    new_page = text(doctor.get(url("session", correction)))
    assert f'href="{url("session", session)}"' in new_page and 'id="corrects"' in new_page
    assert "2 中度失能" in new_page
    old_page = text(doctor.get(url("session", session)))
    assert 'id="corrected-by"' in old_page and f'href="{url("session", correction)}"' in old_page
    assert 'id="correct-link"' not in old_page  # superseded: not correctable again
    assert doctor.get(url("report", session)).status_code == 200


# --- other paths ----------------------------------------------------------------------------


def test_autosave_query_count(w):
    """One tap at the bedside: access check and audited read, the locked save with its
    audit row, and the fragment (pinned so a lazy relation does not creep in)."""
    doctor = client_for(w.doctor)
    session = started(w, doctor)
    answer(doctor, session, "B.1.1", "4")
    with CaptureQueriesContext(connection) as queries:
        response = answer(doctor, session, "B.1.2", "3")
    assert response.status_code == 200 and "answered 2/26" in text(response)
    statements = [
        q["sql"]
        for q in queries.captured_queries
        if "SAVEPOINT" not in q["sql"] and "pg_advisory" not in q["sql"]
    ]
    assert len(statements) <= 15, "\n".join(statements)


def test_submit_for_sign_off_then_the_second_assessor_signs(w):
    doctor, nurse = client_for(w.doctor), client_for(w.nurse)
    session = started(w, doctor)
    save_all(doctor, session, EXAMPLE_GBT)
    response = doctor.post(url("submit", session), {"mode": "pending"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.PENDING_SIGNOFF and session.level == 2
    assert not Standing.objects.filter(resident=w.old, ability_level__isnull=False).exists()
    assert 'id="sign-form"' not in text(doctor.get(url("session", session)))
    page = text(nurse.get(url("session", session)))
    assert 'id="sign-form"' in page and 'id="pending-note"' in page
    assert nurse.post(url("sign_off", session)).status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.FINAL
    assert Standing.objects.get(resident=w.old).ability_level == 2


def test_submit_without_any_second_assessor_is_refused(w):
    doctor = client_for(w.doctor)
    session = started(w, doctor, second_assessor="")
    save_all(doctor, session, EXAMPLE_GBT)
    response = doctor.post(url("submit", session), {"mode": "pending"})
    assert response.status_code == 400
    assert alerts(text(response).split('id="submit"', 1)[1]) == [
        "This instrument needs a second assessor: name one."
    ]
    session.refresh_from_db()
    assert session.status == SessionStatus.DRAFT and session.result is None


def test_context_refused_on_submit_is_shown_at_the_context_fields(w):
    doctor = client_for(w.doctor)
    session = started(w, doctor)
    save_all(doctor, session, EXAMPLE_GBT, coma="on", diagnoses="F03", risk_events_30d="0")
    response = doctor.post(url("submit", session), {"mode": "pending"})
    assert response.status_code == 422
    body = text(response)
    assert alerts(fieldset(body, "context")) == [
        "Tick “in a coma” exactly when B.3.9 is answered 0 (coma)."
    ]
    assert "context.coma" in body.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    session.refresh_from_db()
    assert session.status == SessionStatus.DRAFT and session.result is None


def test_start_errors_are_shown_next_to_the_fields_and_nothing_is_saved(w):
    doctor = client_for(w.doctor)
    tomorrow = (TODAY() + timezone.timedelta(days=1)).isoformat()
    response = start_post(doctor, w.old, assessed_on=tomorrow)
    assert response.status_code == 400
    block = text(response).split('id="field-assessed_on"', 1)[1].split("</div>", 1)[0]
    assert alerts(block) == ["The assessment date cannot be in the future."]
    response = start_post(doctor, w.old, second_assessor=str(w.doctor.pk))
    assert response.status_code == 400  # not a choice: the actor is not offered
    response = start_post(doctor, w.no_consent)
    assert response.status_code == 400
    assert "has not consented to the processing of health data" in text(response)
    assert not Assessment.objects.exists()


def test_discard_a_draft(w):
    doctor = client_for(w.doctor)
    session = started(w, doctor)
    response = doctor.post(url("discard", session))
    assert response.status_code == 302
    assert response["Location"] == reverse("residents:detail", args=[w.old.pk])
    session.refresh_from_db()
    assert session.status == SessionStatus.DISCARDED
    page = doctor.get(url("session", session))
    assert page.status_code == 200 and 'id="no-result"' in text(page)
    assert doctor.get(url("report", session)).status_code == 404
    assert answer(doctor, session, "B.1.1", "4").status_code == 200
    session.refresh_from_db()
    assert session.answers == {}


@pytest.mark.parametrize(
    ("code", "context_field"),
    [
        ("barthel", "ctx-band_set"),
        ("tcm-constitution-elderly", "ctx-bmi"),
        ("selfcare-5", None),
        ("ltc-disability-2021", None),
        ("mna-sf", None),
        ("gds-15", None),
        ("morse-fall", None),
        ("braden", None),
        ("mini-cog", None),
        ("ad8", None),
    ],
)
def test_every_instrument_has_a_bedside_form(w, code, context_field):
    session = start(
        w.doctor, w.old, instrument=code, reason="first", assessed_on=TODAY(), place="home"
    )
    body = text(client_for(w.doctor).get(url("session", session)))
    definition = session.instrument.definition
    assert body.count('<fieldset class="item') == len(definition["items"])
    if context_field:
        assert f'name="{context_field}"' in body
    else:
        assert 'id="context"' not in body


def _first_options(definition: dict) -> dict:
    """Every item answered with its first option (one item of each one-of group)."""
    skip = {code for group in definition.get("one_of", []) for code in group[1:]}
    out = {}
    for item in definition["items"]:
        if item["code"] in skip:
            continue
        option = item["options"][0]
        by_value = definition["kind"] == "selfcare5" or item.get("answer") == "value"
        out[item["code"]] = option["value"] if by_value else option["score"]
    return out


@pytest.mark.parametrize(
    "code",
    [
        GBT,
        "barthel",
        "tcm-constitution-elderly",
        "selfcare-5",
        "ltc-disability-2021",
        "mna-sf",
        "gds-15",
        "morse-fall",
        "braden",
        "mini-cog",
        "ad8",
    ],
)
def test_every_instrument_has_a_result_page_and_a_report(w, code):
    session = start(
        w.doctor, w.old, instrument=code, reason="first", assessed_on=TODAY(), place="home"
    )
    definition = session.instrument.definition
    save_answers(w.doctor, session, _first_options(definition))
    session = submit(w.doctor, session, cosigned_by=w.nurse)
    assert session.status == SessionStatus.FINAL
    client = client_for(w.doctor)
    body = text(client.get(url("session", session)))
    assert 'id="headline"' in body and 'id="items"' in body
    facts = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", body)
    assert facts, code
    if "level" in session.result:
        assert ("Final level", f"{session.level} {session.result['level_name']}") in facts
    if "total" in session.result:
        assert ("Total", str(session.total)) in facts
        assert 'id="assessment-history"' in body
    if "indicator_grades" in session.result:
        assert ("activities of daily living", "能力完好") in [
            (html.unescape(k), v) for k, v in facts
        ]
    answered = re.findall(r'<tr data-item="[^"]+"><td>.*?</td><td>(.*?)</td>', body, re.S)
    assert len(answered) == len(definition["items"]) and "—" not in answered[0]
    pdf = client.get(url("report", session))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_barthel_submits_straight_to_final_with_a_band(w):
    doctor = client_for(w.doctor)
    session = start(
        w.doctor, w.old, instrument="barthel", reason="first", assessed_on=TODAY(), place="home"
    )
    items = session.instrument.definition["items"]
    save_all(doctor, session, {i["code"]: i["options"][0]["score"] for i in items}, band_set="a")
    response = doctor.post(url("submit", session), {"mode": "submit"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.FINAL and session.total == 100
    body = text(doctor.get(url("session", session)))
    assert "<dt>Total</dt><dd>100</dd>" in body and "<dt>Band</dt><dd>无需依赖</dd>" in body
    assert 'id="assessment-history"' in body
    assert doctor.get(url("report", session)).content.startswith(b"%PDF")


def test_tcm_result_lists_constitutions(w):
    doctor = client_for(w.doctor)
    session = start(
        w.doctor,
        w.old,
        instrument="tcm-constitution-elderly",
        reason="first",
        assessed_on=TODAY(),
        place="home",
    )
    answers = {f"q{n}": 1 for n in range(1, 34) if n != 9}
    answers.update({"q2": 5, "q3": 5, "q4": 5, "q14": 5})  # qi deficiency 20 → yes
    save_all(doctor, session, answers, bmi="22.5")
    session.refresh_from_db()
    assert session.context == {"bmi": 22.5}
    assert doctor.post(url("submit", session), {"mode": "submit"}).status_code == 302
    session.refresh_from_db()
    assert session.result["primary"] == ["qi_deficiency"]
    body = text(doctor.get(url("session", session)))
    assert "<dt>Primary constitution</dt><dd>气虚质</dd>" in body
    assert "<dt>气虚质</dt><dd>20 · yes</dd>" in body
    assert 'data-domain="qi_deficiency"' in body
    assert "from BMI 22.5" in body
    assert doctor.get(url("report", session)).content.startswith(b"%PDF")


def test_labels_and_anchors_follow_the_ui_language(w):
    session = start(
        w.doctor, w.old, instrument=GBT, reason="first", assessed_on=TODAY(), place="home"
    )
    chinese = text(client_for(w.doctor, language=None).get(url("session", session)))
    item = fieldset(chinese, "item-B_1_1")
    assert "进食" in item and "独立完成" in item and "eating" not in item
    english = text(client_for(w.doctor).get(url("session", session)))
    item = fieldset(english, "item-B_1_1")
    assert "eating" in item and "independent" in item and "进食" not in item


# --- who may do what ------------------------------------------------------------------------


def test_access(w):
    doctor = client_for(w.doctor)
    session = started(w, doctor)
    save_all(doctor, session, EXAMPLE_GBT)

    # Out of scope: 404 everywhere, nothing written.
    outsider = client_for(w.outsider)
    assert outsider.get(start_url(w.old)).status_code == 404
    for name in ("session", "report"):
        assert outsider.get(url(name, session)).status_code == 404, name
    for name in ("answer", "submit", "discard", "sign_off"):
        assert outsider.post(url(name, session), {"a-B.1.1": "0"}).status_code == 404, name
    assert client_for(w.doctor).get(url("session", 999999)).status_code == 404

    # A caregiver (no record permission) cannot start or change anything.
    caregiver = client_for(w.caregiver)
    assert caregiver.get(start_url(w.old)).status_code == 403
    assert start_post(caregiver, w.old).status_code == 403
    assert caregiver.post(url("answer", session), {"a-B.1.1": "0"}, **HX).status_code == 403
    assert caregiver.post(url("submit", session), {"mode": "pending"}).status_code == 403
    assert caregiver.post(url("discard", session)).status_code == 403
    session.refresh_from_db()
    assert session.status == SessionStatus.DRAFT and session.answers["B.1.1"] == 4
    # … and sees a draft as "in progress", without the form.
    page = caregiver.get(url("session", session))
    assert page.status_code == 200 and 'id="no-result"' in text(page)

    # Another recorder in scope sees the draft read-only.
    other = make_user(Role.ASSESSOR, w.net.a.county, username="assessor-a")
    page = text(client_for(other).get(url("session", session)))
    assert 'id="read-only"' in page and "hx-post" not in fieldset(page, "item-B_1_1")
    assert " disabled" in fieldset(page, "item-B_1_1")

    # Anonymous: the login page.
    assert Client().get(url("session", session)).status_code == 302

    doctor.post(
        url("submit", session),
        {"mode": "cosign", "cosign_username": w.nurse.username, "cosign_password": PASSWORD},
    )
    session.refresh_from_db()
    assert session.status == SessionStatus.FINAL

    # The resident's own login and a family proxy see the result and the PDF, not record.
    for user in (own_login(w.old), family_login(w.old, w.doctor)):
        client = client_for(user)
        page = client.get(url("session", session))
        assert page.status_code == 200, user.role
        body = text(page)
        assert "<dt>Final level</dt><dd>2 中度失能</dd>" in body
        assert 'id="correct-link"' not in body and 'id="sign-form"' not in body
        assert client.get(url("report", session)).status_code == 200, user.role
        assert client.get(start_url(w.old)).status_code == 403, user.role
        assert client.post(url("discard", session)).status_code == 403, user.role
    # A resident login does not see someone else's assessment.
    stranger = own_login(w.young)
    assert client_for(stranger).get(url("session", session)).status_code == 404

    # The caregiver may read the result (health view) but not correct it.
    page = caregiver.get(url("session", session))
    assert page.status_code == 200 and 'id="correct-link"' not in text(page)


def test_second_assessor_candidates_are_colleagues_who_record(w):
    team_nurse = make_user(Role.NURSE, w.net.a.team, username="team-nurse")
    b_nurse = make_user(Role.NURSE, w.net.b.county, username="b-nurse")
    candidates = set(second_assessor_candidates(w.doctor, w.old))
    assert w.nurse in candidates and team_nurse in candidates
    assert w.doctor not in candidates  # not the actor
    assert w.caregiver not in candidates  # may not record
    assert b_nurse not in candidates and w.outsider not in candidates  # another county
