"""The health record's actions: conditions, medications, allergies and encounters here,
observations in ``services.observations``, documents in ``services.documents`` (the reads
that show the record are in ``selectors.health``).

Every action takes the acting user and, in this order:

1. checks the permission (``PermissionDenied`` → 403): ``ResidentPerm.HEALTH_MANAGE`` for
   conditions, medications, allergies, encounters and documents,
   ``ResidentPerm.OBSERVATION_RECORD`` for observations;
2. fetches the resident through the actor's scope, locked for the transaction (missing or
   out of scope → ``NotFound``; a merged record takes no new entries), and the entry
   through the resident (an entry of another resident → ``NotFound``);
3. requires the resident's active consent to health-data processing
   (``access.require_health_consent`` → 400 ``no_consent``);
4. validates (``ValidationFailed`` naming the field and why — nothing is written);
5. writes in one transaction with one audit row (``residents.<kind>.create|update|delete``
   — details carry ids, codes and the names of changed fields, never values).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.validation import clean_fields, required
from yiyang.network.models import Institution, Staff
from yiyang.network.selectors.scope import in_scope
from yiyang.residents import icd10
from yiyang.residents.access import require_health_consent
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import (
    Allergy,
    Condition,
    Encounter,
    EncounterKind,
    Medication,
    Resident,
)
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.services.health_steps import (
    audit_entry,
    check_names,
    health_label,
    locked_entry,
    locked_resident,
    strip_texts,
)

CONDITION_FIELDS: tuple[str, ...] = ("icd10", "name", "onset", "status", "note")
MEDICATION_FIELDS: tuple[str, ...] = (
    "name",
    "dose",
    "frequency",
    "route",
    "long_term",
    "start",
    "end",
    "note",
)
ALLERGY_FIELDS: tuple[str, ...] = ("substance", "reaction", "severity", "note")
ENCOUNTER_FIELDS: tuple[str, ...] = (
    "kind",
    "date",
    "end_date",
    "institution",
    "practitioner",
    "reason",
    "notes",
)

# --- helpers ----------------------------------------------------------------------------


def _date(value: Any, name: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(
            CommonError.INVALID_DATE,
            _("%(f)s: %(v)s is not a date (use YYYY-MM-DD).")
            % {"f": health_label(name), "v": value},
            field=name,
        ) from None


def _past_date(value: datetime.date | None, name: str, resident: Resident) -> None:
    """A date that has happened: not after today, not before the resident's birth."""
    if value is None:
        return
    if value > timezone.localdate():
        raise ValidationFailed(
            CommonError.FUTURE_DATE,
            _("%(f)s %(v)s is in the future.") % {"f": health_label(name), "v": value.isoformat()},
            field=name,
        )
    if value < resident.birth_date:
        raise ValidationFailed(
            CommonError.BEFORE_BIRTH,
            _("%(f)s %(v)s is before the resident's birth date (%(born)s).")
            % {
                "f": health_label(name),
                "v": value.isoformat(),
                "born": resident.birth_date.isoformat(),
            },
            field=name,
        )


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _apply(obj: models.Model, changes: Mapping[str, Any]) -> list[str]:
    """Set the given fields; the names of those whose value changed."""
    changed = []
    for name, new in changes.items():
        old = getattr(obj, name)
        if isinstance(old, models.Model) or isinstance(new, models.Model):
            same = getattr(old, "pk", old) == getattr(new, "pk", new)
        else:
            same = old == new
        if not same:
            setattr(obj, name, new)
            changed.append(name)
    return changed


def _unknown_reference(name: str, value: Any) -> ValidationFailed:
    return ValidationFailed(
        CommonError.UNKNOWN_REFERENCE,
        _("%(field)s: id %(value)s does not exist in your data scope.")
        % {"field": health_label(name), "value": getattr(value, "pk", value)},
        field=name,
    )


