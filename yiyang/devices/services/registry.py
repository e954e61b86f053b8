"""Writes to the device registry (docs/device-protocol.md "Credentials"). Every function is
one complete action: it checks the actor's permission (``DevicePerm.MANAGE``) and scope,
validates the input (``ValidationFailed`` naming the field and saying why), runs in one
transaction and writes one audit row in it.

The device secret (``secrets.token_urlsafe(32)``: 43 URL-safe characters) is stored
encrypted (``yiyang.common.crypto``) and returned only by ``register_device`` and
``rotate_secret``; it never appears in an audit row. ``check_credentials`` is the one
place that compares it (for the HTTP ingest endpoint).
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common import crypto
from yiyang.common.errors import CommonError, NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.validation import field_label, required
from yiyang.devices.errors import DeviceError
from yiyang.devices.models import Binding, Device, DeviceKind, DeviceStatus
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.selectors import managed_devices
from yiyang.network.models import Institution
from yiyang.network.selectors.scope import in_scope
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import Resident, ResidentStatus
from yiyang.residents.selectors.registry import scoped_residents

SERIAL_RE = re.compile(r"[A-Z0-9-]{4,64}")
# The first part of a generated serial: ``BP-411521-000123``.
KIND_PREFIX: dict[str, str] = {
    DeviceKind.BP_MONITOR: "BP",
    DeviceKind.GLUCOMETER: "GLU",
    DeviceKind.PULSE_OXIMETER: "SPO",
    DeviceKind.THERMOMETER: "TMP",
    DeviceKind.SCALE: "SCL",
    DeviceKind.SMART_WATCH: "WCH",
    DeviceKind.SOS_BUTTON: "SOS",
    DeviceKind.FALL_SENSOR: "FALL",
    DeviceKind.BED_SENSOR: "BED",
}
SERIAL_ATTEMPTS = 5
MAX_INTERVAL_MINUTES = 7 * 24 * 60
UPDATE_FIELDS = ("model", "firmware", "institution", "expected_interval_minutes", "status")
_TEXT_LIMITS = {"model": 100, "firmware": 50}
# A well-formed secret that matches nothing, compared against when the serial is unknown
# so that an unknown serial takes as long as a wrong secret.
_DUMMY_SECRET = secrets.token_urlsafe(32)


# --- helpers ----------------------------------------------------------------------------


def _label(name: str) -> str:
    return field_label((Device,), name)


def _unknown_reference(field: str, value: Any) -> ValidationFailed:
    return ValidationFailed(
        CommonError.UNKNOWN_REFERENCE,
        _("%(field)s: id %(value)s does not exist in your data scope.")
        % {
            "field": _label(field),
            "value": value.pk if isinstance(value, models.Model) else value,
        },
        field=field,
    )


def _pk(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


def _resolve_institution(actor: User, value: Any) -> Institution:
    if value in (None, ""):
        raise required("institution", _label("institution"))
    pk = _pk(value)
    if isinstance(pk, bool):
        raise _unknown_reference("institution", value)
    try:
        institution = Institution.objects.select_related("region").get(pk=pk)
    except (Institution.DoesNotExist, ValueError, TypeError):
        raise _unknown_reference("institution", value) from None
    if not in_scope(actor, institution):
        raise _unknown_reference("institution", value)
    return institution


def _kind(value: Any) -> str:
    if value not in DeviceKind.values:
        raise ValidationFailed(
            CommonError.INVALID_CHOICE,
            _("%(value)s is not a device kind (one of: %(kinds)s).")
            % {"value": value, "kinds": ", ".join(DeviceKind.values)},
            field="kind",
        )
    return str(value)


def _text(name: str, value: Any) -> str:
    text = "" if value is None else str(value).strip()
    limit = _TEXT_LIMITS[name]
    if len(text) > limit:
        raise ValidationFailed(
            CommonError.TOO_LONG,
            _("%(field)s: at most %(limit)d characters.") % {"field": _label(name), "limit": limit},
            field=name,
        )
    return text


def _interval(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value))
        except ValueError:
            value = -1
    if not 0 <= value <= MAX_INTERVAL_MINUTES:
        raise ValidationFailed(
            CommonError.INVALID,
            _("%(field)s: a whole number of minutes from 0 (never) to %(max)d.")
            % {"field": _label("expected_interval_minutes"), "max": MAX_INTERVAL_MINUTES},
            field="expected_interval_minutes",
        )
    return int(value)


def _check_serial(value: Any) -> str:
    serial = str(value).strip().upper()
    if not SERIAL_RE.fullmatch(serial):
        raise ValidationFailed(
            DeviceError.INVALID_SERIAL,
            _(
                "The serial %(value)s is not valid: 4 to 64 characters, capital letters, "
                "digits and dashes only."
            )
            % {"value": value},
            field="serial",
        )
    return serial


def _duplicate_serial(serial: str) -> ValidationFailed:
    return ValidationFailed(
        DeviceError.DUPLICATE_SERIAL,
        _("A device with the serial %(serial)s is already registered.") % {"serial": serial},
        field="serial",
    )


def next_serial(kind: str, institution: Institution) -> str:
    """The next free generated serial ``{KIND}-{county6}-{NNNNNN}`` (the institution's
    county code; numbers counted per kind and county)."""
    prefix = f"{KIND_PREFIX[kind]}-{institution.region.code[:6]}-"
    taken = Device.objects.filter(serial__startswith=prefix).values_list("serial", flat=True)
    numbers = [int(s[len(prefix) :]) for s in taken if s[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:06d}"


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _locked(actor: User, device: Device | int) -> Device:
    """For a write: the device (instance or pk) managed by ``actor``, locked for the rest of
    the transaction; missing or out of scope → ``NotFound``."""
    pk = _pk(device)
    if pk is None or isinstance(pk, bool):
        raise NotFound("device")
    try:
        return managed_devices(actor).select_for_update(no_key=True).get(pk=pk)
    except (Device.DoesNotExist, ValueError, TypeError):
        raise NotFound("device") from None


def _refuse_retired(device: Device) -> None:
    if device.status == DeviceStatus.RETIRED:
        raise ValidationFailed(
            DeviceError.DEVICE_RETIRED,
            _("The device %(serial)s is retired: it can no longer be changed.")
            % {"serial": device.serial},
            field="status",
        )


def _close_binding(actor: User, device: Device, now: Any) -> Binding | None:
    """Close the device's open binding (if any); return it."""
    binding = device.bindings.filter(unbound_at__isnull=True).first()
    if binding is not None:
        binding.unbound_at = now
        binding.unbound_by = actor
        binding.save(update_fields=["unbound_at", "unbound_by"])
    return binding


