"""Escalation until someone acknowledges (ADR 0020).

Each severity has a schedule as data (``EscalationStep``: tier, minutes after the alert
opened). Tier 1 is the station staff — the users of the alert's responsible team (their
staff record is a member of it, or their data scope is that team); tier 2 the duty
doctor(s) of the team's care-service center (``DutyShift`` at the center's medical
member; its doctors when nobody is on duty) plus the resident's family proxies with the
right to see alerts; tier 3 the dispatchers whose data scope holds the resident. The
duty roster itself is the network app's (``network.services.duty``, the ``duty_*``
selectors); this module asks it who is on duty.

The due time of the next tier is stored on the alert (``next_escalation_at``), so timers
survive any restart: ``advance`` notifies every tier whose time has come (each tier once:
``escalation_level`` is the highest notified), then stores the next due time or None.
A tier with nobody to notify makes the next one due at once. Acknowledging (or handling)
clears the due time: escalation stops.

Notifications go through the outbox (``yiyang.notifications.services.notify``: rows
written in the caller's transaction, delivered after commit); every step is an
``AlertEvent`` and is audited with no actor (the system).
"""

from __future__ import annotations

import datetime
import importlib.util
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.common.permissions import Role, perms_for, require_perm
from yiyang.common.scope import scope_of
from yiyang.devices import summaries
from yiyang.devices.models import (
    Alert,
    AlertEvent,
    AlertState,
    EscalationStep,
    EventKind,
    Severity,
    Tier,
)
from yiyang.devices.permissions import DevicePerm
from yiyang.network.selectors.duty import center_institutions, duty_doctors

TOPIC = "devices.alert"
# Roles that may act on an alert: only they are notified as staff (tiers 1–3).
HANDLER_ROLES = [role for role in Role.values if DevicePerm.ALERT_HANDLE in perms_for(role)]


def register_topic() -> bool:
    """Register the outbox topic of alerts (called from ``devices.plugin``); False when
    the notifications app is not there."""
    if importlib.util.find_spec("yiyang.notifications.topics") is None:
        return False
    from yiyang.notifications import topics

    # The parameters carry the rule, severity and summary in both languages: the Chinese
    # catalogue translates these msgids with %(severity_zh)s, %(rule_zh)s, %(summary_zh)s.
    topics.register(
        TOPIC,
        subject=gettext_lazy("%(severity_en)s: %(rule_en)s — %(resident)s"),
        body=gettext_lazy("%(summary_en)s"),
    )
    return True


# --- the schedule -----------------------------------------------------------------------


def schedule() -> dict[str, list[tuple[int, Decimal]]]:
    """Severity → [(tier, minutes after opening)] in tier order (one query)."""
    out: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    for severity, tier, after in EscalationStep.objects.order_by("severity", "tier").values_list(
        "severity", "tier", "after_minutes"
    ):
        out[severity].append((tier, after))
    return dict(out)


def check_schedule(steps: Any) -> dict[int, Decimal]:
    """Validate a severity's schedule ``{tier: minutes}``: tiers 1–3, minutes 0 or more
    (fractions allowed), later tiers not earlier than earlier ones. ``ValidationFailed``."""
    if not isinstance(steps, dict) or not steps:
        raise ValidationFailed(
            CommonError.INVALID, _("The schedule must map tiers to minutes."), field="steps"
        )
    out: dict[int, Decimal] = {}
    for tier, minutes in steps.items():
        try:
            number = int(tier)
        except (TypeError, ValueError):
            number = 0
        if number not in Tier.values:
            raise ValidationFailed(
                CommonError.INVALID,
                _("Tier must be 1, 2 or 3, not %(t)s.") % {"t": tier},
                field="steps",
            )
        if isinstance(minutes, bool) or not isinstance(minutes, int | float | str | Decimal):
            raise ValidationFailed(
                CommonError.INVALID,
                _("Tier %(t)s: minutes must be a number.") % {"t": tier},
                field="steps",
            )
        try:
            value = Decimal(str(minutes))
        except ArithmeticError:
            value = Decimal(-1)
        if not value.is_finite() or value < 0 or value >= Decimal("1000000"):
            raise ValidationFailed(
                CommonError.INVALID,
                _("Tier %(t)s: minutes must be 0 or more (below a million).") % {"t": tier},
                field="steps",
            )
        if value != value.quantize(Decimal("0.01")):
            raise ValidationFailed(
                CommonError.INVALID,
                _("Tier %(t)s: minutes have at most two decimals.") % {"t": tier},
                field="steps",
            )
        out[number] = value
    ordered = [out[t] for t in sorted(out)]
    if ordered != sorted(ordered):
        raise ValidationFailed(
            CommonError.INVALID,
            _("A later tier cannot be due before an earlier one."),
            field="steps",
        )
    return dict(sorted(out.items()))


