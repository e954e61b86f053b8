"""Emergency-call actions (ADR 0022). Every function is one complete action: it checks
``EmergencyPerm.CALL`` and the call's (and resident's) scope, validates its input
(``ValidationFailed`` naming the field and saying why, nothing changed), runs in one
transaction and writes its audit row in it. A closed call is read-only.

* ``open_from_alerts(alerts)`` — the alert engine's hook (no actor): one open call per
  new SOS or fall alert, in a constant number of queries, skipping alerts that already
  have a call.
* ``log_call`` — a dispatcher logs an incoming phone call (she has taken it);
  ``lookup_phone`` finds the residents in scope the number belongs to.
* ``call_for_alert`` — the call of an alert, opened for it when it has none.
* ``take``, ``identify``, ``add_step``, ``close`` — the dispatcher's work on a call. The
  first of these on a call nobody has taken takes it; taking a call linked to an open
  alert acknowledges that alert (escalation stops). Closing needs an outcome and at least
  one step, and handles and closes the linked alert with the matching alert outcome.

The caller's phone never appears in an audit row unmasked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common import crypto
from yiyang.common.errors import CommonError, NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.validation import clean_text
from yiyang.devices.models import Alert, AlertRule, AlertState
from yiyang.devices.models import Outcome as AlertOutcome
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.services import alerts as alert_actions
from yiyang.emergency.errors import EmergencyError
from yiyang.emergency.models import (
    CallOutcome,
    CallSource,
    CallState,
    CallStep,
    EmergencyCall,
    StepKind,
)
from yiyang.emergency.permissions import EmergencyPerm
from yiyang.emergency.selectors import call_q
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import Contact, ProxyGrant, Resident, ResidentStatus, active_consent
from yiyang.residents.selectors.registry import scoped_residents
from yiyang.residents.services.registry import normalise_phone

# Alert events that open a call by themselves (the rules' ``event``).
CALL_EVENTS = frozenset({"sos", "fall"})
LIVE_ALERT = (AlertState.OPEN, AlertState.ACKNOWLEDGED)
NOTE_MAX = 2000

# The alert's outcome for a call's outcome; ``died`` and ``other`` are derived from the
# steps taken (``alert_outcome``).
ALERT_OUTCOME: dict[str, str] = {
    CallOutcome.FALSE_ALARM: AlertOutcome.FALSE_ALARM,
    CallOutcome.RESOLVED_BY_PHONE: AlertOutcome.PHONED_FINE,
    CallOutcome.TEAM_VISIT: AlertOutcome.HOME_VISIT,
    CallOutcome.AMBULANCE_120: AlertOutcome.EMERGENCY,
    CallOutcome.HOSPITAL_TRANSFER: AlertOutcome.REFERRED,
    CallOutcome.DIED: AlertOutcome.EMERGENCY,
}


def alert_outcome(outcome: str, step_kinds: Iterable[str]) -> str:
    """The alert outcome recorded when a call with ``outcome`` closes its alert. For
    ``other``: 120 called → emergency services, a team sent → home visit, else phoned."""
    if outcome in ALERT_OUTCOME:
        return ALERT_OUTCOME[outcome]
    kinds = set(step_kinds)
    if StepKind.AMBULANCE_120_CALLED in kinds:
        return AlertOutcome.EMERGENCY
    if StepKind.TEAM_SENT in kinds:
        return AlertOutcome.HOME_VISIT
    return AlertOutcome.PHONED_FINE


# --- helpers ----------------------------------------------------------------------------


def _locked(actor: User, call: Any) -> EmergencyCall:
    """For a write: the call in scope, locked for the rest of the transaction."""
    require_perm(actor, EmergencyPerm.CALL)
    pk = call.pk if isinstance(call, EmergencyCall) else call
    if pk is None or isinstance(pk, bool):
        raise NotFound("call")
    qs = EmergencyCall.objects.select_for_update()
    q = call_q(actor)
    if q is not None:
        qs = qs.filter(q)
    try:
        return qs.get(pk=pk)
    except (EmergencyCall.DoesNotExist, ValueError, TypeError):
        raise NotFound("call") from None


def _require_open(call: EmergencyCall) -> None:
    if call.state != CallState.OPEN:
        raise ValidationFailed(
            EmergencyError.CLOSED,
            _("Call #%(n)s is closed: a closed call can no longer be changed.") % {"n": call.pk},
            field="state",
        )


def _caller_phone(value: Any, *, name: str = "caller_phone") -> str:
    try:
        phone = normalise_phone(value)
    except ValidationFailed as error:
        raise ValidationFailed(error.code, error.detail, field=name) from None
    if not phone:
        raise ValidationFailed(
            CommonError.REQUIRED, _("Give the caller's phone number."), field=name
        )
    return phone


def _resident_in_scope(actor: User, value: Any) -> Resident:
    """A referenced resident: in scope and not merged, locked; else ``ValidationFailed``
    (``unknown_reference`` for a missing or out-of-scope one, like other references)."""
    pk = value.pk if isinstance(value, Resident) else value
    if pk in (None, "") or isinstance(pk, bool):
        raise ValidationFailed(CommonError.REQUIRED, _("Choose the resident."), field="resident")
    try:
        found = scoped_residents(actor).select_for_update(no_key=True).get(pk=pk)
    except (Resident.DoesNotExist, ValueError, TypeError):
        raise ValidationFailed(
            CommonError.UNKNOWN_REFERENCE,
            _("Resident: id %(value)s does not exist in your data scope.") % {"value": pk},
            field="resident",
        ) from None
    if found.status == ResidentStatus.MERGED:
        raise ValidationFailed(
            ResidentError.MERGED,
            _("%(name)s's record was merged into another one: choose the record kept.")
            % {"name": found.name},
            field="resident",
        )
    return found


def _acknowledge_alert(actor: User, call: EmergencyCall) -> bool:
    """Acknowledge the call's alert if it is still open (so its escalation stops)."""
    if call.alert_id is None or not actor.has_perm_code(DevicePerm.ALERT_HANDLE):
        return False
    state = Alert.objects.filter(pk=call.alert_id).values_list("state", flat=True).first()
    if state != AlertState.OPEN:
        return False
    alert_actions.acknowledge(actor, call.alert_id)
    return True


