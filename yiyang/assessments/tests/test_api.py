"""``POST /api/v1/assessments/score``: results, 422 per offending item, permissions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from yiyang.assessments.instruments import DEFINITIONS
from yiyang.assessments.models import InstrumentVersion
from yiyang.assessments.sync import DefinitionChanged, sync_instruments
from yiyang.assessments.tests.test_scoring import EXAMPLE_GBT
from yiyang.common.permissions import Role
from yiyang.testing.clients import client_for
from yiyang.testing.network import build_network, make_user

URL = "/api/v1/assessments/score"


@pytest.fixture
def net(db):
    return build_network()


@pytest.fixture
def assessor(net):
    return client_for(make_user(Role.ASSESSOR, net.a.county, username="assessor-1"))


def post(client: Client, body: Any):
    return client.post(URL, data=json.dumps(body), content_type="application/json")


def test_the_worked_example_over_http(assessor):
    response = post(
        assessor,
        {"instrument": "gbt42195-2022", "answers": EXAMPLE_GBT, "context": {"diagnoses": ["F03"]}},
    )
    assert response.status_code == 200
    assert response.json() == {
        "instrument": "gbt42195-2022",
        "version": "1",
        "total": 64,
        "domains": {"B.1": 24, "B.2": 11, "B.3": 21, "B.4": 8},
        "preliminary_level": 2,
        "level": 3,
        "level_name": "重度失能",
        "changes": ["dementia"],
    }


def test_barthel_and_selfcare_fields(assessor):
    barthel = {k: 0 for k in ("feeding", "bathing", "grooming", "dressing", "bowels")}
    barthel |= {k: 0 for k in ("bladder", "toilet", "transfer", "mobility", "stairs")}
    body = post(assessor, {"instrument": "barthel", "answers": barthel}).json()
    assert body == {
        "instrument": "barthel",
        "version": "1",
        "total": 0,
        "band": "severe",
        "band_name": "重度依赖",
    }
    selfcare = dict.fromkeys(("eating", "washing", "dressing", "toileting", "activity"), "unable")
    body = post(assessor, {"instrument": "selfcare-5", "answers": selfcare}).json()
    assert (body["total"], body["band"], body["band_name"]) == (37, "unable", "不能自理")


def test_bad_answers_answer_422_naming_each_item_and_store_nothing(assessor):
    answers = dict(EXAMPLE_GBT, **{"B.1.1": 5, "B.3.7": True})
    del answers["B.4.5"]
    before = InstrumentVersion.objects.count()
    response = post(assessor, {"instrument": "gbt42195-2022", "answers": answers})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_answers"
    assert {(e["item"], e["code"]) for e in body["errors"]} == {
        ("B.1.1", "out_of_range"),
        ("B.3.7", "wrong_type"),
        ("B.4.5", "missing"),
    }
    assert "total" not in body
    assert InstrumentVersion.objects.count() == before


def test_unknown_instrument_is_a_422(assessor):
    response = post(assessor, {"instrument": "nope", "answers": {}})
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_instrument"
    assert response.json()["errors"][0]["item"] == "instrument"
    for body in ({"answers": {}}, {"instrument": 3, "answers": {}}):
        assert post(assessor, body).json()["code"] == "unknown_instrument"


def test_roles_without_the_permission_are_refused(net):
    dispatcher = client_for(make_user(Role.DISPATCHER, net.a.county, username="disp-1"))
    assert post(dispatcher, {"instrument": "barthel", "answers": {}}).status_code == 403
    assert post(Client(), {"instrument": "barthel", "answers": {}}).status_code == 401


def test_the_migration_loaded_every_shipped_definition_and_sync_refuses_edits(db):
    stored = {(r.code, r.version): r for r in InstrumentVersion.objects.all()}
    assert set(stored) == {(d["code"], d["version"]) for d in DEFINITIONS}
    gbt = stored[("gbt42195-2022", "1")]
    assert gbt.source_document.startswith("GB/T 42195-2022")
    assert gbt.unverified[0]["rule"] == "changes.stack_plus_one"
    assert sync_instruments(InstrumentVersion) == 0
    definition = dict(gbt.definition, name={"zh": "改", "en": "edited"})
    InstrumentVersion.objects.filter(pk=gbt.pk).update(definition=definition)
    with pytest.raises(DefinitionChanged):
        sync_instruments(InstrumentVersion)


def test_a_missing_body_is_a_422_the_schema_declares(assessor):
    """Found by the fuzz run: the 422 of a missing body lists where the body is wrong
    (``loc``/``msg``), which the published ``InvalidAnswersOut`` did not allow."""
    response = assessor.generic("POST", URL)  # no body at all
    assert response.status_code == 422
    assert [set(e) for e in response.json()["errors"]] == [{"loc", "msg"}]
    from yiyang.api import api

    schemas = api.get_openapi_schema()["components"]["schemas"]
    items = schemas["InvalidAnswersOut"]["properties"]["errors"]["items"]["anyOf"]
    assert {"#/components/schemas/ItemErrorOut", "#/components/schemas/BodyErrorOut"} == {
        i["$ref"] for i in items
    }
    assert schemas["BodyErrorOut"]["required"] == ["loc", "msg"]
