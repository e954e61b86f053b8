"""The ingestion core: valid readings stored once as readings and observations; every kind
of bad input quarantined with its reason and never stored; batches judged per message."""

from __future__ import annotations

import dataclasses
import datetime
import json
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from yiyang.devices.models import Device, DeviceStatus, Quarantine, Reading
from yiyang.devices.protocol import Envelope
from yiyang.devices.services.ingest import MQTT_REORDER_WINDOW, process
from yiyang.devices.tests.conftest import SECRET, http, mqtt, msg, post
from yiyang.residents import loinc
from yiyang.residents.models import Consent, Observation


def test_a_bp_reading_becomes_a_reading_and_a_panel_of_observations(home):
    [out] = process([mqtt(home.device, msg(1))])
    assert (out.accepted, out.duplicates, out.rejected) == (1, 0, [])
    reading = Reading.objects.get()
    assert (reading.device, reading.seq, reading.resident) == (home.device, 1, home.resident)
    rows = {o.code: o for o in Observation.objects.filter(resident=home.resident)}
    assert rows[loinc.SYSTOLIC].value == Decimal("152")
    assert rows[loinc.DIASTOLIC].value == Decimal("94")
    assert rows[loinc.HEART_RATE].value == Decimal("78")
    assert {o.panel for o in rows.values()} == {reading.panel}
    assert {o.source for o in rows.values()} == {"device"}
    assert {o.device_serial for o in rows.values()} == {"BP-TEST-0001"}
    home.device.refresh_from_db()
    assert home.device.last_seq == 1 and home.device.readings_count == 1
    assert home.device.last_seen_at is not None


@pytest.mark.parametrize(
    ("kind", "values", "codes"),
    [
        ("glucose", {"mmol": 2.8, "context": "fasting"}, {loinc.GLUCOSE_FASTING: "2.8"}),
        ("glucose", {"mmol": 11.04, "context": "postprandial"}, {loinc.GLUCOSE_RANDOM: "11.0"}),
        ("spo2", {"spo2": 93, "hr": 88}, {loinc.SPO2: "93", loinc.HEART_RATE: "88"}),
        ("temp", {"c": 38.25}, {loinc.TEMPERATURE: "38.3"}),
        ("hr", {"hr": 110}, {loinc.HEART_RATE: "110"}),
        ("weight", {"kg": 61.5}, {loinc.WEIGHT: "61.5"}),
        ("sos", {}, {}),
        ("fall", {}, {}),
    ],
)
def test_every_kind(home, kind, values, codes):
    [out] = process([http(home.device, msg(5, kind, values))])
    assert out.accepted == 1, out.rejected
    stored = {o.code: str(o.value.normalize()) for o in Observation.objects.all()}
    assert stored == {c: str(Decimal(v).normalize()) for c, v in codes.items()}
    assert Reading.objects.get().kind == kind


def test_battery_updates_the_device(home):
    process([http(home.device, [msg(1, "battery", {"pct": 80}), msg(2, "battery", {"pct": 15})])])
    home.device.refresh_from_db()
    assert home.device.battery_pct == 15
    assert not Observation.objects.exists()


def test_redelivery_is_stored_once(home):
    envelope = mqtt(home.device, msg(7))
    first, again, both = process([envelope]), process([envelope]), process([envelope, envelope])
    assert first[0].accepted == 1
    assert (again[0].accepted, again[0].duplicates) == (0, 1)
    assert [o.duplicates for o in both] == [1, 1]
    assert Reading.objects.count() == 1 and Observation.objects.count() == 3
    # The same seq twice inside one batch: once.
    [out] = process([http(home.device, [msg(8), msg(8)])])
    assert (out.accepted, out.duplicates) == (1, 1)
    assert not Quarantine.objects.exists()


BAD = [
    ("malformed", None, b"{not json"),
    ("malformed", None, b'"just a string"'),
    ("bad_field", {"seq": "1", "ts": "x", "kind": "bp", "values": {}}, None),
    ("bad_field", msg(1, values={"sys": "150", "dia": 90}), None),
    ("bad_field", msg(1, values={"sys": 150}), None),
    ("bad_field", msg(1, values={"sys": 150, "dia": 90, "pulse": 70}), None),
    ("bad_field", {**msg(1), "extra": 1}, None),
    ("bad_field", {**msg(1), "ts": "2026-11-22T08:00:00"}, None),  # no offset
    ("unknown_kind", msg(1, "ecg", {}), None),
    ("out_of_range", msg(1, "spo2", {"spo2": 130}), None),
    ("out_of_range", msg(1, values={"sys": 80, "dia": 95}), None),  # sys < dia
    ("out_of_range", msg(1, "glucose", {"mmol": 0.2, "context": "random"}), None),
    ("out_of_range", msg(1, "battery", {"pct": 101}), None),
    ("bad_field", msg(1, "glucose", {"mmol": 5.5, "context": "after lunch"}), None),
    # a number where the context's word belongs (it once took the battery's fast path and
    # failed the whole batch with a KeyError)
    ("bad_field", msg(1, "glucose", {"mmol": 5.5, "context": 5}), None),
    ("bad_field", msg(1, "glucose", {"mmol": 5.5, "context": True}), None),
]


