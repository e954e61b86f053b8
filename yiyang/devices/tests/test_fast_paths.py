"""The ingestion's fast paths give exactly what the exact (``Decimal``) paths and paho's
own decoder give: number checks and rounding, rule conditions, NEWS2 bands, and the MQTT 5
properties of a PUBLISH. No database."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

import pytest
from paho.mqtt import _packet
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from yiyang.devices import mqtt_fast, news2, protocol
from yiyang.devices.conditions import (
    OPS,
    compile_conditions,
    holds,
    metrics_of,
    plain_conditions,
    plain_holds,
    plain_metrics,
)
from yiyang.devices.services import alerts
from yiyang.residents import loinc

NOW = datetime.datetime(2026, 11, 22, 8, 0, tzinfo=datetime.UTC)
RNG = random.Random(20261122)


def _values_around(low: float, high: float) -> list[object]:
    """Ints and floats in, at and beyond a range, with 0–3 decimals, and odd ones."""
    out: list[object] = [low, high, low - 1, high + 1, int(low), int(high), int(high) + 1]
    out += [low - 0.01, high + 0.01, low + 0.05, high - 0.05, 1e-7, -0.0, 1e300, 10**30]
    out += [float("nan"), float("inf"), float("-inf"), True, False]
    for _ in range(400):
        v = RNG.uniform(low - 5, high + 5)
        out += [round(v, RNG.choice((0, 1, 2, 3))), round(v), v]
    return out


def _exact(code: str, value: object) -> float | str:
    """What the Decimal path makes of ``value`` (the stored float, or the refusal code)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "bad_field"
    number = Decimal(str(value))
    if not number.is_finite():
        return "bad_field"
    spec = loinc.CODES[code]
    if not spec.in_range(number):
        return "out_of_range"
    return float(spec.quantize(number))


@pytest.mark.parametrize(
    ("kind", "key"),
    [("bp", "sys"), ("bp", "dia"), ("bp", "hr"), ("glucose", "mmol"), ("spo2", "spo2"),
     ("temp", "c"), ("hr", "hr"), ("weight", "kg")],
)  # fmt: skip
def test_number_checks_match_the_decimal_path(kind, key):
    code = protocol.KINDS[kind][key][0]
    assert code is not None
    spec = loinc.CODES[code]
    others = {"bp": {"sys": 250, "dia": 21}, "glucose": {"context": "random"}}.get(kind, {})
    for value in _values_around(float(spec.low), float(spec.high)):
        values = {**others, key: value}
        if kind == "bp" and key == "dia":
            values["sys"] = 300
        raw = {"seq": 1, "ts": NOW.isoformat(), "kind": kind, "values": values}
        expected = _exact(code, value)
        try:
            got: float | str = protocol.parse_message(raw, NOW).values[key]
        except protocol.Refused as exc:
            got = str(exc.code)  # the code as the JSON answer carries it
        if kind == "bp" and isinstance(expected, float) and got == "out_of_range":
            continue  # sys ≤ dia: the pair is refused, whichever path judged the value
        assert got == expected, (kind, key, value)
        assert type(got) is type(expected), (kind, key, value)


def test_battery_matches_the_decimal_path():
    for value in [*range(-2, 103), 50.0, 50.5, 1e300, float("nan"), True]:
        raw = {"seq": 1, "ts": NOW.isoformat(), "kind": "battery", "values": {"pct": value}}
        number = None if isinstance(value, bool) else Decimal(str(value))
        if number is None or not number.is_finite():
            expected: object = "bad_field"
        elif number != number.to_integral_value() or not 0 <= number <= 100:
            expected = "out_of_range"
        else:
            expected = int(number)
        try:
            got: object = protocol.parse_message(raw, NOW).values["pct"]
        except protocol.Refused as exc:
            got = str(exc.code)  # the code as the JSON answer carries it
        assert (got, type(got)) == (expected, type(expected)), value


