"""长期护理失能等级评估标准（试行） 2021 (kind ``ltc2021``) and the AD8 dementia screen
(kind ``sum``): hand-computed worked examples, grade boundaries, every matrix cell, the
tables being data, refusals naming items, property tests against ``reference.py`` and the
scoring API."""

from __future__ import annotations

import copy
import json
from itertools import product
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from yiyang.assessments.instruments import current
from yiyang.assessments.models import InstrumentVersion
from yiyang.assessments.scoring import ScoringError, score
from yiyang.assessments.tests import reference as ref
from yiyang.common.permissions import Role
from yiyang.testing.network import build_network, make_user

LTC = current("ltc-disability-2021")
AD8 = current("ad8")
BARTHEL = current("barthel")
assert LTC and AD8 and BARTHEL

SETTINGS = settings(max_examples=200, deadline=None, database=None)  # no .hypothesis dir

COGNITION_MAX = dict.fromkeys(ref.LTC_COGNITION, 4)
PERCEPTION_MAX = dict.fromkeys(ref.LTC_PERCEPTION, 4)
ADL_MAX = {k: max(v) for k, v in ref.BARTHEL.items()}


def errors_of(definition: dict[str, Any], answers: Any, context: Any = None) -> set[tuple]:
    with pytest.raises(ScoringError) as info:
        score(definition, answers, context)
    return {(e.item, e.code) for e in info.value.errors}


def strip(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("instrument", "version")}


def fill(maxima: dict[str, int], total: int) -> dict[str, int]:
    """Answers reaching ``total`` by filling items in order up to their maximum (ADL items
    accept every multiple of 5 up to their maximum, the others every integer 0–4)."""
    answers = {}
    remaining = total
    for item, top in maxima.items():
        answers[item] = min(top, remaining)
        remaining -= answers[item]
    assert remaining == 0
    return answers


def ltc_answers(adl: int, cognition: int, perception: int) -> dict[str, int]:
    return fill(ADL_MAX, adl) | fill(COGNITION_MAX, cognition) | fill(PERCEPTION_MAX, perception)


EXAMPLE_LTC = {
    # ADL 10 + 0 + 5 + 5 + 10 + 5 + 5 + 10 + 10 + 0 = 60 → 中度受损 (45–60)
    "feeding": 10,
    "bathing": 0,
    "grooming": 5,
    "dressing": 5,
    "bowels": 10,
    "bladder": 5,
    "toilet": 5,
    "transfer": 10,
    "mobility": 10,
    "stairs": 0,
    # cognition 3 + 4 + 2 + 2 = 11 → 中度受损 (4–11)
    "cognition.time": 3,
    "cognition.person": 4,
    "cognition.place": 2,
    "cognition.memory": 2,
    # perception 4 + 3 + 4 = 11 → 轻度受损 (8–11)
    "perception.vision": 4,
    "perception.hearing": 3,
    "perception.communication": 4,
}


# --- worked examples (computed by hand) ----------------------------------------------------


def test_ltc_worked_example_moderate():
    # row ADL moderate; column = worse of (cognition moderate, perception mild) = moderate
    # → matrix[moderate][moderate] = 2 中度失能
    assert score(LTC, EXAMPLE_LTC) == {
        "instrument": "ltc-disability-2021",
        "version": "1",
        "total": 60,
        "domains": {"adl": 60, "cognition": 11, "perception": 11},
        "indicator_grades": {
            "adl": {"code": "moderate", "name": "中度受损"},
            "cognition": {"code": "moderate", "name": "中度受损"},
            "perception": {"code": "mild", "name": "轻度受损"},
        },
        "level": 2,
        "level_name": "中度失能",
    }


def test_ltc_worked_example_severe_three():
    # ADL feeding 5 + bowels 10 + bladder 10 + mobility 5, the rest 0 = 30 → 重度受损 (≤ 40);
    # cognition 1 + 1 + 0 + 1 = 3 → 重度受损; perception 4 + 4 + 4 = 12 → 能力完好;
    # column = worse = severe → matrix[severe][severe] = 5 重度失能Ⅲ级
    answers = dict.fromkeys(ref.BARTHEL, 0) | {"feeding": 5, "bowels": 10, "bladder": 10}
    answers |= {"mobility": 5, "cognition.time": 1, "cognition.person": 1}
    answers |= {"cognition.place": 0, "cognition.memory": 1}
    answers |= dict.fromkeys(ref.LTC_PERCEPTION, 4)
    result = score(LTC, answers)
    assert result["domains"] == {"adl": 30, "cognition": 3, "perception": 12}
    assert (result["level"], result["level_name"]) == (5, "重度失能Ⅲ级")


