"""The devices app's domain events and hooks (``yiyang.common.events``, ADR 0024): what
apps above it may react to, without devices naming them. Subscribe from your ``plugin``
module."""

from __future__ import annotations

from dataclasses import dataclass

from yiyang.common.events import IN_TRANSACTION, Event
from yiyang.devices.models import Alert


@dataclass(frozen=True, repr=False)
class AlarmAlertsOpened:
    """The alerts just opened for a resident's alarm — an SOS press or a detected fall
    (the rules whose ``event`` is one of ``alerts.READING_EVENTS``), their rules loaded.
    Saved and live, not yet committed."""

    alerts: tuple[Alert, ...]

    def __repr__(self) -> str:  # ids only, in the log line of a failing handler
        return f"AlarmAlertsOpened(alerts={[a.pk for a in self.alerts]})"


ALARM_ALERTS_OPENED = Event(
    "devices.alarm_alerts_opened",
    AlarmAlertsOpened,
    delivery=IN_TRANSACTION,
    doc="""New SOS and fall alerts, sent by ``alerts.evaluate`` inside the ingestion
    transaction once they are stored and escalating (only when there are some). A hook:
    each handler runs there and then, in its own savepoint, so that what it writes (the
    alerts' emergency calls, ADR 0022) commits together with the alerts — no SOS alert is
    ever seen without its call. A failing handler is logged and rolled back to its
    savepoint; the alerts and their readings are still stored and escalate: never a lost
    SOS. Handlers must take a constant number of queries per batch (ingestion runs at
    thousands of readings a second) and do no I/O outside the database.""",
)