def _claim(actor: User, call: EmergencyCall, now: Any) -> list[str]:
    """Take a call nobody has taken yet (the first to act on it holds it)."""
    if call.taken_by_id is not None:
        return []
    call.taken_by, call.taken_at = actor, now
    _acknowledge_alert(actor, call)
    return ["taken_by", "taken_at"]


# --- the alert engine's hook ------------------------------------------------------------


def _events(alerts: list[Alert]) -> dict[int, str]:
    """Rule id → event of the alerts' rules (no query when the rules are loaded)."""
    if all(Alert.rule.is_cached(a) for a in alerts):  # type: ignore[attr-defined]
        return {a.rule_id: a.rule.event for a in alerts}
    ids = {a.rule_id for a in alerts}
    return dict(AlertRule.objects.filter(pk__in=ids).values_list("pk", "event"))


def open_from_alerts(alerts: Iterable[Alert]) -> list[EmergencyCall]:
    """Open one call (source ``sos_device``, nobody's yet) for each live SOS or fall
    alert among ``alerts`` that has none; others are skipped, so calling it twice for
    the same alerts opens nothing more. Runs inside the caller's transaction (the
    ingestion's) in a constant number of queries; one audit row for the batch. Returns
    the calls opened."""
    given = [a for a in alerts if a.pk is not None and a.state in LIVE_ALERT]
    if not given:
        return []
    events = _events(given)
    wanted = {a.pk: a for a in given if events.get(a.rule_id) in CALL_EVENTS}
    if not wanted:
        return []
    with transaction.atomic():
        have = set(
            EmergencyCall.objects.filter(alert_id__in=list(wanted)).values_list(
                "alert_id", flat=True
            )
        )
        now = timezone.now()
        new = [
            EmergencyCall(
                source=CallSource.SOS_DEVICE,
                resident_id=alert.resident_id,
                alert_id=alert.pk,
                opened_at=alert.opened_at or now,
            )
            for pk, alert in wanted.items()
            if pk not in have
        ]
        if not new:
            return []
        # A concurrent caller may have opened one meanwhile: the unique alert keeps one.
        EmergencyCall.objects.bulk_create(new, ignore_conflicts=True)
        opened = list(
            EmergencyCall.objects.filter(
                alert_id__in=[c.alert_id for c in new], opened_by__isnull=True
            ).order_by("pk")
        )
        if opened:
            record(
                actor=None,
                action="emergency.call.open",
                object_type="emergency.emergencycall",
                object_id=opened[0].pk,
                object_repr=f"{len(opened)} calls" if len(opened) > 1 else str(opened[0]),
                details={
                    "source": CallSource.SOS_DEVICE,
                    "calls": [c.pk for c in opened],
                    "alerts": [c.alert_id for c in opened],
                },
            )
    return opened


