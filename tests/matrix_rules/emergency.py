"""Permission-matrix rules of the emergency calls (see ``tests/matrix_support.py``): the API
under ``/api/v1/emergency`` and the dispatcher's pages under ``/emergency/``.

Who: ``emergency.call`` holders (doctor, nurse, dispatcher) do everything here; everybody
else gets 403. Out of scope: a call (or alert) of a county-B resident answers 404 like a
missing one; logging a call for a county-B resident answers 400 ``unknown_reference`` in
the API and shows the form again (200) on the page — never a change. A phone lookup is a
search: a county-B number finds nobody (200, empty).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from tests.matrix_support import Kwargs, Payload, Rule, World, holders, rows
from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.devices.models import Alert, AlertRule
from yiyang.emergency import services
from yiyang.emergency.models import CallStep, EmergencyCall
from yiyang.emergency.permissions import EmergencyPerm
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.services.registry import register_resident

CALL = holders(EmergencyPerm.CALL)
CALLS = rows(EmergencyCall, "state", "taken_by_id", "resident_id", "outcome", "caller_phone_index")
STEPS = rows(CallStep, "call_id", "kind", "note")


def _alert(resident: Any, code: str) -> Alert:
    """The resident's live alert of rule ``code`` (another area's build may have made
    it), else a new one."""
    live = Alert.objects.filter(
        resident=resident, rule__code=code, state__in=services.LIVE_ALERT
    ).first()
    if live is not None:
        return live
    rule = AlertRule.objects.get(code=code)
    now = timezone.now()
    return Alert.objects.create(
        resident=resident,
        rule=rule,
        severity=rule.severity,
        summary="SOS pressed" if rule.event else "Glucose 2.8 mmol/L (fasting)",
        opened_at=now,
        last_triggered_at=now,
    )


def build(w: World) -> None:
    """For each county: an SOS alert with its (untaken) call ``sos_<side>``, a glucose
    alert without a call ``glucose_<side>``, a logged phone call with a note step
    ``phone_<side>``; and a second county-A resident ``neighbour_in`` to identify."""
    dispatcher = User.objects.create(
        username="m-emergency-dispatcher", role=Role.DISPATCHER, scope_kind="all"
    )
    village = w.a.villages[0]
    w.extra["neighbour_in"], _ = register_resident(
        User.objects.get(username="m-resident-registrar"),
        name="孙玉兰",
        id_number=make_id_number(village.code[:6], datetime.date(1950, 2, 3), 33),
        region=village,
        grid=w.a.grids[0],
    )
    for side, resident in (("in", w.resident_in), ("out", w.resident_out)):
        sos = _alert(resident, "sos")
        [w.extra[f"sos_{side}"]] = services.open_from_alerts([sos])
        w.extra[f"sos_{side}_alert"] = sos
        w.extra[f"glucose_{side}"] = _alert(resident, "glucose_low")
        w.extra[f"phone_{side}"] = services.log_call(
            dispatcher, caller_phone="13900001111", resident=resident, note="she fell"
        )


def call(name: str) -> Kwargs:
    return lambda w: {"pk": w.extra[name].pk}


def alert(name: str, key: str = "alert_pk") -> Kwargs:
    return lambda w: {key: w.extra[name].pk}


def body(**values: Any) -> Payload:
    return lambda w, user: dict(values)


def log_for(side: str) -> Payload:
    return lambda w, user: {
        "caller_phone": "13900001111",
        "resident": getattr(w, f"resident_{side}").pk,
        "note": "a fall",
    }


def identify_as(name: str) -> Payload:
    return lambda w, user: {"resident": w.extra[name].pk}


RULES: list[Rule] = [
    # --- API -----------------------------------------------------------------------------
    Rule("api:emergency_calls", "GET", CALL),
    Rule(
        "api:emergency_call_log",
        "POST",
        CALL,
        data=log_for("in"),
        out_data=log_for("out"),
        out_status=400,  # unknown_reference on the resident field
        ok=201,
        state=CALLS,
    ),
    Rule("api:emergency_call_detail", "GET", CALL, call("sos_in"), out=call("sos_out")),
    Rule(
        "api:emergency_call_take",
        "POST",
        CALL,
        call("sos_in"),
        out=call("sos_out"),
        state=CALLS,
    ),
    Rule(
        "api:emergency_call_step",
        "POST",
        CALL,
        call("sos_in"),
        out=call("sos_out"),
        data=body(kind="called_back", note="no answer"),
        ok=201,
        state=STEPS,
    ),
    Rule(
        "api:emergency_call_identify",
        "POST",
        CALL,
        call("phone_in"),
        out=call("phone_out"),
        data=identify_as("neighbour_in"),
        state=CALLS,
    ),
    Rule(
        "api:emergency_call_close",
        "POST",
        CALL,
        call("phone_in"),
        out=call("phone_out"),
        data=body(outcome="resolved_by_phone", note=""),
        state=CALLS,
    ),
    Rule(
        "api:emergency_lookup",
        "GET",
        CALL,
        lambda w: {"?phone": "13900001111"},
        out=lambda w: {"?phone": "13900000022"},  # county B's resident: nobody found
        out_status=200,
    ),
    # --- pages ---------------------------------------------------------------------------
    Rule("emergency:list", "GET", CALL),
    Rule(
        "emergency:log",
        "POST",
        CALL,
        body="form",
        data=log_for("in"),
        out_data=log_for("out"),
        out_status=200,  # the form again, with the error
        ok=302,
        state=CALLS,
    ),
    Rule("emergency:lookup", "GET", CALL, lambda w: {"?caller_phone": "13900001111"}),
    Rule("emergency:detail", "GET", CALL, call("sos_in"), out=call("sos_out")),
    Rule(
        "emergency:take",
        "POST",
        CALL,
        call("sos_in"),
        out=call("sos_out"),
        body="form",
        ok=302,
        state=CALLS,
    ),
    Rule(
        "emergency:step",
        "POST",
        CALL,
        call("sos_in"),
        out=call("sos_out"),
        body="form",
        data=body(kind="family_informed", note="daughter told"),
        ok=302,
        state=STEPS,
    ),
    Rule(
        "emergency:identify",
        "POST",
        CALL,
        call("phone_in"),
        out=call("phone_out"),
        body="form",
        data=identify_as("neighbour_in"),
        ok=302,
        state=CALLS,
    ),
    Rule(
        "emergency:contact_phone",
        "POST",
        CALL,
        lambda w: {"pk": w.extra["phone_in"].pk, "contact_pk": w.extra["daughter"].pk},
        out=lambda w: {"pk": w.extra["phone_out"].pk, "contact_pk": w.extra["daughter"].pk},
        body="form",
        state=CALLS,
        changes=False,  # a read (audited): nothing about the call changes
    ),
    Rule(
        "emergency:close",
        "POST",
        CALL,
        call("phone_in"),
        out=call("phone_out"),
        body="form",
        data=body(outcome="resolved_by_phone", note=""),
        ok=302,
        state=CALLS,
    ),
    Rule(
        "emergency:from_alert",
        "GET",
        CALL,
        alert("sos_in_alert"),
        out=alert("sos_out_alert"),
        ok=302,  # to the call it already has
    ),
    Rule(
        "emergency:from_alert",
        "POST",
        CALL,
        alert("glucose_in"),
        out=alert("glucose_out"),
        body="form",
        ok=302,
        state=CALLS,
    ),
]
