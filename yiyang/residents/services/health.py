"""The health record: conditions, medications, allergies, encounters, observations and
documents — the actions that change it and the reads that show it.

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

Observations (ADR 0012): LOINC-coded (``residents.loinc``), the value in a plausible range
and converted to the canonical unit, measured at a time not in the future (a few minutes
of clock skew allowed), not before birth and not after death. Blood pressure is recorded
as a panel (systolic + diastolic, optionally heart rate) sharing one ``panel`` UUID.
**BMI is derived**: recording a weight with a height measured in the two years before it
(``BMI_HEIGHT_WINDOW``), or a height with a weight measured in the 30 days before it
(``BMI_WEIGHT_WINDOW``), stores a BMI row (source ``derived``) at the same time and in the
same panel as the recorded row; a derived BMI already at that time is replaced. Deleting
a reading (entered in error) deletes its panel — the BP pair, or the weight/height with the
BMI derived with it. Device readings and derived rows cannot be deleted by hand.

Reads (``*_for(user, resident)``) take a resident fetched with
``selectors.get_resident_for`` (scoped, audited) and check ``access.require_health_view``
(staff with ``ResidentPerm.HEALTH_VIEW``, the resident herself, a family proxy allowed to view
readings). A document download is audited on its own (``residents.document.read``).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.audit.services import record
from yiyang.common.errors import NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.validation import clean_fields, field_label, required
from yiyang.network.models import Institution, Staff
from yiyang.network.selectors import in_scope
from yiyang.residents import icd10, loinc
from yiyang.residents.access import require_health_consent, require_health_view
from yiyang.residents.documents import inspect_upload
from yiyang.residents.models import (
    Allergy,
    Condition,
    Document,
    Encounter,
    EncounterKind,
    Medication,
    Observation,
    ObservationSource,
    Resident,
)
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.registry import locked_resident_for

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
DOCUMENT_FIELDS: tuple[str, ...] = ("kind", "title")

MAX_CLOCK_SKEW = datetime.timedelta(minutes=5)
BMI_HEIGHT_WINDOW = datetime.timedelta(days=730)
BMI_WEIGHT_WINDOW = datetime.timedelta(days=30)

_MODELS = (Condition, Medication, Allergy, Encounter, Observation, Document)
_WHAT = {
    Condition: "condition",
    Medication: "medication",
    Allergy: "allergy",
    Encounter: "encounter",
    Observation: "observation",
    Document: "document",
}


# --- helpers ----------------------------------------------------------------------------


def _label(name: str) -> str:
    return field_label(_MODELS, name)


def _resident(actor: Any, resident: Any) -> Resident:
    """The resident, in the actor's scope, locked for the rest of the transaction."""
    return locked_resident_for(
        actor,
        resident,
        merged_detail=_("This record was merged into another one: record health data there."),
    )


def _item(model: type[models.Model], resident: Resident, item: Any) -> Any:
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


def _text(values: dict[str, Any], *names: str) -> None:
    """Text fields: ``None`` becomes "", surrounding space is dropped."""
    for name in names:
        if name in values:
            value = values[name]
            values[name] = "" if value is None else str(value).strip()


def _check_names(values: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(values) - set(allowed)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed("unknown_field", _("Unknown field %(f)s.") % {"f": name}, field=name)


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
            "invalid_date",
            _("%(f)s: %(v)s is not a date (use YYYY-MM-DD).") % {"f": _label(name), "v": value},
            field=name,
        ) from None