@transaction.atomic
def set_schedule(actor: User, severity: str, steps: Any) -> list[EscalationStep]:
    """Replace ``severity``'s schedule (local policy; ``DevicePerm.ALERT_POLICY``, audited).
    Alerts already open keep the due time they have; the next step uses the new one."""
    require_perm(actor, DevicePerm.ALERT_POLICY)
    if severity not in Severity.values:
        raise ValidationFailed(
            CommonError.INVALID_CHOICE,
            _("Severity must be one of: %(c)s") % {"c": ", ".join(Severity.values)},
            field="severity",
        )
    clean = check_schedule(steps)
    before = {str(t): str(m) for t, m in schedule().get(severity, [])}
    EscalationStep.objects.filter(severity=severity).delete()
    rows = EscalationStep.objects.bulk_create(
        [EscalationStep(severity=severity, tier=t, after_minutes=m) for t, m in clean.items()]
    )
    record(
        actor=actor,
        action="devices.escalation.set",
        object_type="devices.escalationstep",
        object_id=severity,
        object_repr=severity,
        details={"before": before, "after": {str(t): str(m) for t, m in clean.items()}},
    )
    return rows


# --- who is notified --------------------------------------------------------------------


def _station(alerts: Sequence[Alert]) -> dict[int, set[int]]:
    """Alert id → user ids of its team (tier 1)."""
    team_ids = {a.team_id for a in alerts if a.team_id}
    by_team: dict[int, set[int]] = defaultdict(set)
    if team_ids:
        users = User.objects.filter(is_active=True, role__in=HANDLER_ROLES)
        for team_id, user_id in users.filter(
            staff__active=True, staff__team_memberships__team_id__in=team_ids
        ).values_list("staff__team_memberships__team_id", "pk"):
            by_team[team_id].add(user_id)
        for team_id, user_id in users.filter(
            scope_kind="team", scope_team_id__in=team_ids
        ).values_list("scope_team_id", "pk"):
            by_team[team_id].add(user_id)
    return {a.pk: set(by_team.get(a.team_id or 0, ())) for a in alerts}


def family(resident_ids: Iterable[int]) -> dict[int, set[int]]:
    """Resident → the family logins with an active proxy grant that may see alerts."""
    from yiyang.residents.models import ConsentPurpose, ProxyGrant, active_consent

    out: dict[int, set[int]] = defaultdict(set)
    for resident_id, user_id in ProxyGrant.objects.filter(
        active_consent("consent__"),
        active_consent("resident__consents__"),
        resident_id__in=set(resident_ids),
        can_view_alerts=True,
        user__is_active=True,
        resident__consents__purpose=ConsentPurpose.FAMILY_SHARING,
    ).values_list("resident_id", "user_id"):
        out[resident_id].add(user_id)
    return out


def _center(alerts: Sequence[Alert], now: datetime.datetime) -> dict[int, set[int]]:
    """Alert id → the center's duty doctors and the family (tier 2)."""
    centers = center_institutions(a.team_id for a in alerts if a.team_id)
    doctors = duty_doctors(set(centers.values()), now)
    kin = family(a.resident_id for a in alerts)
    out: dict[int, set[int]] = {}
    for a in alerts:
        inst = centers.get(a.team_id or 0)
        out[a.pk] = set(doctors.get(inst, ())) if inst else set()
        out[a.pk] |= kin.get(a.resident_id, set())
    return out