def test_ltc_perception_alone_can_be_the_worse_column():
    # ADL 100 (能力完好), cognition 16 (能力完好), perception 1 + 1 + 1 = 3 (重度受损)
    # → matrix[intact][severe] = 1 轻度失能
    answers = ltc_answers(100, 16, 0) | dict.fromkeys(ref.LTC_PERCEPTION, 1)
    result = score(LTC, answers)
    assert result["indicator_grades"]["perception"] == {"code": "severe", "name": "重度受损"}
    assert (result["level"], result["level_name"]) == (1, "轻度失能")


def test_ltc_severe_adl_with_moderate_cognition_is_severe_two():
    # ADL 40 (重度受损), cognition 8 (中度受损), perception 12 → matrix[severe][moderate] = 4
    result = score(LTC, ltc_answers(40, 8, 12))
    assert (result["total"], result["level"], result["level_name"]) == (40, 4, "重度失能Ⅱ级")


def test_ltc_extremes():
    best = score(LTC, ltc_answers(100, 16, 12))
    assert (best["level"], best["level_name"]) == (0, "基本正常")
    worst = score(LTC, ltc_answers(0, 0, 0))
    assert (worst["level"], worst["level_name"]) == (5, "重度失能Ⅲ级")


# --- grade boundaries and every matrix cell -------------------------------------------------


@pytest.mark.parametrize(
    ("adl", "grade"),
    [(100, "intact"), (95, "mild"), (65, "mild"), (60, "moderate"), (45, "moderate")]
    + [(40, "severe"), (0, "severe")],
)
def test_ltc_adl_boundaries(adl, grade):
    result = score(LTC, ltc_answers(adl, 16, 12))
    assert (result["total"], result["indicator_grades"]["adl"]["code"]) == (adl, grade)


@pytest.mark.parametrize(
    ("cognition", "grade"),
    [(16, "intact"), (15, "mild"), (12, "mild"), (11, "moderate"), (4, "moderate")]
    + [(3, "severe"), (0, "severe")],
)
def test_ltc_cognition_boundaries(cognition, grade):
    result = score(LTC, ltc_answers(100, cognition, 12))
    assert result["indicator_grades"]["cognition"]["code"] == grade


@pytest.mark.parametrize(
    ("perception", "grade"),
    [(12, "intact"), (11, "mild"), (8, "mild"), (7, "moderate"), (4, "moderate")]
    + [(3, "severe"), (0, "severe")],
)
def test_ltc_perception_boundaries(perception, grade):
    result = score(LTC, ltc_answers(100, 16, perception))
    assert result["indicator_grades"]["perception"]["code"] == grade


ADL_AT = (100, 80, 50, 20)  # one total inside each ADL grade, intact → severe
COGNITION_AT = (16, 13, 7, 2)
PERCEPTION_AT = (12, 9, 5, 1)


@pytest.mark.parametrize(("a", "c", "p"), list(product(range(4), repeat=3)))
def test_ltc_every_matrix_cell(a, c, p):
    result = score(LTC, ltc_answers(ADL_AT[a], COGNITION_AT[c], PERCEPTION_AT[p]))
    level = ref.LTC_LEVEL[a][max(c, p)]
    assert (result["level"], result["level_name"]) == (level, ref.LTC_NAMES[level])


def test_ltc_tables_are_data():
    """Editing the grade bands or the matrix in the definition changes the result."""
    edited = copy.deepcopy(LTC)
    edited["matrix"]["table"]["moderate"]["moderate"] = 3
    assert score(edited, EXAMPLE_LTC)["level_name"] == "重度失能Ⅰ级"
    adl = edited["indicators"][0]
    assert adl["code"] == "adl"
    adl["grades"][2] = dict(adl["grades"][2], min=50)
    adl["grades"][3] = dict(adl["grades"][3], max=45)
    assert score(edited, ltc_answers(45, 16, 12))["indicator_grades"]["adl"]["code"] == "severe"
    edited["matrix"]["columns_worst_of"] = ["cognition"]  # perception no longer counts
    assert score(edited, ltc_answers(100, 16, 0))["level"] == 0


# --- definitions --------------------------------------------------------------------------


def reachable(items: list[dict[str, Any]]) -> set[int]:
    totals = {0}
    for item in items:
        totals = {t + o["score"] for t in totals for o in item["options"]}
    return totals


