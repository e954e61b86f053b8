"""``POST /api/v1/ingest``: devices send readings over HTTP (docs/device-protocol.md).

Authenticated by the device itself — ``Authorization: Basic base64(serial:secret)`` — not
by a user session or token. The body (one message or an array of up to 500) goes through
the same ingestion core as MQTT (``ingest.process``). Answers: 200 with counts when at
least one message was stored or already stored; 401 on bad credentials; 400 when the body
is not JSON / not a message or array; 422 when every message was refused. Every refusal is
also in the quarantine.
"""

import base64
import binascii
from typing import Any

from django.http import HttpRequest, JsonResponse
from ninja import Router

from yiyang.devices.ingest import MAX_PAYLOAD, Envelope, process
from yiyang.devices.models import Source
from yiyang.devices.services import check_credentials

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
            "bad_device_credentials",
            "send the device's serial and secret with HTTP Basic authentication",
        )
        response["WWW-Authenticate"] = 'Basic realm="yiyang devices"'
        return response
    body = request.body
    if len(body) > MAX_PAYLOAD:
        return _error(400, "malformed", f"body larger than {MAX_PAYLOAD} bytes")
    [outcome] = process([Envelope(Source.HTTP, device.serial, body, authenticated=True)])
    rejected = [r.as_dict() for r in outcome.rejected]
    if outcome.accepted or outcome.duplicates:
        return JsonResponse(
            {"accepted": outcome.accepted, "duplicates": outcome.duplicates, "rejected": rejected}
        )
    whole_body = len(rejected) == 1 and rejected[0]["index"] is None
    if whole_body and rejected[0]["code"] == "malformed":
        return _error(400, "malformed", rejected[0]["detail"], rejected=rejected)
    detail = "; ".join(f"{r['code']}: {r['detail']}" for r in rejected[:5])
    return _error(422, "rejected", detail, rejected=rejected)
