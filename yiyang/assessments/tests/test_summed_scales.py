"""The summed scales (kind ``sum``): Morse Fall Scale, Braden, GDS-15, MNA-SF, Mini-Cog —
hand-computed worked examples, band boundaries, refusals naming items, the generic
``answer: value`` and ``one_of`` options, and property tests against ``reference.py``."""

from __future__ import annotations

import copy
import json
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

MORSE = current("morse-fall")
BRADEN = current("braden")
GDS = current("gds-15")
MNA = current("mna-sf")
MINICOG = current("mini-cog")
assert MORSE and BRADEN and GDS and MNA and MINICOG
NEW = (MORSE, BRADEN, GDS, MNA, MINICOG)

SETTINGS = settings(max_examples=200, deadline=None, database=None)


def errors_of(definition: dict[str, Any], answers: Any, context: Any = None) -> set[tuple]:
    with pytest.raises(ScoringError) as info:
        score(definition, answers, context)
    return {(e.item, e.code) for e in info.value.errors}


def strip(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("instrument", "version")}


def gds_answers(points: int) -> dict[str, str]:
    """``points`` depressive answers (on q1.. in order), the rest non-depressive."""
    answers = {}
    for n in range(1, 16):
        depressive = "no" if n in ref.GDS_NO_ITEMS else "yes"
        other = "yes" if depressive == "no" else "no"
        answers[f"q{n}"] = depressive if n <= points else other
    return answers


# --- worked examples (computed by hand) ----------------------------------------------------


def test_morse_worked_example():
    # fell (25) + walker (15) + IV (20) + weak gait (10) + oriented (0) + 1 diagnosis (0)
    answers = {
        "history_of_falling": 25,
        "secondary_diagnosis": 0,
        "ambulatory_aid": 15,
        "iv_or_heparin_lock": 20,
        "gait": 10,
        "mental_status": 0,
    }
    assert score(MORSE, answers) == {
        "instrument": "morse-fall",
        "version": "1",
        "total": 70,
        "band": "high",
        "band_name": "高风险",
    }


def test_braden_worked_example():
    # 3 + 2 + 2 + 2 + 3 + 2 = 14 → moderate
    answers = {
        "sensory_perception": 3,
        "moisture": 2,
        "activity": 2,
        "mobility": 2,
        "nutrition": 3,
        "friction_shear": 2,
    }
    assert strip(score(BRADEN, answers)) == {"total": 14, "band": "moderate", "band_name": "中危"}


def test_gds_worked_example():
    # "no" on q1 and q7 (2 points: reversed items), "yes" on q3, q4, q8 (3 points),
    # "yes" on q5, q11, q13 and "no" on the other forward items (0 points) → 5 = mild.
    answers = {f"q{n}": "no" for n in range(1, 16)}
    answers |= {"q3": "yes", "q4": "yes", "q8": "yes", "q5": "yes", "q11": "yes", "q13": "yes"}
    assert strip(score(GDS, answers)) == {"total": 5, "band": "mild", "band_name": "轻度抑郁"}


def test_mna_worked_example_with_bmi_and_with_calf():
    # A 1 + B 2 + C 2 + D 2 + E 1 = 8; + F1 2 = 10 (at risk); + F2 3 = 11 (at risk)
    base = {"A": 1, "B": 2, "C": 2, "D": 2, "E": 1}
    assert strip(score(MNA, base | {"F1": 2})) == {
        "total": 10,
        "band": "at_risk",
        "band_name": "有营养不良风险",
    }
    assert score(MNA, base | {"F2": 3})["total"] == 11
    assert score(MNA, base | {"F2": 0, "A": 0})["band"] == "malnourished"  # 7


def test_minicog_worked_example():
    assert strip(score(MINICOG, {"word_recall": 1, "clock_drawing": 0})) == {
        "total": 1,
        "band": "positive",
        "band_name": "筛查阳性",
    }
    assert score(MINICOG, {"word_recall": 1, "clock_drawing": 2})["band"] == "negative"  # 3


# --- band boundaries ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "band"),
    [
        ({"history_of_falling": 0, "secondary_diagnosis": 15, "gait": 0}, "low"),  # 15
        ({"history_of_falling": 0, "secondary_diagnosis": 15, "gait": 10}, "moderate"),  # 25
        ({"history_of_falling": 25, "secondary_diagnosis": 0, "gait": 0}, "moderate"),  # 25
        ({"history_of_falling": 25, "secondary_diagnosis": 0, "gait": 10}, "moderate"),  # 35
        ({"history_of_falling": 25, "secondary_diagnosis": 0, "gait": 20}, "high"),  # 45
    ],
)
def test_morse_boundaries(answers, band):
    full = {"ambulatory_aid": 0, "iv_or_heparin_lock": 0, "mental_status": 0} | answers
    assert score(MORSE, full)["band"] == band


