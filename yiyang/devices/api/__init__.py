"""The device registry API, mounted at ``/api/v1/devices`` (docs/device-protocol.md).

* ``POST /devices`` (``devices.manage``) — register (201): the device with its
  ``secret``, the only answer that ever carries it.
* ``GET /devices`` (``devices.view``) — paged (``?page=&page_size=``), filters ``kind``,
  ``status``, ``resident``, ``serial`` (a part of it).
* ``GET /devices/{id}`` — one device with its binding history.
* ``PATCH /devices/{id}`` — model, firmware, owner institution, reporting interval, status.
* ``POST /devices/{id}/secret`` — rotate: the new secret (the old one stops working).
* ``POST /devices/{id}/binding`` ``{"resident": id}`` / ``DELETE /devices/{id}/binding``.
* ``POST /devices/{id}/retire`` — unbind and retire.
* ``GET /devices/{id}/readings`` (``devices.view``) — the latest readings (``limit``).
* ``GET /devices/quarantine`` (``devices.quarantine``) — refused messages, paged, filters
  ``device``, ``serial``, ``code``.

Reads see the devices in the caller's scope (``selectors``); writes only those whose owner
institution is in scope. A device outside answers 404 like a missing one; an institution
or resident outside answers 400 ``unknown_reference``. Errors: ``{"code", "detail",
"field"}``.
"""

import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate
from pydantic import Field

from yiyang.accounts.actor import actor
from yiyang.accounts.models import User
from yiyang.common.params import Id, Int64, Pagination
from yiyang.common.permissions import require_perm
from yiyang.common.schemas import ErrorOut, PatchSchema
from yiyang.devices import selectors
from yiyang.devices.models import Binding, Device, DeviceKind, DeviceStatus
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.services import registry

router = Router(tags=["devices"])

PAGE_SIZE = 50
MAX_READINGS = 200
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


# --- schemas ----------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class DeviceOut(Schema):
    id: int
    serial: str
    kind: DeviceKind
    model: str
    firmware: str
    institution: Ref
    status: DeviceStatus
    resident: Ref | None = None
    secret_issued_at: datetime.datetime
    last_seen_at: datetime.datetime | None = None
    last_seq: int | None = None
    battery_pct: int | None = None
    expected_interval_minutes: Int64
    readings_count: int
    rejected_count: int
    created_at: datetime.datetime

    @staticmethod
    def resolve_institution(obj: Device) -> dict[str, Any]:
        return {"id": obj.institution_id, "name": obj.institution.name}

    @staticmethod
    def resolve_resident(obj: Device) -> dict[str, Any] | None:
        if obj.resident_id is None or obj.resident is None:
            return None
        return {"id": obj.resident_id, "name": obj.resident.name}


class RegisteredOut(DeviceOut):
    secret: str = Field(description="shown once: store it in the device now")

    @staticmethod
    def resolve_secret(obj: Device) -> str:
        return str(obj.clear_secret)  # type: ignore[attr-defined]


class BindingOut(Schema):
    id: int
    resident: Ref
    bound_at: datetime.datetime
    unbound_at: datetime.datetime | None = None
    bound_by: str | None = None
    unbound_by: str | None = None

    @staticmethod
    def resolve_resident(obj: Binding) -> dict[str, Any]:
        return {"id": obj.resident_id, "name": obj.resident.name}

    @staticmethod
    def resolve_bound_by(obj: Binding) -> str | None:
        return obj.bound_by.username if obj.bound_by is not None else None

    @staticmethod
    def resolve_unbound_by(obj: Binding) -> str | None:
        return obj.unbound_by.username if obj.unbound_by is not None else None


class DeviceDetailOut(DeviceOut):
    bindings: list[BindingOut]

    @staticmethod
    def resolve_bindings(obj: Device, context: dict[str, Any]) -> list[Binding]:
        return list(selectors.bindings_of(actor(context["request"]), obj))


class SecretOut(Schema):
    id: int
    serial: str
    secret: str = Field(description="shown once: the old secret no longer works")
    secret_issued_at: datetime.datetime


class ReadingOut(Schema):
    id: int
    seq: int
    resident: Id = Field(alias="resident_id")
    kind: str
    measured_at: datetime.datetime
    values: dict[str, Any]
    source: str
    received_at: datetime.datetime


class QuarantineOut(Schema):
    id: int
    device: Id | None = Field(None, alias="device_id")
    serial: str
    source: str
    code: str
    detail: str
    seq: int | None = None
    payload: str
    received_at: datetime.datetime


class DeviceIn(Schema):
    serial: str | None = Field(None, description="generated when left out")
    kind: DeviceKind
    model: str = ""
    firmware: str = ""
    institution: Id = Field(description="the owner institution's id")
    expected_interval_minutes: Int64 = 0


class DevicePatch(PatchSchema):
    model: str | None = None
    firmware: str | None = None
    institution: Id | None = None
    expected_interval_minutes: Int64 | None = None
    status: DeviceStatus | None = None