def _past_date(value: datetime.date | None, name: str, resident: Resident) -> None:
    """A date that has happened: not after today, not before the resident's birth."""
    if value is None:
        return
    if value > timezone.localdate():
        raise ValidationFailed(
            "future_date",
            _("%(f)s %(v)s is in the future.") % {"f": _label(name), "v": value.isoformat()},
            field=name,
        )
    if value < resident.birth_date:
        raise ValidationFailed(
            "before_birth",
            _("%(f)s %(v)s is before the resident's birth date (%(born)s).")
            % {"f": _label(name), "v": value.isoformat(), "born": resident.birth_date.isoformat()},
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


def _repr(obj: models.Model, resident: Resident) -> str:
    return f"{_WHAT[type(obj)]} {obj.pk} of resident {resident.pk}"


def _audit(
    actor: Any,
    action: str,
    obj: models.Model,
    resident: Resident,
    **details: Any,
) -> None:
    record(
        actor=actor,
        action=f"residents.{_WHAT[type(obj)]}.{action}",
        obj=obj,
        object_repr=_repr(obj, resident),
        details={"resident": resident.pk, **details},
    )


def _unknown_reference(name: str, value: Any) -> ValidationFailed:
    return ValidationFailed(
        "unknown_reference",
        _("%(field)s: id %(value)s does not exist in your data scope.")
        % {"field": _label(name), "value": getattr(value, "pk", value)},
        field=name,
    )


def _reference(actor: Any, model: type[models.Model], value: Any, name: str) -> Any:
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
    _text(values, "icd10", "name", "note")
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
        raise required("icd10", _label("icd10"))
    if not icd10.is_valid(code):
        raise ValidationFailed(
            "invalid_icd10",
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
                "required",
                _("%(code)s is not in the catalogue of common diagnoses: enter its name.")
                % {"code": code},
                field="name",
            )
    _past_date(condition.onset, "onset", resident)
    clean_fields(condition, ["resident", "recorded_by"], _label)


def add_condition(actor: Any, resident: Any, **values: Any) -> Condition:
    """A diagnosis: ``icd10`` (required; the Chinese name comes from the catalogue when
    ``name`` is empty), ``onset``, ``status``, ``note``."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    _check_names(values, CONDITION_FIELDS)
    with transaction.atomic():
        target = _resident(actor, resident)
        require_health_consent(target)
        values = _prepare_condition(dict(values))
        condition = Condition(resident=target, recorded_by=actor, **values)
        _validate_condition(condition, target, fill_name=not values.get("name"))
        condition.save()
        _audit(actor, "create", condition, target, code=condition.icd10, fields=sorted(values))
    return condition


def update_condition(actor: Any, resident: Any, item: Any, **changes: Any) -> Condition:
    """Change a diagnosis. A new code whose name is not changed with it (absent, empty or
    the old one) takes the catalogue's name; outside the catalogue the name is required."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    _check_names(changes, CONDITION_FIELDS)
    with transaction.atomic():
        target = _resident(actor, resident)
        condition = _item(Condition, target, item)
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
            _audit(actor, "update", condition, target, code=condition.icd10, fields=changed)
    return condition


def _remove(
    actor: Any,
    resident: Any,
    model: type[models.Model],
    item: Any,
    details: Callable[[Any], dict[str, Any]] | None = None,
) -> None:
    """Delete one health-record entry of a resident in scope (``ResidentPerm.HEALTH_MANAGE``,
    active consent), audited with ``details(row)``."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    with transaction.atomic():
        target = _resident(actor, resident)
        row = _item(model, target, item)
        require_health_consent(target)
        _audit(actor, "delete", row, target, **(details(row) if details else {}))
        row.delete()


def remove_condition(actor: Any, resident: Any, item: Any) -> None:
    _remove(actor, resident, Condition, item, lambda row: {"code": row.icd10})


# --- medications ------------------------------------------------------------------------


def _prepare_medication(values: dict[str, Any]) -> dict[str, Any]:
    _text(values, "name", "dose", "frequency", "route", "note")
    for name in ("start", "end"):
        if name in values:
            values[name] = _date(values[name], name)
    if "long_term" in values:
        values["long_term"] = _bool(values["long_term"])
    return values


def _validate_medication(medication: Medication, resident: Resident) -> None:
    if not medication.name:
        raise required("name", _label("name"))
    if medication.start is not None and medication.start < resident.birth_date:
        raise ValidationFailed(
            "before_birth",
            _("%(f)s %(v)s is before the resident's birth date (%(born)s).")
            % {
                "f": _label("start"),
                "v": medication.start.isoformat(),
                "born": resident.birth_date.isoformat(),
            },
            field="start",
        )
    if medication.start and medication.end and medication.end < medication.start:
        raise ValidationFailed(
            "end_before_start",
            _("The end (%(end)s) is before the start (%(start)s).")
            % {"end": medication.end.isoformat(), "start": medication.start.isoformat()},
            field="end",
        )
    clean_fields(medication, ["resident", "recorded_by"], _label)


def add_medication(actor: Any, resident: Any, **values: Any) -> Medication:
    """A medicine taken: ``name`` (required), ``dose``, ``frequency``, ``route``,
    ``long_term`` (long-term prescription), ``start``/``end`` (end not before start)."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    _check_names(values, MEDICATION_FIELDS)
    with transaction.atomic():
        target = _resident(actor, resident)
        require_health_consent(target)
        values = _prepare_medication(dict(values))
        medication = Medication(resident=target, recorded_by=actor, **values)
        _validate_medication(medication, target)
        medication.save()
        _audit(actor, "create", medication, target, fields=sorted(values))
    return medication


def update_medication(actor: Any, resident: Any, item: Any, **changes: Any) -> Medication:
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    _check_names(changes, MEDICATION_FIELDS)
    with transaction.atomic():
        target = _resident(actor, resident)
        medication = _item(Medication, target, item)
        require_health_consent(target)
        changed = _apply(medication, _prepare_medication(dict(changes)))
        _validate_medication(medication, target)
        if changed:
            medication.save(update_fields=changed)
            _audit(actor, "update", medication, target, fields=changed)
    return medication


def remove_medication(actor: Any, resident: Any, item: Any) -> None:
    _remove(actor, resident, Medication, item)


# --- allergies --------------------------------------------------------------------------


def _prepare_allergy(values: dict[str, Any]) -> dict[str, Any]:
    _text(values, "substance", "reaction", "note")
    if values.get("severity") in (None, ""):
        values.pop("severity", None)
    return values


def _validate_allergy(allergy: Allergy) -> None:
    if not allergy.substance:
        raise required("substance", _label("substance"))
    clean_fields(allergy, ["resident", "recorded_by"], _label)


def add_allergy(actor: Any, resident: Any, **values: Any) -> Allergy:
    """An allergy: ``substance`` (required), ``reaction``, ``severity``, ``note``."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    _check_names(values, ALLERGY_FIELDS)
    with transaction.atomic():
        target = _resident(actor, resident)
        require_health_consent(target)
        values = _prepare_allergy(dict(values))
        allergy = Allergy(resident=target, recorded_by=actor, **values)
        _validate_allergy(allergy)
        allergy.save()
        _audit(actor, "create", allergy, target, fields=sorted(values))
    return allergy


def update_allergy(actor: Any, resident: Any, item: Any, **changes: Any) -> Allergy:
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    _check_names(changes, ALLERGY_FIELDS)
    with transaction.atomic():
        target = _resident(actor, resident)
        allergy = _item(Allergy, target, item)
        require_health_consent(target)
        changed = _apply(allergy, _prepare_allergy(dict(changes)))
        _validate_allergy(allergy)
        if changed:
            allergy.save(update_fields=changed)
            _audit(actor, "update", allergy, target, fields=changed)
    return allergy


def remove_allergy(actor: Any, resident: Any, item: Any) -> None:
    _remove(actor, resident, Allergy, item)


# --- encounters -------------------------------------------------------------------------


def _prepare_encounter(actor: Any, values: dict[str, Any]) -> dict[str, Any]:
    _text(values, "kind", "reason", "notes")
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
        raise required("kind", _label("kind"))
    if encounter.date is None:
        raise required("date", _label("date"))
    _past_date(encounter.date, "date", resident)
    if encounter.end_date is not None:
        if encounter.kind != EncounterKind.HOSPITAL_STAY:
            raise ValidationFailed(
                "end_date_not_allowed",
                _("A discharge date is only recorded for a hospital stay."),
                field="end_date",
            )
        if encounter.end_date < encounter.date:
            raise ValidationFailed(
                "end_before_start",
                _("The discharge date (%(end)s) is before the admission date (%(start)s).")
                % {"end": encounter.end_date.isoformat(), "start": encounter.date.isoformat()},
                field="end_date",
            )
        _past_date(encounter.end_date, "end_date", resident)
    clean_fields(encounter, ["resident", "recorded_by", "institution", "practitioner"], _label)


def add_encounter(actor: Any, resident: Any, **values: Any) -> Encounter:
    """A contact with care: ``kind`` (clinic, home visit, phone, hospital stay), ``date``
    (not in the future), ``end_date`` (hospital stays only, not before ``date``),
    ``institution`` and ``practitioner`` (ids or instances in the actor's scope, else 400
    ``unknown_reference``), ``reason``, ``notes``."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    _check_names(values, ENCOUNTER_FIELDS)
    with transaction.atomic():
        target = _resident(actor, resident)
        require_health_consent(target)
        values = _prepare_encounter(actor, dict(values))
        encounter = Encounter(resident=target, recorded_by=actor, **values)
        _validate_encounter(encounter, target)
        encounter.save()
        _audit(actor, "create", encounter, target, kind=encounter.kind, fields=sorted(values))
    return encounter


def update_encounter(actor: Any, resident: Any, item: Any, **changes: Any) -> Encounter:
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    _check_names(changes, ENCOUNTER_FIELDS)
    with transaction.atomic():
        target = _resident(actor, resident)
        encounter = _item(Encounter, target, item)
        require_health_consent(target)
        changed = _apply(encounter, _prepare_encounter(actor, dict(changes)))
        _validate_encounter(encounter, target)
        if changed:
            encounter.save(update_fields=changed)
            _audit(actor, "update", encounter, target, kind=encounter.kind, fields=changed)
    return encounter


def remove_encounter(actor: Any, resident: Any, item: Any) -> None:
    _remove(actor, resident, Encounter, item, lambda row: {"kind": row.kind})


# --- observations -----------------------------------------------------------------------


def _decimal(value: Any, name: str, label: str) -> Decimal:
    if value in (None, ""):
        raise ValidationFailed("required", _("%(f)s: enter a value.") % {"f": label}, field=name)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(
            "invalid_number",
            _("%(f)s: %(v)s is not a number.") % {"f": label, "v": value},
            field=name,
        ) from None
    if not number.is_finite():
        raise ValidationFailed(
            "invalid_number",
            _("%(f)s: %(v)s is not a number.") % {"f": label, "v": value},
            field=name,
        )
    return number


def _measured(code: loinc.Code, value: Any, unit: str | None, name: str) -> Decimal:
    """``value`` (in ``unit``) as a plausible value in the code's canonical unit."""
    label = str(code.label)
    number = _decimal(value, name, label)
    converted = loinc.convert(code, number, unit)
    if converted is None:
        raise ValidationFailed(
            "invalid_unit",
            _("%(unit)s is not a unit for %(label)s (use %(units)s).")
            % {"unit": unit, "label": label, "units": ", ".join(code.units)},
            field="unit" if name == "value" else name,
        )
    if not code.in_range(converted):
        entered = f"{number} {unit}" if loinc.canonical_unit(code, unit) is None else ""
        shown = f"{converted} {code.unit}" + (f" ({entered})" if entered else "")
        raise ValidationFailed(
            "out_of_range",
            _("%(label)s %(value)s is outside the plausible range %(range)s: check the reading.")
            % {"label": label, "value": shown, "range": code.range_text()},
            field=name,
        )
    return converted


def _when(value: Any, resident: Resident, name: str = "effective_at") -> datetime.datetime:
    """The measuring time: aware (a naive time is local), not in the future beyond
    ``MAX_CLOCK_SKEW``, not before birth, not after death. ``None`` → now."""
    now = timezone.now()
    if value in (None, ""):
        return now
    if isinstance(value, datetime.datetime):
        when = value
    elif isinstance(value, datetime.date):
        when = datetime.datetime.combine(value, datetime.time(12))
    else:
        try:
            when = datetime.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationFailed(
                "invalid_datetime",
                _("%(f)s: %(v)s is not a date and time (use YYYY-MM-DDTHH:MM).")
                % {"f": _label(name), "v": value},
                field=name,
            ) from None
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when > now + MAX_CLOCK_SKEW:
        raise ValidationFailed(
            "future_time",
            _("%(f)s %(v)s is in the future.")
            % {"f": _label(name), "v": timezone.localtime(when).strftime("%Y-%m-%d %H:%M")},
            field=name,
        )
    day = timezone.localtime(when).date()
    if day < resident.birth_date:
        raise ValidationFailed(
            "before_birth",
            _("%(f)s %(v)s is before the resident's birth date (%(born)s).")
            % {"f": _label(name), "v": day.isoformat(), "born": resident.birth_date.isoformat()},
            field=name,
        )
    if resident.deceased_on is not None and day > resident.deceased_on:
        raise ValidationFailed(
            "after_death",
            _("%(f)s %(v)s is after the resident's date of death (%(died)s).")
            % {"f": _label(name), "v": day.isoformat(), "died": resident.deceased_on.isoformat()},
            field=name,
        )
    return when


def _source(value: Any) -> str:
    source = value or ObservationSource.MANUAL
    if source not in (ObservationSource.MANUAL, ObservationSource.DEVICE):
        raise ValidationFailed(
            "invalid_source",
            _("A reading is entered by hand or comes from a device; %(v)s is neither.")
            % {"v": source},
            field="source",
        )
    return str(source)


def _bmi_value(weight_kg: Decimal, height_cm: Decimal) -> Decimal | None:
    code = loinc.CODES[loinc.BMI]
    metres = height_cm / 100
    bmi = code.quantize(weight_kg / (metres * metres))
    return bmi if code.in_range(bmi) else None


def _derive_bmi(resident: Resident, row: Observation) -> Decimal | None:
    """The BMI that ``row`` (a weight or a height) allows, per the rule in the module
    docstring; ``None`` when there is no recent partner measurement."""
    if row.code == loinc.WEIGHT:
        window, partner_code = BMI_HEIGHT_WINDOW, loinc.HEIGHT
    elif row.code == loinc.HEIGHT:
        window, partner_code = BMI_WEIGHT_WINDOW, loinc.WEIGHT
    else:
        return None
    partner = (
        Observation.objects.filter(
            resident=resident,
            code=partner_code,
            effective_at__lte=row.effective_at,
            effective_at__gte=row.effective_at - window,
        )
        .order_by("-effective_at", "-pk")
        .first()
    )
    if partner is None:
        return None
    if row.code == loinc.WEIGHT:
        return _bmi_value(row.value, partner.value)
    return _bmi_value(partner.value, row.value)


def _store_bmi(actor: Any, resident: Resident, row: Observation, bmi: Decimal) -> Observation:
    Observation.objects.filter(
        resident=resident,
        code=loinc.BMI,
        source=ObservationSource.DERIVED,
        effective_at=row.effective_at,
    ).delete()
    return Observation.objects.create(
        resident=resident,
        code=loinc.BMI,
        value=bmi,
        unit=loinc.CODES[loinc.BMI].unit,
        effective_at=row.effective_at,
        source=ObservationSource.DERIVED,
        panel=row.panel,
        recorded_by=actor,
    )


def _audit_observations(actor: Any, resident: Resident, rows: list[Observation]) -> None:
    first = rows[0]
    record(
        actor=actor,
        action="residents.observation.create",
        obj=first,
        object_repr=_repr(first, resident),
        details={
            "resident": resident.pk,
            "ids": [row.pk for row in rows],
            "codes": [row.code for row in rows],
            "source": first.source,
            "panel": str(first.panel) if first.panel else None,
        },
    )


def record_observation(
    actor: Any,
    resident: Any,
    code: str,
    value: Any,
    unit: str | None = None,
    effective_at: Any = None,
    source: str = ObservationSource.MANUAL,
    device_serial: str = "",
) -> list[Observation]:
    """One measurement (glucose fasting/random, heart rate, SpO2, temperature, weight,
    height); ``code`` is a LOINC code or its key (``glucose_fasting``). Returns the rows
    written: the observation, and the BMI derived from it if any."""
    require_perm(actor, ResidentPerm.OBSERVATION_RECORD)
    spec = loinc.lookup(code)
    if spec is None:
        raise ValidationFailed(
            "unknown_code",
            _("%(code)s is not a measurement the health record knows.") % {"code": code},
            field="code",
        )
    if spec.code in (loinc.SYSTOLIC, loinc.DIASTOLIC):
        raise ValidationFailed(
            "bp_panel",
            _("Record blood pressure as a pair: systolic and diastolic together."),
            field="code",
        )
    if spec.code not in loinc.SINGLE_CODES:
        raise ValidationFailed(
            "derived_code",
            _("%(label)s is calculated from weight and height, not entered.")
            % {"label": spec.label},
            field="code",
        )
    with transaction.atomic():
        target = _resident(actor, resident)
        require_health_consent(target)
        stored = _measured(spec, value, unit, "value")
        row = Observation(
            resident=target,
            code=spec.code,
            value=stored,
            unit=spec.unit,
            effective_at=_when(effective_at, target),
            source=_source(source),
            device_serial=(device_serial or "")[:64],
            recorded_by=actor,
        )
        bmi = _derive_bmi(target, row)
        if bmi is not None:
            row.panel = uuid.uuid4()
        row.save()
        rows = [row]
        if bmi is not None:
            rows.append(_store_bmi(actor, target, row, bmi))
        _audit_observations(actor, target, rows)
    return rows


def record_bp(
    actor: Any,
    resident: Any,
    systolic: Any,
    diastolic: Any,
    heart_rate: Any = None,
    effective_at: Any = None,
    source: str = ObservationSource.MANUAL,
    device_serial: str = "",
    unit: str | None = None,
) -> list[Observation]:
    """A blood-pressure reading: systolic and diastolic (and the heart rate if given) as
    rows sharing one panel UUID. Systolic must exceed diastolic. ``unit`` applies to the
    pressures (mmHg, or kPa converted)."""
    require_perm(actor, ResidentPerm.OBSERVATION_RECORD)
    with transaction.atomic():
        target = _resident(actor, resident)
        require_health_consent(target)
        sys_value = _measured(loinc.CODES[loinc.SYSTOLIC], systolic, unit, "systolic")
        dia_value = _measured(loinc.CODES[loinc.DIASTOLIC], diastolic, unit, "diastolic")
        if sys_value <= dia_value:
            raise ValidationFailed(
                "bp_order",
                _("Systolic pressure (%(sys)s) must be higher than diastolic (%(dia)s).")
                % {"sys": sys_value, "dia": dia_value},
                field="diastolic",
            )
        values = [(loinc.SYSTOLIC, sys_value), (loinc.DIASTOLIC, dia_value)]
        if heart_rate not in (None, ""):
            hr = loinc.CODES[loinc.HEART_RATE]
            values.append((loinc.HEART_RATE, _measured(hr, heart_rate, None, "heart_rate")))
        when = _when(effective_at, target)
        panel = uuid.uuid4()
        src = _source(source)
        rows = [
            Observation.objects.create(
                resident=target,
                code=code,
                value=value,
                unit=loinc.CODES[code].unit,
                effective_at=when,
                source=src,
                panel=panel,
                device_serial=(device_serial or "")[:64],
                recorded_by=actor,
            )
            for code, value in values
        ]
        _audit_observations(actor, target, rows)
    return rows


def remove_observation(actor: Any, resident: Any, item: Any) -> list[int]:
    """Delete a reading entered in error, with the rest of its panel (the other half of a
    BP pair, a BMI derived with it). Device readings and derived rows are refused.
    Returns the ids deleted."""
    require_perm(actor, ResidentPerm.OBSERVATION_RECORD)
    with transaction.atomic():
        target = _resident(actor, resident)
        row = _item(Observation, target, item)
        require_health_consent(target)
        if row.source == ObservationSource.DEVICE:
            raise ValidationFailed(
                "device_reading",
                _("A reading from a device cannot be deleted by hand."),
                field="source",
            )
        if row.source == ObservationSource.DERIVED:
            raise ValidationFailed(
                "derived_reading",
                _("A calculated value goes with the reading it came from: delete that one."),
                field="source",
            )
        group = Observation.objects.filter(resident=target)
        group = group.filter(panel=row.panel) if row.panel else group.filter(pk=row.pk)
        rows = list(group.order_by("pk"))
        if any(r.source == ObservationSource.DEVICE for r in rows):
            raise ValidationFailed(
                "device_reading",
                _("A reading from a device cannot be deleted by hand."),
                field="source",
            )
        ids = [r.pk for r in rows]
        record(
            actor=actor,
            action="residents.observation.delete",
            obj=row,
            object_repr=_repr(row, target),
            details={
                "resident": target.pk,
                "ids": ids,
                "codes": [r.code for r in rows],
                "panel": str(row.panel) if row.panel else None,
            },
        )
        Observation.objects.filter(pk__in=ids).delete()
    return ids


# --- documents --------------------------------------------------------------------------


def _prepare_document(values: dict[str, Any]) -> dict[str, Any]:
    _text(values, "kind", "title")
    return values


def _validate_document(document: Document) -> None:
    if not document.kind:
        raise required("kind", _label("kind"))
    if not document.title:
        raise required("title", _label("title"))
    clean_fields(document, ["resident", "uploaded_by", "file", "sha256"], _label)


def upload_document(actor: Any, resident: Any, *, file: Any, **values: Any) -> Document:
    """Store a file in the health record: ``file`` (type and size checked by
    ``residents.documents``), ``kind``, ``title`` (the file name when empty). The same
    content twice for one resident is refused."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    _check_names(values, DOCUMENT_FIELDS)
    stored: list[str] = []
    try:
        with transaction.atomic():
            target = _resident(actor, resident)
            require_health_consent(target)
            checked = inspect_upload(file)
            values = _prepare_document(dict(values))
            if not values.get("title"):
                values["title"] = checked.original_name.rsplit(".", 1)[0][:200]
            document = Document(
                resident=target,
                uploaded_by=actor,
                original_name=checked.original_name,
                content_type=checked.type.content_type,
                size=checked.size,
                sha256=checked.sha256,
                **values,
            )
            _validate_document(document)
            twin = Document.objects.filter(resident=target, sha256=checked.sha256).first()
            if twin is not None:
                raise ValidationFailed(
                    "duplicate_document",
                    _("This file is already in the record as “%(title)s”.") % {"title": twin.title},
                    field="file",
                )
            file.seek(0)
            document.file.save(checked.storage_name(), file, save=False)
            stored.append(document.file.name)
            document.save()
            _audit(
                actor,
                "create",
                document,
                target,
                kind=document.kind,
                content_type=document.content_type,
                size=document.size,
                sha256=document.sha256,
            )
    except BaseException:
        _delete_files(stored)
        raise
    return document


def remove_document(actor: Any, resident: Any, item: Any) -> None:
    """Delete a document; its file goes once the deletion is committed."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    with transaction.atomic():
        target = _resident(actor, resident)
        document = _item(Document, target, item)
        require_health_consent(target)
        name = document.file.name
        _audit(actor, "delete", document, target, kind=document.kind, sha256=document.sha256)
        document.delete()
        if name:
            transaction.on_commit(lambda: _delete_files([name]))


def _delete_files(names: list[str]) -> None:
    storage = Document._meta.get_field("file").storage  # type: ignore[attr-defined]
    for name in names:
        storage.delete(name)


# --- reads ------------------------------------------------------------------------------


def conditions_for(user: Any, resident: Resident) -> QuerySet[Condition]:
    require_health_view(user, resident)
    return Condition.objects.filter(resident=resident).order_by("status", "icd10", "pk")


def medications_for(user: Any, resident: Resident) -> QuerySet[Medication]:
    require_health_view(user, resident)
    return Medication.objects.filter(resident=resident).order_by("-long_term", "name", "pk")


def allergies_for(user: Any, resident: Resident) -> QuerySet[Allergy]:
    require_health_view(user, resident)
    return Allergy.objects.filter(resident=resident).order_by("substance", "pk")


def encounters_for(user: Any, resident: Resident) -> QuerySet[Encounter]:
    require_health_view(user, resident)
    return (
        Encounter.objects.filter(resident=resident)
        .select_related("institution", "practitioner")
        .order_by("-date", "-pk")
    )


def documents_for(user: Any, resident: Resident) -> QuerySet[Document]:
    require_health_view(user, resident)
    return Document.objects.filter(resident=resident).order_by("-uploaded_at", "-pk")


def get_document_for(user: Any, resident: Resident, item_id: Any) -> Document:
    """One document of the resident's record for download; the read is audited."""
    require_health_view(user, resident)
    try:
        document = Document.objects.get(resident=resident, pk=item_id)
    except (Document.DoesNotExist, ValueError, TypeError):
        raise NotFound("document") from None
    record(
        actor=user,
        action="residents.document.read",
        obj=document,
        object_repr=_repr(document, resident),
        details={"resident": resident.pk},
    )
    return document


def observations_for(
    user: Any,
    resident: Resident,
    *,
    codes: Iterable[str] | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> QuerySet[Observation]:
    """The resident's observations, newest first, optionally of ``codes`` (LOINC codes)
    between ``since`` and ``until`` (inclusive)."""
    require_health_view(user, resident)
    qs = Observation.objects.filter(resident=resident)
    code_list = list(codes or [])
    if code_list:
        qs = qs.filter(code__in=code_list)
    if since is not None:
        qs = qs.filter(effective_at__gte=since)
    if until is not None:
        qs = qs.filter(effective_at__lte=until)
    return qs.order_by("-effective_at", "code", "pk")


def observation_series(
    user: Any,
    resident: Resident,
    code: str,
    since: datetime.datetime,
    until: datetime.datetime,
) -> list[tuple[datetime.datetime, Decimal]]:
    """(time, value) of one code over a period, oldest first — one range scan of
    ``observation_series_idx`` (resident, code, -effective_at)."""
    require_health_view(user, resident)
    rows = Observation.objects.filter(
        resident=resident, code=code, effective_at__gte=since, effective_at__lte=until
    ).order_by("-effective_at")
    return list(reversed(rows.values_list("effective_at", "value")))


@dataclass(frozen=True)
class Latest:
    code: loinc.Code
    value: Decimal
    at: datetime.datetime
    source: str


def latest_vitals(user: Any, resident: Resident) -> list[Latest]:
    """The newest value of each code in ``loinc.SUMMARY_CODES`` that has one (one indexed
    lookup per code)."""
    require_health_view(user, resident)
    found = []
    for code in loinc.SUMMARY_CODES:
        row = (
            Observation.objects.filter(resident=resident, code=code)
            .order_by("-effective_at")
            .values_list("value", "effective_at", "source")
            .first()
        )
        if row is not None:
            found.append(Latest(loinc.CODES[code], row[0], row[1], row[2]))
    return found


@dataclass
class Reading:
    """Rows measured together (a BP panel, a weight with its BMI) or a single row, for
    the readings table."""

    at: datetime.datetime
    source: str
    rows: list[Observation] = field(default_factory=list)

    @property
    def removable(self) -> bool:
        return self.rows[0].source == ObservationSource.MANUAL

    @property
    def primary(self) -> Observation:
        return self.rows[0]

    def value_of(self, code: str) -> Observation | None:
        return next((r for r in self.rows if r.code == code), None)

    @property
    def parts(self) -> list[dict[str, Any]]:
        """What the readings table shows: a BP pair as one "120/80 mmHg" part, then the
        other rows (heart rate, a derived BMI …) each with its short label."""
        parts: list[dict[str, Any]] = []
        systolic, diastolic = self.value_of(loinc.SYSTOLIC), self.value_of(loinc.DIASTOLIC)
        rest = self.rows
        if systolic is not None and diastolic is not None:
            parts.append(
                {
                    "code": loinc.BP_PANEL,
                    "label": _("BP"),
                    "value": f"{_shown(systolic)}/{_shown(diastolic)}",
                    "unit": systolic.unit,
                    "derived": False,
                }
            )
            rest = [r for r in self.rows if r not in (systolic, diastolic)]
        for row in rest:
            spec = loinc.CODES.get(row.code)
            parts.append(
                {
                    "code": row.code,
                    "label": str(spec.short) if spec else row.code,
                    "value": _shown(row),
                    "unit": row.unit,
                    "derived": row.source == ObservationSource.DERIVED,
                }
            )
        return parts


def _shown(row: Observation) -> str:
    """A value with its code's precision (135, 6.5, 36.8)."""
    spec = loinc.CODES.get(row.code)
    decimals = spec.decimals if spec else 2
    return f"{Decimal(row.value):.{decimals}f}"


_READING_ORDER = {code: i for i, code in enumerate(loinc.SUMMARY_CODES)}


def recent_readings(
    user: Any, resident: Resident, since: datetime.datetime, limit: int = 50
) -> list[Reading]:
    """The newest readings since ``since`` (at most ``limit``), panels grouped."""
    rows = list(observations_for(user, resident, since=since)[: limit * 3])
    readings: list[Reading] = []
    by_panel: dict[uuid.UUID, Reading] = {}
    for row in rows:
        if row.panel is not None and row.panel in by_panel:
            by_panel[row.panel].rows.append(row)
            continue
        reading = Reading(at=row.effective_at, source=row.source, rows=[row])
        readings.append(reading)
        if row.panel is not None:
            by_panel[row.panel] = reading
    for reading in readings:
        reading.rows.sort(
            key=lambda r: (r.source == ObservationSource.DERIVED, _READING_ORDER.get(r.code, 99))
        )
        reading.source = reading.rows[0].source
    return readings[:limit]
