"""Alerts: rules as data evaluated against new readings, folding into the live alert, and
the alert's state machine (ADR 0019).

``evaluate(readings)`` runs inside the ingestion transaction (``ingest.process``): for each
new reading, each active rule — or the resident's own version of it (``ResidentRule``) —
whose event matches its kind or any of whose conditions holds on its values; a hit opens
an ``Alert`` for (resident, rule) with the rule's severity and the resident's responsible
team (the team serving her grid), or folds into the live (open or acknowledged) one of the
same rule: ``count`` + 1, the reading linked. A unique constraint keeps one live alert
per resident and rule.

Window rules (``window_minutes`` > 0; NEWS2, ``news2.*`` metrics, yiyang.devices.news2)
score the latest vitals of the window before the resident's newest reading. New alerts
start escalating (``escalation.start``: logged, their first tier due at once — the alert
timers notify it within a second, through the outbox); new SOS and fall alerts open
emergency calls (ADR 0020).

State machine: open → acknowledged → handled (with an outcome) → closed; acknowledging is
what stops escalation (``next_escalation_at`` cleared). Each transition checks
``Perm.ALERT_HANDLE`` and the resident in the actor's scope, is audited, and is an
``AlertEvent``.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.roles import Perm
from yiyang.audit.services import record
from yiyang.common.errors import NotFound, ValidationFailed
from yiyang.devices import escalation, news2
from yiyang.devices.models import (
    Alert,
    AlertRule,
    AlertState,
    EventKind,
    Outcome,
    Reading,
    ResidentRule,
)
from yiyang.network.models import Grid
from yiyang.network.selectors import require_perm
from yiyang.residents.models import Resident
from yiyang.residents.selectors import scoped_residents

logger = logging.getLogger(__name__)

LIVE = (AlertState.OPEN, AlertState.ACKNOWLEDGED)
READING_EVENTS = ("sos", "fall")  # event rules fired by a reading kind
OPS = {
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
}
METRICS = {"bp.sys", "bp.dia", "hr", "glucose.mmol", "spo2.spo2", "temp.c", "weight.kg",
           "battery.pct", "news2.total", "news2.max"}  # fmt: skip


def metrics_of(reading: Reading) -> dict[str, Decimal]:
    """The values a rule can test, by metric name (any heart rate is ``hr``)."""
    out: dict[str, Decimal] = {}
    for key, value in (reading.values or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        name = "hr" if key == "hr" else f"{reading.kind}.{key}"
        out[name] = Decimal(str(value))
    return out


def check_conditions(conditions: Any) -> list[dict[str, Any]]:
    """Validate a conditions list (for rule edits and overrides); ``ValidationFailed``."""
    if not isinstance(conditions, list):
        raise ValidationFailed("invalid", _("Conditions must be a list."), field="conditions")
    for i, c in enumerate(conditions):
        if (
            not isinstance(c, dict)
            or set(c) != {"metric", "op", "value"}
            or c["metric"] not in METRICS
            or c["op"] not in OPS
            or isinstance(c["value"], bool)
            or not isinstance(c["value"], int | float)
        ):
            raise ValidationFailed(
                "invalid",
                _("Condition %(n)s must be {metric, op, value} with a known metric and op.")
                % {"n": i + 1},
                field="conditions",
            )
    return conditions


Compiled = tuple[tuple[str, Callable[[Decimal, Decimal], bool], Decimal], ...]


def compile_conditions(conditions: list[dict[str, Any]]) -> Compiled:
    """(metric, comparison, threshold) of each condition, thresholds as exact decimals."""
    return tuple((c["metric"], OPS[c["op"]], Decimal(str(c["value"]))) for c in conditions)


def holds(compiled: Compiled, values: dict[str, Decimal]) -> bool:
    """Whether ANY of the compiled conditions holds on the metrics ``values``."""
    for metric, op, threshold in compiled:
        value = values.get(metric)
        if value is not None and op(value, threshold):
            return True
    return False


def matches(rule: AlertRule, conditions: list[dict[str, Any]], reading: Reading) -> bool:
    if rule.event:
        return reading.kind == rule.event
    return holds(compile_conditions(conditions), metrics_of(reading))


def summary_of(reading: Reading) -> str:
    v = reading.values or {}
    if reading.kind == "bp":
        hr = f", HR {v['hr']:g}/min" if "hr" in v else ""
        return f"BP {v['sys']:g}/{v['dia']:g} mmHg{hr}"
    if reading.kind == "glucose":
        return f"Glucose {v['mmol']:g} mmol/L ({v.get('context', '')})"
    if reading.kind == "spo2":
        hr = f", HR {v['hr']:g}/min" if "hr" in v else ""
        return f"SpO2 {v['spo2']:g}%{hr}"
    if reading.kind == "temp":
        return f"T {v['c']:g} °C"
    if reading.kind == "hr":
        return f"HR {v['hr']:g}/min"
    if reading.kind == "weight":
        return f"Weight {v['kg']:g} kg"
    if reading.kind == "battery":
        return f"Battery {v['pct']}%"
    return {"sos": "SOS pressed", "fall": "Fall detected"}.get(reading.kind, reading.kind)


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


def _scores(reading: Reading) -> bool:
    """Whether any NEWS2 parameter of the reading scores points."""
    for key, parameter in news2.FROM_READING[reading.kind].items():
        value = (reading.values or {}).get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if news2.points(parameter, value) > 0:
            return True
    return False


def _window_hits(
    rules: list[AlertRule],
    overrides: dict[tuple[int, int], ResidentRule],
    readings: Sequence[Reading],
) -> dict[tuple[int, int], tuple[list[Reading], str]]:
    """Window rules (NEWS2): for each resident with a new vital-sign reading, score the
    latest reading of each vital kind measured at most the rule's window before her
    newest reading of the batch (later ones included: an out-of-order reading is still the
    latest). Two queries for the batch, each a few index lookups per resident — never the
    whole window (a device may send thousands of readings an hour)."""
    vitals = [r for r in readings if r.kind in news2.KINDS]
    # A reading whose parameters all score 0 cannot raise a NEWS2 sum (nor its highest
    # part): it replaces a value scoring ≥ 0 and moves the window forward. So only the
    # residents with a new reading that scores are re-scored — at thousands of readings a
    # second, mostly normal, this spares the window queries for nearly all of them. (It
    # also means a normal reading does not fold into a live NEWS2 alert as a new trigger;
    # and a normal reading that merely brings the second parameter to a lone abnormal one
    # is scored with the next abnormal reading, not at once — ADR 0020.)
    scoring = {r.resident_id for r in vitals if _scores(r)}
    vitals = [r for r in vitals if r.resident_id in scoring]
    if not rules or not vitals:
        return {}
    anchors: dict[int, Any] = {}
    for r in vitals:
        if r.resident_id not in anchors or r.measured_at > anchors[r.resident_id]:
            anchors[r.resident_id] = r.measured_at
    widest = datetime.timedelta(minutes=max(rule.window_minutes for rule in rules))
    since_all = min(anchors.values()) - widest

    def latest_of(kind: str) -> Subquery:
        return Subquery(
            Reading.objects.filter(
                resident_id=OuterRef("pk"), kind=kind, measured_at__gte=since_all
            )
            .order_by("-measured_at", "-id")
            .values("pk")[:1]
        )

    from yiyang.residents.models import Resident

    ids: set[int] = set()
    for row in (
        Resident.objects.filter(pk__in=anchors)
        .annotate(**{f"latest_{kind}": latest_of(kind) for kind in news2.KINDS})
        .values_list(*[f"latest_{kind}" for kind in news2.KINDS])
    ):
        ids.update(pk for pk in row if pk is not None)
    by_resident: dict[int, list[Reading]] = {}
    for r in (
        Reading.objects.filter(pk__in=ids)
        .order_by("-measured_at", "-id")
        .only("pk", "resident_id", "kind", "values", "measured_at")
    ):
        by_resident.setdefault(r.resident_id, []).append(r)
    out: dict[tuple[int, int], tuple[list[Reading], str]] = {}
    for resident_id, anchor in anchors.items():
        for rule in rules:
            own = overrides.get((resident_id, rule.pk))
            if own is not None and own.disabled:
                continue
            conditions = own.conditions if own is not None and own.conditions else rule.conditions
            since = anchor - datetime.timedelta(minutes=rule.window_minutes)
            latest: dict[str, Any] = {}
            used: dict[str, Reading] = {}
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
                out[(resident_id, rule.pk)] = (found, scored.describe())
    return out


def evaluate(readings: Sequence[Reading]) -> list[Alert]:
    """Open or fold alerts for ``readings`` (saved, with ids). Call inside the ingestion
    transaction. New alerts start escalating (tier 1 notified through the outbox) and an
    SOS or fall opens an emergency call. Returns the alerts opened (not the folded ones).
    A constant number of queries per batch."""
    if not readings:
        return []
    now = timezone.now()
    rules = list(AlertRule.objects.filter(active=True))
    if not rules:
        return []
    per_reading = [
        r for r in rules if not r.window_minutes and (not r.event or r.event in READING_EVENTS)
    ]
    windowed = [r for r in rules if r.window_minutes and not r.event]
    resident_ids = {r.resident_id for r in readings}
    overrides = {
        (o.resident_id, o.rule_id): o
        for o in ResidentRule.objects.filter(resident_id__in=resident_ids)
    }
    hits: dict[tuple[int, int], list[Reading]] = {}
    summaries: dict[tuple[int, int], str] = {}
    counts: dict[tuple[int, int], int] = {}
    by_id = {rule.pk: rule for rule in rules}
    # Thresholds parsed once per batch and each reading's metrics once (this loop runs for
    # every reading at thousands a second): the rules' own conditions, and the residents'.
    compiled = {rule.pk: compile_conditions(rule.conditions) for rule in per_reading}
    own_compiled = {
        key: compile_conditions(o.conditions) for key, o in overrides.items() if o.conditions
    }
    for reading in readings:
        values: dict[str, Decimal] | None = None
        for rule in per_reading:
            key = (reading.resident_id, rule.pk)
            own = overrides.get(key) if overrides else None
            if own is not None and own.disabled:
                continue
            if rule.event:
                hit = reading.kind == rule.event
            else:
                if values is None:
                    values = metrics_of(reading)
                hit = holds(own_compiled.get(key) or compiled[rule.pk], values)
            if hit:
                hits.setdefault(key, []).append(reading)
    for key, found in hits.items():
        summaries[key] = summary_of(found[-1])[:255]
        counts[key] = len(found)
    for key, (found, text) in _window_hits(windowed, overrides, readings).items():
        hits[key], summaries[key], counts[key] = found, text[:255], 1
    if not hits:
        return []
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
    opened: list[Alert] = []
    folded: list[Alert] = []
    links: list[tuple[Alert, Reading]] = []
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
                summary=summaries[key],
                count=counts[key],
                opened_at=now,
                last_triggered_at=now,
            )
            opened.append(alert)
        else:
            alert.count += counts[key]
            alert.last_triggered_at = now
            alert.summary = summaries[key]
            folded.append(alert)
        links.extend((alert, reading) for reading in found)
    Alert.objects.bulk_create(opened)
    Alert.objects.bulk_update(folded, ["count", "last_triggered_at", "summary"])
    through = Alert.readings.through
    through.objects.bulk_create(
        [through(alert_id=a.pk, reading_id=r.pk) for a, r in links], ignore_conflicts=True
    )
    escalation.start(opened, now)
    open_emergency([a for a in opened if a.rule.event in READING_EVENTS])
    return opened


def open_emergency(opened: Sequence[Alert]) -> None:
    """Open emergency calls for new SOS and fall alerts (``yiyang.emergency.services.
    open_from_alerts``), in a savepoint: should that fail, the alert and its reading are
    still stored and escalate — the failure is logged, never a lost SOS."""
    if not opened:
        return
    from yiyang.emergency.services import open_from_alerts  # emergency imports this module

    try:
        with transaction.atomic():
            open_from_alerts(list(opened))
    except Exception:
        logger.exception("opening emergency calls for alerts %s failed", [a.pk for a in opened])


# --- the state machine ------------------------------------------------------------------


def _alert(actor: Any, alert: Any) -> Alert:
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
            "wrong_state",
            _("This alert is %(state)s.") % {"state": alert.get_state_display()},
            field="state",
        )


@transaction.atomic
def acknowledge(actor: Any, alert: Any) -> Alert:
    """Someone has seen it and takes it on: escalation stops."""
    require_perm(actor, Perm.ALERT_HANDLE)
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
def handle(actor: Any, alert: Any, *, outcome: str, note: str = "") -> Alert:
    """Record what was done (an open alert is acknowledged on the way)."""
    require_perm(actor, Perm.ALERT_HANDLE)
    found = _alert(actor, alert)
    _in_state(found, AlertState.OPEN, AlertState.ACKNOWLEDGED)
    if outcome not in Outcome.values:
        raise ValidationFailed(
            "invalid_choice",
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
    escalation.log(found, EventKind.HANDLED, actor, found.get_outcome_display())
    record(actor=actor, action="devices.alert.handle", obj=found, details={"outcome": outcome})
    return found


@transaction.atomic
def close(actor: Any, alert: Any) -> Alert:
    require_perm(actor, Perm.ALERT_HANDLE)
    found = _alert(actor, alert)
    _in_state(found, AlertState.HANDLED)
    found.state = AlertState.CLOSED
    found.closed_at, found.closed_by = timezone.now(), actor
    found.save(update_fields=["state", "closed_at", "closed_by"])
    escalation.log(found, EventKind.CLOSED, actor)
    record(actor=actor, action="devices.alert.close", obj=found)
    return found
