"""What every /api/v1/ operation shares (``yiyang/api.py``, ``yiyang/common/params.py``,
``yiyang/common/schemas.py``): the error shape, the input guard, bounded integers and
pages, non-nullable PATCH fields, and a published schema that declares all of it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from ninja import Router, Schema
from ninja.errors import ConfigError

from yiyang.api import YiyangAPI, api
from yiyang.common.permissions import Role
from yiyang.network.models import Grid, Institution
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")

API = "/api/v1"
INT64_MAX = 2**63 - 1


@pytest.fixture
def net(db):
    from yiyang.testing.network import build_network

    return build_network()


@pytest.fixture
def admin(net):
    net.admin.totp_confirmed = True
    net.admin.save(update_fields=["totp_confirmed"])
    return client_for(net.admin)


def schema() -> dict[str, Any]:
    return json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/")))


def operations(spec: dict[str, Any]):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield method, path, op


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert (body["code"], body["field"]) == (code, field), body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# --- the published schema ---------------------------------------------------------------


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else node


def _unbounded_integers(spec, node, where, seen=frozenset()):
    if isinstance(node, list):
        for item in node:
            yield from _unbounded_integers(spec, item, where, seen)
        return
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _unbounded_integers(spec, _resolve(spec, node), where, seen | {name})
        return
    if node.get("type") == "integer" and ("minimum" not in node or "maximum" not in node):
        yield where
    for key, value in node.items():
        if key == "properties":
            for name, prop in value.items():
                yield from _unbounded_integers(spec, prop, f"{where}.{name}", seen)
        elif key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties"):
            yield from _unbounded_integers(spec, value, where, seen)


def test_every_integer_an_operation_takes_is_bounded():
    """Path, query, form and body integers all publish (and enforce) a minimum and a
    maximum: nothing beyond 64 bits reaches the database."""
    spec = schema()
    unbounded = []
    for method, path, op in operations(spec):
        for param in op.get("parameters", []):
            where = f"{method} {path} {param['in']}:{param['name']}"
            unbounded += _unbounded_integers(spec, param["schema"], where)
        for content in op.get("requestBody", {}).get("content", {}).values():
            unbounded += _unbounded_integers(spec, content["schema"], f"{method} {path} body")
    assert unbounded == []


def test_every_operation_declares_its_error_answers():
    spec = schema()
    assert spec["components"]["schemas"]["ErrorOut"]["required"] == ["code", "detail"]
    for method, path, op in operations(spec):
        expected = {"400", "404", "422"} | ({"401", "403"} if op.get("security") else set())
        assert expected <= set(op["responses"]), (method, path, sorted(op["responses"]))


def test_every_declared_error_answer_accepts_the_common_error_body():
    """A guard or schema error can answer any operation: an operation's own error schema
    (the region import's report, the score's item errors) may add to the shape but not
    require more than it."""
    spec = schema()
    for method, path, op in operations(spec):
        for status, answer in op["responses"].items():
            if not status.startswith("4"):
                continue
            body = _resolve(spec, answer["content"]["application/json"]["schema"])
            assert set(body.get("required", [])) <= {"code", "detail"}, (method, path, status)


def test_component_names_are_unique_in_the_schema():
    """Ninja keeps the last of two schemas with one name; the schema generator refuses
    that, so generating the whole schema proves every component name is unique."""
    spec = schema()
    names = spec["components"]["schemas"]
    # the three pairs that collided, now each under its own name
    assert {"EligibilityRuleOut", "ThresholdRuleOut", "RuleConditionOut"} <= set(names)
    assert {"EscalationStepOut", "CallStepOut", "AuditOutcome", "Outcome"} <= set(names)
    rules = spec["paths"]["/api/v1/assessments/rules"]["get"]["responses"]["200"]
    assert rules["content"]["application/json"]["schema"]["items"]["$ref"].endswith(
        "/EligibilityRuleOut"
    )


def test_two_schemas_with_one_name_are_refused():
    def thing(name_field: str) -> type[Schema]:
        return type("Thing", (Schema,), {"__annotations__": {name_field: str}})

    first, second = thing("a"), thing("b")
    one, two = Router(), Router()

    @one.get("/one", response=first)
    def get_one(request):
        return {"a": "x"}

    @two.get("/two", response=second)
    def get_two(request):
        return {"b": "y"}

    probe = YiyangAPI(urls_namespace="probe")
    probe.add_router("/one", one)
    probe.add_router("/two", two)
    with pytest.raises(ConfigError, match="'Thing'"):
        probe.get_openapi_schema(path_prefix="/probe/")


# --- D1: pages ---------------------------------------------------------------------------


def test_a_huge_page_is_a_422_on_every_paginated_list(admin):
    """14 lists answered 500 for ?page=9223372036854775808 (an offset beyond 64 bits)."""
    lists = [
        path.replace("{pk}", "1")
        for method, path, op in operations(schema())
        if method == "get" and any(p["name"] == "page" for p in op.get("parameters", []))
    ]
    assert len(lists) >= 14
    for path in lists:
        for page in ("9223372036854775808", "1000001"):
            assert_error(admin.get(path, {"page": page}), 422, "invalid", "page")
        assert_error(admin.get(path, {"page_size": "101"}), 422, "invalid", "page_size")


def test_a_page_past_the_last_one_is_empty(admin):
    body = admin.get(f"{API}/network/regions", {"page": 1_000_000}).json()
    assert body["items"] == [] and body["count"] > 0


# --- D2: integers ------------------------------------------------------------------------


def test_integers_out_of_range_are_422_naming_the_parameter(admin, net):
    too_big = str(INT64_MAX + 1)
    assert_error(admin.get(f"{API}/residents/", {"min_age": 10000}), 422, "invalid", "min_age")
    assert_error(admin.get(f"{API}/residents/", {"max_age": -1}), 422, "invalid", "max_age")
    assert_error(admin.get(f"{API}/residents/", {"grid": too_big}), 422, "invalid", "grid")
    assert_error(admin.get(f"{API}/network/grids/{too_big}"), 422, "invalid", "pk")
    assert_error(admin.get(f"{API}/alerts", {"resident": too_big}), 422, "invalid", "resident")
    response = admin.post(
        f"{API}/network/grids",
        {"village": INT64_MAX + 1, "code": "G1", "name": "x"},
        content_type="application/json",
    )
    assert_error(response, 422, "invalid", "village")
    assert admin.get(f"{API}/residents/", {"min_age": 150}).status_code != 422


# --- D3: a multipart body without a boundary ---------------------------------------------

UPLOADS = [
    "/network/regions/import",
    "/network/agreements/{agreement}/document",
    "/residents/imports",
    "/residents/1/documents",
]


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.CAREGIVER])
def test_a_multipart_body_without_boundary_is_400_on_every_upload(net, role):
    user = make_user(role, scope="all" if role == Role.SYSTEM_ADMIN else net.a.care_home)
    user.totp_confirmed = True
    user.save(update_fields=["totp_confirmed"])
    client = client_for(user)
    for path in UPLOADS:
        url = API + path.format(agreement=net.a.agreement.pk)
        response = client.post(url, data=b"--x\r\n", content_type="multipart/form-data")
        assert_error(response, 400, "invalid_body")


# --- D5: null on a column that may not be null -------------------------------------------


def test_patch_null_on_a_non_null_field_is_422_and_changes_nothing(admin, net):
    grid = net.a.grids[0]
    response = admin.patch(
        f"{API}/network/grids/{grid.pk}", {"description": None}, content_type="application/json"
    )
    assert_error(response, 422, "invalid", "description")
    assert Grid.objects.get(pk=grid.pk).description == grid.description
    props = schema()["components"]["schemas"]["GridPatch"]["properties"]
    assert props["description"] == {"title": "Description", "type": "string"}


def test_every_sparse_patch_body_is_a_patch_schema():
    """A PATCH body whose fields are passed on only when given is a ``PatchSchema``, so an
    explicit null can only reach a column that may be empty."""
    from yiyang.common.schemas import PatchSchema

    # bodies that are read whole, where None means "unchanged" to the service
    whole = {"UserPatch", "AnswersIn"}
    checked = []
    for router in api._get_bound_routers():
        for view in router.path_operations.values():
            for op in view.operations:
                if "PATCH" not in op.methods:
                    continue
                for model in op.models:
                    if model.__ninja_param_source__ != "body":
                        continue
                    for field in model.model_fields.values():
                        body = field.annotation
                        if body.__name__ not in whole:
                            assert issubclass(body, PatchSchema), body
                            checked.append(body.__name__)
    assert len(checked) >= 16


def test_patch_null_on_a_nullable_field_clears_it(admin, net):
    thc = net.a.thc
    response = admin.patch(
        f"{API}/network/institutions/{thc.pk}",
        {"founded_on": None},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert Institution.objects.get(pk=thc.pk).founded_on is None


# --- D8: control characters in text ------------------------------------------------------


def test_control_characters_in_a_json_body_are_422_naming_the_field(admin, net):
    grid = net.a.grids[0]
    url = f"{API}/network/grids/{grid.pk}"
    body = assert_error(
        admin.patch(url, {"name": "网格\x00"}, content_type="application/json"),
        422,
        "invalid",
        "name",
    )
    assert body["detail"] == (
        "name: control characters are not allowed (only tab, line feed and carriage return)."
    )
    assert Grid.objects.get(pk=grid.pk).name == grid.name
    nested = {"name": "团队", "node": 1, "members": [{"staff": 1, "role": "doctor\x1b"}]}
    response = admin.post(f"{API}/network/teams", nested, content_type="application/json")
    assert_error(response, 422, "invalid", "members.0.role")
    response = admin.post(
        f"{API}/residents/1/contacts", {"name": "\x7f王"}, content_type="application/json"
    )
    assert_error(response, 422, "invalid", "name")
    # tab, line feed and carriage return are text
    text = "第一行\r\n第二行\t完"
    response = admin.patch(url, {"description": text}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert Grid.objects.get(pk=grid.pk).description == text


def test_control_characters_in_query_path_and_form_are_422(admin, net):
    assert_error(admin.get(f"{API}/residents/", {"q": "王\x00"}), 422, "invalid", "q")
    assert_error(admin.get(f"{API}/network/institutions?q=%01"), 422, "invalid", "q")
    assert_error(admin.get(f"{API}/alerts/rules/sos%00"), 422, "invalid", "code")
    upload = SimpleUploadedFile("r.csv", b"410000000000,x\n")
    response = admin.post(f"{API}/network/regions/import", {"file": upload, "year": "20\x0023"})
    assert_error(response, 422, "invalid", "year")


# --- error shapes ------------------------------------------------------------------------


def test_a_body_that_is_not_json_is_400_in_the_error_shape(admin):
    response = admin.post(f"{API}/network/grids", b"{", content_type="application/json")
    assert_error(response, 400, "invalid_body")
    response = admin.post(f"{API}/network/grids", b"NaN", content_type="application/json")
    assert_error(response, 400, "invalid_body")


@pytest.mark.parametrize("body", [b"null", b"0", b'"AAA"', b"[]"])
def test_a_json_body_that_is_not_an_object_is_422(admin, net, body):
    grid = net.a.grids[0]
    response = admin.patch(f"{API}/network/grids/{grid.pk}", body, content_type="application/json")
    assert_error(response, 422, "invalid")
    response = admin.patch(f"{API}/residents/4", body, content_type="application/json")
    assert_error(response, 422, "invalid")


def test_a_missing_csrf_token_is_403_in_the_error_shape(admin, net):
    client = client_for(net.admin, enforce_csrf_checks=True)
    response = client.post(f"{API}/network/grids", {}, content_type="application/json")
    assert_error(response, 403, "csrf_failed")


def test_anonymous_is_401_in_the_error_shape(db):
    assert_error(Client().get(f"{API}/network/grids"), 401, "not_authenticated")


def test_unknown_paths_and_methods_answer_in_the_error_shape(admin):
    assert_error(admin.get(f"{API}/network/grids/abc"), 404, "not_found")
    assert_error(admin.get(f"{API}/no-such-thing"), 404, "not_found")
    # an id that holds an encoded line break (found by the fuzz run: an HTML 404)
    assert_error(admin.post(f"{API}/alerts/%3Fa%0Ab/acknowledge"), 404, "not_found")
    response = admin.delete(f"{API}/network/grids")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, POST"
    # a missing trailing slash still redirects a GET, as Django's APPEND_SLASH did
    response = admin.get(f"{API}/residents", {"q": "王"})
    assert (response.status_code, response["Location"]) == (301, f"{API}/residents/?q=%E7%8E%8B")


def test_operations_and_their_ids_are_the_published_ones():
    """Generated clients name their methods after the operationId, which Ninja derives from
    the view's module path: moving a view to another module would rename it. The list of
    operations is pinned in ``tests/api_operations.txt``; an operation added or changed on
    purpose is added there too."""
    from pathlib import Path

    pinned = Path(__file__).with_name("api_operations.txt").read_text(encoding="utf-8")
    expected = [line for line in pinned.splitlines() if line and not line.startswith("#")]
    actual = sorted(
        f"{method.upper()} {path} {op['operationId']}" for method, path, op in operations(schema())
    )
    assert actual == expected
