"""The kinds of home device (``Device.kind``), on their own so that both the models and
``summaries`` (a silent device's summary names its kind) can import them without one
importing the other.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    BP_MONITOR = "bp_monitor", _("Blood-pressure monitor")
    GLUCOMETER = "glucometer", _("Glucometer")
    PULSE_OXIMETER = "pulse_oximeter", _("Pulse oximeter")
    THERMOMETER = "thermometer", _("Thermometer")
    SCALE = "scale", _("Scale")
    SMART_WATCH = "smart_watch", _("Smart watch")
    SOS_BUTTON = "sos_button", _("SOS button")
    FALL_SENSOR = "fall_sensor", _("Fall sensor")
    BED_SENSOR = "bed_sensor", _("Bed / presence sensor")