# --- phone calls ------------------------------------------------------------------------


@dataclass
class PhoneMatch:
    """A resident the number belongs to, and how (``reasons``, human-readable)."""

    resident: Resident
    reasons: list[str] = field(default_factory=list)
    own: bool = False  # the resident's own phone
    contacts: list[Contact] = field(default_factory=list)


def lookup_phone(actor: User, phone: Any) -> list[PhoneMatch]:
    """The residents in scope whose own phone or a contact's phone (a family proxy's
    login belongs to a contact, so it is found through the contact) is ``phone``
    (normalised), ordered by name. Several matches: the dispatcher chooses. A lookup that
    finds someone is recorded in the audit trail."""
    require_perm(actor, EmergencyPerm.CALL)
    number = _caller_phone(phone, name="phone")
    index = crypto.blind_index(number)
    scoped = scoped_residents(actor).exclude(status=ResidentStatus.MERGED)
    matches: dict[int, PhoneMatch] = {}
    for resident in scoped.filter(phone_index=index).select_related("grid", "region"):
        match = matches.setdefault(resident.pk, PhoneMatch(resident))
        match.own = True
        match.reasons.append(_("resident's own phone"))
    contacts = list(
        Contact.objects.filter(phone_index=index, resident_id__in=scoped.values("pk"))
        .select_related("resident", "resident__grid", "resident__region")
        .order_by("resident_id", "name", "pk")
    )
    with_login = set(
        ProxyGrant.objects.filter(active_consent("consent__"), contact__in=contacts).values_list(
            "contact_id", flat=True
        )
    )
    for contact in contacts:
        match = matches.setdefault(contact.resident_id, PhoneMatch(contact.resident))
        match.contacts.append(contact)
        reason = _("contact: %(relation)s %(name)s") % {
            "relation": contact.get_relation_display(),
            "name": contact.name,
        }
        if contact.pk in with_login:
            reason += " " + _("(family login)")
        match.reasons.append(reason)
    found = sorted(matches.values(), key=lambda m: (m.resident.name, m.resident.pk))
    if found:
        record(
            actor=actor,
            action="emergency.phone.lookup",
            object_type="residents.resident",
            object_id=found[0].resident.pk,
            object_repr=found[0].resident.name,
            details={
                "phone": crypto.mask_phone(number),
                "residents": [m.resident.pk for m in found],
            },
        )
    return found


@transaction.atomic
def log_call(
    actor: User, *, caller_phone: Any, resident: Any = None, note: Any = ""
) -> EmergencyCall:
    """A dispatcher logs an incoming phone call: open, taken by her, for ``resident``
    when known (in scope), with ``note`` as its first step when given."""
    require_perm(actor, EmergencyPerm.CALL)
    phone = _caller_phone(caller_phone)
    text = clean_text(note, "note", _("Note"), NOTE_MAX)
    target = None if resident in (None, "") else _resident_in_scope(actor, resident)
    now = timezone.now()
    call = EmergencyCall(
        source=CallSource.PHONE,
        caller_phone=phone,
        caller_phone_index=crypto.blind_index(phone),
        resident=target,
        opened_at=now,
        opened_by=actor,
        taken_at=now,
        taken_by=actor,
    )
    call.save(force_insert=True)
    if text:
        CallStep.objects.create(call=call, kind=StepKind.NOTE, at=now, by=actor, note=text)
    record(
        actor=actor,
        action="emergency.call.log",
        obj=call,
        details={
            "caller_phone": crypto.mask_phone(phone),
            "resident": target.pk if target else None,
        },
    )
    return call


# --- from an alert ----------------------------------------------------------------------