def test_rule_conditions_match_the_decimal_comparisons():
    metrics = ["bp.sys", "bp.dia", "hr", "glucose.mmol", "spo2.spo2", "temp.c", "weight.kg"]
    for _ in range(3000):
        conditions = [
            {
                "metric": RNG.choice(metrics),
                "op": RNG.choice(list(OPS)),
                "value": RNG.choice((RNG.randint(30, 200), round(RNG.uniform(2, 200), 1))),
            }
            for _ in range(RNG.randint(1, 3))
        ]
        kind = RNG.choice(["bp", "glucose", "spo2", "temp", "hr", "weight"])
        threshold = conditions[0]["value"]
        value = RNG.choice((threshold, round(threshold + RNG.choice((-0.1, 0.1)), 1),
                            float(threshold), RNG.randint(30, 200)))  # fmt: skip
        values = {"bp": {"sys": value, "dia": 60.0, "hr": 70.0}, "glucose": {"mmol": value},
                  "spo2": {"spo2": value, "hr": value}, "temp": {"c": value},
                  "hr": {"hr": value}, "weight": {"kg": value}}[kind]  # fmt: skip
        reading = alerts.Fresh(1, 1, kind, values, NOW)
        exact = holds(compile_conditions(conditions), metrics_of(reading))
        plain = plain_holds(plain_conditions(conditions), plain_metrics(reading))
        assert plain == exact, (conditions, reading)


@pytest.mark.parametrize("parameter", sorted(news2.TABLES))
def test_news2_points_match_the_decimal_bands(parameter):
    edges = [float(edge) for _, edge, _ in news2.TABLES[parameter]]
    values: list[float | int] = []
    for edge in edges:
        values += [edge, edge - 0.1, edge + 0.1, edge - 1e-9, edge + 1e-9, int(edge)]
        values += [int(edge) - 1, int(edge) + 1, round(edge + 0.05, 2), round(edge - 0.05, 2)]
    values += [RNG.uniform(0, 300) for _ in range(2000)] + [10**20, -5, 0]
    for value in values:
        number = Decimal(str(value))
        expected = next(
            score
            for test, edge, score in news2.TABLES[parameter]
            if news2._TESTS[test](number, edge)
        )
        assert news2.points(parameter, value) == expected, value
    for bad in (float("nan"), float("inf"), True):
        with pytest.raises(ValueError):
            news2.points(parameter, bad)


def _publish_properties(pairs: list[tuple[str, str]], **others: object) -> bytes:
    props = Properties(PacketTypes.PUBLISH)
    for name, value in others.items():
        setattr(props, name, value)
    for pair in pairs:
        props.UserProperty = pair
    return props.pack()


def _decoded(cls: type[Properties], data: bytes) -> tuple[object, ...]:
    try:
        props, used = cls(PacketTypes.PUBLISH).unpack(data)
        return ("ok", props.json(), used)
    except Exception as exc:  # noqa: BLE001 - the error is the result compared
        return ("error", type(exc).__name__, str(exc))


def test_publish_properties_decode_as_paho_does():
    alphabet = "sig0123456789abcdef值€\U0001f600 \x01"
    samples: list[bytes] = [_publish_properties([])]
    for _ in range(500):
        pairs = [
            (
                "".join(RNG.choice(alphabet) for _ in range(RNG.randint(0, 8))),
                "".join(RNG.choice(alphabet) for _ in range(RNG.randint(0, 70))),
            )
            for _ in range(RNG.randint(1, 3))
        ]
        samples.append(_publish_properties(pairs) + b'{"seq":1}')
    samples.append(_publish_properties([("sig", "ab")], ContentType="application/json"))
    samples.append(_publish_properties([("sig", "ab")], MessageExpiryInterval=60))
    samples.append(_publish_properties([("sig", "ab" * 80)]))  # two-byte length
    user = bytes([38, 0, 3]) + b"sig"
    for tail in (b"\x00\x02a\x00", b"\x00\x02\xef\xbb", b"\x00\x03\xef\xbb\xbf", b"\x00\x05ab",
                 b"\x00\x02\xed\xa0\x80", b"\x00", b""):  # fmt: skip
        samples.append(bytes([len(user) + len(tail)]) + user + tail)
        samples.append(bytes([len(user) + len(tail) + 4]) + user + tail)
    samples += [b"", b"\x05\x26\x00", bytes([3, 38, 0, 9])]
    for data in samples:
        assert _decoded(mqtt_fast.PublishProperties, data) == _decoded(Properties, data), data


def test_the_consumer_installs_the_fast_decoder_and_messages_decode_the_same():
    assert mqtt_fast.install_fast_properties()
    assert _packet.Properties is mqtt_fast.PublishProperties
    topic = b"yiyang/v1/devices/BP-1/up"
    body = _publish_properties([("sig", "0f" * 32)]) + b'{"seq":1}'
    packet = len(topic).to_bytes(2, "big") + topic + (7).to_bytes(2, "big") + body
    decoded = _packet.decode_publish(0x32, packet, MQTTProtocolVersion.MQTTv5)
    assert decoded.properties is not None
    assert decoded.properties.UserProperty == [("sig", "0f" * 32)]
    assert (decoded.topic, decoded.mid, decoded.payload) == (topic, 7, b'{"seq":1}')