class BindIn(Schema):
    resident: Id


class DeviceFilter(Schema):
    kind: DeviceKind | None = None
    status: DeviceStatus | None = None
    resident: Id | None = None
    serial: str | None = None


class QuarantineFilter(Schema):
    device: Id | None = None
    serial: str | None = None
    code: str | None = None


class ReadingsFilter(Schema):
    limit: int = Field(50, ge=1, le=MAX_READINGS)


def _reload(user: User, device: Device) -> Device:
    return selectors.get_device_for(user, device.pk)


# --- endpoints --------------------------------------------------------------------------


@router.get(
    "/quarantine",
    response=list[QuarantineOut],
    url_name="devices_quarantine",
    summary="Refused device messages",
)
@paginate(Pagination, page_size=PAGE_SIZE)
def quarantine_list(request: HttpRequest, filters: Query[QuarantineFilter]) -> QuerySet:
    qs = selectors.quarantine_for(actor(request))
    if filters.device is not None:
        qs = qs.filter(device_id=filters.device)
    if filters.serial:
        qs = qs.filter(serial__icontains=filters.serial.strip())
    if filters.code:
        qs = qs.filter(code=filters.code.strip())
    return qs.order_by("-received_at", "-id")


@router.get("", response=list[DeviceOut], url_name="devices_list", summary="List devices")
@paginate(Pagination, page_size=PAGE_SIZE)
def device_list(request: HttpRequest, filters: Query[DeviceFilter]) -> QuerySet:
    qs = selectors.devices_for(actor(request))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.resident is not None:
        qs = qs.filter(resident_id=filters.resident)
    if filters.serial:
        qs = qs.filter(serial__icontains=filters.serial.strip())
    return qs.order_by("serial")


@router.post(
    "",
    response={201: RegisteredOut, **ERRORS},
    url_name="devices_register",
    summary="Register a device (the answer carries its secret, once)",
)
def device_register(request: HttpRequest, payload: DeviceIn) -> Any:
    user = actor(request)
    device, secret = registry.register_device(user, **payload.dict())
    registered = _reload(user, device)
    registered.clear_secret = secret  # type: ignore[attr-defined]
    return 201, registered


@router.get("/{int:pk}", response={200: DeviceDetailOut, **ERRORS}, url_name="devices_detail")
def device_detail(request: HttpRequest, pk: Id) -> Any:
    return selectors.get_device_for(actor(request), pk)


@router.patch("/{int:pk}", response={200: DeviceDetailOut, **ERRORS}, url_name="devices_update")
def device_update(request: HttpRequest, pk: Id, payload: DevicePatch) -> Any:
    user = actor(request)
    device = registry.update_device(user, pk, **payload.dict(exclude_unset=True))
    return _reload(user, device)


@router.post(
    "/{int:pk}/secret",
    response={200: SecretOut, **ERRORS},
    url_name="devices_rotate_secret",
    summary="Issue a new secret (the old one stops working at once)",
)
def device_rotate_secret(request: HttpRequest, pk: Id) -> Any:
    user = actor(request)
    secret = registry.rotate_secret(user, pk)
    device = _reload(user, Device(pk=pk))
    return {
        "id": device.pk,
        "serial": device.serial,
        "secret": secret,
        "secret_issued_at": device.secret_issued_at,
    }


@router.post(
    "/{int:pk}/binding",
    response={200: DeviceDetailOut, **ERRORS},
    url_name="devices_bind",
    summary="Bind the device to a resident (closes its current binding)",
)
def device_bind(request: HttpRequest, pk: Id, payload: BindIn) -> Any:
    user = actor(request)
    registry.bind(user, pk, payload.resident)
    return _reload(user, Device(pk=pk))


@router.delete(
    "/{int:pk}/binding", response={200: DeviceDetailOut, **ERRORS}, url_name="devices_unbind"
)
def device_unbind(request: HttpRequest, pk: Id) -> Any:
    user = actor(request)
    registry.unbind(user, pk)
    return _reload(user, Device(pk=pk))


@router.post(
    "/{int:pk}/retire", response={200: DeviceDetailOut, **ERRORS}, url_name="devices_retire"
)
def device_retire(request: HttpRequest, pk: Id) -> Any:
    user = actor(request)
    registry.retire(user, pk)
    return _reload(user, Device(pk=pk))


@router.get(
    "/{int:pk}/readings",
    response={200: list[ReadingOut], **ERRORS},
    url_name="devices_readings",
    summary="The device's latest readings, newest first",
)
def device_readings(request: HttpRequest, pk: Id, filters: Query[ReadingsFilter]) -> Any:
    user = actor(request)
    require_perm(user, DevicePerm.VIEW)
    device = selectors.get_device_for(user, pk)
    return selectors.latest_readings(user, device, filters.limit)
