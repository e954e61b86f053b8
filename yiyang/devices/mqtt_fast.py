"""paho's PUBLISH properties, decoded faster, for the MQTT consumer (``yiyang.devices.mqtt``).

paho-mqtt decodes the MQTT 5 properties of every received PUBLISH with its generic
``Properties`` class: a fresh object with its tables, then for each property lookups by
name over every property name and a Python loop over each character of a string — ~23 µs
for our one ``sig`` user property, a third of the consumer's MQTT handling.
``PublishProperties`` shares the tables and decodes the usual case itself — properties that
are all user properties, with a one-byte length — into exactly what paho would set
(``UserProperty``: a list of (name, value) pairs); anything else, and every string paho
would refuse (not UTF-8, NUL, U+FEFF, a length beyond the properties), goes to paho's own
``unpack``, which decodes it or raises as before. It replaces ``Properties`` only where
paho's packet decoder builds one (``paho.mqtt._packet``), and only after a self-check
against paho's decoder (``self_check``, run by ``install_fast_properties``).
"""

from __future__ import annotations

import logging

from paho.mqtt import _packet
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

logger = logging.getLogger(__name__)


class PublishProperties(Properties):  # type: ignore[misc]
    """paho's ``Properties`` of a received PUBLISH, decoding the usual case (user
    properties only, a one-byte length) itself and anything else with paho's ``unpack``."""

    _shared: Properties | None = None

    def __init__(self, packetType: int) -> None:
        shared = type(self)._shared
        if shared is None:
            shared = type(self)._shared = Properties(PacketTypes.PUBLISH)
        object.__setattr__(self, "packetType", packetType)
        object.__setattr__(self, "types", shared.types)
        object.__setattr__(self, "names", shared.names)
        object.__setattr__(self, "properties", shared.properties)

    def unpack(self, buffer: bytes | bytearray) -> tuple[Properties, int]:
        size = len(buffer)
        if self.packetType != PacketTypes.PUBLISH or not size or buffer[0] & 0x80:
            return super().unpack(buffer)
        end = 1 + buffer[0]
        if end > size or len(vars(self)) != 4:  # too short, or not fresh: paho decides
            return super().unpack(buffer)
        pos = 1
        pairs: list[tuple[str, str]] = []
        while pos < end:
            if buffer[pos] != 38:  # not a User Property
                return super().unpack(buffer)
            pos += 1
            pair = []
            for _ in range(2):
                if end - pos < 2:
                    return super().unpack(buffer)
                n = (buffer[pos] << 8) | buffer[pos + 1]
                pos += 2
                if pos + n > end:
                    return super().unpack(buffer)
                try:
                    text = bytes(buffer[pos : pos + n]).decode("utf-8")
                except UnicodeDecodeError:
                    return super().unpack(buffer)
                if "\x00" in text or "\ufeff" in text:
                    return super().unpack(buffer)
                pair.append(text)
                pos += n
            pairs.append((pair[0], pair[1]))
        if pairs:
            object.__setattr__(self, "UserProperty", pairs)
        return self, end


def self_check() -> bool:
    """Whether ``PublishProperties`` decodes like paho's ``Properties`` (this paho)."""
    samples: list[bytes] = []
    for props in (
        [("sig", "0f" * 32)],
        [("sig", "ab"), ("other", "值")],
        [],
    ):
        p = Properties(PacketTypes.PUBLISH)
        for pair in props:
            p.UserProperty = pair
        samples.append(p.pack() + b"{}")
    mixed = Properties(PacketTypes.PUBLISH)
    mixed.ContentType = "application/json"
    mixed.UserProperty = ("sig", "00")
    samples.append(mixed.pack())
    user = bytes([38, 0, 3]) + b"sig" + bytes([0, 2])
    samples += [
        bytes([len(user) + 2]) + user + b"a\x00",  # NUL: refused
        bytes([len(user) + 3]) + user + b"\xef\xbb",  # bad UTF-8 (and short)
        bytes([len(user) + 3]) + user + b"ab",  # length beyond the data
        bytes([len(user) + 2]) + user + b"ab" + b"rest",
    ]
    for sample in samples:
        results = []
        for cls in (Properties, PublishProperties):
            try:
                props, used = cls(PacketTypes.PUBLISH).unpack(sample)
                results.append((props.json(), used))
            except Exception as exc:  # noqa: BLE001 - compared, not swallowed
                results.append((type(exc).__name__, str(exc)))
        if results[0] != results[1]:
            return False
    return True


def install_fast_properties() -> bool:
    """Make paho decode PUBLISH properties with ``PublishProperties`` (once per process),
    if it passes ``self_check``; False (paho's own decoder stays) otherwise."""
    if getattr(_packet, "Properties", None) is PublishProperties:
        return True
    if getattr(_packet, "Properties", None) is not Properties or not self_check():
        logger.warning("paho-mqtt's PUBLISH properties are decoded by paho itself (slower)")
        return False
    setattr(_packet, "Properties", PublishProperties)  # noqa: B010
    return True
