"""The health record's measurements (ADR 0012): ``record_observation``, ``record_bp``,
``remove_observation``. They follow the steps of ``services.health`` (permission
``ResidentPerm.OBSERVATION_RECORD``, the resident locked in the actor's scope, her consent
to health-data processing, validation, one transaction and one audit row).

Observations are LOINC-coded (``residents.loinc``), the value in a plausible range and
converted to the canonical unit, measured at a time not in the future (a few minutes of
clock skew allowed), not before birth and not after death. Blood pressure is recorded as a
panel (systolic + diastolic, optionally heart rate) sharing one ``panel`` UUID.
**BMI is derived**: recording a weight with a height measured in the two years before it
(``BMI_HEIGHT_WINDOW``), or a height with a weight measured in the 30 days before it
(``BMI_WEIGHT_WINDOW``), stores a BMI row (source ``derived``) at the same time and in the
same panel as the recorded row; a derived BMI already at that time is replaced. Deleting
a reading (entered in error) deletes its panel — the BP pair, or the weight/height with the
BMI derived with it. Device readings and derived rows cannot be deleted by hand.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.residents import loinc
from yiyang.residents.access import require_health_consent
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import Observation, ObservationSource, Resident
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.services.health_steps import (
    entry_repr,
    health_label,
    locked_entry,
    locked_resident,
)

MAX_CLOCK_SKEW = datetime.timedelta(minutes=5)
BMI_HEIGHT_WINDOW = datetime.timedelta(days=730)
BMI_WEIGHT_WINDOW = datetime.timedelta(days=30)


def _decimal(value: Any, name: str, label: str) -> Decimal:
    if value in (None, ""):
        raise ValidationFailed(
            CommonError.REQUIRED, _("%(f)s: enter a value.") % {"f": label}, field=name
        )
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(
            ResidentError.INVALID_NUMBER,
            _("%(f)s: %(v)s is not a number.") % {"f": label, "v": value},
            field=name,
        ) from None
    if not number.is_finite():
        raise ValidationFailed(
            ResidentError.INVALID_NUMBER,
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
            ResidentError.INVALID_UNIT,
            _("%(unit)s is not a unit for %(label)s (use %(units)s).")
            % {"unit": unit, "label": label, "units": ", ".join(code.units)},
            field="unit" if name == "value" else name,
        )
    if not code.in_range(converted):
        entered = f"{number} {unit}" if loinc.canonical_unit(code, unit) is None else ""
        shown = f"{converted} {code.unit}" + (f" ({entered})" if entered else "")
        raise ValidationFailed(
            CommonError.OUT_OF_RANGE,
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
                ResidentError.INVALID_DATETIME,
                _("%(f)s: %(v)s is not a date and time (use YYYY-MM-DDTHH:MM).")
                % {"f": health_label(name), "v": value},
                field=name,
            ) from None
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when > now + MAX_CLOCK_SKEW:
        raise ValidationFailed(
            ResidentError.FUTURE_TIME,
            _("%(f)s %(v)s is in the future.")
            % {"f": health_label(name), "v": timezone.localtime(when).strftime("%Y-%m-%d %H:%M")},
            field=name,
        )
    day = timezone.localtime(when).date()
    if day < resident.birth_date:
        raise ValidationFailed(
            CommonError.BEFORE_BIRTH,
            _("%(f)s %(v)s is before the resident's birth date (%(born)s).")
            % {
                "f": health_label(name),
                "v": day.isoformat(),
                "born": resident.birth_date.isoformat(),
            },
            field=name,
        )
    if resident.deceased_on is not None and day > resident.deceased_on:
        raise ValidationFailed(
            ResidentError.AFTER_DEATH,
            _("%(f)s %(v)s is after the resident's date of death (%(died)s).")
            % {
                "f": health_label(name),
                "v": day.isoformat(),
                "died": resident.deceased_on.isoformat(),
            },
            field=name,
        )
    return when


def _source(value: Any) -> str:
    source = value or ObservationSource.MANUAL
    if source not in (ObservationSource.MANUAL, ObservationSource.DEVICE):
        raise ValidationFailed(
            ResidentError.INVALID_SOURCE,
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


def _store_bmi(actor: User, resident: Resident, row: Observation, bmi: Decimal) -> Observation:
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


def _audit_observations(actor: User, resident: Resident, rows: list[Observation]) -> None:
    first = rows[0]
    record(
        actor=actor,
        action="residents.observation.create",
        obj=first,
        object_repr=entry_repr(first, resident),
        details={
            "resident": resident.pk,
            "ids": [row.pk for row in rows],
            "codes": [row.code for row in rows],
            "source": first.source,
            "panel": str(first.panel) if first.panel else None,
        },
    )


def record_observation(
    actor: User,
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
            ResidentError.UNKNOWN_CODE,
            _("%(code)s is not a measurement the health record knows.") % {"code": code},
            field="code",
        )
    if spec.code in (loinc.SYSTOLIC, loinc.DIASTOLIC):
        raise ValidationFailed(
            ResidentError.BP_PANEL,
            _("Record blood pressure as a pair: systolic and diastolic together."),
            field="code",
        )
    if spec.code not in loinc.SINGLE_CODES:
        raise ValidationFailed(
            ResidentError.DERIVED_CODE,
            _("%(label)s is calculated from weight and height, not entered.")
            % {"label": spec.label},
            field="code",
        )
    with transaction.atomic():
        target = locked_resident(actor, resident)
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
    actor: User,
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
        target = locked_resident(actor, resident)
        require_health_consent(target)
        sys_value = _measured(loinc.CODES[loinc.SYSTOLIC], systolic, unit, "systolic")
        dia_value = _measured(loinc.CODES[loinc.DIASTOLIC], diastolic, unit, "diastolic")
        if sys_value <= dia_value:
            raise ValidationFailed(
                ResidentError.BP_ORDER,
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


def remove_observation(actor: User, resident: Any, item: Any) -> list[int]:
    """Delete a reading entered in error, with the rest of its panel (the other half of a
    BP pair, a BMI derived with it). Device readings and derived rows are refused.
    Returns the ids deleted."""
    require_perm(actor, ResidentPerm.OBSERVATION_RECORD)
    with transaction.atomic():
        target = locked_resident(actor, resident)
        row = locked_entry(Observation, target, item)
        require_health_consent(target)
        if row.source == ObservationSource.DEVICE:
            raise ValidationFailed(
                ResidentError.DEVICE_READING,
                _("A reading from a device cannot be deleted by hand."),
                field="source",
            )
        if row.source == ObservationSource.DERIVED:
            raise ValidationFailed(
                ResidentError.DERIVED_READING,
                _("A calculated value goes with the reading it came from: delete that one."),
                field="source",
            )
        group = Observation.objects.filter(resident=target)
        group = group.filter(panel=row.panel) if row.panel else group.filter(pk=row.pk)
        rows = list(group.order_by("pk"))
        if any(r.source == ObservationSource.DEVICE for r in rows):
            raise ValidationFailed(
                ResidentError.DEVICE_READING,
                _("A reading from a device cannot be deleted by hand."),
                field="source",
            )
        ids = [r.pk for r in rows]
        record(
            actor=actor,
            action="residents.observation.delete",
            obj=row,
            object_repr=entry_repr(row, target),
            details={
                "resident": target.pk,
                "ids": ids,
                "codes": [r.code for r in rows],
                "panel": str(row.panel) if row.panel else None,
            },
        )
        Observation.objects.filter(pk__in=ids).delete()
    return ids