def _reference(actor: User, model: type[models.Model], value: Any, name: str) -> Any:
    """A referenced network object (institution, practitioner) in the actor's scope;
    missing and out of scope are the same 400 ``unknown_reference``."""
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, models.Model) else value
    if isinstance(pk, bool):
        raise _unknown_reference(name, value)
    try:
        obj = model._default_manager.get(pk=pk)  # type: ignore[attr-defined]
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        raise _unknown_reference(name, value) from None
    if not in_scope(actor, obj):
        raise _unknown_reference(name, value)
    return obj


# --- conditions -------------------------------------------------------------------------


def _prepare_condition(values: dict[str, Any]) -> dict[str, Any]:
    strip_texts(values, "icd10", "name", "note")
    if "icd10" in values:
        values["icd10"] = icd10.normalise(values["icd10"])
    if "onset" in values:
        values["onset"] = _date(values["onset"], "onset")
    if values.get("status") in (None, ""):
        values.pop("status", None)
    return values


def _validate_condition(condition: Condition, resident: Resident, fill_name: bool) -> None:
    code = condition.icd10
    if not code:
        raise required("icd10", health_label("icd10"))
    if not icd10.is_valid(code):
        raise ValidationFailed(
            ResidentError.INVALID_ICD10,
            _(
                "%(code)s is not an ICD-10 code: a letter, two digits and optionally a dot "
                "with up to four more characters (e.g. I10, E11.9, I10.x00)."
            )
            % {"code": code},
            field="icd10",
        )
    if fill_name or not condition.name:
        found = icd10.find(code)
        if found is not None:
            condition.name = found.zh
        elif not condition.name:
            raise ValidationFailed(
                CommonError.REQUIRED,
                _("%(code)s is not in the catalogue of common diagnoses: enter its name.")
                % {"code": code},
                field="name",
            )
    _past_date(condition.onset, "onset", resident)
    clean_fields(condition, ["resident", "recorded_by"], health_label)


def add_condition(actor: User, resident: Any, **values: Any) -> Condition:
    """A diagnosis: ``icd10`` (required; the Chinese name comes from the catalogue when
    ``name`` is empty), ``onset``, ``status``, ``note``."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    check_names(values, CONDITION_FIELDS)
    with transaction.atomic():
        target = locked_resident(actor, resident)
        require_health_consent(target)
        values = _prepare_condition(dict(values))
        condition = Condition(resident=target, recorded_by=actor, **values)
        _validate_condition(condition, target, fill_name=not values.get("name"))
        condition.save()
        audit_entry(actor, "create", condition, target, code=condition.icd10, fields=sorted(values))
    return condition


def update_condition(actor: User, resident: Any, item: Any, **changes: Any) -> Condition:
    """Change a diagnosis. A new code whose name is not changed with it (absent, empty or
    the old one) takes the catalogue's name; outside the catalogue the name is required."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    check_names(changes, CONDITION_FIELDS)
    with transaction.atomic():
        target = locked_resident(actor, resident)
        condition = locked_entry(Condition, target, item)
        require_health_consent(target)
        changes = _prepare_condition(dict(changes))
        old_code, old_name = condition.icd10, condition.name
        changed = _apply(condition, changes)
        # a new code with the old (or no) name: the catalogue names it, else the user must
        fill = condition.icd10 != old_code and changes.get("name") in (None, "", old_name)
        if fill:
            condition.name = ""
        _validate_condition(condition, target, fill_name=fill)
        changed = [name for name in changed if name != "name"]
        if condition.name != old_name:
            changed.append("name")
        if changed:
            condition.save(update_fields=changed)
            audit_entry(actor, "update", condition, target, code=condition.icd10, fields=changed)
    return condition


