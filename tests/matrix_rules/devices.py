"""Permission-matrix rules of the device registry and its alerts (see
``tests/matrix_support.py``): the API under ``/api/v1/devices`` and ``/api/v1/alerts``,
and the pages under ``/devices/``.

Who: ``devices.view`` holders list and read devices (their readings also need
``residents.health_view``); ``devices.manage`` holders register, edit, rotate the
secret, bind, unbind and retire; ``devices.quarantine`` holders read the refused
messages. The ingest endpoint is device-authenticated (``PUBLIC`` in the matrix).
Out of scope: a device owned by a county-B institution answers 404; registering for a
county-B institution or binding to a county-B resident answers 400 ``unknown_reference``
in the API, and the register page (whose institution choices are scoped) shows the form
again (200) — never a change.

Alerts: ``devices.view`` holders see the board, its poll endpoint and one alert;
``devices.alert_handle`` holders acknowledge, handle and close; the resident page's
"Alerts & readings" tab needs ``devices.view`` and ``residents.health_view``. An alert of
a county-B resident (or her tab) answers 404.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from tests.matrix_support import Kwargs, Payload, Rule, World, holders, rows
from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.devices.models import (
    Alert,
    AlertRule,
    AlertState,
    Binding,
    Device,
    EscalationStep,
    Outcome,
    Quarantine,
    Reading,
    ResidentRule,
)
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.services import registry
from yiyang.devices.services.alerts import teams_for
from yiyang.network.models import DutyShift
from yiyang.network.permissions import NetworkPerm
from yiyang.residents.permissions import ResidentPerm

VIEW = holders(DevicePerm.VIEW)
MANAGE = holders(DevicePerm.MANAGE)
QUARANTINE = holders(DevicePerm.QUARANTINE)
HANDLE = holders(DevicePerm.ALERT_HANDLE)
ALERTS_TAB = VIEW & holders(ResidentPerm.HEALTH_VIEW)

DEVICES = rows(
    Device,
    "serial",
    "model",
    "firmware",
    "institution_id",
    "expected_interval_minutes",
    "status",
    "resident_id",
)
SECRETS = rows(Device, "secret", "secret_issued_at")
BINDINGS = rows(Binding, "device_id", "resident_id", "unbound_at")
ALERTS = rows(Alert, "state", "acknowledged_at", "handled_at", "outcome", "note", "closed_at")


def build(w: World) -> None:
    """Devices of a county-A and a county-B institution, unbound (``dev_in``/``dev_out``)
    and bound to ``resident_in``/``resident_out`` (``bound_in``/``bound_out``), and a
    refused message of each unbound one."""
    registrar = User.objects.create(
        username="m-device-registrar", role=Role.INSTITUTION_ADMIN, scope_kind="all"
    )
    for side, county, resident in (("in", w.a, w.resident_in), ("out", w.b, w.resident_out)):
        loose, _ = registry.register_device(registrar, kind="bp_monitor", institution=county.thc)
        bound, _ = registry.register_device(registrar, kind="glucometer", institution=county.thc)
        registry.bind(registrar, bound, resident)
        Quarantine.objects.create(
            device=loose,
            serial=loose.serial,
            source="http",
            code="out_of_range",
            detail="sys 400",
            seq=1,
            payload='{"seq": 1}',
            received_at=timezone.now(),
        )
        w.extra[f"dev_{side}"] = loose
        w.extra[f"bound_{side}"] = bound
        w.extra[f"alert_{side}"], w.extra[f"handled_{side}"] = _alerts(bound, resident)
    _duty_world(w)


def _alerts(device: Device, resident: Any) -> tuple[Alert, Alert]:
    """An open SOS alert with its reading, and a handled fall alert, of ``resident``."""
    now = timezone.now()
    team = teams_for([resident.pk])[resident.pk]
    made = []
    for seq, kind, state in ((900001, "sos", AlertState.OPEN), (900002, "fall", "handled")):
        reading = Reading.objects.create(
            device=device,
            seq=seq,
            resident=resident,
            kind=kind,
            measured_at=now,
            values={},
            source="http",
            received_at=now,
        )
        alert = Alert.objects.create(
            resident=resident,
            rule=AlertRule.objects.get(code=kind),
            severity="critical",
            state=state,
            team_id=team,
            summary=f"{kind} pressed",
            opened_at=now,
            last_triggered_at=now,
            acknowledged_at=now if state == "handled" else None,
            handled_at=now if state == "handled" else None,
            outcome=Outcome.FALSE_ALARM if state == "handled" else "",
        )
        alert.readings.add(reading)
        made.append(alert)
    return made[0], made[1]


def extra(name: str) -> Kwargs:
    return lambda w: {"pk": w.extra[name].pk}


def resident(side: str) -> Kwargs:
    return lambda w: {"pk": getattr(w, f"resident_{side}").pk}


def device(name: str) -> Kwargs:
    return lambda w: {"pk": w.extra[name].pk}


def body(**values: Any) -> Payload:
    return lambda w, user: dict(values)


def new_device(county: str) -> Payload:
    return lambda w, user: {
        "kind": "scale",
        "institution": getattr(w, county).thc.pk,
        "model": "SC-1",
    }


def new_device_form(county: str) -> Payload:
    return lambda w, user: {
        "serial": "",
        "kind": "scale",
        "model": "SC-1",
        "firmware": "",
        "institution": str(getattr(w, county).thc.pk),
        "expected_interval_minutes": "0",
    }


def bind_to(side: str) -> Payload:
    return lambda w, user: {"resident": getattr(w, f"resident_{side}").pk}


def edit_form(w: World, user: Any) -> dict[str, str]:
    dev = w.extra["dev_in"]
    return {
        "model": "BP-2",
        "firmware": dev.firmware,
        "institution": str(dev.institution_id),
        "expected_interval_minutes": "30",
        "status": "active",
    }


RULES: list[Rule] = [
    # --- API -----------------------------------------------------------------------------
    Rule("api:devices_list", "GET", VIEW),
    Rule(
        "api:devices_register",
        "POST",
        MANAGE,
        data=new_device("a"),
        out_data=new_device("b"),
        out_status=400,  # unknown_reference on the institution field
        ok=201,
        state=DEVICES,
    ),
    Rule("api:devices_detail", "GET", VIEW, device("dev_in"), out=device("dev_out")),
    Rule(
        "api:devices_update",
        "PATCH",
        MANAGE,
        device("dev_in"),
        out=device("dev_out"),
        data=body(model="BP-2", expected_interval_minutes=30),
        state=DEVICES,
    ),
    Rule(
        "api:devices_rotate_secret",
        "POST",
        MANAGE,
        device("dev_in"),
        out=device("dev_out"),
        state=SECRETS,
    ),
    Rule(
        "api:devices_bind",
        "POST",
        MANAGE,
        device("dev_in"),
        data=bind_to("in"),
        out_data=bind_to("out"),
        out_status=400,  # unknown_reference on the resident field
        state=BINDINGS,
    ),
    Rule(
        "api:devices_unbind",
        "DELETE",
        MANAGE,
        device("bound_in"),
        out=device("bound_out"),
        state=BINDINGS,
    ),
    Rule(
        "api:devices_retire",
        "POST",
        MANAGE,
        device("dev_in"),
        out=device("dev_out"),
        state=DEVICES,
    ),
    Rule(
        "api:devices_readings",
        "GET",
        VIEW & holders(ResidentPerm.HEALTH_VIEW),
        device("bound_in"),
        out=device("bound_out"),
    ),
    Rule("api:devices_quarantine", "GET", QUARANTINE),
    # --- pages ---------------------------------------------------------------------------
    Rule("devices:list", "GET", VIEW),
    Rule("devices:create", "GET", MANAGE),
    Rule(
        "devices:create",
        "POST",
        MANAGE,
        body="form",
        data=new_device_form("a"),
        out_data=new_device_form("b"),
        out_status=200,  # the institution is not among the scoped choices: the form again
        ok=200,  # the page showing the serial and secret once
        state=DEVICES,
    ),
    Rule("devices:quarantine", "GET", QUARANTINE),
    Rule("devices:resident_options", "GET", MANAGE, lambda w: {"?rq": w.resident_in.name}),
    Rule("devices:detail", "GET", VIEW, device("dev_in"), out=device("dev_out")),
    Rule("devices:edit", "GET", MANAGE, device("dev_in"), out=device("dev_out")),
    Rule(
        "devices:edit",
        "POST",
        MANAGE,
        device("dev_in"),
        out=device("dev_out"),
        body="form",
        data=edit_form,
        ok=302,
        state=DEVICES,
    ),
    Rule(
        "devices:rotate_secret",
        "POST",
        MANAGE,
        device("dev_in"),
        out=device("dev_out"),
        body="form",
        data=body(confirm="1"),
        ok=200,  # the page showing the new secret once
        state=SECRETS,
    ),
    Rule(
        "devices:bind",
        "POST",
        MANAGE,
        device("dev_in"),
        out=device("dev_out"),
        body="form",
        data=bind_to("in"),
        ok=302,
        state=BINDINGS,
    ),
    Rule(
        "devices:unbind",
        "POST",
        MANAGE,
        device("bound_in"),
        out=device("bound_out"),
        body="form",
        ok=302,
        state=BINDINGS,
    ),
    Rule(
        "devices:retire",
        "POST",
        MANAGE,
        device("dev_in"),
        out=device("dev_out"),
        body="form",
        data=body(confirm="1"),
        ok=302,
        state=DEVICES,
    ),
    # --- alerts: API ---------------------------------------------------------------------
    Rule("api:alerts_list", "GET", VIEW),
    Rule("api:alerts_detail", "GET", VIEW, extra("alert_in"), out=extra("alert_out")),
    Rule(
        "api:alerts_acknowledge",
        "POST",
        HANDLE,
        extra("alert_in"),
        out=extra("alert_out"),
        state=ALERTS,
    ),
    Rule(
        "api:alerts_handle",
        "POST",
        HANDLE,
        extra("alert_in"),
        out=extra("alert_out"),
        data=body(outcome="phoned_fine", note="she is fine"),
        state=ALERTS,
    ),
    Rule(
        "api:alerts_close",
        "POST",
        HANDLE,
        extra("handled_in"),
        out=extra("handled_out"),
        state=ALERTS,
    ),
    # --- alerts: pages -------------------------------------------------------------------
    Rule("devices:alerts", "GET", VIEW),
    Rule("devices:alerts_poll", "GET", VIEW),
    Rule("devices:alert_detail", "GET", VIEW, extra("alert_in"), out=extra("alert_out")),
    Rule(
        "devices:alert_acknowledge",
        "POST",
        HANDLE,
        extra("alert_in"),
        out=extra("alert_out"),
        body="form",
        ok=302,
        state=ALERTS,
    ),
    Rule(
        "devices:alert_handle",
        "POST",
        HANDLE,
        extra("alert_in"),
        out=extra("alert_out"),
        body="form",
        data=body(outcome="home_visit", note="visit at 3 pm"),
        ok=302,
        state=ALERTS,
    ),
    Rule(
        "devices:alert_close",
        "POST",
        HANDLE,
        extra("handled_in"),
        out=extra("handled_out"),
        body="form",
        ok=302,
        state=ALERTS,
    ),
    Rule("devices:resident_alerts", "GET", ALERTS_TAB, resident("in"), out=resident("out")),
]


# --- escalation: the duty roster and the schedule (pages_duty.py, api_duty.py) ---------
# The roster is seen with ``network.staff_view`` and changed with ``network.staff_manage``
# in scope: a county-B shift answers 404; adding one at county B's township hospital
# answers 400 ``unknown_reference`` in the API and redisplays the form (its institution
# choices are scoped) on the page. The schedule is deployment-wide policy: seen with
# ``devices.view``, changed with ``devices.alert_policy`` (supervisors).

POLICY = holders(DevicePerm.ALERT_POLICY)
STAFF_VIEW = holders(NetworkPerm.STAFF_VIEW)
STAFF_MANAGE = holders(NetworkPerm.STAFF_MANAGE)
SHIFTS = rows(DutyShift, "institution_id", "user_id", "starts_at", "ends_at")
STEPS = rows(EscalationStep, "severity", "tier", "after_minutes")


def _duty_world(w: World) -> None:
    """A doctor of each county's township hospital (``duty_doc_in``/``_out``) and an
    upcoming shift of each (``shift_in``/``shift_out``)."""
    now = timezone.now()
    for side, county in (("in", w.a), ("out", w.b)):
        doctor = User.objects.create(
            username=f"m-duty-{side}",
            role=Role.DOCTOR,
            scope_kind="institution",
            scope_institution=county.thc,
        )
        w.extra[f"duty_doc_{side}"] = doctor
        w.extra[f"shift_{side}"] = DutyShift.objects.create(
            institution=county.thc,
            user=doctor,
            starts_at=now + datetime.timedelta(days=2),
            ends_at=now + datetime.timedelta(days=2, hours=8),
        )


def _local(delta: datetime.timedelta) -> str:
    return timezone.localtime(timezone.now() + delta).strftime("%Y-%m-%dT%H:%M")


def shift_form(side: str) -> Payload:
    county = {"in": "a", "out": "b"}[side]
    return lambda w, user: {
        "institution": str(getattr(w, county).thc.pk),
        "user": str(w.extra[f"duty_doc_{side}"].pk),
        "starts_at": _local(datetime.timedelta(hours=1)),
        "ends_at": _local(datetime.timedelta(hours=9)),
    }


def new_shift(side: str) -> Payload:
    county = {"in": "a", "out": "b"}[side]
    return lambda w, user: {
        "institution": getattr(w, county).thc.pk,
        "user": w.extra[f"duty_doc_{side}"].pk,
        "starts_at": (timezone.now() + datetime.timedelta(hours=1)).isoformat(),
        "ends_at": (timezone.now() + datetime.timedelta(hours=9)).isoformat(),
    }


SCHEDULE_FORM = body(severity="info", **{"info-tier_1": "0", "info-tier_2": "15"})

RULES += [
    # --- escalation: API -----------------------------------------------------------------
    Rule("api:escalation_schedule", "GET", VIEW),
    Rule(
        "api:escalation_schedule_set",
        "PUT",
        POLICY,
        data=body(severity="info", steps={"1": 0, "2": 15}),
        state=STEPS,
    ),
    Rule("api:escalation_duty", "GET", STAFF_VIEW),
    Rule(
        "api:escalation_duty_create",
        "POST",
        STAFF_MANAGE,
        data=new_shift("in"),
        out_data=new_shift("out"),
        out_status=400,  # unknown_reference on the institution field
        ok=201,
        state=SHIFTS,
    ),
    Rule(
        "api:escalation_duty_end",
        "POST",
        STAFF_MANAGE,
        extra("shift_in"),
        out=extra("shift_out"),
        state=SHIFTS,
    ),
    # --- escalation: pages ---------------------------------------------------------------
    Rule("devices:duty", "GET", STAFF_VIEW),
    Rule(
        "devices:duty",
        "POST",
        STAFF_MANAGE,
        body="form",
        data=shift_form("in"),
        out_data=shift_form("out"),
        out_status=200,  # the institution is not among the scoped choices: the form again
        ok=302,
        state=SHIFTS,
    ),
    Rule(
        "devices:duty_end",
        "POST",
        STAFF_MANAGE,
        extra("shift_in"),
        out=extra("shift_out"),
        body="form",
        ok=302,
        state=SHIFTS,
    ),
    Rule("devices:escalation", "GET", VIEW),
    Rule(
        "devices:escalation",
        "POST",
        POLICY,
        body="form",
        data=SCHEDULE_FORM,
        ok=302,
        state=STEPS,
    ),
]


# --- a resident's own alert thresholds (pages_thresholds.py, api_thresholds.py) --------
# Seen by whoever sees her "Alerts & readings" tab (``devices.view`` and her health
# record); set and reset with ``residents.health_manage`` (doctors, nurses). A county-B
# resident answers 404 and keeps her settings.

HEALTH_MANAGE = holders(ResidentPerm.HEALTH_MANAGE)
OVERRIDES = rows(ResidentRule, "resident_id", "rule_id", "conditions", "disabled", "reason")
COPD = [{"metric": "spo2.spo2", "op": "le", "value": 87}]


def rule_of(side: str, code: str = "spo2_low") -> Kwargs:
    return lambda w: {"pk": getattr(w, f"resident_{side}").pk, "code": code}


def _overridden(w: World, user: User) -> None:
    """Both residents have their own SpO2 threshold (for the reset to remove)."""
    rule = AlertRule.objects.get(code="spo2_low")
    for resident in (w.resident_in, w.resident_out):
        ResidentRule.objects.get_or_create(
            resident=resident, rule=rule, defaults={"conditions": COPD, "reason": "COPD"}
        )


RULES += [
    Rule("api:alerts_resident_rules", "GET", ALERTS_TAB, resident("in"), out=resident("out")),
    Rule(
        "api:alerts_resident_rule_set",
        "PUT",
        HEALTH_MANAGE,
        rule_of("in"),
        out=rule_of("out"),
        data=body(conditions=COPD, reason="COPD: target 88–92 %"),
        state=OVERRIDES,
    ),
    Rule(
        "api:alerts_resident_rule_clear",
        "DELETE",
        HEALTH_MANAGE,
        rule_of("in"),
        out=rule_of("out"),
        ok=204,
        state=OVERRIDES,
        prepare=_overridden,
    ),
    Rule("devices:resident_thresholds", "GET", ALERTS_TAB, resident("in"), out=resident("out")),
    Rule(
        "devices:resident_thresholds",
        "POST",
        HEALTH_MANAGE & ALERTS_TAB,
        resident("in"),
        out=resident("out"),
        body="form",
        data=body(
            rule="spo2_low",
            action="save",
            **{"spo2_low-value_0": "87", "spo2_low-reason": "COPD: target 88–92 %"},
        ),
        ok=302,
        state=OVERRIDES,
    ),
]


# --- the deployment's alert rules (pages_rules.py, api_rules.py) -----------------------
# Deployment-wide policy, not scoped: seen with ``devices.view``, changed and reset with
# ``devices.alert_policy`` (supervisors). A refused change leaves every rule as it was.

ALERT_RULES = rows(AlertRule, "code", "severity", "conditions", "active", "suggests_referral")
BP_190 = [
    {"metric": "bp.sys", "op": "ge", "value": 190},
    {"metric": "bp.dia", "op": "ge", "value": 110},
]
RULE_REASON = "county health commission notice"


def bp_high(w: World) -> dict[str, Any]:
    return {"code": "bp_high"}


def _bp_raised(w: World, user: User) -> None:
    """bp_high differs from its default (for the reset to put back)."""
    AlertRule.objects.filter(code="bp_high").update(conditions=BP_190)


RULES += [
    Rule("api:alert_rules", "GET", VIEW),
    Rule("api:alert_rule", "GET", VIEW, bp_high),
    Rule(
        "api:alert_rule_set",
        "PUT",
        POLICY,
        bp_high,
        data=body(conditions=BP_190, reason=RULE_REASON),
        state=ALERT_RULES,
    ),
    Rule(
        "api:alert_rule_reset",
        "POST",
        POLICY,
        bp_high,
        data=body(reason=RULE_REASON),
        state=ALERT_RULES,
        prepare=_bp_raised,
    ),
    Rule("devices:rules", "GET", VIEW),
    Rule(
        "devices:rules",
        "POST",
        POLICY,
        body="form",
        data=body(
            rule="bp_high",
            action="save",
            **{
                "bp_high-value_0": "190",
                "bp_high-value_1": "110",
                "bp_high-severity": "urgent",
                "bp_high-active": "on",
                "bp_high-suggests_referral": "on",
                "bp_high-reason": RULE_REASON,
            },
        ),
        ok=302,
        state=ALERT_RULES,
    ),
]
