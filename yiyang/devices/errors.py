"""Error codes of the devices app: the device registry and bindings, alert rules and their
per-resident overrides, the alerts themselves, and the HTTP ingest endpoint.

Registered with the platform's error-code registry (``yiyang.common.errors``) when this
module is imported; ``CommonConfig.ready`` imports it. ``docs/api-errors.md`` lists the
codes with the ``#:`` comment above each member. A device bound to a merged record is
refused with ``ResidentError.MERGED`` (``merged``).
"""

from __future__ import annotations

from enum import StrEnum

from yiyang.common.errors import register_error_codes


class DeviceError(StrEnum):
    """The device registry and bindings, alert rules and overrides, alerts, and the HTTP
    ingest endpoint of the device protocol."""

    # --- the registry ---

    #: The serial is not valid: 4 to 64 characters, capital letters, digits and dashes
    #: only.
    INVALID_SERIAL = "invalid_serial"
    #: A device with this serial is already registered.
    DUPLICATE_SERIAL = "duplicate_serial"
    #: The device is retired and can no longer be changed.
    DEVICE_RETIRED = "device_retired"
    #: A device is retired with the retire action (which also unbinds it), not by setting
    #: its status.
    RETIRE_REQUIRED = "retire_required"
    #: The device is already retired.
    ALREADY_RETIRED = "already_retired"
    #: The device is already bound to this resident.
    ALREADY_BOUND = "already_bound"
    #: The device is not bound to a resident.
    NOT_BOUND = "not_bound"

    # --- alert rules and per-resident overrides ---

    #: SOS and fall alerts are critical: their rule stays active and critical and cannot be
    #: switched off or changed for one resident.
    CRITICAL_RULE = "critical_rule"
    #: The rule fires on an event, not on values: it has no conditions to set.
    EVENT_RULE = "event_rule"
    #: The rule is a local one: there is no shipped default to go back to.
    NO_DEFAULT = "no_default"

    # --- alerts ---

    #: The alert is not in a state that allows this action (e.g. handling an alert already
    #: handled); ``detail`` gives its state.
    WRONG_STATE = "wrong_state"

    # --- the HTTP ingest endpoint (docs/device-protocol.md) ---

    #: The device's serial and secret, sent with HTTP Basic authentication, are missing or
    #: wrong, or the device is retired (401).
    BAD_DEVICE_CREDENTIALS = "bad_device_credentials"
    #: The body is not JSON, nested too deeply, names a key twice, is not a message or an
    #: array of messages, or holds more than 500 messages (400).
    MALFORMED = "malformed"
    #: The body is larger than the protocol allows (413); only its first bytes are read and
    #: quarantined.
    TOO_LARGE = "too_large"
    #: Every message of the body was refused (422); ``rejected`` gives each refusal.
    REJECTED = "rejected"


register_error_codes(DeviceError)