def test_ltc_definition_is_consistent():
    items = {i["code"]: i for i in LTC["items"]}
    codes = [c for ind in LTC["indicators"] for c in ind["items"]]
    assert codes == list(items) and len(codes) == 17
    assert [ind["code"] for ind in LTC["indicators"]] == ["adl", "cognition", "perception"]
    # ADL items: the Barthel codes and points
    barthel = {i["code"]: sorted(o["score"] for o in i["options"]) for i in BARTHEL["items"]}
    adl = LTC["indicators"][0]["items"]
    assert {c: sorted(o["score"] for o in items[c]["options"]) for c in adl} == barthel
    assert set(LTC["indicators"][1]["items"]) == set(ref.LTC_COGNITION)
    assert set(LTC["indicators"][2]["items"]) == set(ref.LTC_PERCEPTION)
    for indicator in LTC["indicators"]:
        own = [items[c] for c in indicator["items"]]
        assert indicator["max"] == sum(max(o["score"] for o in i["options"]) for i in own)
        assert [g["code"] for g in indicator["grades"]] == LTC["grade_order"]
        for total in reachable(own):
            assert sum(g["min"] <= total <= g["max"] for g in indicator["grades"]) == 1
    table = LTC["matrix"]["table"]
    levels = {lv["level"]: lv["name_zh"] for lv in LTC["levels"]}
    assert levels == dict(enumerate(ref.LTC_NAMES))
    assert list(table) == LTC["grade_order"]
    for i, row in enumerate(LTC["grade_order"]):
        assert list(table[row]) == LTC["grade_order"]
        assert [table[row][col] for col in LTC["grade_order"]] == list(ref.LTC_LEVEL[i])
    for item in LTC["items"]:
        for option in item["options"]:
            assert option["anchor_zh"] and option["anchor_en"]
    rules = {u["rule"] for u in LTC["unverified"]}
    assert {"indicators.adl.grades", "matrix"} <= rules
    assert LTC["source"]["document"].startswith("长期护理失能等级评估标准")


def test_ad8_definition_is_consistent():
    assert [i["code"] for i in AD8["items"]] == [f"q{n}" for n in range(1, 9)]
    for item in AD8["items"]:
        assert item["answer"] == "value"
        assert {o["value"]: o["score"] for o in item["options"]} == {
            "yes": 1,
            "no": 0,
            "dont_know": 0,
        }
        for option in item["options"]:
            assert all(option[k] for k in ("label_zh", "label_en", "anchor_zh", "anchor_en"))
    for total in range(9):
        assert sum(b["min"] <= total <= b["max"] for b in AD8["bands"]) == 1
    assert AD8["source"]["document"].startswith("Galvin JE") and AD8["unverified"]


# --- refusals name the items ---------------------------------------------------------------


def test_ltc_refusals_name_each_item():
    answers = dict(EXAMPLE_LTC)
    del answers["cognition.time"]
    answers |= {"perception.vision": 5, "feeding": 7, "cognition.memory": True}
    answers |= {"perception.hearing": "4", "stairs": 10.0, "cognition.attention": 1}
    assert errors_of(LTC, answers, {"x": 1}) == {
        ("cognition.time", "missing"),
        ("perception.vision", "out_of_range"),
        ("feeding", "out_of_range"),
        ("cognition.memory", "wrong_type"),
        ("perception.hearing", "wrong_type"),
        ("stairs", "wrong_type"),
        ("cognition.attention", "unknown_item"),
        ("context.x", "unknown_context"),
    }
    assert errors_of(LTC, [1], "x") == {("answers", "wrong_type"), ("context", "wrong_type")}
    assert errors_of(LTC, dict(EXAMPLE_LTC, **{"cognition.place": -1})) == {
        ("cognition.place", "out_of_range")
    }


def test_ad8_refusals_name_each_item():
    answers = dict.fromkeys((f"q{n}" for n in range(1, 9)), "no")
    del answers["q4"]
    found = errors_of(AD8, dict(answers, q1=1, q2="maybe", q3=True, q5="YES", q9="yes"))
    assert found == {
        ("q4", "missing"),
        ("q1", "wrong_type"),
        ("q2", "out_of_range"),
        ("q3", "wrong_type"),
        ("q5", "out_of_range"),
        ("q9", "unknown_item"),
    }


# --- AD8 worked examples --------------------------------------------------------------------


def test_ad8_worked_examples():
    no = dict.fromkeys((f"q{n}" for n in range(1, 9)), "no")
    # "yes" on q1 and q5 (1 + 1), "don't know" on q3 (0), "no" elsewhere → 2 = positive
    answers = no | {"q1": "yes", "q5": "yes", "q3": "dont_know"}
    assert score(AD8, answers) == {
        "instrument": "ad8",
        "version": "1",
        "total": 2,
        "band": "positive",
        "band_name": "筛查阳性",
    }
    # a single "yes" → 1 = negative
    assert strip(score(AD8, no | {"q8": "yes"})) == {
        "total": 1,
        "band": "negative",
        "band_name": "筛查阴性",
    }
    # "don't know" never scores
    assert score(AD8, dict.fromkeys(no, "dont_know"))["total"] == 0
    assert score(AD8, dict.fromkeys(no, "yes"))["total"] == 8


