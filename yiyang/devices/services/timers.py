"""Durable alert timers (ADR 0020): the due times live in the database, so any process can
pick them up after any restart.

* ``run_due(now)`` claims the open alerts whose ``next_escalation_at`` has passed
  (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several timer processes share the work and
  an alert being acknowledged right now is left alone), escalates each (every tier whose
  time has come, each once) and commits.
* ``check_silence(now)`` raises a ``device_silent`` alert for each active, bound device
  with an expected interval whose last message (or binding, if it never sent one) is older
  than that interval — one live alert per device; a later reading does not close it.
* ``TimerLoop`` runs both (escalation every second, silence every minute) and delivers the
  notifications a crash left pending; ``yiyang alert_timers`` runs it until SIGTERM.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable

from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from yiyang.devices import summaries
from yiyang.devices.models import (
    Alert,
    AlertRule,
    AlertState,
    Binding,
    Device,
    DeviceStatus,
    ResidentRule,
)
from yiyang.devices.services import escalation
from yiyang.devices.services.alerts import LIVE, teams_for

logger = logging.getLogger(__name__)

SILENT_RULE = "device_silent"
CLAIM = 200  # alerts escalated per transaction
_SILENCE_LOCK = 0x59594453  # "YYDS": one silence check at a time on PostgreSQL


def _claim(now: datetime.datetime) -> list[Alert]:
    qs = (
        Alert.objects.filter(state=AlertState.OPEN, next_escalation_at__lte=now)
        .select_related("rule")
        .order_by("next_escalation_at", "pk")
    )
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(qs[:CLAIM])


def run_due(now: datetime.datetime | None = None) -> int:
    """Escalate every open alert that is due at ``now`` (default: the current time), in
    transactions of up to ``CLAIM`` alerts. Returns how many alerts were escalated."""
    now = now or timezone.now()
    done = 0
    while True:
        with transaction.atomic():
            alerts = _claim(now)
            if alerts:
                escalation.advance(alerts, now)
        done += len(alerts)
        if len(alerts) < CLAIM:
            return done


def silent_devices(now: datetime.datetime) -> list[Device]:
    """Active, bound devices with an expected interval that have been silent longer than
    it, without a live silence alert. Two queries: the distinct intervals (a handful),
    then the devices, one "silent since before now − interval" test per interval (portable
    and index-friendly, no per-row interval arithmetic)."""
    rule = AlertRule.objects.filter(code=SILENT_RULE).first()
    watched = Device.objects.filter(
        status=DeviceStatus.ACTIVE, resident__isnull=False, expected_interval_minutes__gt=0
    )
    intervals = set(watched.values_list("expected_interval_minutes", flat=True).distinct())
    if not intervals:
        return []
    bound_at = Subquery(
        Binding.objects.filter(device=OuterRef("pk"), unbound_at__isnull=True)
        .order_by("-bound_at")
        .values("bound_at")[:1]
    )
    late = Q()
    for minutes in intervals:
        late |= Q(
            expected_interval_minutes=minutes,
            quiet_since__lt=now - datetime.timedelta(minutes=minutes),
        )
    qs = (
        watched.annotate(quiet_since=Coalesce(F("last_seen_at"), bound_at))
        .filter(late)
        .order_by("pk")
    )
    if rule is not None:
        qs = qs.exclude(
            Exists(Alert.objects.filter(rule=rule, device=OuterRef("pk"), state__in=LIVE))
        )
    return list(qs)


def check_silence(now: datetime.datetime | None = None) -> list[Alert]:
    """Open a ``device_silent`` alert for each newly silent device (see the module
    docstring); returns them. Several timer processes: one checks at a time."""
    now = now or timezone.now()
    rule = AlertRule.objects.filter(code=SILENT_RULE, active=True).first()
    if rule is None:
        return []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SILENCE_LOCK])
                if not cursor.fetchone()[0]:
                    return []  # another timer process is checking right now
        devices = silent_devices(now)
        if not devices:
            return []
        off = set(
            ResidentRule.objects.filter(
                rule=rule, disabled=True, resident_id__in={d.resident_id for d in devices}
            ).values_list("resident_id", flat=True)
        )
        devices = [d for d in devices if d.resident_id not in off]
        teams = teams_for(d.resident_id for d in devices if d.resident_id is not None)
        opened = []
        for device in devices:
            since = timezone.localtime(device.quiet_since)  # type: ignore[attr-defined]
            assert device.resident_id is not None  # bound: filtered above
            facts = summaries.silence_facts(
                device.serial, device.kind, since, device.expected_interval_minutes
            )
            opened.append(
                Alert(
                    resident_id=device.resident_id,
                    rule=rule,
                    severity=rule.severity,
                    team_id=teams.get(device.resident_id or 0),
                    device=device,
                    summary=summaries.render_in(facts, "en")[:255],
                    facts=facts,
                    opened_at=now,
                    last_triggered_at=now,
                )
            )
        Alert.objects.bulk_create(opened)
        escalation.start(opened, now)
    return opened


def deliver_pending(limit: int = 500) -> int:
    """Deliver outbox rows left pending (a crash between commit and delivery)."""
    from yiyang.notifications import services

    return services.deliver_pending(limit=limit)


class TimerLoop:
    """Escalate due alerts every ``interval`` seconds, deliver pending notifications, and
    check for silent devices every ``silence_every`` seconds, until ``stop`` is set. A
    database error (an outage) is logged and retried on the next tick; anything else
    ends the loop (the supervisor restarts the process)."""

    def __init__(
        self,
        *,
        interval: float = 1.0,
        silence_every: float = 60.0,
        report: Callable[[str], None] | None = None,
    ):
        self.interval = interval
        self.silence_every = silence_every
        self.report = report or (lambda line: logger.info("%s", line))
        self.escalated = 0
        self.silent = 0
        self.delivered = 0
        self.errors = 0

    def tick(self, *, silence: bool) -> None:
        self.escalated += run_due()
        self.delivered += deliver_pending()
        if silence:
            self.silent += len(check_silence())

    def run(self, stop: threading.Event) -> None:
        next_silence = time.monotonic()
        while not stop.is_set():
            due_silence = time.monotonic() >= next_silence
            try:
                close_old_connections()
                self.tick(silence=due_silence)
                if due_silence:
                    next_silence = time.monotonic() + self.silence_every
            except DatabaseError as exc:
                self.errors += 1
                self.report(f"alert timers: database error, retrying: {exc}")
                connection.close()
            stop.wait(self.interval)
        connection.close()
