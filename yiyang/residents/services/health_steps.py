"""The steps every health-record action follows (``services.health``,
``services.observations``, ``services.documents``): the resident locked in the actor's scope,
the entry of her record, the field labels, the input checks and the audit row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, NotFound, ValidationFailed
from yiyang.common.validation import field_label
from yiyang.residents.models import (
    Allergy,
    Condition,
    Document,
    Encounter,
    Medication,
    Observation,
    Resident,
)
from yiyang.residents.selectors.registry import locked_resident_for

_MODELS = (Condition, Medication, Allergy, Encounter, Observation, Document)
_WHAT = {
    Condition: "condition",
    Medication: "medication",
    Allergy: "allergy",
    Encounter: "encounter",
    Observation: "observation",
    Document: "document",
}


def health_label(name: str) -> str:
    return field_label(_MODELS, name)


def locked_resident(actor: User, resident: Any) -> Resident:
    """The resident, in the actor's scope, locked for the rest of the transaction."""
    return locked_resident_for(
        actor,
        resident,
        merged_detail=_("This record was merged into another one: record health data there."),
    )


def locked_entry(model: type[models.Model], resident: Resident, item: Any) -> Any:
    """An entry of ``resident``'s record, locked; another resident's or missing →
    ``NotFound``."""
    pk = item.pk if isinstance(item, models.Model) else item
    if pk is None or isinstance(pk, bool):
        raise NotFound(_WHAT[model])
    try:
        return (
            model._default_manager.select_for_update(no_key=True)  # type: ignore[attr-defined]
            .filter(resident=resident)
            .get(pk=pk)
        )
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound(_WHAT[model]) from None


def strip_texts(values: dict[str, Any], *names: str) -> None:
    """Text fields: ``None`` becomes "", surrounding space is dropped."""
    for name in names:
        if name in values:
            value = values[name]
            values[name] = "" if value is None else str(value).strip()


def check_names(values: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(values) - set(allowed)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(
            CommonError.UNKNOWN_FIELD, _("Unknown field %(f)s.") % {"f": name}, field=name
        )


def entry_repr(obj: models.Model, resident: Resident) -> str:
    return f"{_WHAT[type(obj)]} {obj.pk} of resident {resident.pk}"


def audit_entry(
    actor: User,
    action: str,
    obj: models.Model,
    resident: Resident,
    **details: Any,
) -> None:
    record(
        actor=actor,
        action=f"residents.{_WHAT[type(obj)]}.{action}",
        obj=obj,
        object_repr=entry_repr(obj, resident),
        details={"resident": resident.pk, **details},
    )