# --- property-based against the reference ---------------------------------------------------

LTC_VALID = st.fixed_dictionaries(
    {k: st.sampled_from(sorted(v)) for k, v in ref.BARTHEL.items()}
    | {k: st.integers(0, 4) for k in ref.LTC_COGNITION + ref.LTC_PERCEPTION}
)
AD8_VALID = st.fixed_dictionaries({f"q{n}": st.sampled_from(ref.AD8_ANSWERS) for n in range(1, 9)})
BAD = st.one_of(
    st.integers(-3, 20), st.booleans(), st.text(max_size=3), st.none(), st.floats(0, 15)
)


@SETTINGS
@given(LTC_VALID)
def test_ltc_matches_reference(answers):
    assert strip(score(LTC, answers)) == ref.ltc2021(answers)


@SETTINGS
@given(LTC_VALID, st.data(), BAD, st.sampled_from(["drop", "bad", "extra"]))
def test_ltc_refuses_what_the_reference_refuses(answers, data, value, action):
    item = data.draw(st.sampled_from(sorted(answers)))
    if action == "drop":
        del answers[item]
    elif action == "bad":
        answers[item] = value
    else:
        item = "perception.smell"
        answers[item] = 1
    expected = ref.ltc2021(answers)
    if expected is None:
        found = errors_of(LTC, answers)
        code = {"drop": "missing", "extra": "unknown_item"}.get(action)
        if code is None:
            code = "out_of_range" if type(value) is int else "wrong_type"
        assert found == {(item, code)}
    else:
        assert strip(score(LTC, answers)) == expected


@SETTINGS
@given(AD8_VALID)
def test_ad8_matches_reference(answers):
    assert strip(score(AD8, answers)) == ref.ad8(answers)


@SETTINGS
@given(
    AD8_VALID,
    st.sampled_from([f"q{n}" for n in range(1, 9)]),
    st.one_of(BAD, st.sampled_from(["yes", "no", "dont_know", "Yes", "unknown", ""])),
)
def test_ad8_refuses_what_the_reference_refuses(answers, item, value):
    answers = dict(answers, **{item: value})
    expected = ref.ad8(answers)
    if expected is None:
        assert errors_of(AD8, answers) == {
            (item, "wrong_type" if type(value) is not str else "out_of_range")
        }
    else:
        assert strip(score(AD8, answers)) == expected


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture
def assessor(db):
    net = build_network()
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(make_user(Role.ASSESSOR, net.a.county, username="assessor-ltc"))
    return client


def post(client: Client, body: Any):
    return client.post(
        "/api/v1/assessments/score", data=json.dumps(body), content_type="application/json"
    )


def test_both_instruments_are_stored_with_sources(db):
    ltc = InstrumentVersion.objects.get(code="ltc-disability-2021", version="1")
    assert ltc.source_document.startswith("长期护理失能等级评估标准")
    assert "matrix" in {u["rule"] for u in ltc.unverified}
    assert ltc.definition == LTC
    ad8 = InstrumentVersion.objects.get(code="ad8", version="1")
    assert ad8.source_document.startswith("Galvin JE") and ad8.unverified


def test_ltc_over_http(assessor):
    response = post(assessor, {"instrument": "ltc-disability-2021", "answers": EXAMPLE_LTC})
    assert response.status_code == 200
    assert response.json() == score(LTC, EXAMPLE_LTC)
    assert (response.json()["level"], response.json()["level_name"]) == (2, "中度失能")
    answers = dict(EXAMPLE_LTC, **{"cognition.memory": 5, "feeding": "10"})
    del answers["perception.vision"]
    response = post(assessor, {"instrument": "ltc-disability-2021", "answers": answers})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_answers" and "level" not in body
    assert {(e["item"], e["code"]) for e in body["errors"]} == {
        ("cognition.memory", "out_of_range"),
        ("feeding", "wrong_type"),
        ("perception.vision", "missing"),
    }


def test_ad8_over_http(assessor):
    answers = dict.fromkeys((f"q{n}" for n in range(1, 9)), "dont_know") | {"q2": "yes"}
    response = post(assessor, {"instrument": "ad8", "answers": answers})
    assert response.status_code == 200
    assert response.json() == {
        "instrument": "ad8",
        "version": "1",
        "total": 1,
        "band": "negative",
        "band_name": "筛查阴性",
    }
    response = post(assessor, {"instrument": "ad8", "answers": dict(answers, q2=1)})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"item": "q2", "code": "wrong_type", "detail": "q2 must be a string"}
    ]
