"""Turning model-level validation into ``ValidationFailed`` with a field's own label."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from yiyang.common.errors import ValidationFailed


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


def required(name: str, label: str) -> ValidationFailed:
    return ValidationFailed("required", _("%(f)s is required.") % {"f": label}, field=name)


def clean_fields(obj: models.Model, exclude: Iterable[str], label) -> None:
    """Field-level validation (choices, lengths, types); the first problem is raised as a
    ``ValidationFailed`` on that field. ``label(name)`` gives the field's label."""
    try:
        obj.clean_fields(exclude=list(exclude))
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise ValidationFailed(
            "invalid",
            _("%(field)s: %(why)s") % {"field": label(name), "why": " ".join(messages)},
            field=name,
        ) from None
