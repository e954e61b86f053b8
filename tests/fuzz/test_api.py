"""A bounded fuzz of the whole HTTP API from its own published OpenAPI schema (Schemathesis),
as three roles, in-process (WSGI) on the suite's database.

Every operation of ``/api/v1/openapi.json`` is a test per role. Schemathesis sends the
schema's boundary and invalid cases (its coverage phase) and ``FUZZ_EXAMPLES`` generated
requests (valid and invalid: its fuzzing phase) with a fixed seed, so a run is repeatable.
Each response must not be a server error, must have a status the operation declares, a
body that matches the declared schema with the declared content type, and a 4xx must be the
error shape ``{code, detail, field}``.

Path parameters name real objects (``conftest.World.known``) for every coverage case that
does not test the path itself, and for about half of the generated ones.

Every request runs in a savepoint that is rolled back, so a request that deletes or changes
the world does not change what the next one meets.

    .venv/bin/python -m pytest tests/fuzz -q -p no:cacheprovider        # make fuzz
    FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/fuzz -q -p no:cacheprovider
    .venv/bin/python -m pytest tests/fuzz -q -p no:cacheprovider -k "residents and doctor"
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
import traceback
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import CoveragePhaseData, TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import ROLES, SEED, World

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

# Generated requests per operation and role (the coverage phase's cases come on top).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
BASE_SEED = int(os.environ.get("FUZZ_SEED", SEED))


def config(seed: int) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": seed,  # fixed: the same requests every run
            "generation": {
                "deterministic": True,
                "database": "none",  # no .hypothesis/ directory, no replay of old failures
                "max-examples": EXAMPLES,
                # Authentication is ours (a role's bearer token), not generated.
                "with-security-parameters": False,
            },
            "phases": {
                "examples": {"enabled": False},  # the schema has no examples
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            # Schemathesis' advice on the schema itself (e.g. that the ingestion's security
            # scheme is not declared) is noise here: the checks below are the test.
            "warnings": False,
        }
    )


# The published schema, fetched once from the application; one copy per role, each with its
# own seed, so that each role is sent other generated requests (the coverage phase's cases
# do not depend on the seed).
APP = WSGIHandler()
_PUBLISHED = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP, config=config(BASE_SEED))
SCHEMAS = {ROLES[0]: _PUBLISHED}
for _i, _role in enumerate(ROLES[1:], start=1):
    SCHEMAS[_role] = schemathesis.openapi.from_dict(
        copy.deepcopy(_PUBLISHED.raw_schema), config=config(BASE_SEED + _i)
    )
    SCHEMAS[_role].app = APP


# --- path parameters that name real objects ----------------------------------------------

_WORLD: dict[str, Any] = {}  # "world", "role": set by the test before Schemathesis draws
_PARAM = re.compile(r"{(\w+)}")


def _known_path(path: str, names: list[str]) -> dict[str, Any]:
    """The known values of ``path``'s parameters (named by the segment before each)."""
    world: World | None = _WORLD.get("world")
    if world is None:
        return {}
    segments = path.strip("/").split("/")
    values = {}
    for i, segment in enumerate(segments):
        match = _PARAM.fullmatch(segment)
        if match and match.group(1) in names and i > 0:
            value = world.value(_WORLD["role"], segments[i - 1])
            if value is not None:
                values[match.group(1)] = value
    return values


def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    """Generated requests: the generated path or the known objects, half and half."""
    known = _known_path(context.operation.path, list(path_parameters or ()))
    if not known:
        return st.just(path_parameters)
    return st.sampled_from([{**path_parameters, **known}, path_parameters])


for _schema in SCHEMAS.values():
    _schema.hook(flatmap_path_parameters)


# --- who sends what ------------------------------------------------------------------------

# The coverage phase's invalid cases (wrong types, missing fields, out-of-range values,
# unexpected methods and content types: about two thirds of all requests) test input
# handling, which does not depend on the role: they are sent once, as the role that may use
# the operation, so that they reach its own checks rather than a permission refusal. The
# rest (the coverage phase's valid cases, every generated request) is sent as each role.
OWNERS = (  # (path prefix, role), first match; else the doctor
    ("/api/v1/network/", "instadmin"),
    ("/api/v1/devices", "instadmin"),
    ("/api/v1/escalation/duty", "instadmin"),
    ("/api/v1/residents/{pk}/merge", "instadmin"),
    ("/api/v1/alerts/rules", "supervisor"),
    ("/api/v1/escalation/schedule", "supervisor"),
    ("/api/v1/assessments/rules", "supervisor"),
)


def owner(path: str) -> str:
    return next((role for prefix, role in OWNERS if path.startswith(prefix)), "doctor")


def _sent_as(case: Any, role: str) -> bool:
    meta = case.meta
    if meta is None or meta.phase.name != TestPhase.COVERAGE:
        return True
    if meta.generation.mode != GenerationMode.NEGATIVE:
        return True
    return role == owner(case.operation.path)


def _use_known_path(case: Any) -> None:
    """Coverage cases: the known objects, except for the parameter the case tests."""
    meta = case.meta
    if not case.path_parameters or meta is None or meta.phase.name != TestPhase.COVERAGE:
        return
    data = meta.phase.data
    tested = data.parameter if isinstance(data, CoveragePhaseData) else None
    known = _known_path(case.operation.path, list(case.path_parameters))
    if data.parameter_location == ParameterLocation.PATH:
        known.pop(tested, None)
    case.path_parameters = {**case.path_parameters, **known}


