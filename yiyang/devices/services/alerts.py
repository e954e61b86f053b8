"""Alerts: rules as data evaluated against new readings, folding into the live alert, and
the alert's state machine (ADR 0019).

``evaluate(readings)`` runs inside the ingestion transaction (``ingest.process``): for each
new reading, each active rule — or the resident's own version of it (``ResidentRule``) —
whose event matches its kind or any of whose conditions holds on its values; a hit opens
an ``Alert`` for (resident, rule) with the rule's severity and the resident's responsible
team (the team serving her grid), or folds into the live (open or acknowledged) one of the
same rule: ``count`` + 1, the reading linked. A unique constraint keeps one live alert
per resident and rule. The conditions themselves (pure, no database) are in
``yiyang.devices.conditions``.

Window rules (``window_minutes`` > 0; NEWS2, ``news2.*`` metrics, yiyang.devices.news2)
score the latest vitals of the window before the resident's newest reading. New alerts
start escalating (``escalation.start``: logged, their first tier due at once — the alert
timers notify it within a second, through the outbox); new SOS and fall alerts are sent
to the in-transaction hook ``events.ALARM_ALERTS_OPENED`` (the emergency app opens their
calls there, ADR 0020, 0022).

State machine: open → acknowledged → handled (with an outcome) → closed; acknowledging is
what stops escalation (``next_escalation_at`` cleared). Each transition checks
``DevicePerm.ALERT_HANDLE`` and the resident in the actor's scope, is audited, and is an
``AlertEvent``.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.devices import news2, summaries
from yiyang.devices.conditions import (
    OPS,
    Plain,
    facts_of,
    news2_scores,
    plain_conditions,
    plain_holds,
    plain_metrics,
)
from yiyang.devices.errors import DeviceError
from yiyang.devices.events import ALARM_ALERTS_OPENED, AlarmAlertsOpened
from yiyang.devices.models import (
    Alert,
    AlertRule,
    AlertState,
    EventKind,
    Outcome,
    Reading,
    ResidentRule,
)
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.services import escalation
from yiyang.network.models import Grid
from yiyang.residents.models import Resident
from yiyang.residents.selectors.registry import scoped_residents

LIVE = (AlertState.OPEN, AlertState.ACKNOWLEDGED)
READING_EVENTS = ("sos", "fall")  # event rules fired by a reading kind


class Fresh(NamedTuple):
    """A stored reading as ``evaluate`` needs it: what ingestion hands over (no model
    instance per reading — thousands a second)."""

    pk: int
    resident_id: int
    kind: str
    values: dict[str, Any]
    measured_at: datetime.datetime


AnyReading = Reading | Fresh


def teams_for(resident_ids: Iterable[int]) -> dict[int, int | None]:
    """Resident → the team serving her grid (the lowest id when several do)."""
    grids = dict(Resident.objects.filter(pk__in=set(resident_ids)).values_list("pk", "grid_id"))
    served: dict[int, int] = {}
    through = Grid.teams.through
    for grid_id, team_id in (
        through.objects.filter(grid_id__in={g for g in grids.values() if g})
        .order_by("team_id")
        .values_list("grid_id", "team_id")
    ):
        served.setdefault(grid_id, team_id)
    return {rid: served.get(gid) if gid else None for rid, gid in grids.items()}


# One row per resident: a LATERAL index lookup per vital kind, named "latest_<kind>" as
# the ORM path's subqueries are.
_VITAL_KINDS = ("spo2", "bp", "hr", "temp")
assert set(_VITAL_KINDS) == set(news2.KINDS)
_LATEST_VITALS_SQL = (
    "SELECT a.id, latest_spo2.id, latest_spo2.v, latest_spo2.m, latest_bp.id, latest_bp.v, "
    "latest_bp.m, latest_hr.id, latest_hr.v, latest_hr.m, latest_temp.id, latest_temp.v, "
    "latest_temp.m FROM unnest(%(ids)s::bigint[]) AS a(id) "
    'LEFT JOIN LATERAL (SELECT d.id, d."values" AS v, d.measured_at AS m FROM devices_reading d '
    "WHERE d.resident_id = a.id AND d.kind = 'spo2' AND d.measured_at >= %(since)s "
    "ORDER BY d.measured_at DESC, d.id DESC LIMIT 1) AS latest_spo2 ON true "
    'LEFT JOIN LATERAL (SELECT d.id, d."values" AS v, d.measured_at AS m FROM devices_reading d '
    "WHERE d.resident_id = a.id AND d.kind = 'bp' AND d.measured_at >= %(since)s "
    "ORDER BY d.measured_at DESC, d.id DESC LIMIT 1) AS latest_bp ON true "
    'LEFT JOIN LATERAL (SELECT d.id, d."values" AS v, d.measured_at AS m FROM devices_reading d '
    "WHERE d.resident_id = a.id AND d.kind = 'hr' AND d.measured_at >= %(since)s "
    "ORDER BY d.measured_at DESC, d.id DESC LIMIT 1) AS latest_hr ON true "
    'LEFT JOIN LATERAL (SELECT d.id, d."values" AS v, d.measured_at AS m FROM devices_reading d '
    "WHERE d.resident_id = a.id AND d.kind = 'temp' AND d.measured_at >= %(since)s "
    "ORDER BY d.measured_at DESC, d.id DESC LIMIT 1) AS latest_temp ON true "
)


def _latest_vitals(resident_ids: list[int], since: datetime.datetime) -> list[tuple[Any, ...]]:
    """(id, resident, kind, values, measured at) of each resident's latest reading of each
    vital kind measured at or after ``since``, newest first. On PostgreSQL one query (a
    ``LATERAL`` index lookup per resident and kind); elsewhere two."""
    if connection.vendor == "postgresql":
        rows: list[tuple[Any, ...]] = []
        with connection.cursor() as cursor:
            cursor.execute(_LATEST_VITALS_SQL, {"ids": resident_ids, "since": since})
            for row in cursor.fetchall():
                for k, kind in enumerate(_VITAL_KINDS):
                    pk, values, at = row[1 + 3 * k : 4 + 3 * k]
                    if pk is not None:
                        if isinstance(values, str | bytes):
                            values = json.loads(values)
                        rows.append((pk, row[0], kind, values, at))
        rows.sort(key=lambda r: (r[4], r[0]), reverse=True)
        return rows

    def latest_of(kind: str) -> Subquery:
        return Subquery(
            Reading.objects.filter(resident_id=OuterRef("pk"), kind=kind, measured_at__gte=since)
            .order_by("-measured_at", "-id")
            .values("pk")[:1]
        )

    ids: set[int] = set()
    for row in (
        Resident.objects.filter(pk__in=resident_ids)
        .annotate(**{f"latest_{kind}": latest_of(kind) for kind in news2.KINDS})
        .values_list(*[f"latest_{kind}" for kind in news2.KINDS])
    ):
        ids.update(pk for pk in row if pk is not None)
    return list(
        Reading.objects.filter(pk__in=ids)
        .order_by("-measured_at", "-id")
        .values_list("pk", "resident_id", "kind", "values", "measured_at")
    )


def _window_hits(
    rules: list[AlertRule],
    overrides: dict[tuple[int, int], ResidentRule],
    readings: Sequence[AnyReading],
) -> dict[tuple[int, int], tuple[list[Fresh], dict[str, Any]]]:
    """Window rules (NEWS2): for each resident with a new vital-sign reading, score the
    latest reading of each vital kind measured at most the rule's window before her
    newest reading of the batch (later ones included: an out-of-order reading is still the
    latest). One query for the batch (``_latest_vitals``), a few index lookups per
    resident — never the whole window (a device may send thousands of readings an hour)."""
    vitals = [r for r in readings if r.kind in news2.KINDS]
    # A reading whose parameters all score 0 cannot raise a NEWS2 sum (nor its highest
    # part): it replaces a value scoring ≥ 0 and moves the window forward. So only the
    # residents with a new reading that scores are re-scored — at thousands of readings a
    # second, mostly normal, this spares the window queries for nearly all of them. (It
    # also means a normal reading does not fold into a live NEWS2 alert as a new trigger;
    # and a normal reading that merely brings the second parameter to a lone abnormal one
    # is scored with the next abnormal reading, not at once — ADR 0020.)
    scoring = {r.resident_id for r in vitals if news2_scores(r)}
    vitals = [r for r in vitals if r.resident_id in scoring]
    if not rules or not vitals:
        return {}
    anchors: dict[int, Any] = {}
    for r in vitals:
        if r.resident_id not in anchors or r.measured_at > anchors[r.resident_id]:
            anchors[r.resident_id] = r.measured_at
    widest = datetime.timedelta(minutes=max(rule.window_minutes for rule in rules))
    since_all = min(anchors.values()) - widest

    by_resident: dict[int, list[Fresh]] = {}
    for row in _latest_vitals(list(anchors), since_all):  # newest first
        r = Fresh(*row)
        by_resident.setdefault(r.resident_id, []).append(r)
    return _score_windows(rules, overrides, anchors, by_resident)


def _score_windows(
    rules: list[AlertRule],
    overrides: dict[tuple[int, int], ResidentRule],
    anchors: dict[int, Any],
    by_resident: dict[int, list[Fresh]],
) -> dict[tuple[int, int], tuple[list[Fresh], dict[str, Any]]]:
    """Score each window rule (or the resident's own version of it) for each resident.
    In: the window rules, the overrides by (resident, rule), each resident's newest
    reading time of the batch (``anchors``) and her latest vitals, newest first
    (``by_resident``). Out: (resident, rule) → the readings scored and the NEWS2 facts,
    for each rule whose conditions hold on the score of at least two parameters."""
    out: dict[tuple[int, int], tuple[list[Fresh], dict[str, Any]]] = {}
    for resident_id, anchor in anchors.items():
        for rule in rules:
            own = overrides.get((resident_id, rule.pk))
            if own is not None and own.disabled:
                continue
            conditions = own.conditions if own is not None and own.conditions else rule.conditions
            since = anchor - datetime.timedelta(minutes=rule.window_minutes)
            latest: dict[str, Any] = {}
            used: dict[str, Fresh] = {}
            for r in by_resident.get(resident_id, []):  # newest first
                if r.measured_at < since:
                    continue
                for key, parameter in news2.FROM_READING[r.kind].items():
                    value = (r.values or {}).get(key)
                    if parameter in latest or isinstance(value, bool):
                        continue
                    if isinstance(value, int | float):
                        latest[parameter] = value
                        used[parameter] = r
            if len(latest) < 2:  # one parameter is a single-parameter rule's business
                continue
            scored = news2.score(latest)
            values = {"news2.total": Decimal(scored.total), "news2.max": Decimal(scored.highest)}
            if any(
                c["metric"] in values
                and OPS[c["op"]](values[c["metric"]], Decimal(str(c["value"])))
                for c in conditions
            ):
                found = sorted({r.pk: r for r in used.values()}.values(), key=lambda r: r.pk)
                out[(resident_id, rule.pk)] = (found, summaries.news2_facts(scored))
    return out


def _overrides_of(resident_ids: set[int]) -> Iterable[ResidentRule]:
    """The residents' own versions of rules. On PostgreSQL the ids travel as one array
    literal: an ``IN`` of hundreds of parameters costs a millisecond of Python per batch."""
    if connection.vendor == "postgresql":
        return ResidentRule.objects.raw(
            "SELECT * FROM devices_residentrule WHERE resident_id = ANY(%s::bigint[])",
            ["{" + ",".join(str(int(pk)) for pk in sorted(resident_ids)) + "}"],
        )
    return ResidentRule.objects.filter(resident_id__in=resident_ids)


def evaluate(readings: Sequence[AnyReading]) -> list[Alert]:
    """Open or fold alerts for ``readings`` (saved, with ids: ``Reading`` instances or
    ``Fresh`` rows). Call inside the ingestion transaction. New alerts start escalating
    (tier 1 notified through the outbox); new SOS and fall alerts go to the hook
    ``events.ALARM_ALERTS_OPENED`` (their emergency calls open there).
    Returns the alerts opened (not the folded ones). A constant number of queries per
    batch."""
    if not readings:
        return []
    now = timezone.now()
    rules = list(AlertRule.objects.filter(active=True))
    if not rules:
        return []
    overrides = {
        (o.resident_id, o.rule_id): o for o in _overrides_of({r.resident_id for r in readings})
    }
    hits = _reading_hits(rules, overrides, readings)
    facts, counts = _facts_and_counts(hits)
    windowed = [r for r in rules if r.window_minutes and not r.event]
    for key, (window_found, scored) in _window_hits(windowed, overrides, readings).items():
        hits[key], facts[key], counts[key] = list(window_found), scored, 1
    if not hits:
        return []
    opened, folded, links = _open_or_fold(hits, facts, counts, rules, now)
    _write_alerts(opened, folded, links)
    _start(opened, now)
    return opened


def _reading_hits(
    rules: list[AlertRule],
    overrides: dict[tuple[int, int], ResidentRule],
    readings: Sequence[AnyReading],
) -> dict[tuple[int, int], list[AnyReading]]:
    """The per-reading rules (no window; a condition rule or an SOS/fall event rule) that
    fire on ``readings``. In: the active rules, the residents' own versions
    (``overrides``, by (resident, rule)), the readings. Out: (resident, rule) → the
    readings that fired it, in order."""
    per_reading = [
        r for r in rules if not r.window_minutes and (not r.event or r.event in READING_EVENTS)
    ]
    overridden = {resident_id for resident_id, _ in overrides}
    hits: dict[tuple[int, int], list[AnyReading]] = {}
    # This loop runs for every reading at thousands a second: thresholds parsed once per
    # batch (the rules' own conditions, and the residents'), each reading's metrics once,
    # and — for a resident without overrides — only the rules that can fire on a reading
    # of its kind and keys (an event rule of that kind, a condition on one of its
    # metrics), found once per (kind, keys) in the batch.
    plans: list[tuple[int, str, Plain]] = [
        (rule.pk, rule.event, () if rule.event else plain_conditions(rule.conditions))
        for rule in per_reading
    ]
    own_plain = {
        key: plain_conditions(o.conditions) for key, o in overrides.items() if o.conditions
    }
    candidates: dict[tuple[str, tuple[str, ...]], list[tuple[int, str, Plain]]] = {}
    for reading in readings:
        resident_id = reading.resident_id
        values = plain_metrics(reading)
        if resident_id not in overridden:
            shape = (reading.kind, tuple(values))
            fit = candidates.get(shape)
            if fit is None:
                fit = candidates[shape] = [
                    (rule_pk, event, plain)
                    for rule_pk, event, plain in plans
                    if (event == reading.kind if event else any(c[0] in values for c in plain))
                ]
            for rule_pk, event, plain in fit:
                if event or plain_holds(plain, values):
                    hits.setdefault((resident_id, rule_pk), []).append(reading)
            continue
        for rule_pk, event, plain in plans:
            key = (resident_id, rule_pk)
            own = overrides.get(key)
            if own is not None and own.disabled:
                continue
            if event:
                hit = reading.kind == event
            else:
                hit = plain_holds(own_plain.get(key) or plain, values)
            if hit:
                hits.setdefault(key, []).append(reading)
    return hits


def _facts_and_counts(
    hits: dict[tuple[int, int], list[AnyReading]],
) -> tuple[dict[tuple[int, int], dict[str, Any]], dict[tuple[int, int], int]]:
    """For each (resident, rule) hit: the facts of its alert summary (those of its last
    reading) and how many readings fired it."""
    facts: dict[tuple[int, int], dict[str, Any]] = {}
    counts: dict[tuple[int, int], int] = {}
    for key, found in hits.items():
        facts[key] = facts_of(found[-1])
        counts[key] = len(found)
    return facts, counts


def _open_or_fold(
    hits: dict[tuple[int, int], list[AnyReading]],
    facts: dict[tuple[int, int], dict[str, Any]],
    counts: dict[tuple[int, int], int],
    rules: list[AlertRule],
    now: datetime.datetime,
) -> tuple[list[Alert], list[Alert], list[tuple[Alert, AnyReading]]]:
    """Each (resident, rule) hit becomes a new alert (with the rule's severity and the
    resident's team, ``teams_for``) or folds into the live one of the same rule, locked
    here (count, last trigger, summary). Two or three queries; nothing written yet. Out:
    the alerts to create, the folded ones to save, and (alert, reading) links."""
    live = {
        (a.resident_id, a.rule_id): a
        for a in Alert.objects.select_for_update().filter(
            state__in=LIVE,
            device__isnull=True,
            resident_id__in={k[0] for k in hits},
            rule_id__in={k[1] for k in hits},
        )
    }
    teams = teams_for(k[0] for k in hits if k not in live)
    by_id = {rule.pk: rule for rule in rules}
    opened: list[Alert] = []
    folded: list[Alert] = []
    links: list[tuple[Alert, AnyReading]] = []
    for key, found in hits.items():
        resident_id, rule_id = key
        rule = by_id[rule_id]
        alert = live.get(key)
        if alert is None:
            alert = Alert(
                resident_id=resident_id,
                rule=rule,
                severity=rule.severity,
                team_id=teams.get(resident_id),
                summary=_english(facts[key]),
                facts=facts[key],
                count=counts[key],
                opened_at=now,
                last_triggered_at=now,
            )
            opened.append(alert)
        else:
            alert.count += counts[key]
            alert.last_triggered_at = now
            alert.summary = _english(facts[key])
            alert.facts = facts[key]
            folded.append(alert)
        links.extend((alert, reading) for reading in found)
    return opened, folded, links


def _write_alerts(
    opened: list[Alert], folded: list[Alert], links: list[tuple[Alert, AnyReading]]
) -> None:
    """Create the new alerts, save the folded ones (``_save_folds``) and link each to its
    readings (a link already there is skipped)."""
    Alert.objects.bulk_create(opened)
    _save_folds(folded)
    through = Alert.readings.through
    through.objects.bulk_create(
        [through(alert_id=a.pk, reading_id=r.pk) for a, r in links], ignore_conflicts=True
    )


def _start(opened: list[Alert], now: datetime.datetime) -> None:
    """The new alerts start escalating (``escalation.start``); the new SOS and fall ones go
    to the hook ``events.ALARM_ALERTS_OPENED``, inside the transaction."""
    escalation.start(opened, now)
    alarms = tuple(a for a in opened if a.rule.event in READING_EVENTS)
    if alarms:  # a hook: what handlers write (emergency calls) commits with the alerts
        ALARM_ALERTS_OPENED.send(AlarmAlertsOpened(alarms))


def _english(facts: dict[str, Any]) -> str:
    return (summaries.render_in(facts, "en") or str(facts.get("kind", "")))[:255]


def _save_folds(folded: Sequence[Alert]) -> None:
    """Write the folded alerts' count, last trigger and summary (rows locked above). On
    PostgreSQL one ``UPDATE … FROM json_to_recordset`` (Django's ``bulk_update`` builds a
    ``CASE`` per field and alert)."""
    if not folded:
        return
    if connection.vendor != "postgresql":
        Alert.objects.bulk_update(folded, ["count", "last_triggered_at", "summary", "facts"])
        return
    document = json.dumps(
        [
            {
                "i": a.pk,
                "n": a.count,
                "t": a.last_triggered_at.isoformat(),
                "s": a.summary,
                "f": a.facts,
            }
            for a in folded
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE devices_alert a SET count = v.n, last_triggered_at = v.t, summary = v.s, "
            "facts = v.f FROM json_to_recordset(%s::json) "
            "AS v(i bigint, n integer, t timestamptz, s text, f jsonb) WHERE a.id = v.i",
            [document],
        )


# --- the state machine ------------------------------------------------------------------


def _alert(actor: User, alert: Any) -> Alert:
    pk = alert.pk if isinstance(alert, Alert) else alert
    if pk is None or isinstance(pk, bool):
        raise NotFound("alert")
    try:
        return (
            Alert.objects.select_for_update()
            .select_related("rule")
            .get(pk=pk, resident__in=scoped_residents(actor).values("pk"))
        )
    except (Alert.DoesNotExist, ValueError, TypeError):
        raise NotFound("alert") from None


def _in_state(alert: Alert, *states: str) -> None:
    if alert.state not in states:
        raise ValidationFailed(
            DeviceError.WRONG_STATE,
            _("This alert is %(state)s.") % {"state": alert.get_state_display()},
            field="state",
        )


@transaction.atomic
def acknowledge(actor: User, alert: Any) -> Alert:
    """Someone has seen it and takes it on: escalation stops."""
    require_perm(actor, DevicePerm.ALERT_HANDLE)
    found = _alert(actor, alert)
    _in_state(found, AlertState.OPEN)
    found.state = AlertState.ACKNOWLEDGED
    found.acknowledged_at = timezone.now()
    found.acknowledged_by = actor
    escalation.stop(found)
    found.save(update_fields=["state", "acknowledged_at", "acknowledged_by", "next_escalation_at"])
    escalation.log(found, EventKind.ACKNOWLEDGED, actor)
    record(actor=actor, action="devices.alert.acknowledge", obj=found)
    return found


@transaction.atomic
def handle(actor: User, alert: Any, *, outcome: str, note: str = "") -> Alert:
    """Record what was done (an open alert is acknowledged on the way)."""
    require_perm(actor, DevicePerm.ALERT_HANDLE)
    found = _alert(actor, alert)
    _in_state(found, AlertState.OPEN, AlertState.ACKNOWLEDGED)
    if outcome not in Outcome.values:
        raise ValidationFailed(
            CommonError.INVALID_CHOICE,
            _("Outcome must be one of: %(c)s") % {"c": ", ".join(Outcome.values)},
            field="outcome",
        )
    now = timezone.now()
    if found.state == AlertState.OPEN:
        found.acknowledged_at, found.acknowledged_by = now, actor
        escalation.log(found, EventKind.ACKNOWLEDGED, actor)
    found.state = AlertState.HANDLED
    found.handled_at, found.handled_by = now, actor
    found.outcome = outcome
    found.note = (note or "").strip()
    escalation.stop(found)
    found.save()
    escalation.log(found, EventKind.HANDLED, actor, found.outcome)  # shown as its label
    record(actor=actor, action="devices.alert.handle", obj=found, details={"outcome": outcome})
    return found


@transaction.atomic
def close(actor: User, alert: Any) -> Alert:
    require_perm(actor, DevicePerm.ALERT_HANDLE)
    found = _alert(actor, alert)
    _in_state(found, AlertState.HANDLED)
    found.state = AlertState.CLOSED
    found.closed_at, found.closed_by = timezone.now(), actor
    found.save(update_fields=["state", "closed_at", "closed_by"])
    escalation.log(found, EventKind.CLOSED, actor)
    record(actor=actor, action="devices.alert.close", obj=found)
    return found