def call_for_alert(actor: User, alert: Any) -> tuple[EmergencyCall, bool]:
    """The call of ``alert`` (in scope), and whether it was opened now: an alert without
    a call gets one (taken by the actor, the alert acknowledged) while it is live."""
    require_perm(actor, EmergencyPerm.CALL)
    pk = alert.pk if isinstance(alert, Alert) else alert
    if pk is None or isinstance(pk, bool):
        raise NotFound("alert")
    with transaction.atomic():
        try:
            found = (
                Alert.objects.select_for_update(no_key=True)
                .select_related("rule")
                .get(pk=pk, resident_id__in=scoped_residents(actor).values("pk"))
            )
        except (Alert.DoesNotExist, ValueError, TypeError):
            raise NotFound("alert") from None
        existing = EmergencyCall.objects.filter(alert=found).first()
        if existing is not None:
            return existing, False
        if found.state not in LIVE_ALERT:
            raise ValidationFailed(
                EmergencyError.ALERT_NOT_LIVE,
                _("This alert is %(state)s: no call is opened for it any more.")
                % {"state": found.get_state_display()},
                field="alert",
            )
        now = timezone.now()
        call = EmergencyCall(
            source=CallSource.SOS_DEVICE if found.rule.event in CALL_EVENTS else CallSource.ALERT,
            resident_id=found.resident_id,
            alert=found,
            opened_at=now,
            opened_by=actor,
        )
        try:
            with transaction.atomic():
                call.save(force_insert=True)
        except IntegrityError:  # opened meanwhile by someone else
            return EmergencyCall.objects.get(alert=found), False
        _claim(actor, call, now)
        call.save(update_fields=["taken_by", "taken_at"])
        record(actor=actor, action="emergency.call.open", obj=call, details={"alert": found.pk})
    return call, True


# --- working on a call ------------------------------------------------------------------


@transaction.atomic
def take(actor: User, call: Any, *, take_over: bool = False) -> EmergencyCall:
    """The actor takes the call (``take_over`` to take it from whoever holds it); its
    open alert is acknowledged."""
    found = _locked(actor, call)
    _require_open(found)
    if found.taken_by_id == actor.pk:
        raise ValidationFailed(
            EmergencyError.ALREADY_YOURS,
            _("You have already taken call #%(n)s.") % {"n": found.pk},
            field="taken_by",
        )
    previous = found.taken_by
    if previous is not None and not take_over:
        raise ValidationFailed(
            EmergencyError.TAKEN,
            _("Call #%(n)s is taken by %(who)s: take it over to hold it yourself.")
            % {"n": found.pk, "who": previous.get_username()},
            field="taken_by",
        )
    found.taken_by, found.taken_at = actor, timezone.now()
    found.save(update_fields=["taken_by", "taken_at"])
    acknowledged = _acknowledge_alert(actor, found)
    record(
        actor=actor,
        action="emergency.call.take",
        obj=found,
        details={
            "from": previous.get_username() if previous else None,
            "alert_acknowledged": acknowledged,
        },
    )
    return found


@transaction.atomic
def identify(actor: User, call: Any, resident: Any) -> EmergencyCall:
    """Tie the call to ``resident`` (in scope). A call that came with its alert belongs
    to the alert's resident and cannot be moved."""
    found = _locked(actor, call)
    _require_open(found)
    target = _resident_in_scope(actor, resident)
    if found.alert_id is not None:
        raise ValidationFailed(
            EmergencyError.ALERT_RESIDENT,
            _("This call came with an alert of %(name)s: it cannot be moved to another resident.")
            % {"name": found.resident.name if found.resident else "?"},
            field="resident",
        )
    if found.resident_id == target.pk:
        raise ValidationFailed(
            EmergencyError.UNCHANGED,
            _("The call is already identified as %(name)s.") % {"name": target.name},
            field="resident",
        )
    previous = found.resident_id
    found.resident = target
    fields = ["resident", *_claim(actor, found, timezone.now())]
    found.save(update_fields=fields)
    record(
        actor=actor,
        action="emergency.call.identify",
        obj=found,
        details={"resident": target.pk, "previous": previous},
    )
    return found