def _remove(
    actor: User,
    resident: Any,
    model: type[models.Model],
    item: Any,
    details: Callable[[Any], dict[str, Any]] | None = None,
) -> None:
    """Delete one health-record entry of a resident in scope (``ResidentPerm.HEALTH_MANAGE``,
    active consent), audited with ``details(row)``."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    with transaction.atomic():
        target = locked_resident(actor, resident)
        row = locked_entry(model, target, item)
        require_health_consent(target)
        audit_entry(actor, "delete", row, target, **(details(row) if details else {}))
        row.delete()


def remove_condition(actor: User, resident: Any, item: Any) -> None:
    _remove(actor, resident, Condition, item, lambda row: {"code": row.icd10})


# --- medications ------------------------------------------------------------------------


def _prepare_medication(values: dict[str, Any]) -> dict[str, Any]:
    strip_texts(values, "name", "dose", "frequency", "route", "note")
    for name in ("start", "end"):
        if name in values:
            values[name] = _date(values[name], name)
    if "long_term" in values:
        values["long_term"] = _bool(values["long_term"])
    return values


def _validate_medication(medication: Medication, resident: Resident) -> None:
    if not medication.name:
        raise required("name", health_label("name"))
    if medication.start is not None and medication.start < resident.birth_date:
        raise ValidationFailed(
            CommonError.BEFORE_BIRTH,
            _("%(f)s %(v)s is before the resident's birth date (%(born)s).")
            % {
                "f": health_label("start"),
                "v": medication.start.isoformat(),
                "born": resident.birth_date.isoformat(),
            },
            field="start",
        )
    if medication.start and medication.end and medication.end < medication.start:
        raise ValidationFailed(
            ResidentError.END_BEFORE_START,
            _("The end (%(end)s) is before the start (%(start)s).")
            % {"end": medication.end.isoformat(), "start": medication.start.isoformat()},
            field="end",
        )
    clean_fields(medication, ["resident", "recorded_by"], health_label)


def add_medication(actor: User, resident: Any, **values: Any) -> Medication:
    """A medicine taken: ``name`` (required), ``dose``, ``frequency``, ``route``,
    ``long_term`` (long-term prescription), ``start``/``end`` (end not before start)."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    check_names(values, MEDICATION_FIELDS)
    with transaction.atomic():
        target = locked_resident(actor, resident)
        require_health_consent(target)
        values = _prepare_medication(dict(values))
        medication = Medication(resident=target, recorded_by=actor, **values)
        _validate_medication(medication, target)
        medication.save()
        audit_entry(actor, "create", medication, target, fields=sorted(values))
    return medication


def update_medication(actor: User, resident: Any, item: Any, **changes: Any) -> Medication:
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    check_names(changes, MEDICATION_FIELDS)
    with transaction.atomic():
        target = locked_resident(actor, resident)
        medication = locked_entry(Medication, target, item)
        require_health_consent(target)
        changed = _apply(medication, _prepare_medication(dict(changes)))
        _validate_medication(medication, target)
        if changed:
            medication.save(update_fields=changed)
            audit_entry(actor, "update", medication, target, fields=changed)
    return medication


def remove_medication(actor: User, resident: Any, item: Any) -> None:
    _remove(actor, resident, Medication, item)


# --- allergies --------------------------------------------------------------------------


def _prepare_allergy(values: dict[str, Any]) -> dict[str, Any]:
    strip_texts(values, "substance", "reaction", "note")
    if values.get("severity") in (None, ""):
        values.pop("severity", None)
    return values


def _validate_allergy(allergy: Allergy) -> None:
    if not allergy.substance:
        raise required("substance", health_label("substance"))
    clean_fields(allergy, ["resident", "recorded_by"], health_label)