def test_morse_extremes():
    low = dict.fromkeys(ref.MORSE, 0)
    high = {k: max(v) for k, v in ref.MORSE.items()}
    assert (score(MORSE, low)["total"], score(MORSE, low)["band"]) == (0, "low")
    assert (score(MORSE, high)["total"], score(MORSE, high)["band"]) == (125, "high")
    assert score(MORSE, dict(low, history_of_falling=25, gait=10))["band"] == "moderate"
    assert score(MORSE, dict(low, ambulatory_aid=30, secondary_diagnosis=15))["total"] == 45


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (6, "very_high"),
        (9, "very_high"),
        (10, "high"),
        (12, "high"),
        (13, "moderate"),
        (14, "moderate"),
        (15, "mild"),
        (18, "mild"),
        (19, "none"),
        (23, "none"),
    ],
)
def test_braden_boundaries(total, band):
    answers = dict.fromkeys(ref.BRADEN, 1)
    remaining = total - 6
    for item, allowed in ref.BRADEN.items():
        add = min(max(allowed) - 1, remaining)
        answers[item] += add
        remaining -= add
    assert remaining == 0
    assert score(BRADEN, answers)["band"] == band


@pytest.mark.parametrize(
    ("points", "band"),
    [(0, "normal"), (4, "normal"), (5, "mild"), (8, "mild"), (9, "moderate"), (11, "moderate")]
    + [(12, "severe"), (15, "severe")],
)
def test_gds_boundaries(points, band):
    result = score(GDS, gds_answers(points))
    assert (result["total"], result["band"]) == (points, band)


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "malnourished"), (7, "malnourished"), (8, "at_risk"), (11, "at_risk")]
    + [(12, "normal"), (14, "normal")],
)
def test_mna_boundaries(total, band):
    answers = {"A": 0, "B": 0, "C": 0, "D": 0, "E": 0, "F1": 0}
    remaining = total
    for item, top in (("A", 2), ("B", 3), ("C", 2), ("E", 2), ("F1", 3)):
        add = min(top, remaining)
        answers[item] = add
        remaining -= add
    if remaining:
        answers["D"] = 2
        remaining -= 2
    assert remaining == 0
    assert score(MNA, answers)["band"] == band


@pytest.mark.parametrize(("recall", "clock", "band"), [(0, 2, "positive"), (1, 2, "negative")])
def test_minicog_boundary(recall, clock, band):
    assert score(MINICOG, {"word_recall": recall, "clock_drawing": clock})["band"] == band


def test_band_tables_cover_every_reachable_total_once():
    for definition in NEW:
        lowest = sum(min(o["score"] for o in i["options"]) for i in definition["items"])
        highest = sum(max(o["score"] for o in i["options"]) for i in definition["items"])
        if definition.get("one_of"):  # only one item of each group is answered
            for group in definition["one_of"]:
                tops = [
                    max(o["score"] for o in i["options"])
                    for i in definition["items"]
                    if i["code"] in group
                ]
                highest -= sum(tops) - max(tops)
        for total in range(lowest, highest + 1):
            assert sum(b["min"] <= total <= b["max"] for b in definition["bands"]) == 1
        assert definition["source"]["document"] and definition["unverified"]
        for item in definition["items"]:
            for option in item["options"]:
                assert {"label_zh", "label_en", "anchor_zh", "anchor_en"} <= set(option)
    assert (MORSE["bands"][-1]["max"], MNA["bands"][0]["max"]) == (125, 14)


# --- refusals name the items ------------------------------------------------------------------


def test_morse_and_braden_refusals():
    answers = dict.fromkeys(ref.MORSE, 0)
    del answers["gait"]
    found = errors_of(MORSE, dict(answers, ambulatory_aid=20, mental_status=True, fall=1))
    assert found == {
        ("gait", "missing"),
        ("ambulatory_aid", "out_of_range"),
        ("mental_status", "wrong_type"),
        ("fall", "unknown_item"),
    }
    braden = dict.fromkeys(ref.BRADEN, 1)
    assert errors_of(BRADEN, dict(braden, friction_shear=4, moisture=0)) == {
        ("friction_shear", "out_of_range"),
        ("moisture", "out_of_range"),
    }
    assert errors_of(BRADEN, braden, {"x": 1}) == {("context.x", "unknown_context")}


def test_gds_takes_yes_no_strings_only():
    answers = gds_answers(3)
    found = errors_of(GDS, dict(answers, q2=1, q3="maybe", q4=True, q16="yes"))
    assert found == {
        ("q2", "wrong_type"),
        ("q3", "out_of_range"),
        ("q4", "wrong_type"),
        ("q16", "unknown_item"),
    }


def test_mna_needs_exactly_one_of_f1_f2():
    base = {"A": 2, "B": 3, "C": 2, "D": 2, "E": 2}
    assert errors_of(MNA, base) == {("F1", "missing"), ("F2", "missing")}
    assert errors_of(MNA, base | {"F1": 3, "F2": 3}) == {("F1", "both_given"), ("F2", "both_given")}
    assert errors_of(MNA, base | {"F2": 1, "D": 1}) == {
        ("F2", "out_of_range"),
        ("D", "out_of_range"),
    }


