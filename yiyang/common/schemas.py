"""The API's error body, shared by every router: ``{"code", "detail", "field"}``."""

from __future__ import annotations

from typing import Any, ClassVar

from ninja import Schema
from pydantic import ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError


class ErrorOut(Schema):
    """Every error answer of ``/api/v1/``: a stable ``code``, a human ``detail`` and the
    input ``field`` at fault (null when the error is not about one field). A schema error
    (422) also lists every problem under ``errors``."""

    code: str = Field(
        description="Stable error code; every code and its meaning are listed in "
        "docs/api-errors.md."
    )
    detail: str
    field: str | None = None


def _drop_null(schema: dict[str, Any], cls: Any) -> None:
    """The published schema of a ``PatchSchema``: a field that may not be null is optional
    but not nullable (its ``anyOf`` loses the null branch and the null default)."""
    for name, prop in schema.get("properties", {}).items():
        if name in cls.nullable:
            continue
        branches = prop.get("anyOf")
        if branches:
            kept = [b for b in branches if b != {"type": "null"}]
            if len(kept) != len(branches):
                del prop["anyOf"]
                if len(kept) == 1:
                    prop.update(kept[0])
                else:
                    prop["anyOf"] = kept
        if prop.get("default", False) is None:
            del prop["default"]


class PatchSchema(Schema):
    """A body whose fields are all optional: a field left out is left as it is.

    An explicit ``null`` is a value, not "left out": it is accepted only for the fields named
    in ``nullable`` (columns that may be empty: a date, an optional link). For any other
    field it is a 422 naming the field — it used to reach the database and fail there on the
    NOT NULL column (500)."""

    model_config = ConfigDict(json_schema_extra=_drop_null)

    nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_allowed(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise PydanticCustomError("null_not_allowed", "may not be null")
        return value
