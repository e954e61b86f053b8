"""The scoring engine against the worked examples of docs/standards.md, edge cases and —
property-based — an independent reference implementation (``reference.py``)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiyang.assessments.instruments import DEFINITIONS, current
from yiyang.assessments.scoring import ScoringError, score
from yiyang.assessments.tests import reference as ref

GBT = current("gbt42195-2022")
BARTHEL = current("barthel")
SELFCARE = current("selfcare-5")
TCM = current("tcm-constitution-elderly")
assert GBT and BARTHEL and SELFCARE and TCM

SETTINGS = settings(max_examples=200, deadline=None, database=None)  # no .hypothesis dir

# Worked example of §1: 24 + 11 + 21 + 8 = 64.
EXAMPLE_GBT = dict(
    zip(
        [f"B.1.{i}" for i in range(1, 9)]
        + [f"B.2.{i}" for i in range(1, 5)]
        + [f"B.3.{i}" for i in range(1, 10)]
        + [f"B.4.{i}" for i in range(1, 6)],
        [4, 3, 2, 3, 2, 3, 4, 3, 4, 3, 3, 1, 3, 2, 4, 2, 3, 3, 1, 1, 2, 1, 1, 2, 1, 3],
        strict=True,
    )
)


def errors_of(definition: dict[str, Any], answers: Any, context: Any = None) -> set[tuple]:
    with pytest.raises(ScoringError) as info:
        score(definition, answers, context)
    return {(e.item, e.code) for e in info.value.errors}


def strip(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("instrument", "version")}


# --- worked examples ------------------------------------------------------------------------


def test_gbt_worked_example_64_is_level_2():
    result = score(GBT, EXAMPLE_GBT, {})
    assert result == {
        "instrument": "gbt42195-2022",
        "version": "1",
        "total": 64,
        "domains": {"B.1": 24, "B.2": 11, "B.3": 21, "B.4": 8},
        "preliminary_level": 2,
        "level": 2,
        "level_name": "中度失能",
        "changes": [],
    }


def test_gbt_worked_example_with_f03_is_level_3():
    result = score(GBT, EXAMPLE_GBT, {"diagnoses": ["F03"]})
    assert (result["preliminary_level"], result["level"], result["level_name"]) == (
        2,
        3,
        "重度失能",
    )
    assert result["changes"] == ["dementia"]


def test_tcm_worked_example():
    answers = {f"q{n}": 1 for n in range(1, 34)}
    answers.update(q2=4, q3=3, q4=3, q14=2)  # qi deficiency 12
    answers.update(q10=3, q21=3, q26=2, q31=2)  # yin deficiency 10
    answers.update(q1=2, q5=2, q13=2)  # balanced 2 + 2 + 3 + 4 + 4 = 15
    result = score(TCM, answers)
    assert result["scores"]["qi_deficiency"] == 12
    assert result["results"]["qi_deficiency"] == "yes"
    assert result["scores"]["yin_deficiency"] == 10
    assert result["results"]["yin_deficiency"] == "tendency"
    assert result["scores"]["balanced"] == 15
    assert result["results"]["balanced"] == "no"
    assert result["primary"] == ["qi_deficiency"]


# --- edge cases ---------------------------------------------------------------------------


def test_gbt_changes_coma_stacking_and_cap():
    full = {k: v for k, v in EXAMPLE_GBT.items()}
    coma = dict(full, **{"B.3.9": 0})
    assert score(GBT, coma, {"coma": True})["level"] == 4
    assert score(GBT, coma, {"coma": True})["changes"] == ["coma"]
    both = score(GBT, full, {"diagnoses": ["F32"], "risk_events_30d": 2})
    assert (both["level"], both["changes"]) == (4, ["mental_disorder", "risk_events"])
    one_event = score(GBT, full, {"diagnoses": ["I10"], "risk_events_30d": 1})
    assert (one_event["level"], one_event["changes"]) == (2, [])
    no_stack = copy.deepcopy(GBT)
    no_stack["changes"]["stack_plus_one"] = False
    assert score(no_stack, full, {"diagnoses": ["F01.1"], "risk_events_30d": 3})["level"] == 3
    worst = {k: 0 for k in full} | {"B.3.9": 1}
    capped = score(GBT, worst, {"diagnoses": ["F00"], "risk_events_30d": 5})
    assert (capped["preliminary_level"], capped["level"]) == (4, 4)


@pytest.mark.parametrize(
    ("total", "level"), [(90, 0), (89, 1), (66, 1), (65, 2), (46, 2), (45, 3), (30, 3), (29, 4)]
)
def test_gbt_band_boundaries(total, level):
    answers = {k: 0 for k in EXAMPLE_GBT} | {"B.3.9": 1}
    remaining = total - 1
    for item in ref.GBT_MAX:
        if item == "B.3.9":
            add = min(1, remaining)
            answers[item] += add
        else:
            add = min(ref.GBT_MAX[item], remaining)
            answers[item] = add
        remaining -= add
    assert remaining == 0
    assert score(GBT, answers, {})["preliminary_level"] == level


def test_gbt_every_offending_item_is_named():
    answers = dict(EXAMPLE_GBT)
    del answers["B.1.1"]
    answers["B.2.4"] = 4  # max 3
    answers["B.3.7"] = True  # bool is not an int
    answers["B.4.1"] = "2"
    answers["B.9.9"] = 1
    found = errors_of(GBT, answers, {"coma": True, "risk_events_30d": -1, "diagnoses": ["x"]})
    assert found == {
        ("B.1.1", "missing"),
        ("B.2.4", "out_of_range"),
        ("B.3.7", "wrong_type"),
        ("B.4.1", "wrong_type"),
        ("B.9.9", "unknown_item"),
        ("context.coma", "inconsistent_context"),
        ("context.risk_events_30d", "wrong_type"),
        ("context.diagnoses[0]", "invalid_code"),
    }


def test_gbt_coma_must_agree_with_consciousness_item():
    assert errors_of(GBT, dict(EXAMPLE_GBT, **{"B.3.9": 0}), {}) == {
        ("context.coma", "inconsistent_context")
    }


def test_answers_and_context_must_be_objects():
    assert errors_of(GBT, [1, 2], "x") == {("answers", "wrong_type"), ("context", "wrong_type")}
    assert ("context.foo", "unknown_context") in errors_of(BARTHEL, {}, {"foo": 1})


def test_barthel_band_sets_and_bad_band_set():
    full = {k: max(v) for k, v in ref.BARTHEL.items()}
    assert score(BARTHEL, full)["band"] == "none"
    low = dict(full, feeding=5, bathing=0, grooming=0, dressing=5, stairs=0)  # 100-30 = 70
    assert score(BARTHEL, low, {"band_set": "b"})["band"] == "mild"
    assert ("context.band_set", "out_of_range") in errors_of(BARTHEL, full, {"band_set": "c"})
    assert ("transfer", "out_of_range") in errors_of(BARTHEL, dict(full, transfer=7))


def test_selfcare_rejects_scores_and_unknown_levels():
    answers = {k: "independent" for k in ref.SELFCARE}
    assert score(SELFCARE, answers)["band"] == "self_sufficient"
    found = errors_of(SELFCARE, dict(answers, eating=0, washing="sometimes"))
    assert found == {("eating", "wrong_type"), ("washing", "out_of_range")}


def test_tcm_q9_from_bmi_and_inconsistency():
    answers = {f"q{n}": 3 for n in range(1, 34)}
    without = {k: v for k, v in answers.items() if k != "q9"}
    assert errors_of(TCM, without) == {("q9", "missing")}
    assert score(TCM, without, {"bmi": 25.5}) == score(TCM, answers)
    assert errors_of(TCM, answers, {"bmi": 30}) == {("q9", "inconsistent_context")}
    assert ("context.bmi", "out_of_range") in errors_of(TCM, without, {"bmi": True})


def test_balanced_yes_appears_alone_in_primary():
    answers = {f"q{n}": 2 for n in range(1, 34)} | {"q1": 5, "q2": 1, "q4": 1, "q5": 1}
    result = score(TCM, answers)
    assert result["results"]["balanced"] == "yes"
    assert result["primary"] == ["balanced"]


def test_definitions_are_consistent():
    """Band tables cover every reachable total exactly once; codes are unique."""
    codes = [(d["code"], d["version"]) for d in DEFINITIONS]
    assert len(codes) == len(set(codes))
    assert sum(d["max"] for d in GBT["domains"]) == 90
    for total in range(91):
        assert sum(b["min"] <= total <= b["max"] for b in GBT["levels"]) == 1
    for band_set in BARTHEL["band_sets"].values():
        for total in range(0, 101, 5):
            assert sum(b["min"] <= total <= b["max"] for b in band_set["bands"]) == 1
    for total in range(38):
        assert sum(b["min"] <= total <= b["max"] for b in SELFCARE["bands"]) == 1


# --- property-based against the reference ---------------------------------------------------

ICD = st.one_of(
    st.builds(lambda n: f"F{n:02d}", st.integers(0, 99)),
    st.builds(lambda c, n: f"{c}{n:02d}", st.sampled_from("ABEGIJKMRZ"), st.integers(0, 99)),
)


@st.composite
def gbt_input(draw):
    answers = {k: draw(st.integers(0, top)) for k, top in ref.GBT_MAX.items()}
    context: dict[str, Any] = {
        "coma": answers["B.3.9"] == 0,
        "diagnoses": draw(st.lists(ICD, max_size=3)),
        "risk_events_30d": draw(st.integers(0, 4)),
    }
    return answers, context


@SETTINGS
@given(gbt_input(), st.booleans())
def test_gbt_matches_reference(data, stack):
    answers, context = data
    definition = copy.deepcopy(GBT)
    definition["changes"]["stack_plus_one"] = stack
    assert strip(score(definition, answers, context)) == ref.gbt(answers, context, stack)


BAD_VALUE = st.one_of(
    st.integers(-3, 20), st.booleans(), st.text(max_size=2), st.floats(0, 4), st.none()
)


@SETTINGS
@given(gbt_input(), st.data())
def test_gbt_refuses_whatever_the_reference_refuses(data, draw):
    answers, context = data
    item = draw.draw(st.sampled_from(sorted(ref.GBT_MAX)))
    answers = dict(answers)
    action = draw.draw(st.sampled_from(["drop", "bad", "extra"]))
    if action == "drop":
        del answers[item]
    elif action == "bad":
        answers[item] = draw.draw(BAD_VALUE)
    else:
        answers["B.5.1"] = 1
    if item == "B.3.9" and action == "bad":
        context["coma"] = answers[item] == 0
    expected = ref.gbt(answers, context)
    if expected is None:
        with pytest.raises(ScoringError):
            score(GBT, answers, context)
    else:
        assert strip(score(GBT, answers, context)) == expected


@SETTINGS
@given(
    st.fixed_dictionaries({k: st.sampled_from(sorted(v)) for k, v in ref.BARTHEL.items()}),
    st.sampled_from(["a", "b"]),
)
def test_barthel_matches_reference(answers, band_set):
    assert strip(score(BARTHEL, answers, {"band_set": band_set})) == ref.barthel(answers, band_set)


@SETTINGS
@given(st.fixed_dictionaries({k: st.sampled_from(ref.SELFCARE_LEVELS) for k in ref.SELFCARE}))
def test_selfcare_matches_reference(answers):
    assert strip(score(SELFCARE, answers)) == ref.selfcare(answers)


@SETTINGS
@given(
    st.fixed_dictionaries({f"q{n}": st.integers(1, 5) for n in range(1, 34)}),
    st.one_of(st.none(), st.floats(15, 40), st.sampled_from([24, 25, 26, 28, 23.99, 27.99])),
    st.booleans(),
)
def test_tcm_matches_reference(answers, bmi, drop_q9):
    if drop_q9:
        answers = {k: v for k, v in answers.items() if k != "q9"}
    context = {"bmi": bmi} if bmi is not None else {}
    expected = ref.tcm(answers, bmi)
    if expected is None:
        with pytest.raises(ScoringError):
            score(TCM, answers, context)
    else:
        assert strip(score(TCM, answers, context)) == expected


@SETTINGS
@given(
    st.fixed_dictionaries({f"q{n}": st.integers(1, 5) for n in range(1, 34)}),
    st.sampled_from([f"q{n}" for n in range(1, 34)]),
    BAD_VALUE,
)
def test_tcm_refuses_bad_values(answers, item, value):
    answers = dict(answers, **{item: value})
    expected = ref.tcm(answers)
    if expected is None:
        assert errors_of(TCM, answers) == {
            (item, "wrong_type" if type(value) is not int else "out_of_range")
        }
    else:
        assert strip(score(TCM, answers)) == expected