# --- checks --------------------------------------------------------------------------------


def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx JSON answer is the API's error shape: ``code`` and ``detail`` strings and a
    ``field`` (string or null)."""
    if not 400 <= response.status_code < 500:
        return None
    if "json" not in (response.headers.get("content-type") or [""])[0]:
        return None
    body = response.json()
    ok = (
        isinstance(body, dict)
        and isinstance(body.get("code"), str)
        and isinstance(body.get("detail"), str)
        and "field" in body
        and (body["field"] is None or isinstance(body["field"], str))
    )
    assert ok, f"a {response.status_code} that is not {{code, detail, field}}: {body!r}"[:500]
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_shape,
]


# --- the test ------------------------------------------------------------------------------

# FUZZ_SURVEY=FILE: a survey instead of a test. Every failing request is appended to FILE as
# one JSON line (role, operation, request, status, the failed checks, the application's
# exception) and the run goes on, so one run lists every failure, not the first of each
# operation; the tests pass.
SURVEY = os.environ.get("FUZZ_SURVEY")


@pytest.fixture
def server_errors() -> Any:
    """The exceptions the application raised while handling the test's requests."""
    seen: list[str] = []

    def receiver(sender: Any, request: Any = None, **kwargs: Any) -> None:
        # The application's own frames (Django logs the whole traceback) and the error.
        kind, error, tb = sys.exc_info()
        frames = [f for f in traceback.extract_tb(tb) if "/yiyang/" in f.filename]
        lines = traceback.format_list(frames[-6:]) + traceback.format_exception_only(kind, error)
        seen.append("".join(lines))

    got_request_exception.connect(receiver, weak=False)
    yield seen
    got_request_exception.disconnect(receiver)


@pytest.fixture
def role(request: pytest.FixtureRequest, world: World) -> str:
    """The role the test runs as. The path hooks read the world and the role from here:
    Schemathesis draws the requests before the test runs."""
    _WORLD.update(world=world, role=request.param)
    return request.param


def _survey(case: Any, headers: dict[str, str], role: str, server_errors: list[str]) -> None:
    response = case.call(headers=headers)
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        body = case.body
        if isinstance(body, NotSet):
            body = None
        elif not isinstance(body, dict | list | str | int | float | bool):
            body = repr(body)[:2000]  # bytes, files
        record = {
            "role": role,
            "operation": case.operation.label,
            "phase": case.meta.phase.name.value if case.meta else None,
            "mode": case.meta.generation.mode.value if case.meta else None,
            "method": case.method,
            "path": case.formatted_path,
            "query": case.query,
            "media_type": case.media_type,
            "body": body,
            "status": response.status_code,
            "response": response.text[:1000],
            "failures": [
                {"code": type(f).code, "title": f.title, "message": f.message[:1500]}
                for f in group.exceptions
            ],
            "exception": server_errors[-1] if server_errors else None,
        }
        with open(SURVEY, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False, default=repr) + "\n")


def run(case: Any, role: str, world: World, server_errors: list[str]) -> None:
    if not _sent_as(case, role):
        return
    _use_known_path(case)
    headers = {"Authorization": f"Bearer {world.tokens[role]}"}
    server_errors.clear()
    try:
        with transaction.atomic():
            try:
                if SURVEY:
                    _survey(case, headers, role, server_errors)
                else:
                    case.call_and_validate(headers=headers, checks=CHECKS)
            finally:
                transaction.set_rollback(True)
    except FailureGroup as exc:
        if server_errors:
            exc.add_note("The application raised:\n" + server_errors[-1])
        raise


def _test_as(role: str) -> Any:
    """``test_as_ROLE[OPERATION][ROLE]``: every operation, as ``role``. (The role is a
    parameter too, so that pytest puts the operation into the test's id.)"""

    @SCHEMAS[role].parametrize()
    @pytest.mark.parametrize("role", [role], indirect=True)
    # The fixtures are shared by a test's requests on purpose: each request is rolled back.
    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test(case: Any, role: str, world: World, server_errors: list[str]) -> None:
        run(case, role, world, server_errors)

    return test


test_as_supervisor = _test_as("supervisor")
test_as_doctor = _test_as("doctor")
test_as_instadmin = _test_as("instadmin")
assert ROLES == ("supervisor", "doctor", "instadmin")


def test_known_objects_are_found(world: World) -> None:
    """The known path values name objects that exist: every GET whose path parameters are
    all known answers the doctor (who sees the most of them) something other than 404, so
    that the fuzz reaches the operations instead of their "not found"."""
    from werkzeug import Client

    client = Client(APP)
    _WORLD.update(world=world, role="doctor")
    headers = {"Authorization": f"Bearer {world.tokens['doctor']}"}
    missing = []
    for path, operations in _PUBLISHED.raw_schema["paths"].items():
        names = _PARAM.findall(path)
        if "get" not in operations or not names or path.endswith("/report"):
            continue
        known = _known_path(path, names)
        assert set(known) == set(names), f"no known value for {path}"
        response = client.get(path.format(**known), headers=headers)
        if response.status_code == 404:
            missing.append(f"{path.format(**known)}: {response.get_data(as_text=True)[:200]}")
    assert missing == []
