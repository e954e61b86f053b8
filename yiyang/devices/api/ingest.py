"""``POST /api/v1/ingest``: devices send readings over HTTP (docs/device-protocol.md).

Authenticated by the device itself — ``Authorization: Basic base64(serial:secret)`` — not
by a user session or token. The body (one message or an array of up to 500) goes through
the same ingestion core as MQTT (``ingest.process``). Answers: 200 with counts when at
least one message was stored or already stored; 401 on bad credentials; 400 when the body
is not JSON / not a message or array; 413 when the body is larger than ``MAX_PAYLOAD``;
422 when every message was refused. Every refusal of an authenticated device is also in
the quarantine.

The body is read here, not by Django's ``request.body`` first: a body larger than the
protocol allows is refused from its declared length, and only its first bytes are read
(and kept in the quarantine) — never the whole of it, and never Django's
``RequestDataTooBig`` (a 500 under Ninja) for a body above ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
"""

import base64
import binascii
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.http.request import RawPostDataException
from ninja import Router

from yiyang.devices.errors import DeviceError
from yiyang.devices.models import Source
from yiyang.devices.protocol import MAX_PAYLOAD, PAYLOAD_KEPT, Envelope, Refusal
from yiyang.devices.services.ingest import process, quarantine_refusal
from yiyang.devices.services.registry import check_credentials

router = Router(tags=["devices"], auth=None)


def _credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    serial, sep, secret = decoded.partition(":")
    return (serial, secret) if sep and serial else None


def _error(status: int, code: str, detail: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail, "field": None, **extra}, status=status)


def _declared_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _body(request: HttpRequest) -> tuple[bytes, bool]:
    """(the body, whether it is too large). A body declaring more than ``MAX_PAYLOAD``
    bytes, or more than the server-wide ``DATA_UPLOAD_MAX_MEMORY_SIZE``, is too large: only
    its first ``PAYLOAD_KEPT`` bytes are read, for the quarantine."""
    if _declared_length(request) <= MAX_PAYLOAD:
        try:
            body = request.body
        except RequestDataTooBig:
            pass
        else:
            return body, len(body) > MAX_PAYLOAD
    try:
        head = request.read(PAYLOAD_KEPT)
    except RawPostDataException:  # already read by something else: it is in memory
        head = request.body[:PAYLOAD_KEPT]
    return head, True


@router.post(
    "",
    url_name="devices_ingest",
    summary="A device sends readings (HTTP transport of the device protocol)",
    openapi_extra={"security": [{"deviceBasic": []}]},
)
def ingest(request: HttpRequest) -> Any:
    credentials = _credentials(request)
    device = check_credentials(*credentials) if credentials else None
    if device is None:
        response = _error(
            401,
            DeviceError.BAD_DEVICE_CREDENTIALS,
            "send the device's serial and secret with HTTP Basic authentication",
        )
        response["WWW-Authenticate"] = 'Basic realm="yiyang devices"'
        return response
    body, too_large = _body(request)
    if too_large:
        size = max(_declared_length(request), len(body))
        limit = min(MAX_PAYLOAD, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or MAX_PAYLOAD)
        detail = f"body of {size} bytes, more than {limit}"
        envelope = Envelope(Source.HTTP, device.serial, body[:PAYLOAD_KEPT], authenticated=True)
        outcome = quarantine_refusal(envelope, Refusal.TOO_LARGE, detail)
        return _error(
            413, DeviceError.TOO_LARGE, detail, rejected=[r.as_dict() for r in outcome.rejected]
        )
    [outcome] = process([Envelope(Source.HTTP, device.serial, body, authenticated=True)])
    rejected = [r.as_dict() for r in outcome.rejected]
    if outcome.accepted or outcome.duplicates:
        return JsonResponse(
            {"accepted": outcome.accepted, "duplicates": outcome.duplicates, "rejected": rejected}
        )
    whole_body = len(rejected) == 1 and rejected[0]["index"] is None
    if whole_body and rejected[0]["code"] == Refusal.MALFORMED:
        return _error(400, DeviceError.MALFORMED, rejected[0]["detail"], rejected=rejected)
    detail = "; ".join(f"{r['code']}: {r['detail']}" for r in rejected[:5])
    return _error(422, DeviceError.REJECTED, detail, rejected=rejected)