def add_allergy(actor: User, resident: Any, **values: Any) -> Allergy:
    """An allergy: ``substance`` (required), ``reaction``, ``severity``, ``note``."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    check_names(values, ALLERGY_FIELDS)
    with transaction.atomic():
        target = locked_resident(actor, resident)
        require_health_consent(target)
        values = _prepare_allergy(dict(values))
        allergy = Allergy(resident=target, recorded_by=actor, **values)
        _validate_allergy(allergy)
        allergy.save()
        audit_entry(actor, "create", allergy, target, fields=sorted(values))
    return allergy


def update_allergy(actor: User, resident: Any, item: Any, **changes: Any) -> Allergy:
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    check_names(changes, ALLERGY_FIELDS)
    with transaction.atomic():
        target = locked_resident(actor, resident)
        allergy = locked_entry(Allergy, target, item)
        require_health_consent(target)
        changed = _apply(allergy, _prepare_allergy(dict(changes)))
        _validate_allergy(allergy)
        if changed:
            allergy.save(update_fields=changed)
            audit_entry(actor, "update", allergy, target, fields=changed)
    return allergy


def remove_allergy(actor: User, resident: Any, item: Any) -> None:
    _remove(actor, resident, Allergy, item)


# --- encounters -------------------------------------------------------------------------


def _prepare_encounter(actor: User, values: dict[str, Any]) -> dict[str, Any]:
    strip_texts(values, "kind", "reason", "notes")
    for name in ("date", "end_date"):
        if name in values:
            values[name] = _date(values[name], name)
    if "institution" in values:
        values["institution"] = _reference(actor, Institution, values["institution"], "institution")
    if "practitioner" in values:
        values["practitioner"] = _reference(actor, Staff, values["practitioner"], "practitioner")
    return values


def _validate_encounter(encounter: Encounter, resident: Resident) -> None:
    if not encounter.kind:
        raise required("kind", health_label("kind"))
    if encounter.date is None:
        raise required("date", health_label("date"))
    _past_date(encounter.date, "date", resident)
    if encounter.end_date is not None:
        if encounter.kind != EncounterKind.HOSPITAL_STAY:
            raise ValidationFailed(
                ResidentError.END_DATE_NOT_ALLOWED,
                _("A discharge date is only recorded for a hospital stay."),
                field="end_date",
            )
        if encounter.end_date < encounter.date:
            raise ValidationFailed(
                ResidentError.END_BEFORE_START,
                _("The discharge date (%(end)s) is before the admission date (%(start)s).")
                % {"end": encounter.end_date.isoformat(), "start": encounter.date.isoformat()},
                field="end_date",
            )
        _past_date(encounter.end_date, "end_date", resident)
    clean_fields(
        encounter, ["resident", "recorded_by", "institution", "practitioner"], health_label
    )


def add_encounter(actor: User, resident: Any, **values: Any) -> Encounter:
    """A contact with care: ``kind`` (clinic, home visit, phone, hospital stay), ``date``
    (not in the future), ``end_date`` (hospital stays only, not before ``date``),
    ``institution`` and ``practitioner`` (ids or instances in the actor's scope, else 400
    ``unknown_reference``), ``reason``, ``notes``."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    check_names(values, ENCOUNTER_FIELDS)
    with transaction.atomic():
        target = locked_resident(actor, resident)
        require_health_consent(target)
        values = _prepare_encounter(actor, dict(values))
        encounter = Encounter(resident=target, recorded_by=actor, **values)
        _validate_encounter(encounter, target)
        encounter.save()
        audit_entry(actor, "create", encounter, target, kind=encounter.kind, fields=sorted(values))
    return encounter


def update_encounter(actor: User, resident: Any, item: Any, **changes: Any) -> Encounter:
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    check_names(changes, ENCOUNTER_FIELDS)
    with transaction.atomic():
        target = locked_resident(actor, resident)
        encounter = locked_entry(Encounter, target, item)
        require_health_consent(target)
        changed = _apply(encounter, _prepare_encounter(actor, dict(changes)))
        _validate_encounter(encounter, target)
        if changed:
            encounter.save(update_fields=changed)
            audit_entry(actor, "update", encounter, target, kind=encounter.kind, fields=changed)
    return encounter


def remove_encounter(actor: User, resident: Any, item: Any) -> None:
    _remove(actor, resident, Encounter, item, lambda row: {"kind": row.kind})