def test_one_of_and_value_answers_are_generic():
    """The two engine options work for any definition, not by instrument code."""
    definition = copy.deepcopy(MINICOG)
    definition["code"] = "made-up"
    definition["items"][0]["answer"] = "value"
    for n, option in enumerate(definition["items"][0]["options"]):
        option["value"] = f"w{n}"
    definition["one_of"] = [["word_recall", "clock_drawing"]]
    assert score(definition, {"word_recall": "w2"})["total"] == 2
    assert score(definition, {"clock_drawing": 2})["band"] == "positive"
    assert errors_of(definition, {"word_recall": 2}) == {("word_recall", "wrong_type")}


# --- property-based against the reference ---------------------------------------------------

BAD = st.one_of(st.integers(-2, 40), st.booleans(), st.text(max_size=3), st.none(), st.floats(0, 4))


def table_answers(table: dict[str, set[int]]):
    return st.fixed_dictionaries({k: st.sampled_from(sorted(v)) for k, v in table.items()})


@SETTINGS
@given(table_answers(ref.MORSE), table_answers(ref.BRADEN), table_answers(ref.MINICOG))
def test_morse_braden_minicog_match_reference(morse, braden, minicog):
    assert strip(score(MORSE, morse)) == ref.morse(morse)
    assert strip(score(BRADEN, braden)) == ref.braden(braden)
    assert strip(score(MINICOG, minicog)) == ref.minicog(minicog)


@SETTINGS
@given(st.fixed_dictionaries({f"q{n}": st.sampled_from(["yes", "no"]) for n in range(1, 16)}))
def test_gds_matches_reference(answers):
    assert strip(score(GDS, answers)) == ref.gds15(answers)


@SETTINGS
@given(
    table_answers(ref.MNA),
    st.sampled_from(["F1", "F2", "both", "neither"]),
    st.integers(0, 3),
    st.sampled_from([0, 3]),
)
def test_mna_matches_reference(answers, which, f1, f2):
    answers = dict(answers)
    if which in ("F1", "both"):
        answers["F1"] = f1
    if which in ("F2", "both"):
        answers["F2"] = f2
    expected = ref.mna_sf(answers)
    if expected is None:
        with pytest.raises(ScoringError):
            score(MNA, answers)
    else:
        assert strip(score(MNA, answers)) == expected


CASES = [
    (MORSE, ref.morse, ref.MORSE),
    (BRADEN, ref.braden, ref.BRADEN),
    (MINICOG, ref.minicog, ref.MINICOG),
    (MNA, ref.mna_sf, {**ref.MNA, "F1": ref.MNA_F["F1"]}),
]


@SETTINGS
@given(st.sampled_from(range(len(CASES))), st.data(), BAD, st.booleans())
def test_summed_scales_refuse_what_the_reference_refuses(case, data, value, drop):
    definition, reference, table = CASES[case]
    answers = data.draw(table_answers(table))
    item = data.draw(st.sampled_from(sorted(table)))
    if drop:
        del answers[item]
    else:
        answers[item] = value
    expected = reference(answers)
    if expected is None:
        assert item in {e[0] for e in errors_of(definition, answers)}
    else:
        assert strip(score(definition, answers)) == expected


@SETTINGS
@given(
    st.fixed_dictionaries({f"q{n}": st.sampled_from(["yes", "no"]) for n in range(1, 16)}),
    st.sampled_from([f"q{n}" for n in range(1, 16)]),
    st.one_of(BAD, st.sampled_from(["yes", "no", "YES", "y"])),
)
def test_gds_refuses_what_the_reference_refuses(answers, item, value):
    answers = dict(answers, **{item: value})
    expected = ref.gds15(answers)
    if expected is None:
        assert errors_of(GDS, answers) == {
            (item, "wrong_type" if type(value) is not str else "out_of_range")
        }
    else:
        assert strip(score(GDS, answers)) == expected


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture
def assessor(db):
    net = build_network()
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(make_user(Role.ASSESSOR, net.a.county, username="assessor-sum"))
    return client


def post(client: Client, body: Any):
    return client.post(
        "/api/v1/assessments/score", data=json.dumps(body), content_type="application/json"
    )


def test_new_instruments_are_stored_with_sources_and_served(assessor):
    for code in ("morse-fall", "braden", "gds-15", "mna-sf", "mini-cog"):
        row = InstrumentVersion.objects.get(code=code, version="1")
        assert row.source_document and row.unverified
    response = post(assessor, {"instrument": "gds-15", "answers": gds_answers(12)})
    assert response.status_code == 200
    assert response.json() == {
        "instrument": "gds-15",
        "version": "1",
        "total": 12,
        "band": "severe",
        "band_name": "重度抑郁",
    }
    body = {"instrument": "mna-sf", "answers": {"A": 2, "B": 3, "C": 2, "D": 2, "E": 2}}
    response = post(assessor, body)
    assert response.status_code == 422
    assert {(e["item"], e["code"]) for e in response.json()["errors"]} == {
        ("F1", "missing"),
        ("F2", "missing"),
    }
    body = {"instrument": "mini-cog", "answers": {"word_recall": 3, "clock_drawing": 2}}
    assert post(assessor, body).json()["band_name"] == "筛查阴性"
