"""Turning model-level validation into ``ValidationFailed`` with a field's own label."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from yiyang.common.errors import CommonError, ValidationFailed


def field_label(models_: Iterable[type[models.Model]], name: str) -> str:
    """The verbose name (translated) of field ``name`` on the first model that has it; the
    code name when none does."""
    for model in models_:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if isinstance(field, models.Field):
            return str(field.verbose_name)
    return name


def clean_text(value: Any, name: str, label: str, max_length: int = 255) -> str:
    """Free text from a form or an API body: stripped (None → ""); longer than
    ``max_length`` → ``ValidationFailed`` ``too_long`` naming the field."""
    cleaned = "" if value is None else str(value).strip()
    if len(cleaned) > max_length:
        raise ValidationFailed(
            CommonError.TOO_LONG,
            _("%(f)s: at most %(n)d characters.") % {"f": label, "n": max_length},
            field=name,
        )
    return cleaned


def required(name: str, label: str) -> ValidationFailed:
    return ValidationFailed(
        CommonError.REQUIRED, _("%(f)s is required.") % {"f": label}, field=name
    )


def clean_fields(obj: models.Model, exclude: Iterable[str], label) -> None:
    """Field-level validation (choices, lengths, types); the first problem is raised as a
    ``ValidationFailed`` on that field. ``label(name)`` gives the field's label."""
    try:
        obj.clean_fields(exclude=list(exclude))
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise ValidationFailed(
            CommonError.INVALID,
            _("%(field)s: %(why)s") % {"field": label(name), "why": " ".join(messages)},
            field=name,
        ) from None


# C0 controls except tab, line feed and carriage return; DEL; the C1 controls. NUL cannot
# be stored by PostgreSQL at all (a 500 there), and none of them belongs in text people read.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(value: str) -> bool:
    return CONTROL_CHARACTERS.search(value) is not None


def control_characters_error(field: str, label: str | None = None) -> ValidationFailed:
    """The 422 for text with a control character in it, naming the field."""
    return ValidationFailed(
        CommonError.INVALID,
        _("%(f)s: control characters are not allowed (only tab, line feed and carriage return).")
        % {"f": label or field},
        field=field,
        status=422,
    )


def check_text(value: str, field: str, label: str | None = None) -> str:
    """``value`` unchanged, or ``control_characters_error`` when it has a control character."""
    if has_control_characters(value):
        raise control_characters_error(field, label)
    return value