@pytest.mark.parametrize(("code", "body", "raw"), BAD)
def test_bad_input_is_quarantined_with_its_reason_never_stored(home, code, body, raw):
    [out] = process([mqtt(home.device, body, raw=raw)])
    assert out.accepted == 0 and [r.code for r in out.rejected] == [code]
    row = Quarantine.objects.get()
    assert (row.device, row.code, row.source) == (home.device, code, "mqtt")
    assert row.detail and row.payload
    assert not Reading.objects.exists() and not Observation.objects.exists()
    home.device.refresh_from_db()
    assert home.device.rejected_count == 1


def test_timestamps_far_in_the_future_or_too_old(home):
    future = {**msg(1), "ts": (timezone.now() + datetime.timedelta(hours=1)).isoformat()}
    old = {**msg(2), "ts": (timezone.now() - datetime.timedelta(days=40)).isoformat()}
    skew = {**msg(3), "ts": (timezone.now() + datetime.timedelta(minutes=2)).isoformat()}
    [out] = process([http(home.device, [future, old, skew])])
    assert [r.code for r in out.rejected] == ["future_ts", "old_ts"]
    assert [r.index for r in out.rejected] == [0, 1]
    assert out.accepted == 1


def test_a_replayed_older_seq_is_refused(home):
    process([http(home.device, msg(10))])
    [out] = process([http(home.device, [msg(9), msg(10), msg(11)])])
    assert [(r.code, r.seq) for r in out.rejected] == [("stale_seq", 9)]
    assert (out.accepted, out.duplicates) == (1, 1)
    assert sorted(Reading.objects.values_list("seq", flat=True)) == [10, 11]


def test_over_mqtt_a_late_seq_close_below_the_highest_is_stored(home):
    # Several consumers share the subscription, and a restarted one gets its unacknowledged
    # messages again: over MQTT a device's messages may arrive out of order.
    process([mqtt(home.device, msg(2000))])
    late, replay, again = process(
        [
            mqtt(home.device, msg(1500)),
            mqtt(home.device, msg(2000 - MQTT_REORDER_WINDOW - 1)),
            mqtt(home.device, msg(2000)),
        ]
    )
    assert (late.accepted, late.rejected) == (1, [])
    assert [(r.code, r.seq) for r in replay.rejected] == [
        ("stale_seq", 2000 - MQTT_REORDER_WINDOW - 1)
    ]
    assert (again.accepted, again.duplicates) == (0, 1)
    assert sorted(Reading.objects.values_list("seq", flat=True)) == [1500, 2000]
    home.device.refresh_from_db()
    assert (home.device.last_seq, home.device.readings_count) == (2000, 2)
    assert home.device.rejected_count == 1


def test_a_redelivered_refusal_is_quarantined_once(home):
    bad = mqtt(home.device, msg(7, "spo2", {"spo2": 130}))
    process([bad])
    # The broker sends it again (DUP): its first delivery was committed, the PUBACK lost.
    [again] = process([dataclasses.replace(bad, redelivered=True)])
    assert [r.code for r in again.rejected] == ["out_of_range"]
    assert Quarantine.objects.count() == 1
    home.device.refresh_from_db()
    assert home.device.rejected_count == 1
    # The device itself sending the same bad message again is a new refusal.
    process([bad])
    assert Quarantine.objects.count() == 2


