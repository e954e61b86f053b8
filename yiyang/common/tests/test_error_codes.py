"""Error codes are enum members, one meaning each, documented in docs/api-errors.md.

(a) No domain error is raised with a code written as a string literal: every code is a
    member of ``CommonError`` or of an app's ``<App>Error`` (``yiyang/<app>/errors.py``).
(b) Every registered code is unique across the enums, well-formed and has a meaning (the
    ``#:`` comment above its member).
(c) ``docs/api-errors.md`` is exactly what ``python -m yiyang.tools.error_codes`` prints.
"""

from __future__ import annotations

import ast
import re
from enum import StrEnum
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

import yiyang
from yiyang.common import errors
from yiyang.common.errors import CommonError, error_codes, register_error_codes
from yiyang.seed.errors import SeedError
from yiyang.tools import error_codes as generator

ROOT = Path(yiyang.__file__).resolve().parent.parent
PACKAGE = ROOT / "yiyang"

# The DomainError family's core, by name (the scan adds the subclasses it finds).
ERROR_CLASSES = {"DomainError", "ValidationFailed"}
CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def _sources(package: Path) -> list[Path]:
    return [
        path
        for path in sorted(package.rglob("*.py"))
        if "tests" not in path.parts and "migrations" not in path.parts
    ]


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literals(node: ast.expr | None) -> list[ast.Constant]:
    """The string literals a code argument can evaluate to (``"a" if x else "b"`` too)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return []


def _code_argument(call: ast.Call, index: int) -> ast.expr | None:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == "code"), None)


def _envelope_code(node: ast.Dict) -> ast.expr | None:
    """The ``"code"`` value of a dict built as an error body (``code``, ``detail``,
    ``field``)."""
    keys = {
        k.value: v
        for k, v in zip(node.keys, node.values, strict=True)
        if isinstance(k, ast.Constant)
    }
    return keys["code"] if {"code", "detail", "field"} <= keys.keys() else None


def _defines_init(cls: ast.ClassDef) -> bool:
    return any(isinstance(node, ast.FunctionDef) and node.name == "__init__" for node in cls.body)


def _error_classes(trees: dict[str, ast.Module]) -> tuple[set[str], set[str]]:
    """The DomainError family by name: (the classes taking the code as first argument —
    DomainError and the subclasses that keep its ``__init__``; the subclasses with their
    own ``__init__``, e.g. NotFound, AnswersInvalid, which pass a code to
    ``super().__init__``)."""
    classes = [
        node for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
    ]
    family = set(ERROR_CLASSES)
    grown = True
    while grown:
        grown = False
        for cls in classes:
            if cls.name not in family and any(_name(base) in family for base in cls.bases):
                family.add(cls.name)
                grown = True
    own_init = {c.name for c in classes if c.name in family and _defines_init(c)}
    return (family - own_init) | ERROR_CLASSES, own_init - ERROR_CLASSES


def _helpers(trees: dict[str, ast.Module], code_first: set[str]) -> dict[str, dict[str, int]]:
    """Code-taking helpers (a function passing one of its parameters on as the code of a
    domain error or an error body, e.g. ``_bad_file(code, detail)``): by the file that
    defines them, name → index of that parameter. A private one (``_name``) is called in
    its own file and where it is imported by name, a public one anywhere."""
    found: dict[str, dict[str, int]] = {}
    for rel, tree in trees.items():
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            params = [a.arg for a in func.args.posonlyargs + func.args.args]
            offset = 1 if params[:1] in (["self"], ["cls"]) else 0
            for node in ast.walk(func):
                code: ast.expr | None = None
                if isinstance(node, ast.Call) and _name(node.func) in code_first:
                    code = _code_argument(node, 0)
                elif isinstance(node, ast.Dict):
                    code = _envelope_code(node)
                if isinstance(code, ast.Name) and code.id in params:
                    found.setdefault(rel, {})[func.name] = params.index(code.id) - offset
    return found


def _module(rel: str) -> str:
    return ".".join(Path(rel).with_suffix("").parts)


def _imported(tree: ast.Module, helpers: dict[str, dict[str, int]]) -> dict[str, int]:
    """The private helpers a file imports by name (``from … import _bad_file``)."""
    by_module = {_module(rel): named for rel, named in helpers.items()}
    return {
        alias.asname or alias.name: by_module[node.module][alias.name]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in by_module
        for alias in node.names
        if alias.name in by_module[node.module]
    }


def literal_codes(root: Path = ROOT) -> list[tuple[str, int, str]]:
    """Every place in ``yiyang/`` (tests and migrations aside) where a domain error or an
    error body gets its code as a string literal: (file, line, code)."""
    trees = {
        str(path.relative_to(root)): ast.parse(path.read_text(encoding="utf-8"))
        for path in _sources(root / "yiyang")
    }
    code_first, own_init = _error_classes(trees)
    helpers = _helpers(trees, code_first)
    public = {
        name: index
        for named in helpers.values()
        for name, index in named.items()
        if not name.startswith("_")
    }
    found = []
    for rel, tree in trees.items():
        takes_code = {**public, **_imported(tree, helpers), **helpers.get(rel, {})}
        calls: list[tuple[ast.Call, int]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in own_init:
                # super().__init__("code", …) in a subclass with its own __init__
                calls += [
                    (call, 0)
                    for call in ast.walk(node)
                    if isinstance(call, ast.Call)
                    and _name(call.func) == "__init__"
                    and isinstance(call.func, ast.Attribute)
                    and isinstance(call.func.value, ast.Call)
                    and _name(call.func.value.func) == "super"
                ]
            elif isinstance(node, ast.Call) and _name(node.func) in code_first:
                calls.append((node, 0))
            elif isinstance(node, ast.Call) and _name(node.func) in takes_code:
                calls.append((node, takes_code[_name(node.func)]))  # type: ignore[index]
            elif isinstance(node, ast.Dict):
                code = _envelope_code(node)
                found += [(rel, lit.lineno, lit.value) for lit in _literals(code)]
        for call, index in calls:
            code = _code_argument(call, index)
            found += [(rel, lit.lineno, lit.value) for lit in _literals(code)]
    return found


# --- (a) no literal codes -----------------------------------------------------------------


def test_no_domain_error_is_raised_with_a_literal_code():
    found = literal_codes()
    assert found == [], (
        "Use the error-code enum member (CommonError or the app's <App>Error in "
        f"yiyang/<app>/errors.py) instead of the string: {found}"
    )


def test_the_scan_finds_literal_codes(tmp_path: Path):
    """The scan itself: each way of passing a literal code is found, members are not."""
    app = tmp_path / "yiyang" / "parcels"
    app.mkdir(parents=True)
    (app / "services.py").write_text(
        "def _bad(code, detail):\n"
        "    return ValidationFailed(code, detail, field='file')\n"
        "def _answer(code):\n"
        "    return {'code': code, 'detail': 'x', 'field': None}\n"
        "class Refused(DomainError):\n"
        "    def __init__(self):\n"
        "        super().__init__('refused', 'no')\n"
        "raise ValidationFailed('one', 'x')\n"
        "raise errors.DomainError(code='two', detail='x')\n"
        "raise ValidationFailed('three' if a else ParcelError.FOUR, 'x')\n"
        "raise _bad('five', 'x')\n"
        "_answer('six')\n"
        "body = {'code': 'seven', 'detail': 'x', 'field': None}\n"
        "raise LoginRefused(ParcelError.EIGHT, 'x')\n"
        "raise _bad(ParcelError.NINE, 'x')\n"
        "raise NotFound('parcel')\n"
        "class Lost(ValueError):\n"
        "    def __init__(self):\n"
        "        super().__init__('not a code')\n"
        "class Late(ValidationFailed):\n"
        "    pass\n"
        "raise Late('ten', 'x')\n"
    )
    (app / "importer.py").write_text(
        "from yiyang.parcels.services import _bad\n"
        "raise _bad('eleven', 'x')\n"
        "raise _bad(ParcelError.TWELVE, 'x')\n"
    )
    (app / "tests").mkdir()
    (app / "tests" / "test_x.py").write_text("raise ValidationFailed('in_a_test', 'x')\n")
    codes = [code for _, _, code in literal_codes(tmp_path)]
    assert sorted(codes) == sorted(
        ["refused", "one", "two", "three", "five", "six", "seven", "ten", "eleven"]
    )


# --- (b) one meaning per code -------------------------------------------------------------


def test_codes_are_unique_well_formed_and_explained():
    seen: dict[str, str] = {}
    for codes in error_codes():
        assert issubclass(codes, StrEnum)
        meanings = generator.meanings(codes)
        for member in codes:
            assert CODE.fullmatch(member.value), f"{codes.__name__}.{member.name}"
            assert member.value not in seen, (
                f"{member.value!r} is in {seen.get(member.value)} and {codes.__name__}"
            )
            seen[member.value] = codes.__name__
            assert meanings.get(member.name), (
                f"{codes.__name__}.{member.name} needs a '#:' comment saying what it means"
            )


def test_every_errors_module_registers_its_enum():
    registered = {codes.__module__ for codes in error_codes()}
    modules = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in PACKAGE.glob("*/errors.py")
    }
    # web.errors is the 500 answer; the seed's codes are never an API answer (below)
    assert modules - {"yiyang.web.errors", "yiyang.seed.errors"} <= registered
    assert error_codes()[0] is CommonError


def test_the_seed_codes_are_explained_but_not_registered():
    """The seed's refusals reach the command line only: SeedError stays out of the registry
    (and of docs/api-errors.md), yet its codes are explained and mean nothing else."""
    assert SeedError not in error_codes()
    registered = {member.value for codes in error_codes() for member in codes}
    meanings = generator.meanings(SeedError)
    for member in SeedError:
        assert CODE.fullmatch(member.value), member.name
        assert member.value not in registered, member.value
        assert meanings.get(member.name), f"SeedError.{member.name} needs a '#:' comment"


def test_a_code_registered_twice_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(errors, "_ENUMS", [CommonError])

    class ParcelError(StrEnum):
        #: The parcel is lost.
        REQUIRED = "required"

    with pytest.raises(ImproperlyConfigured, match="'required'"):
        register_error_codes(ParcelError)
    register_error_codes(CommonError)  # the same enum again (a reload) changes nothing
    assert error_codes() == [CommonError]


# --- (c) the document ---------------------------------------------------------------------


def test_the_document_is_what_the_generator_prints():
    document = ROOT / "docs" / "api-errors.md"
    assert document.read_text(encoding="utf-8") == generator.render(), (
        "docs/api-errors.md is stale: run "
        "`.venv/bin/python -m yiyang.tools.error_codes > docs/api-errors.md`"
    )