def _dispatchers(alerts: Sequence[Alert]) -> dict[int, set[int]]:
    """Alert id → the dispatchers whose data scope holds its resident (tier 3): one query
    per dispatcher account (a county has a handful)."""
    from yiyang.residents.models import Resident
    from yiyang.residents.selectors.registry import resident_q

    resident_ids = {a.resident_id for a in alerts}
    holds: dict[int, set[int]] = defaultdict(set)
    for user in User.objects.filter(is_active=True, role=Role.DISPATCHER).select_related(
        "scope_region"
    ):
        q = resident_q(scope_of(user))
        qs = Resident.objects.filter(pk__in=resident_ids)
        for rid in (qs if q is None else qs.filter(q)).values_list("pk", flat=True):
            holds[rid].add(user.pk)
    return {a.pk: set(holds.get(a.resident_id, ())) for a in alerts}


def recipients(alerts: Sequence[Alert], tier: int, now: datetime.datetime) -> dict[int, set[int]]:
    """Alert id → the user ids to notify at ``tier``."""
    if not alerts:
        return {}
    if tier == Tier.STATION:
        return _station(alerts)
    if tier == Tier.CENTER:
        return _center(alerts, now)
    if tier == Tier.DISPATCHER:
        return _dispatchers(alerts)
    raise ValueError(f"unknown tier {tier!r}")


# --- notifying --------------------------------------------------------------------------


SEVERITY_NAMES = {
    "critical": ("危急", "Critical"),
    "urgent": ("紧急", "Urgent"),
    "warning": ("警告", "Warning"),
    "info": ("提示", "Information"),
}


def params_of(alert: Alert, resident_name: str, tier: int) -> dict[str, Any]:
    """The outbox parameters (plain JSON; rendered in the reader's language)."""
    zh, en = SEVERITY_NAMES.get(alert.severity, (alert.severity, alert.severity))
    return {
        "alert": alert.pk,
        "severity": alert.severity,
        "severity_zh": zh,
        "severity_en": en,
        "rule": alert.rule.name_zh,
        "rule_zh": alert.rule.name_zh,
        "rule_en": alert.rule.name_en,
        "rule_code": alert.rule.code,
        "resident": resident_name,
        "resident_id": alert.resident_id,
        "summary": alert.summary,
        "summary_zh": summaries.render_in(alert.facts, "zh-hans") or alert.summary,
        "summary_en": summaries.render_in(alert.facts, "en") or alert.summary,
        "tier": tier,
    }


def _notify(alert: Alert, users: list[User], resident_name: str, tier: int) -> None:
    if not users:
        return
    from yiyang.notifications import services

    # Everyone opens the alert: staff to act, a family member with the right to see alerts
    # read-only (who acknowledged it, what was done).
    params = params_of(alert, resident_name, tier)
    ref = f"devices.alert:{alert.pk}"
    link = reverse("devices:alert_detail", args=[alert.pk])
    services.notify(list(users), topic=TOPIC, params=params, link=link, ref=ref)


def _due(alert: Alert, after: Decimal) -> datetime.datetime:
    return alert.opened_at + datetime.timedelta(minutes=float(after))


