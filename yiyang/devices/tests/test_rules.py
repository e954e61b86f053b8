"""The deployment's alert rules as policy: the services
(``yiyang.devices.services.rules``), the page
(``/devices/rules/``) and the API (``/api/v1/alerts/rules``), with permissions
(``devices.alert_policy``: supervisors; an institution administrator only reads), bad
input that changes nothing, and the end-to-end effect on alerts raised through ingestion."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from yiyang.audit.models import AuditEvent
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.devices.models import Alert, AlertRule
from yiyang.devices.services import rules
from yiyang.devices.tests.conftest import msg, send
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

# Messages in English (a service call here; the root conftest's ``english`` fixture).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PAGE = "/devices/rules/"
API = "/api/v1/alerts/rules"
BP_190 = [
    {"metric": "bp.sys", "op": "ge", "value": 190},
    {"metric": "bp.dia", "op": "ge", "value": 110},
]
BP_DEFAULT = [
    {"metric": "bp.sys", "op": "ge", "value": 180},
    {"metric": "bp.dia", "op": "ge", "value": 110},
]
REASON = "county health commission notice 2026-7"


def put(client, path: str, body: dict):
    return client.put(path, json.dumps(body), content_type="application/json")


def post(client, path: str, body: dict):
    return client.post(path, json.dumps(body), content_type="application/json")


def state() -> list[tuple]:
    return list(
        AlertRule.objects.order_by("pk").values_list(
            "code", "severity", "conditions", "active", "suggests_referral", "updated_at"
        )
    )


def admin(place):
    """An institution administrator of county A: devices.manage, not alert_policy."""
    return make_user(Role.INSTITUTION_ADMIN, place.net.a.county, username="inst-admin-a")


def alert_codes(resident) -> list[str]:
    return sorted(Alert.objects.filter(resident=resident).values_list("rule__code", flat=True))


def bp_form(**values: str) -> dict[str, str]:
    """The bp_high form as a browser posts it (unchanged unless ``values`` say)."""
    data = {
        "rule": "bp_high",
        "action": "save",
        "bp_high-value_0": "180",
        "bp_high-value_1": "110",
        "bp_high-severity": "urgent",
        "bp_high-active": "on",
        "bp_high-suggests_referral": "on",
        "bp_high-reason": REASON,
    }
    data.update({k if k in ("rule", "action") else f"bp_high-{k}": v for k, v in values.items()})
    return {k: v for k, v in data.items() if v is not None}


# --- end to end -------------------------------------------------------------------------


def test_raising_the_sbp_threshold_on_the_page_changes_which_readings_alert(place):
    client = client_for(place.supervisor)
    response = client.post(PAGE, bp_form(value_0="190"))
    assert response.status_code == 302 and response["Location"] == PAGE
    assert AlertRule.objects.get(code="bp_high").conditions == BP_190
    send(place.chen_bp, msg(1, "bp", {"sys": 185, "dia": 100}))
    assert alert_codes(place.chen) == []
    send(place.chen_bp, msg(2, "bp", {"sys": 195, "dia": 100}))
    assert alert_codes(place.chen) == ["bp_high"]
    # Reset through the page: 180 again, so 185 alerts (for another resident: no folding).
    response = client.post(PAGE, {"rule": "bp_high", "action": "reset", "bp_high-reason": REASON})
    assert response.status_code == 302
    assert AlertRule.objects.get(code="bp_high").conditions == BP_DEFAULT
    send(place.wang_bp, msg(1, "bp", {"sys": 185, "dia": 100}))
    assert alert_codes(place.wang) == ["bp_high"]
    actions = list(
        AuditEvent.objects.filter(object_type="devices.alertrule")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["devices.alert_rule.update", "devices.alert_rule.reset"]


def test_open_alerts_keep_their_severity(place):
    send(place.chen_bp, msg(1, "bp", {"sys": 200, "dia": 100}))
    alert = Alert.objects.get()
    assert alert.severity == "urgent"
    rules.update_rule(place.supervisor, "bp_high", severity="warning", reason=REASON)
    alert.refresh_from_db()
    assert alert.severity == "urgent"
    send(place.wang_bp, msg(1, "bp", {"sys": 200, "dia": 100}))
    assert Alert.objects.get(resident=place.wang).severity == "warning"


def test_a_switched_off_rule_raises_nothing(place):
    rules.update_rule(place.supervisor, "glucose_high", active=False, reason=REASON)
    send(place.chen_bp, msg(1, "glucose", {"mmol": 20.1, "context": "random"}))
    assert alert_codes(place.chen) == []
    rules.update_rule(place.supervisor, "glucose_high", active=True, reason=REASON)
    send(place.chen_bp, msg(2, "glucose", {"mmol": 20.1, "context": "random"}))
    assert alert_codes(place.chen) == ["glucose_high"]


# --- services ---------------------------------------------------------------------------


def test_update_and_reset_are_audited_with_before_and_after(place):
    user = place.supervisor
    rule = rules.update_rule(
        user,
        "bp_high",
        severity="critical",
        conditions=BP_190,
        suggests_referral=False,
        reason=f"  {REASON}  ",
    )
    assert (rule.severity, rule.conditions, rule.suggests_referral, rule.active) == (
        "critical",
        BP_190,
        False,
        True,
    )
    event = AuditEvent.objects.get(action="devices.alert_rule.update")
    assert (event.actor, event.object_id, event.object_repr) == (user, str(rule.pk), "bp_high")
    assert event.details == {
        "rule": "bp_high",
        "before": {
            "severity": "urgent",
            "conditions": BP_DEFAULT,
            "active": True,
            "suggests_referral": True,
        },
        "after": {
            "severity": "critical",
            "conditions": BP_190,
            "active": True,
            "suggests_referral": False,
        },
        "reason": REASON,
    }
    assert not rules.is_default(rule)
    rule = rules.reset_rule(user, "bp_high", "back to the national specification")
    assert (rule.severity, rule.conditions, rule.suggests_referral) == ("urgent", BP_DEFAULT, True)
    assert rules.is_default(rule)
    reset = AuditEvent.objects.get(action="devices.alert_rule.reset")
    assert reset.details["before"]["conditions"] == BP_190
    assert reset.details["after"]["severity"] == "urgent"
    assert reset.details["reason"] == "back to the national specification"


def test_a_change_that_changes_nothing_writes_nothing(place):
    before = state()
    rules.update_rule(
        place.supervisor,
        "temp_extreme",
        conditions=[
            {"metric": "temp.c", "op": "gt", "value": 39},  # 39 == 39.0
            {"metric": "temp.c", "op": "le", "value": 35.0},
        ],
        reason=REASON,
    )
    rules.reset_rule(place.supervisor, "sos", REASON)
    assert state() == before
    assert not AuditEvent.objects.filter(object_type="devices.alertrule").exists()


def test_decimal_thresholds_and_a_window_rule(place):
    user = place.supervisor
    rule = rules.update_rule(
        user,
        "glucose_low",
        conditions=[{"metric": "glucose.mmol", "op": "le", "value": 3.5}],
        reason=REASON,
    )
    assert rule.conditions == [{"metric": "glucose.mmol", "op": "le", "value": 3.5}]
    rule = rules.update_rule(
        user,
        "news2",
        conditions=[{"metric": "news2.total", "op": "ge", "value": 7}],
        reason=REASON,
    )
    assert rule.conditions == [{"metric": "news2.total", "op": "ge", "value": 7}]
    # device_silent is an event rule: its severity and state change, not conditions.
    rule = rules.update_rule(user, "device_silent", severity="info", active=False, reason=REASON)
    assert (rule.severity, rule.active, rule.conditions) == ("info", False, [])


def test_reading_the_rules(place):
    AlertRule.objects.filter(code="battery_low").update(active=False)
    codes = [r.code for r in rules.rules_for(place.carer)]
    assert codes[:2] == ["fall", "sos"]  # critical first, then by code
    assert "battery_low" in codes  # a switched-off rule is listed too
    assert codes[-1] == "battery_low"  # info last
    assert rules.get_rule(place.carer, "battery_low").active is False
    with pytest.raises(NotFound):
        rules.get_rule(place.carer, "no_such_rule")
    assessor = make_user(Role.ASSESSOR, place.net.a.county, username="assessor-a")
    with pytest.raises(PermissionDenied):
        rules.rules_for(assessor)


BAD = [
    # (code, changes, field, part of the message)
    ("bp_high", {"severity": "severe"}, "severity", "Severity must be one of"),
    ("bp_high", {"severity": None}, "severity", "Severity must be one of"),
    ("bp_high", {"conditions": "sys >= 190"}, "conditions", "Conditions must be a list"),
    (
        "bp_high",
        {"conditions": [{"metric": "bp.sys", "op": "ge", "value": "190"}]},
        "conditions",
        "known metric and op",
    ),
    (
        "bp_high",
        {"conditions": [{"metric": "bp.sys", "op": "ge", "value": 190}]},
        "conditions",
        "give 2 condition(s) in this order",
    ),
    (
        "bp_high",
        {"conditions": list(reversed(BP_190))},
        "conditions",
        "Only the thresholds of a rule can be changed",
    ),
    (
        "bp_high",
        {"conditions": [{**BP_190[0], "op": "gt"}, BP_190[1]]},
        "conditions",
        "Only the thresholds of a rule can be changed",
    ),
    (
        "bp_high",
        {"conditions": [{**BP_190[0], "metric": "hr"}, BP_190[1]]},
        "conditions",
        "Only the thresholds of a rule can be changed",
    ),
    (
        "bp_high",
        {"conditions": [{**BP_190[0], "value": 1900}, BP_190[1]]},
        "conditions",
        "Condition 1: Systolic blood pressure must be between",
    ),
    (
        "bp_high",
        {"conditions": [BP_190[0], {**BP_190[1], "value": float("nan")}]},
        "conditions",
        "Condition 2: Diastolic blood pressure must be between",
    ),
    ("bp_high", {"conditions": []}, "conditions", "give 2 condition(s)"),
    (
        "spo2_low",
        {"conditions": [{"metric": "spo2.spo2", "op": "le", "value": 101}]},
        "conditions",
        "between",
    ),
    (
        "device_silent",
        {"conditions": [{"metric": "battery.pct", "op": "le", "value": 5}]},
        "conditions",
        "fires on an event",
    ),
    ("sos", {"active": False}, "active", "cannot be switched off"),
    ("fall", {"severity": "urgent"}, "severity", "stays critical"),
    (
        "fall",
        {"conditions": [{"metric": "hr", "op": "ge", "value": 150}]},
        "conditions",
        "fires on an event",
    ),
    ("bp_high", {"active": "no"}, "active", "must be true or false"),
    ("bp_high", {"suggests_referral": 1}, "suggests_referral", "must be true or false"),
    ("bp_high", {"severity": "info", "reason": "   "}, "reason", "Reason is required"),
    ("bp_high", {"severity": "info", "reason": "x" * 256}, "reason", "at most 255"),
]


@pytest.mark.parametrize(("code", "changes", "field", "error"), BAD)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    place,
    code,
    changes,
    field,
    error,
):
    before = state()
    kwargs = {"reason": REASON, **changes}
    with pytest.raises(ValidationFailed) as refused:
        rules.update_rule(place.supervisor, code, **kwargs)
    assert refused.value.field == field
    assert error in refused.value.detail
    assert state() == before
    assert not AuditEvent.objects.filter(object_type="devices.alertrule").exists()


def test_reset_needs_a_reason_and_a_shipped_rule(place):
    rules.update_rule(place.supervisor, "bp_high", conditions=BP_190, reason=REASON)
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        rules.reset_rule(place.supervisor, "bp_high", "")
    assert refused.value.field == "reason"
    assert state() == before
    local = AlertRule.objects.create(
        code="weight_gain", name_zh="体重骤增", name_en="Weight gain", severity="warning",
        conditions=[{"metric": "weight.kg", "op": "ge", "value": 120}],
    )  # fmt: skip
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        rules.reset_rule(place.supervisor, local, REASON)
    assert (refused.value.code, refused.value.field) == ("no_default", "rule")
    assert state() == before


def test_only_alert_policy_holders_change_rules(place):
    before = state()
    for user in (admin(place), place.nurse2, place.dispatcher, place.carer):
        with pytest.raises(PermissionDenied):
            rules.update_rule(user, "bp_high", conditions=BP_190, reason=REASON)
        with pytest.raises(PermissionDenied):
            rules.reset_rule(user, "bp_high", REASON)
    with pytest.raises(NotFound):
        rules.update_rule(place.supervisor, "nope", severity="info", reason=REASON)
    assert state() == before


# --- the page ---------------------------------------------------------------------------


def test_the_page_shows_the_rules_in_words(place):
    AlertRule.objects.filter(code="battery_low").update(active=False)
    html = client_for(place.carer).get(PAGE).content.decode()
    row = html.split('id="rule-bp_high"')[1].split("</tr>")[0]
    assert "Severely raised blood pressure" in row
    assert "Systolic blood pressure ≥ 180 mmHg or Diastolic blood pressure ≥ 110 mmHg" in row
    assert "Urgent" in row and "active" in row and "suggests referral" in row
    assert "国家基本公共卫生服务规范（第三版）" in row
    battery = html.split('id="rule-battery_low"')[1].split("</tr>")[0]
    assert "unverified" in battery and "switched off" in battery
    assert "on every event" in html.split('id="rule-sos"')[1].split("</tr>")[0]
    assert "<form" not in html.split('id="rules-summary"')[1]  # devices.view only reads
    assert 'href="/devices/rules/"' in html  # the navigation entry
    zh = client_for(place.carer, "zh-hans").get(PAGE).content.decode()
    assert "血压危急升高" in zh.split('id="rule-bp_high"')[1].split("</tr>")[0]
    assert "收缩压 ≥ 180 mmHg" in zh


def test_the_page_offers_a_form_per_rule_to_supervisors(place):
    html = client_for(place.supervisor).get(PAGE).content.decode()
    form = html.split('id="rule-form-bp_high"')[1].split("</form>")[0]
    assert 'name="bp_high-value_0"' in form and 'value="180"' in form
    assert 'name="bp_high-severity"' in form and 'name="bp_high-active"' in form
    assert 'value="reset"' not in form  # unchanged: nothing to reset
    sos = html.split('id="rule-card-sos"')[1].split("</section>")[0]
    assert "stays critical and cannot be switched off" in sos
    assert 'name="sos-severity"' not in sos and 'name="sos-active"' not in sos
    silent = html.split('id="rule-form-device_silent"')[1].split("</form>")[0]
    assert "value_0" not in silent and 'name="device_silent-active"' in silent
    # After a change the form offers Reset and says what was shipped.
    client_for(place.supervisor).post(PAGE, bp_form(value_0="190"))
    html = client_for(place.supervisor).get(PAGE).content.decode()
    assert 'value="reset"' in html.split('id="rule-form-bp_high"')[1].split("</form>")[0]
    card = html.split('id="rule-card-bp_high"')[1]
    assert "Shipped default: Urgent, Systolic blood pressure ≥ 180 mmHg" in card


def test_saving_severity_active_and_referral_on_the_page(place):
    client = client_for(place.supervisor)
    response = client.post(PAGE, bp_form(severity="critical", active=None, suggests_referral=None))
    assert response.status_code == 302
    rule = AlertRule.objects.get(code="bp_high")
    assert (rule.severity, rule.active, rule.suggests_referral) == ("critical", False, False)
    assert rule.conditions == BP_DEFAULT
    page = client.get(PAGE).content.decode()
    assert "Severely raised blood pressure: saved for the whole deployment." in page
    # SOS: only "suggests referral" can change, and it does.
    response = client.post(
        PAGE,
        {"rule": "sos", "action": "save", "sos-suggests_referral": "on", "sos-reason": REASON},
    )
    assert response.status_code == 302
    sos = AlertRule.objects.get(code="sos")
    assert (sos.severity, sos.active, sos.suggests_referral) == ("critical", True, True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bp_form(value_0="1900"), "Condition 1: Systolic blood pressure must be between"),
        (bp_form(value_0="abc"), "Enter a number."),
        (bp_form(value_1=""), "This field is required."),
        (bp_form(severity="severe"), "Select a valid choice."),
        (bp_form(reason=""), "Reason is required."),
        ({"rule": "bp_high", "action": "reset", "bp_high-reason": ""}, "Reason is required."),
    ],
)
def test_a_refused_form_shows_why_and_changes_nothing(place, data, message):
    rules.update_rule(place.supervisor, "bp_high", conditions=BP_190, reason=REASON)
    before = state()
    response = client_for(place.supervisor).post(PAGE, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html.split('id="rule-form-bp_high"')[1].split("</form>")[0]
    assert state() == before


def test_page_permissions(place):
    before = state()
    for user in (admin(place), place.carer, place.dispatcher):
        client = client_for(user)
        assert client.get(PAGE).status_code == 200
        assert client.post(PAGE, bp_form(value_0="190")).status_code == 403
        reset = {"rule": "bp_high", "action": "reset", "bp_high-reason": REASON}
        assert client.post(PAGE, reset).status_code == 403
    assessor = make_user(Role.ASSESSOR, place.net.a.county, username="assessor-a")
    assert client_for(assessor).get(PAGE).status_code == 403
    unknown = client_for(place.supervisor).post(PAGE, {"rule": "nope", "action": "save"})
    assert unknown.status_code == 404
    assert state() == before
    assert reverse("devices:rules") == PAGE


# --- the API ----------------------------------------------------------------------------


def test_api_list_one_set_and_reset(place):
    reader = client_for(place.carer)
    listed = reader.get(API)
    assert listed.status_code == 200
    body = {r["code"]: r for r in listed.json()}
    assert [r["code"] for r in listed.json()][:2] == ["fall", "sos"]
    bp = body["bp_high"]
    assert bp["conditions_text"] == (
        "Systolic blood pressure ≥ 180 mmHg or Diastolic blood pressure ≥ 110 mmHg"
    )
    assert (bp["severity"], bp["active"], bp["changed"], bp["critical"]) == (
        "urgent",
        True,
        False,
        False,
    )
    assert bp["default"]["conditions"][0]["value"] == 180
    assert body["sos"]["critical"] is True and body["sos"]["event"] == "sos"
    assert body["battery_low"]["unverified"] is True
    assert reader.get(f"{API}/spo2_low").json()["conditions"][0]["text"] == "SpO2 ≤ 91 %"
    assert reader.get(f"{API}/nope").status_code == 404

    writer = client_for(place.supervisor)
    response = put(
        writer, f"{API}/bp_high", {"conditions": BP_190, "severity": "critical", "reason": REASON}
    )
    assert response.status_code == 200, response.content
    got = response.json()
    assert (got["severity"], got["changed"], got["suggests_referral"]) == ("critical", True, True)
    assert [c["value"] for c in got["conditions"]] == [190, 110]
    # Fields left out stay.
    response = put(writer, f"{API}/bp_high", {"active": False, "reason": REASON})
    assert response.status_code == 200
    assert (response.json()["active"], response.json()["severity"]) == (False, "critical")
    response = post(writer, f"{API}/bp_high/reset", {"reason": REASON})
    assert response.status_code == 200
    got = response.json()
    assert (got["severity"], got["active"], got["changed"]) == ("urgent", True, False)
    assert AlertRule.objects.get(code="bp_high").conditions == BP_DEFAULT
    # The /alerts router's own paths are untouched by /alerts/rules.
    send(place.chen_bp, msg(1, "bp", {"sys": 200, "dia": 100}))
    alert = Alert.objects.get()
    assert client_for(place.carer).get(f"/api/v1/alerts/{alert.pk}").status_code == 200


@pytest.mark.parametrize(
    ("code", "payload", "status", "field"),
    [
        ("bp_high", {"severity": "severe", "reason": REASON}, 400, "severity"),
        ("bp_high", {"conditions": [BP_190[0]], "reason": REASON}, 400, "conditions"),
        ("bp_high", {"conditions": None, "reason": REASON}, 400, "conditions"),
        ("bp_high", {"conditions": BP_190}, 400, "reason"),
        ("sos", {"active": False, "reason": REASON}, 400, "active"),
        ("fall", {"severity": "warning", "reason": REASON}, 400, "severity"),
        ("device_silent", {"conditions": BP_190, "reason": REASON}, 400, "conditions"),
        ("bp_high", {"active": "maybe", "reason": REASON}, 422, "active"),
        ("nope", {"severity": "info", "reason": REASON}, 404, None),
    ],
)
def test_api_errors_change_nothing(place, code, payload, status, field):
    before = state()
    response = put(client_for(place.supervisor), f"{API}/{code}", payload)
    assert response.status_code == status, response.content
    if field is not None:
        assert response.json()["field"] == field
    assert state() == before


def test_api_permissions(place):
    before = state()
    for user in (admin(place), place.carer, place.dispatcher):
        client = client_for(user)
        assert client.get(API).status_code == 200
        assert (
            put(client, f"{API}/bp_high", {"conditions": BP_190, "reason": REASON}).status_code
            == 403
        )
        assert post(client, f"{API}/bp_high/reset", {"reason": REASON}).status_code == 403
    assessor = make_user(Role.ASSESSOR, place.net.a.county, username="assessor-a")
    assert client_for(assessor).get(API).status_code == 403
    assert client_for(assessor).get(f"{API}/bp_high").status_code == 403
    assert state() == before