def test_concurrent_consumers_store_each_seq_once(home_committed):
    """Two consumers processing the same messages at the same time (a redelivery racing
    the original): each (device, seq) is stored once, and the counters add up."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions: PostgreSQL only (SQLite has one writer)")
    normal = {"sys": 128, "dia": 78, "hr": 70}
    envelopes = [mqtt(home_committed.device, msg(s, values=normal)) for s in range(1, 201)]
    envelopes += [mqtt(home_committed.other, msg(s, values=normal)) for s in range(1, 201)]
    orders = [envelopes, envelopes[::-1]]
    outcomes: list[list] = [[], []]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def consume(k: int) -> None:
        try:
            start.wait()
            for i in range(0, len(orders[k]), 50):
                outcomes[k].extend(process(orders[k][i : i + 50]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=consume, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    done = [o for both in outcomes for o in both]
    assert sum(o.accepted for o in done) == 400
    assert sum(o.duplicates for o in done) == 400
    assert not [r for o in done for r in o.rejected]
    for device in (home_committed.device, home_committed.other):
        device.refresh_from_db()
        seqs = list(Reading.objects.filter(device=device).values_list("seq", flat=True))
        assert sorted(seqs) == list(range(1, 201))
        assert (device.readings_count, device.last_seq) == (200, 200)
    assert Observation.objects.count() == 400 * 3


def test_signatures_devices_bindings_and_consent(home):
    body = msg(1)
    # Another device's secret on this device's topic.
    wrong = mqtt(home.device, body, secret=SECRET + home.other.serial)
    missing = Envelope("mqtt", home.device.serial, json.dumps(body).encode())
    unknown = Envelope("mqtt", "NOPE-1", json.dumps(body).encode(), signature="00")
    unbound = mqtt(home.loose, body)
    unauthenticated_http = Envelope("http", home.device.serial, json.dumps(body).encode())
    outs = process([wrong, missing, unknown, unbound, unauthenticated_http])
    assert [o.rejected[0].code for o in outs] == [
        "bad_signature",
        "bad_signature",
        "unknown_device",
        "unbound",
        "bad_signature",
    ]
    assert not Reading.objects.exists()
    assert Quarantine.objects.filter(device__isnull=True, serial="NOPE-1").count() == 1

    Consent.objects.filter(resident=home.resident).update(withdrawn_at=timezone.now())
    [out] = process([mqtt(home.device, msg(2))])
    assert out.rejected[0].code == "no_consent"
    Device.objects.filter(pk=home.other.pk).update(status=DeviceStatus.RETIRED)
    [out] = process([mqtt(home.other, msg(3))])
    assert out.rejected[0].code == "device_retired"
    assert not Reading.objects.exists()


def test_a_batch_is_judged_per_message(home):
    batch = [
        msg(1),
        msg(2, "spo2", {"spo2": 130}),
        "oops",
        msg(3, "hr", {"hr": 70}),
    ]
    [out] = process([http(home.device, batch)])
    assert out.accepted == 2
    assert [(r.index, r.code) for r in out.rejected] == [(1, "out_of_range"), (2, "malformed")]
    assert sorted(Reading.objects.values_list("seq", flat=True)) == [1, 3]
    assert Quarantine.objects.count() == 2
    too_many = [msg(n) for n in range(10, 512)]
    [out] = process([http(home.device, too_many)])
    assert out.rejected[0].code == "malformed" and out.accepted == 0


def test_one_bad_envelope_does_not_stop_the_others(home):
    outs = process(
        [
            mqtt(home.device, None, raw=b"\xff\xfe"),
            mqtt(home.device, msg(4)),
            mqtt(home.other, msg(1)),
        ]
    )
    assert [o.accepted for o in outs] == [0, 1, 1]
    assert Reading.objects.count() == 2


# --- over HTTP ----------------------------------------------------------------------------


def test_http_ingest_answers(home, client):
    r = post(client, msg(1))
    assert r.status_code == 200
    assert r.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert post(client, msg(1)).json() == {"accepted": 0, "duplicates": 1, "rejected": []}
    r = post(client, [msg(2), msg(3, "spo2", {"spo2": 130})])
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert r.json()["rejected"][0]["code"] == "out_of_range"
    r = post(client, msg(4, "spo2", {"spo2": 130}))
    assert r.status_code == 422
    assert r.json()["code"] == "rejected" and "spo2" in r.json()["detail"]
    r = post(client, None, raw=b"{oops")
    assert r.status_code == 400 and r.json()["code"] == "malformed"
    r = post(client, msg(5), secret="wrong")
    assert r.status_code == 401 and r.json()["code"] == "bad_device_credentials"
    assert (
        client.post("/api/v1/ingest", data="{}", content_type="application/json").status_code == 401
    )
    r = post(client, msg(1), serial="BP-TEST-0003")  # not bound
    assert r.status_code == 422 and r.json()["rejected"][0]["code"] == "unbound"
    assert Reading.objects.count() == 2
    assert Quarantine.objects.count() == 4  # spo2 ×2, malformed, unbound (401s are not quarantined)


def test_a_user_login_is_not_a_device_login(home, client):
    from yiyang.accounts.models import User

    client.force_login(User.objects.get(username="registrar"))
    r = client.post("/api/v1/ingest", data=json.dumps(msg(1)), content_type="application/json")
    assert r.status_code == 401
    assert not Reading.objects.exists()