# --- actions ----------------------------------------------------------------------------


def register_device(
    actor: User,
    *,
    serial: str | None = None,
    kind: str,
    model: str = "",
    firmware: str = "",
    institution: Institution | int,
    expected_interval_minutes: int = 0,
) -> tuple[Device, str]:
    """Register a device owned by ``institution`` (in the actor's scope); return it with its
    secret in clear — the only time the secret is given out. Without ``serial`` one is
    generated (``BP-411521-000123``)."""
    require_perm(actor, DevicePerm.MANAGE)
    kind = _kind(kind)
    owner = _resolve_institution(actor, institution)
    given = _check_serial(serial) if serial not in (None, "") else None
    secret = _new_secret()
    device = Device(
        kind=kind,
        model=_text("model", model),
        firmware=_text("firmware", firmware),
        institution=owner,
        status=DeviceStatus.ACTIVE,
        secret=crypto.encrypt(secret),
        secret_issued_at=timezone.now(),
        expected_interval_minutes=_interval(expected_interval_minutes),
    )
    with transaction.atomic():
        for attempt in range(SERIAL_ATTEMPTS):
            device.serial = given or next_serial(kind, owner)
            if given and Device.objects.filter(serial=given).exists():
                raise _duplicate_serial(given)
            try:
                with transaction.atomic():
                    device.save()
            except IntegrityError:
                # Another registration took the serial between our read and our write.
                if given or attempt == SERIAL_ATTEMPTS - 1:
                    raise _duplicate_serial(device.serial) from None
                continue
            break
        record(
            actor=actor,
            action="devices.device.create",
            obj=device,
            details={
                "serial": device.serial,
                "kind": kind,
                "institution": owner.pk,
                "model": device.model,
                "firmware": device.firmware,
                "expected_interval_minutes": device.expected_interval_minutes,
            },
        )
    return device, secret


def rotate_secret(actor: User, device: Device | int) -> str:
    """Issue a new secret (the old one stops working at once); return it in clear."""
    require_perm(actor, DevicePerm.MANAGE)
    secret = _new_secret()
    with transaction.atomic():
        target = _locked(actor, device)
        _refuse_retired(target)
        target.secret = crypto.encrypt(secret)
        target.secret_issued_at = timezone.now()
        target.save(update_fields=["secret", "secret_issued_at"])
        record(actor=actor, action="devices.device.rotate_secret", obj=target)
    if isinstance(device, Device):
        device.secret, device.secret_issued_at = target.secret, target.secret_issued_at
    return secret