def advance(
    alerts: Sequence[Alert],
    now: datetime.datetime | None = None,
    *,
    audit: str = "each",
    plan: dict[str, list[tuple[int, Decimal]]] | None = None,
) -> list[AlertEvent]:
    """Notify each open alert's tiers whose time has come (each once), then store the next
    due time (or None). Call inside a transaction holding the alerts' rows. ``audit``:
    ``"each"`` one audit row per alert notified, ``"batch"`` one for the call (ingestion).
    Returns the ``notified`` events written."""
    from yiyang.residents.models import Resident

    now = now or timezone.now()
    plan = schedule() if plan is None else plan
    live = [a for a in alerts if a.state == AlertState.OPEN]
    if not live:
        return []
    names = dict(
        Resident.objects.filter(pk__in={a.resident_id for a in live}).values_list("pk", "name")
    )
    hurry: set[int] = set()  # alerts whose last tier had nobody: the next is due at once
    events: list[AlertEvent] = []
    users_by_id: dict[int, User] = {}
    for tier in Tier.values:
        due = []
        for a in live:
            steps = dict(plan.get(a.severity, []))
            if (
                tier in steps
                and tier > a.escalation_level
                and (a.pk in hurry or _due(a, steps[tier]) <= now)
            ):
                due.append(a)
        if not due:
            continue
        found = recipients(due, tier, now)
        wanted = set().union(*found.values()) - set(users_by_id)
        if wanted:
            users_by_id.update({u.pk: u for u in User.objects.filter(pk__in=wanted)})
        for a in due:
            ids = sorted(found.get(a.pk, ()))
            users = [users_by_id[i] for i in ids]
            _notify(a, users, names.get(a.resident_id, ""), tier)
            a.escalation_level = tier
            a.escalated_at = now
            if ids:
                hurry.discard(a.pk)
                detail = ", ".join(str(u) for u in users)[:500]
            else:
                hurry.add(a.pk)
                detail = _("nobody to notify at this tier: the next tier is due now")
            events.append(
                AlertEvent(
                    alert=a,
                    at=now,
                    kind=EventKind.NOTIFIED,
                    tier=tier,
                    detail=detail,
                    recipients=ids,
                )  # fmt: skip
            )
    for a in live:
        later = [(t, m) for t, m in plan.get(a.severity, []) if t > a.escalation_level]
        if not later:
            a.next_escalation_at = None
        else:
            a.next_escalation_at = now if a.pk in hurry else max(_due(a, later[0][1]), now)
    Alert.objects.bulk_update(live, ["escalation_level", "next_escalation_at", "escalated_at"])
    AlertEvent.objects.bulk_create(events)
    if events:
        _audit(events, audit)
    return events


def _audit(events: list[AlertEvent], mode: str) -> None:
    if mode == "batch":
        record(
            actor=None,
            action="devices.alert.escalate",
            object_type="devices.alert",
            object_id=events[0].alert.pk,
            object_repr=f"{len({e.alert.pk for e in events})} alert(s)",
            details={
                "steps": [
                    {"alert": e.alert.pk, "tier": e.tier, "users": e.recipients} for e in events
                ]  # fmt: skip
            },
        )
        return
    for e in events:
        record(
            actor=None,
            action="devices.alert.escalate",
            obj=e.alert,
            details={"tier": e.tier, "users": e.recipients},
        )


def start(opened: Sequence[Alert], now: datetime.datetime) -> list[AlertEvent]:
    """For alerts just opened (saved): log ``opened`` and make the first tier due now. The
    alert timers (``timers.run_due``, every second) notify it, after this transaction has
    committed: the ingestion transaction (thousands of readings a second) stays free of
    the recipients' queries — the benchmark measured them at a quarter of its time — and
    a notification is never sent for an alert that was rolled back. Two queries."""
    if not opened:
        return []
    events = AlertEvent.objects.bulk_create(
        [
            AlertEvent(alert=a, at=a.opened_at, kind=EventKind.OPENED, detail=a.summary[:500])
            for a in opened
        ]
    )
    Alert.objects.filter(pk__in=[a.pk for a in opened]).update(next_escalation_at=now)
    for a in opened:
        a.next_escalation_at = now
    return events


def stop(alert: Alert) -> None:
    """Escalation stops (acknowledged or handled): nothing more is due."""
    alert.next_escalation_at = None


def log(alert: Alert, kind: str, actor: User, detail: str = "") -> AlertEvent:
    return AlertEvent.objects.create(
        alert=alert, at=timezone.now(), kind=kind, actor=actor, detail=detail[:500]
    )
