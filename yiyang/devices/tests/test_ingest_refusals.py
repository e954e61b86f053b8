"""Refusals the first version let through or crashed on (issue 12): a body too large for
the server, JSON nested too deeply, a bogus huge ``seq``, a kind the device type cannot
send, duplicate keys. Each is refused, quarantined with its reason, never a 500 and never
a crash of the MQTT consumer, and changes nothing else."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from yiyang.devices.models import Device, Quarantine, Reading
from yiyang.devices.protocol import MAX_PAYLOAD, MAX_SEQ, MAX_SEQ_AHEAD, PAYLOAD_KEPT
from yiyang.devices.services.ingest import process
from yiyang.devices.tests.conftest import http, mqtt, msg, post

pytestmark = pytest.mark.django_db


def _one_row(home, code: str) -> Quarantine:
    row = Quarantine.objects.get()
    assert (row.device_id, row.code) == (home.device.pk, code)
    return row


def _rejected_count(device: Device) -> int:
    device.refresh_from_db()
    return device.rejected_count


# --- D6: a body too large ----------------------------------------------------------------


@pytest.mark.parametrize("size", [MAX_PAYLOAD + 1, 10 * 1024 * 1024 + 1])
def test_a_body_too_large_answers_413_and_is_quarantined_without_its_bulk(home, client, size):
    body = b'{"seq": 1, "pad": "' + b"x" * size + b'"}'
    r = post(client, None, raw=body)
    assert r.status_code == 413
    assert r.json()["code"] == "too_large"
    row = _one_row(home, "too_large")
    assert row.source == "http"
    assert len(row.payload) <= PAYLOAD_KEPT
    assert row.payload.startswith('{"seq": 1, "pad": "xxx')
    assert str(len(body)) in row.detail
    assert _rejected_count(home.device) == 1
    assert not Reading.objects.exists()


def test_a_body_too_large_with_bad_credentials_is_401_and_not_quarantined(home, client):
    r = post(client, None, raw=b"x" * (MAX_PAYLOAD + 1), secret="wrong")
    assert r.status_code == 401
    assert not Quarantine.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_the_server_wide_body_limit_does_not_make_a_500(home, client):
    # Even when the server's own limit is below the protocol's, the answer is a 413.
    r = post(client, None, raw=b"[" + b" " * 2048 + b"]")
    assert r.status_code == 413
    assert _one_row(home, "too_large")


# --- D7: nested too deeply ---------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = (b'{"a":' * 50_000) + b"1" + b"}" * 50_000


@pytest.mark.parametrize("raw", [DEEP, DEEP_OBJECT])
def test_deeply_nested_json_over_http_is_a_400_and_quarantined(home, client, raw):
    r = post(client, None, raw=raw)
    assert r.status_code == 400
    assert r.json()["code"] == "malformed"
    assert "deep" in r.json()["detail"]
    _one_row(home, "malformed")


@pytest.mark.parametrize("raw", [DEEP, DEEP_OBJECT])
def test_deeply_nested_json_over_mqtt_is_quarantined(home, raw):
    [out] = process([mqtt(home.device, None, raw=raw)])
    assert [r.code for r in out.rejected] == ["malformed"]
    _one_row(home, "malformed")


# --- seq: bounded ------------------------------------------------------------------------


def test_a_huge_seq_is_refused_and_does_not_block_the_device(home):
    [out] = process([mqtt(home.device, msg(5))])
    assert out.accepted == 1
    [out] = process([mqtt(home.device, msg(2**62))])
    assert [r.code for r in out.rejected] == ["bad_field"]
    [out] = process([mqtt(home.device, msg(5 + MAX_SEQ_AHEAD + 1))])
    assert [r.code for r in out.rejected] == ["seq_jump"]
    assert "ahead" in out.rejected[0].detail
    [out] = process([http(home.device, msg(6))])
    assert out.accepted == 1, out.rejected
    home.device.refresh_from_db()
    assert home.device.last_seq == 6
    assert list(Quarantine.objects.order_by("pk").values_list("code", flat=True)) == [
        "bad_field",
        "seq_jump",
    ]


def test_seq_bounds(home):
    [out] = process([http(home.device, msg(MAX_SEQ + 1))])
    assert [r.code for r in out.rejected] == ["bad_field"]
    [out] = process([http(home.device, msg(MAX_SEQ_AHEAD))])  # a first message: its own base
    assert out.accepted == 1, out.rejected
    [out] = process([http(home.device, msg(2 * MAX_SEQ_AHEAD))])  # exactly the bound ahead
    assert out.accepted == 1, out.rejected


# --- a kind the device type cannot send --------------------------------------------------


@pytest.mark.parametrize(
    ("device_kind", "kind", "values"),
    [
        ("bp_monitor", "sos", {}),
        ("bp_monitor", "glucose", {"mmol": 5.1, "context": "fasting"}),
        ("glucometer", "bp", {"sys": 120, "dia": 80}),
        ("sos_button", "spo2", {"spo2": 95}),
        ("scale", "fall", {}),
    ],
)
def test_a_kind_the_device_type_cannot_send_is_refused(home, device_kind, kind, values):
    Device.objects.filter(pk=home.device.pk).update(kind=device_kind)
    raw = json.dumps(msg(1, kind, values)).encode()  # sent as is (``mqtt`` would fit it)
    [out] = process([mqtt(home.device, None, raw=raw)])
    assert [r.code for r in out.rejected] == ["unsupported_kind"]
    assert device_kind in out.rejected[0].detail and kind in out.rejected[0].detail
    _one_row(home, "unsupported_kind")
    assert not Reading.objects.exists()


@pytest.mark.parametrize(
    ("device_kind", "kind", "values"),
    [
        ("bp_monitor", "bp", {"sys": 120, "dia": 80}),
        ("bp_monitor", "battery", {"pct": 50}),
        ("sos_button", "sos", {}),
        ("smart_watch", "fall", {}),
        ("smart_watch", "spo2", {"spo2": 95}),
        ("fall_sensor", "fall", {}),
        ("glucometer", "glucose", {"mmol": 5.1, "context": "fasting"}),
    ],
)
def test_a_kind_the_device_type_sends_is_stored(home, device_kind, kind, values):
    Device.objects.filter(pk=home.device.pk).update(kind=device_kind)
    raw = json.dumps(msg(1, kind, values)).encode()
    [out] = process([mqtt(home.device, None, raw=raw)])
    assert out.accepted == 1, out.rejected


# --- duplicate keys ----------------------------------------------------------------------

DUPLICATES = [
    b'{"seq": 1, "seq": 2, "ts": "%s", "kind": "bp", "values": {"sys": 150, "dia": 90}}',
    b'{"seq": 1, "ts": "%s", "kind": "bp", "values": {"sys": 150, "sys": 250, "dia": 90}}',
]


@pytest.mark.parametrize("template", DUPLICATES)
def test_duplicate_keys_are_refused_over_mqtt(home, template):
    raw = template.replace(b"%s", msg(1)["ts"].encode())
    [out] = process([mqtt(home.device, None, raw=raw)])
    assert [r.code for r in out.rejected] == ["malformed"]
    assert "duplicate key" in out.rejected[0].detail
    _one_row(home, "malformed")
    assert not Reading.objects.exists()


@pytest.mark.parametrize("template", DUPLICATES)
def test_duplicate_keys_are_refused_over_http(home, client, template):
    raw = template.replace(b"%s", msg(1)["ts"].encode())
    r = post(client, None, raw=raw)
    assert r.status_code == 400
    assert "duplicate key" in r.json()["detail"]
    _one_row(home, "malformed")


def test_every_refusal_code_is_documented_for_device_makers():
    """The device protocol document lists every reason a message can be refused."""
    from pathlib import Path

    from yiyang.devices.protocol import Refusal

    doc = (Path(__file__).resolve().parents[3] / "docs" / "device-protocol.md").read_text(
        encoding="utf-8"
    )
    assert [code for code in Refusal if f"`{code}`" not in doc] == []