def update_device(actor: User, device: Device | int, **fields: Any) -> Device:
    """Change the fields given: ``model``, ``firmware``, ``institution`` (in scope),
    ``expected_interval_minutes``, ``status`` (active / in stock; retiring is ``retire``)."""
    require_perm(actor, DevicePerm.MANAGE)
    unknown = sorted(set(fields) - set(UPDATE_FIELDS))
    if unknown:
        raise ValidationFailed(
            CommonError.UNKNOWN_FIELD,
            _("Unknown field %(f)s.") % {"f": unknown[0]},
            field=unknown[0],
        )
    with transaction.atomic():
        target = _locked(actor, device)
        _refuse_retired(target)
        changed: dict[str, Any] = {}

        def put(name: str, value: Any, audit: Any = None) -> None:
            if getattr(target, name) != value:
                setattr(target, name, value)
                changed[name] = value if audit is None else audit

        for name in ("model", "firmware"):
            if name in fields:
                put(name, _text(name, fields[name]))
        if "expected_interval_minutes" in fields:
            put("expected_interval_minutes", _interval(fields["expected_interval_minutes"]))
        if "institution" in fields:
            owner = _resolve_institution(actor, fields["institution"])
            if target.institution_id != owner.pk:
                target.institution = owner
                changed["institution"] = owner.pk
        if "status" in fields:
            status = fields["status"]
            if status == DeviceStatus.RETIRED:
                raise ValidationFailed(
                    DeviceError.RETIRE_REQUIRED,
                    _("A device is retired with the retire action, which also unbinds it."),
                    field="status",
                )
            if status not in (DeviceStatus.ACTIVE, DeviceStatus.INACTIVE):
                raise ValidationFailed(
                    CommonError.INVALID_CHOICE,
                    _("%(value)s is not a device status.") % {"value": status},
                    field="status",
                )
            put("status", str(status))
        if changed:
            target.save(update_fields=list(changed))
            record(
                actor=actor,
                action="devices.device.update",
                obj=target,
                details={"changed": changed},
            )
    return target


def bind(actor: User, device: Device | int, resident: Resident | int | str) -> Binding:
    """Bind the device to ``resident`` (in the actor's scope), closing its open binding
    first; a retired device refuses."""
    require_perm(actor, DevicePerm.MANAGE)
    with transaction.atomic():
        target = _locked(actor, device)
        _refuse_retired(target)
        pk = _pk(resident)
        if pk in (None, "") or isinstance(pk, bool):
            raise required("resident", _label("resident"))
        try:
            person = scoped_residents(actor).get(pk=pk)
        except (Resident.DoesNotExist, ValueError, TypeError):
            raise _unknown_reference("resident", resident) from None
        if person.status == ResidentStatus.MERGED:
            raise ValidationFailed(
                ResidentError.MERGED,
                _("This record was merged into another: bind the device to that one."),
                field="resident",
            )
        if target.resident_id == person.pk:
            raise ValidationFailed(
                DeviceError.ALREADY_BOUND,
                _("The device is already bound to %(name)s.") % {"name": person.name},
                field="resident",
            )
        now = timezone.now()
        previous = _close_binding(actor, target, now)
        binding = Binding.objects.create(
            device=target, resident=person, bound_at=now, bound_by=actor
        )
        target.resident = person
        target.save(update_fields=["resident"])
        record(
            actor=actor,
            action="devices.device.bind",
            obj=target,
            details={
                "resident": person.pk,
                "binding": binding.pk,
                "previous_resident": previous.resident_id if previous else None,
            },
        )
    if isinstance(device, Device):
        device.resident = person
    return binding


def unbind(actor: User, device: Device | int) -> Binding:
    """Close the device's open binding."""
    require_perm(actor, DevicePerm.MANAGE)
    with transaction.atomic():
        target = _locked(actor, device)
        closed = _close_binding(actor, target, timezone.now())
        if closed is None:
            raise ValidationFailed(
                DeviceError.NOT_BOUND,
                _("The device %(serial)s is not bound to a resident.") % {"serial": target.serial},
                field="resident",
            )
        target.resident = None
        target.save(update_fields=["resident"])
        record(
            actor=actor,
            action="devices.device.unbind",
            obj=target,
            details={"resident": closed.resident_id, "binding": closed.pk},
        )
    if isinstance(device, Device):
        device.resident = None
    return closed


def retire(actor: User, device: Device | int) -> Device:
    """Take the device out of service for good: unbind it, status retired (its credentials
    stop working)."""
    require_perm(actor, DevicePerm.MANAGE)
    with transaction.atomic():
        target = _locked(actor, device)
        if target.status == DeviceStatus.RETIRED:
            raise ValidationFailed(
                DeviceError.ALREADY_RETIRED,
                _("The device %(serial)s is already retired.") % {"serial": target.serial},
                field="status",
            )
        closed = _close_binding(actor, target, timezone.now())
        target.resident = None
        target.status = DeviceStatus.RETIRED
        target.save(update_fields=["resident", "status"])
        record(
            actor=actor,
            action="devices.device.retire",
            obj=target,
            details={"unbound_resident": closed.resident_id if closed else None},
        )
    return target


# --- credentials ------------------------------------------------------------------------


def check_credentials(serial: str, secret: str) -> Device | None:
    """The device whose serial and secret these are, or ``None`` (unknown serial, wrong
    secret, retired device). The secret is compared in constant time."""
    device = Device.objects.filter(serial=str(serial or "")).first()
    stored = _DUMMY_SECRET
    if device is not None:
        try:
            stored = crypto.decrypt(device.secret)
        except (ValueError, TypeError, InvalidTag):
            device = None
    given = str(secret or "").encode()
    matches = hmac.compare_digest(stored.encode(), given)
    if device is None or not matches or device.status == DeviceStatus.RETIRED:
        return None
    return device
