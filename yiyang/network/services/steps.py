"""The steps the network's actions are made of (each action module imports the ones it
uses): finding a referenced object or the target of an update inside the actor's data
scope (``reference``, ``target``, ``fetch``, ``ensure_visible``), cleaning and checking
input (``stripped_text``, ``licence_or_none``, ``not_in_future``, ``require_level``,
``clean_model``, ``required_field``, ``label``), applying a change (``apply_changes``),
saving in a savepoint (``save``) and describing the change for the audit row
(``created_details``, ``diff_details``; personal data masked)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.common.errors import CommonError, NotFound, ValidationFailed
from yiyang.common.validation import clean_fields, field_label, required
from yiyang.network.errors import NetworkError
from yiyang.network.models import (
    LEVEL_DIGITS,
    Agreement,
    Alliance,
    ChainNode,
    Grid,
    Institution,
    Region,
    RegionLevel,
    Skill,
    Staff,
    Team,
)
from yiyang.network.selectors.scope import in_scope

_MASKED = {"phone"}  # personal data: the audit row says it changed, not the value

_WHAT = {
    Region: "region",
    Grid: "grid",
    Institution: "institution",
    Alliance: "alliance",
    ChainNode: "chain node",
    Agreement: "agreement",
    Staff: "staff member",
    Team: "team",
    Skill: "skill",
}


def pk_of(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


def fetch(
    model: type[models.Model], value: Any, *, lock: bool = False, field: str | None = None
) -> Any:
    """The row for an instance or a primary key, re-read from the database. ``field``: the
    input field the reference came from (a missing value there is a ValidationFailed)."""
    what = _WHAT[model]
    pk = pk_of(value)
    if pk is None and field is not None:
        raise required_field(field)
    if pk is None or isinstance(pk, bool):
        raise NotFound(what)
    qs = model._default_manager.all()
    if lock:
        qs = qs.select_for_update()
    try:
        return qs.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound(what) from None


def reference(actor: User, model: type[models.Model], value: Any, field: str | None = None) -> Any:
    """A referenced object: it must exist and be inside the actor's scope.

    With ``field`` (a reference named in the input) a bad one is a 400 naming the field,
    worded the same for "missing" and "outside your scope" so nothing leaks.
    """
    try:
        obj = fetch(model, value, field=field)
        ensure_visible(actor, obj)
    except NotFound:
        if field is None:
            raise
        raise ValidationFailed(
            CommonError.UNKNOWN_REFERENCE,
            _("%(field)s: id %(value)s does not exist in your data scope.")
            % {"field": label(field), "value": pk_of(value)},
            field=field,
        ) from None
    return obj


def target(actor: User, model: type[models.Model], value: Any) -> Any:
    """The object an update changes, locked for the transaction; NotFound if out of scope."""
    obj = fetch(model, value, lock=True)
    ensure_visible(actor, obj)
    return obj


def ensure_visible(actor: User, obj: models.Model) -> None:
    if not in_scope(actor, obj):
        raise NotFound(_WHAT[type(obj)])


def jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if hasattr(value, "name") and isinstance(getattr(value, "name", None), str):
        return value.name  # a FieldFile
    return value


def _audit_value(name: str, value: Any) -> Any:
    return "***" if name in _MASKED and value else jsonable(value)


def created_details(obj: models.Model, names: Iterable[str], **extra: Any) -> dict[str, Any]:
    fields = {n: _audit_value(n, getattr(obj, n)) for n in names}
    fields.update({k: _audit_value(k, v) for k, v in extra.items()})
    return {"fields": fields}


def apply_changes(
    obj: models.Model, changes: Mapping[str, Any], allowed: Iterable[str]
) -> dict[str, tuple[Any, Any]]:
    """Set the allowed fields; return {field: (old, new)} for those that changed."""
    allowed = set(allowed)
    unknown = set(changes) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(
            CommonError.UNKNOWN_FIELD,
            _("The field %(f)s cannot be changed here.") % {"f": name},
            field=name,
        )
    changed: dict[str, tuple[Any, Any]] = {}
    for name, new in changes.items():
        old = getattr(obj, name)
        if isinstance(old, models.Model) or isinstance(new, models.Model):
            if pk_of(old) == pk_of(new):
                continue
        elif old == new:
            continue
        setattr(obj, name, new)
        changed[name] = (old, new)
    return changed


def diff_details(changed: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    return {
        "changed": {
            name: {"from": _audit_value(name, old), "to": _audit_value(name, new)}
            for name, (old, new) in changed.items()
        }
    }


_LABELLED = (Institution, Agreement, Staff, Team, ChainNode, Alliance, Grid, Region)


def label(name: str) -> str:
    """A field's verbose name (translated) for messages; the code name if none is known."""
    return field_label(_LABELLED, name)


def required_field(name: str) -> ValidationFailed:
    return required(name, label(name))


def clean_model(obj: models.Model, exclude: Iterable[str] = ()) -> None:
    """Field-level validation (choices, lengths, types); the first problem is raised."""
    clean_fields(obj, exclude, label)


def stripped_text(value: Any, field: str, *, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise required_field(field)
    return text


def licence_or_none(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def not_in_future(value: datetime.date | None, field: str) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationFailed(
            NetworkError.DATE_IN_FUTURE,
            _("%(f)s (%(d)s) is in the future.") % {"f": label(field), "d": value.isoformat()},
            field=field,
        )


def level_prefix(region: Region) -> str:
    return region.code[: LEVEL_DIGITS[RegionLevel(region.level)]]


def require_level(region: Region, levels: set[str], field: str) -> None:
    if region.level not in levels:
        wanted = " / ".join(sorted(str(RegionLevel(lv).label) for lv in levels))
        raise ValidationFailed(
            NetworkError.WRONG_REGION_LEVEL,
            _("%(region)s is a %(level)s; %(field)s must be a %(wanted)s.")
            % {
                "region": str(region),
                "level": RegionLevel(region.level).label,
                "field": label(field),
                "wanted": wanted,
            },
            field=field,
        )


def save(obj: models.Model, *, update_fields: list[str] | None = None, on_conflict=None) -> None:
    """Save in a savepoint; an IntegrityError is turned into a ValidationFailed by
    ``on_conflict`` (which re-runs the duplicate checks) so a lost race is a clear error."""
    try:
        with transaction.atomic():
            if update_fields is None:
                obj.save()
            elif update_fields:
                obj.save(update_fields=update_fields)
    except IntegrityError:
        if on_conflict is not None:
            on_conflict()
        raise


def distinct(objs: list[Any]) -> list[Any]:
    """The objects in order, each primary key once."""
    seen: set[Any] = set()
    out = []
    for obj in objs:
        if obj.pk not in seen:
            seen.add(obj.pk)
            out.append(obj)
    return out