@transaction.atomic
def add_step(actor: User, call: Any, kind: Any, note: Any = "") -> CallStep:
    """Record what was done (``kind``: a ``StepKind``), with a note (required for a note)."""
    found = _locked(actor, call)
    _require_open(found)
    if kind not in StepKind.values:
        raise ValidationFailed(
            CommonError.INVALID_CHOICE,
            _("Step must be one of: %(c)s") % {"c": ", ".join(StepKind.values)},
            field="kind",
        )
    text = clean_text(note, "note", _("Note"), NOTE_MAX)
    if kind == StepKind.NOTE and not text:
        raise ValidationFailed(CommonError.REQUIRED, _("Write the note."), field="note")
    now = timezone.now()
    claimed = _claim(actor, found, now)
    if claimed:
        found.save(update_fields=claimed)
    step = CallStep.objects.create(call=found, kind=kind, at=now, by=actor, note=text)
    record(actor=actor, action="emergency.call.step", obj=found, details={"kind": kind})
    return step


@transaction.atomic
def close(actor: User, call: Any, outcome: Any, note: Any = "") -> EmergencyCall:
    """Close the call with its outcome (``other`` needs a note), after at least one step.
    Its alert, if still live, is handled with the matching outcome, then closed (a handled
    one is just closed): the loop ends here."""
    found = _locked(actor, call)
    _require_open(found)
    if outcome in (None, ""):
        raise ValidationFailed(CommonError.REQUIRED, _("Choose the outcome."), field="outcome")
    if outcome not in CallOutcome.values:
        raise ValidationFailed(
            CommonError.INVALID_CHOICE,
            _("Outcome must be one of: %(c)s") % {"c": ", ".join(CallOutcome.values)},
            field="outcome",
        )
    text = clean_text(note, "note", _("Outcome note"), NOTE_MAX)
    if outcome == CallOutcome.OTHER and not text:
        raise ValidationFailed(
            CommonError.REQUIRED, _("Say what happened (the outcome is “other”)."), field="note"
        )
    kinds = list(found.steps.values_list("kind", flat=True))
    if not kinds:
        raise ValidationFailed(
            EmergencyError.NO_STEPS,
            _("Record at least one step (what was done) before closing the call."),
            field="steps",
        )
    now = timezone.now()
    fields = _claim(actor, found, now)
    found.state = CallState.CLOSED
    found.closed_at, found.closed_by = now, actor
    found.outcome, found.outcome_note = outcome, text
    found.save(
        update_fields=[*fields, "state", "closed_at", "closed_by", "outcome", "outcome_note"]
    )
    handled = None
    if found.alert_id is not None:
        state = Alert.objects.filter(pk=found.alert_id).values_list("state", flat=True).first()
        if state in LIVE_ALERT:
            handled = alert_outcome(outcome, kinds)
            label = CallOutcome(outcome).label
            alert_note = _("Emergency call #%(n)s: %(outcome)s.") % {
                "n": found.pk,
                "outcome": label,
            }
            alert_actions.handle(
                actor, found.alert_id, outcome=handled, note=f"{alert_note} {text}".strip()
            )
        if state in (*LIVE_ALERT, AlertState.HANDLED):
            alert_actions.close(actor, found.alert_id)
    record(
        actor=actor,
        action="emergency.call.close",
        obj=found,
        details={"outcome": outcome, "alert": found.alert_id, "alert_outcome": handled},
    )
    return found


@transaction.atomic
def reveal_contact_phone(actor: User, call: Any, contact: Any) -> str:
    """A contact's full phone number, to call the family back during an OPEN call about
    their resident (everywhere else contacts' numbers stay masked). Audited with the call
    and the contact, never the number."""
    found = _locked(actor, call)
    _require_open(found)
    if found.resident_id is None:
        raise ValidationFailed(
            EmergencyError.UNIDENTIFIED,
            _("Identify the resident first: the call is not about anyone yet."),
            field="resident",
        )
    pk = contact.pk if isinstance(contact, Contact) else contact
    try:
        row = Contact.objects.get(pk=pk, resident_id=found.resident_id)
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise NotFound("contact") from None
    if not row.phone:
        raise ValidationFailed(
            EmergencyError.NO_PHONE,
            _("%(name)s has no phone number recorded.") % {"name": row.name},
        )
    record(
        actor=actor,
        action="emergency.call.reveal_contact",
        obj=found,
        details={"contact": row.pk, "resident": found.resident_id},
    )
    return row.phone
