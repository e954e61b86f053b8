"""A resident's own alert thresholds: the services (``yiyang.devices.services.overrides``), the page
(``/devices/residents/<pk>/thresholds/``) and the API (``/api/v1/alerts/residents/…``),
with permissions and scope, bad input that changes nothing, and the end-to-end effect on
alerts raised by readings that go through ingestion."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import translation

from yiyang.audit.models import AuditEvent
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.devices.models import Alert, AlertRule, ResidentRule
from yiyang.devices.services import overrides
from yiyang.devices.tests.conftest import msg, send
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.django_db

COPD = [{"metric": "spo2.spo2", "op": "lt", "value": 88}]
REASON = "COPD: target SpO2 88–92 %"


def nurse(place):
    """A nurse of the team serving Chen's grid."""
    return make_user(Role.NURSE, place.team, username="nurse-team1")


def url(place, resident=None) -> str:
    return reverse("devices:resident_thresholds", args=[(resident or place.chen).pk])


def api(resident, code: str = "") -> str:
    base = f"/api/v1/alerts/residents/{resident.pk}/rules"
    return f"{base}/{code}" if code else base


def put(client, path: str, body: dict):
    return client.put(path, json.dumps(body), content_type="application/json")


def alert_codes(resident) -> list[str]:
    return sorted(Alert.objects.filter(resident=resident).values_list("rule__code", flat=True))


def overrides_now() -> list[tuple]:
    return list(
        ResidentRule.objects.order_by("pk").values_list(
            "resident_id", "rule__code", "conditions", "disabled", "reason"
        )
    )


# --- services ---------------------------------------------------------------------------


def test_copd_target_end_to_end(place):
    """Her SpO2 override to < 88: 90 and 88 raise nothing, 86 does; another resident keeps
    the default; reset brings the default back."""
    user = nurse(place)
    override = overrides.set_override(user, place.chen, "spo2_low", conditions=COPD, reason=REASON)
    assert (override.conditions, override.disabled, override.reason) == (COPD, False, REASON)
    assert override.set_by == user
    send(place.chen_bp, msg(1, "spo2", {"spo2": 90}))
    send(place.chen_bp, msg(2, "spo2", {"spo2": 88}))
    assert alert_codes(place.chen) == []
    send(place.wang_bp, msg(1, "spo2", {"spo2": 90}))
    assert alert_codes(place.wang) == ["spo2_low"]
    send(place.chen_bp, msg(3, "spo2", {"spo2": 86}))
    assert alert_codes(place.chen) == ["spo2_low"]
    Alert.objects.all().delete()
    assert overrides.clear_override(user, place.chen, "spo2_low") is True
    assert not ResidentRule.objects.exists()
    send(place.chen_bp, msg(4, "spo2", {"spo2": 90}))
    assert alert_codes(place.chen) == ["spo2_low"]
    assert overrides.clear_override(user, place.chen, "spo2_low") is False


def test_disabling_a_rule_stops_it_for_her_alone(place):
    doctor = make_user(Role.DOCTOR, place.net.a.county, username="doctor-a")
    overrides.set_override(doctor, place.chen, "bp_high", disabled=True, reason="palliative care")
    send(place.chen_bp, msg(1, "bp", {"sys": 195, "dia": 115}))
    send(place.wang_bp, msg(1, "bp", {"sys": 195, "dia": 115}))
    assert alert_codes(place.chen) == []
    assert alert_codes(place.wang) == ["bp_high"]
    # Switched back on with her own thresholds: those apply.
    overrides.set_override(
        doctor,
        place.chen,
        "bp_high",
        conditions=[
            {"metric": "bp.sys", "op": "ge", "value": 200},
            {"metric": "bp.dia", "op": "ge", "value": 120},
        ],
        reason="target agreed with the family",
    )
    assert ResidentRule.objects.get().disabled is False
    send(place.chen_bp, msg(2, "bp", {"sys": 195, "dia": 115}))
    assert alert_codes(place.chen) == []
    send(place.chen_bp, msg(3, "bp", {"sys": 150, "dia": 121}))
    assert alert_codes(place.chen) == ["bp_high"]


def test_setting_and_clearing_are_audited_with_before_and_after(place):
    user = nurse(place)
    first = overrides.set_override(user, place.chen, "spo2_low", conditions=COPD, reason=REASON)
    overrides.set_override(user, place.chen, "spo2_low", disabled=True, reason="on hospice")
    overrides.clear_override(user, place.chen, "spo2_low")
    events = list(
        AuditEvent.objects.filter(action__startswith="devices.resident_rule.").order_by("seq")
    )
    assert [e.action for e in events] == [
        "devices.resident_rule.create",
        "devices.resident_rule.update",
        "devices.resident_rule.delete",
    ]
    assert all(e.actor_username == "nurse-team1" for e in events)
    assert all(e.object_id == str(first.pk) for e in events)
    assert events[0].details == {
        "resident": place.chen.pk,
        "rule": "spo2_low",
        "before": None,
        "after": {"conditions": COPD, "disabled": False, "reason": REASON},
    }
    assert events[1].details["before"] == {"conditions": COPD, "disabled": False, "reason": REASON}
    assert events[1].details["after"] == {
        "conditions": [],
        "disabled": True,
        "reason": "on hospice",
    }
    assert events[2].details["after"] is None
    assert events[2].details["before"]["reason"] == "on hospice"


def test_rules_for_resident_lists_every_active_rule_with_hers(place):
    user = nurse(place)
    overrides.set_override(user, place.chen, "spo2_low", conditions=COPD, reason=REASON)
    AlertRule.objects.filter(code="battery_low").update(active=False)
    rows = overrides.rules_for_resident(user, place.chen)
    codes = [r.rule.code for r in rows]
    assert codes[:2] == ["fall", "sos"]  # critical first
    assert (
        "battery_low" not in codes and len(codes) == AlertRule.objects.filter(active=True).count()
    )
    spo2 = next(r for r in rows if r.rule.code == "spo2_low")
    assert spo2.override is not None and spo2.conditions == COPD and not spo2.disabled
    bp = next(r for r in rows if r.rule.code == "bp_high")
    assert bp.override is None and bp.conditions == bp.rule.conditions
    assert next(r for r in rows if r.rule.code == "sos").critical
    # Wang's rules are the defaults (a county doctor sees her; a pk works too).
    doctor = make_user(Role.DOCTOR, place.net.a.county, username="doctor-a")
    assert all(r.override is None for r in overrides.rules_for_resident(doctor, place.wang.pk))


def test_conditions_in_words():
    bp = [
        {"metric": "bp.sys", "op": "ge", "value": 180},
        {"metric": "bp.dia", "op": "ge", "value": 110},
    ]
    with translation.override("en"):
        assert overrides.describe(bp) == (
            "Systolic blood pressure ≥ 180 mmHg or Diastolic blood pressure ≥ 110 mmHg"
        )
        assert overrides.describe(COPD) == "SpO2 < 88 %"
        assert overrides.describe([{"metric": "hr", "op": "le", "value": 40}]) == (
            "Heart rate ≤ 40 /min"
        )
        assert overrides.describe([]) == ""
    with translation.override("zh-hans"):
        assert overrides.describe(bp[:1]) == "收缩压 ≥ 180 mmHg"
        assert overrides.describe([{"metric": "temp.c", "op": "gt", "value": 39.0}]) == (
            "体温 > 39.0 °C"
        )


BAD = [
    (
        "spo2_low",
        {"conditions": [{"metric": "glucose.mmol", "op": "le", "value": 3}]},
        "conditions",
        "invalid",
    ),  # fmt: skip
    ("spo2_low", {"conditions": "spo2 < 88"}, "conditions", "invalid"),
    (
        "spo2_low",
        {"conditions": [{"metric": "spo2.spo2", "op": "eq", "value": 88}]},
        "conditions",
        "invalid",
    ),  # fmt: skip
    (
        "spo2_low",
        {"conditions": [{"metric": "spo2.spo2", "op": "lt", "value": "88"}]},
        "conditions",
        "invalid",
    ),  # fmt: skip
    (
        "spo2_low",
        {"conditions": [{"metric": "spo2.spo2", "op": "lt", "value": 8}]},
        "conditions",
        "out_of_range",
    ),  # fmt: skip
    (
        "spo2_low",
        {"conditions": [{"metric": "spo2.spo2", "op": "lt", "value": float("nan")}]},
        "conditions",
        "out_of_range",
    ),  # fmt: skip
    ("spo2_low", {"conditions": []}, "conditions", "required"),
    ("spo2_low", {}, "conditions", "required"),
    ("spo2_low", {"conditions": COPD, "reason": "  "}, "reason", "required"),
    ("spo2_low", {"conditions": COPD, "reason": "x" * 256}, "reason", "too_long"),
    ("spo2_low", {"disabled": "yes"}, "disabled", "invalid"),
    ("sos", {"disabled": True}, "disabled", "critical_rule"),
    ("fall", {"disabled": True}, "disabled", "critical_rule"),
    ("fall", {"conditions": COPD}, "conditions", "critical_rule"),
    (
        "device_silent",
        {"conditions": [{"metric": "battery.pct", "op": "le", "value": 5}]},
        "conditions",
        "invalid",
    ),  # fmt: skip
    (
        "news2",
        {"conditions": [{"metric": "spo2.spo2", "op": "le", "value": 85}]},
        "conditions",
        "invalid",
    ),  # fmt: skip
    (
        "news2",
        {"conditions": [{"metric": "news2.total", "op": "ge", "value": 25}]},
        "conditions",
        "out_of_range",
    ),  # fmt: skip
]


@pytest.mark.parametrize(("code", "values", "field", "error"), BAD)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    place,
    code,
    values,
    field,
    error,
):
    user = nurse(place)
    # She already has overrides: a refused change must leave them as they were.
    overrides.set_override(user, place.chen, "spo2_low", conditions=COPD, reason=REASON)
    overrides.set_override(user, place.chen, "news2", disabled=True, reason="end of life")
    before, audited = overrides_now(), AuditEvent.objects.count()
    kwargs = {"reason": "because", **values}
    with pytest.raises(ValidationFailed) as refused:
        overrides.set_override(user, place.chen, code, **kwargs)
    assert (refused.value.field, refused.value.code) == (field, error)
    assert refused.value.detail
    assert overrides_now() == before
    assert AuditEvent.objects.count() == audited


def test_critical_rules_say_why(place):
    user = nurse(place)
    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        overrides.set_override(user, place.chen, "sos", disabled=True, reason="x")
    assert "SOS pressed alerts are critical" in refused.value.detail
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as refused:
        overrides.set_override(user, place.chen, "fall", conditions=COPD, reason="x")
    assert refused.value.detail.startswith("跌倒")


def test_allowed_special_cases(place):
    user = nurse(place)
    silent = overrides.set_override(
        user, place.chen, "device_silent", disabled=True, reason="device kept in a drawer"
    )
    assert silent.disabled and silent.conditions == []
    news2 = overrides.set_override(
        user,
        place.chen,
        "news2",
        conditions=[
            {"metric": "news2.total", "op": "ge", "value": 7},
            {"metric": "news2.max", "op": "ge", "value": 3},
        ],
        reason="chronic hypoxia: raise the NEWS2 trigger",
    )
    assert [c["metric"] for c in news2.conditions] == ["news2.total", "news2.max"]
    # Her own thresholds may be kept on a rule switched off.
    off = overrides.set_override(
        user, place.chen, "spo2_low", conditions=COPD, disabled=True, reason=REASON
    )
    assert off.disabled and off.conditions == COPD


def test_permissions_and_scope(place):
    before = overrides_now()
    # A caregiver sees health data but does not set thresholds.
    with pytest.raises(PermissionDenied):
        overrides.set_override(place.carer, place.chen, "spo2_low", conditions=COPD, reason="x")
    with pytest.raises(PermissionDenied):
        overrides.clear_override(place.carer, place.chen, "spo2_low")
    assert len(overrides.rules_for_resident(place.carer, place.chen)) > 0
    # A supervisor sees devices, not her health record.
    with pytest.raises(PermissionDenied):
        overrides.rules_for_resident(place.supervisor, place.chen)
    # Another team's nurse and another county's: as if she did not exist.
    for outsider in (place.nurse2, place.outsider):
        with pytest.raises(NotFound):
            overrides.set_override(outsider, place.chen, "spo2_low", conditions=COPD, reason="x")
        with pytest.raises(NotFound):
            overrides.clear_override(outsider, place.chen.pk, "spo2_low")
        with pytest.raises(NotFound):
            overrides.rules_for_resident(outsider, place.chen)
    # An unknown or inactive rule.
    AlertRule.objects.filter(code="battery_low").update(active=False)
    user = nurse(place)
    for rule in ("no_such_rule", "battery_low", 999999, None, True):
        with pytest.raises(NotFound):
            overrides.set_override(user, place.chen, rule, disabled=True, reason="x")
    assert overrides_now() == before


# --- the page ---------------------------------------------------------------------------


def test_the_tab_links_to_the_page_and_the_page_shows_the_rules(place):
    user = nurse(place)
    overrides.set_override(user, place.chen, "spo2_low", conditions=COPD, reason=REASON)
    client = client_for(user)
    tab = client.get(reverse("devices:resident_alerts", args=[place.chen.pk])).content.decode()
    assert f'href="{url(place)}"' in tab
    page = client.get(url(place))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="resident-tabs"' in html  # inside the resident page
    row = html.split('id="threshold-spo2_low"')[1].split("</tr>")[0]
    assert "Low oxygen saturation" in row and "SpO2 ≤ 91 %" in row and "SpO2 &lt; 88 %" in row
    bp = html.split('id="threshold-bp_high"')[1].split("</tr>")[0]
    assert "Systolic blood pressure ≥ 180 mmHg or Diastolic blood pressure ≥ 110 mmHg" in bp
    assert REASON in html and "nurse-team1" in html
    # A form per rule except SOS and fall, which say why.
    assert 'id="threshold-form-bp_high"' in html and 'id="threshold-form-device_silent"' in html
    assert 'id="threshold-form-sos"' not in html and 'id="threshold-form-fall"' not in html
    assert "cannot be switched off or changed" in html
    assert 'name="bp_high-value_0"' in html and 'name="bp_high-value_1"' in html
    assert 'name="device_silent-value_0"' not in html
    # Her "< 88" (set through the API) does not fit the "≤" form: the page says so.
    assert 'id="threshold-other-shape-spo2_low"' in html
    assert 'id="threshold-other-shape-bp_high"' not in html
    assert "csrfmiddlewaretoken" in html
    # htmx gets the fragment.
    fragment = client.get(url(place), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="resident-thresholds"' in fragment and 'id="resident-tabs"' not in fragment
    # In Chinese.
    zh = client_for(user, "zh-hans").get(url(place)).content.decode()
    assert "收缩压 ≥ 180 mmHg" in zh and "血糖危急升高" in zh


def test_saving_and_resetting_on_the_page(place):
    client = client_for(nurse(place))
    saved = client.post(
        url(place),
        {
            "rule": "spo2_low",
            "action": "save",
            "spo2_low-value_0": "87",
            "spo2_low-reason": REASON,
        },
    )
    assert saved.status_code == 302 and saved["Location"] == url(place)
    [override] = ResidentRule.objects.all()
    assert override.conditions == [{"metric": "spo2.spo2", "op": "le", "value": 87}]
    assert override.resident == place.chen and override.reason == REASON
    html = client.get(url(place)).content.decode()
    assert "her own setting was saved" in html
    assert "SpO2 ≤ 87 %" in html.split('id="threshold-spo2_low"')[1].split("</tr>")[0]
    assert 'value="87"' in html  # the form shows her number
    # A decimal threshold stays a decimal; switching off keeps the numbers.
    client.post(
        url(place),
        {
            "rule": "glucose_low",
            "spo2_low-value_0": "87",  # another rule's field: ignored
            "glucose_low-value_0": "3.5",
            "glucose_low-disabled": "on",
            "glucose_low-reason": "frail, eats little",
        },
    )
    glucose = ResidentRule.objects.get(rule__code="glucose_low")
    assert glucose.disabled and glucose.conditions[0]["value"] == 3.5
    # Switching off alone (the default numbers) stores no conditions.
    client.post(
        url(place),
        {
            "rule": "device_silent",
            "action": "save",
            "device_silent-disabled": "on",
            "device_silent-reason": "charges at night",
        },
    )
    assert ResidentRule.objects.get(rule__code="device_silent").conditions == []
    # Reset: back to the default (no reason needed).
    reset = client.post(url(place), {"rule": "spo2_low", "action": "reset"})
    assert reset.status_code == 302
    assert not ResidentRule.objects.filter(rule__code="spo2_low").exists()
    assert "back to the default" in client.get(url(place)).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"spo2_low-value_0": "91", "spo2_low-reason": REASON}, "Give her own thresholds"),
        ({"spo2_low-value_0": "87", "spo2_low-reason": ""}, "This field is required"),
        ({"spo2_low-value_0": "abc", "spo2_low-reason": REASON}, "Enter a number"),
        ({"spo2_low-value_0": "30", "spo2_low-reason": REASON}, "must be between 50 and 100"),
    ],
)
def test_a_refused_form_shows_why_and_changes_nothing(place, data, message):
    client = client_for(nurse(place))
    audited = AuditEvent.objects.filter(action__startswith="devices.resident_rule").count()
    page = client.post(url(place), {"rule": "spo2_low", "action": "save", **data})
    assert page.status_code == 200
    form = page.content.decode().split('id="threshold-form-spo2_low"')[1].split("</form>")[0]
    assert message in form
    assert not ResidentRule.objects.exists()
    assert AuditEvent.objects.filter(action__startswith="devices.resident_rule").count() == audited


def test_sos_cannot_be_switched_off_on_the_page(place):
    client = client_for(nurse(place))
    page = client.post(
        url(place), {"rule": "sos", "action": "save", "sos-disabled": "on", "sos-reason": "x"}
    )
    assert page.status_code == 200
    assert "every SOS and every fall must reach someone" in page.content.decode()
    assert not ResidentRule.objects.exists()


def test_page_access(place):
    # A caregiver sees the rules, without forms, and cannot post.
    carer = client_for(place.carer)
    html = carer.get(url(place)).content.decode()
    assert 'id="threshold-spo2_low"' in html and "threshold-form-" not in html
    data = {"rule": "spo2_low", "spo2_low-value_0": "87", "spo2_low-reason": REASON}
    assert carer.post(url(place), data).status_code == 403
    # Devices without health record, and out of scope.
    assert client_for(place.supervisor).get(url(place)).status_code == 403
    assert client_for(place.nurse2).get(url(place)).status_code == 404
    assert client_for(place.outsider).post(url(place), data).status_code == 404
    # An unknown rule.
    assert client_for(nurse(place)).post(url(place), {**data, "rule": "nope"}).status_code == 404
    assert not ResidentRule.objects.exists()


# --- the API ----------------------------------------------------------------------------


def test_api_list_set_and_clear(place):
    client = client_for(nurse(place))
    listed = client.get(api(place.chen))
    assert listed.status_code == 200
    rows = {r["rule"]["code"]: r for r in listed.json()}
    spo2 = rows["spo2_low"]
    assert spo2["override"] is None and spo2["disabled"] is False
    assert spo2["rule"]["conditions"] == [
        {"metric": "spo2.spo2", "op": "le", "value": 91, "text": "SpO2 ≤ 91 %"}
    ]
    assert spo2["rule"]["name"] == "Low oxygen saturation" and rows["sos"]["critical"] is True
    set_ = put(client, api(place.chen, "spo2_low"), {"conditions": COPD, "reason": REASON})
    assert set_.status_code == 200, set_.content
    body = set_.json()
    assert body["override"]["conditions_text"] == "SpO2 < 88 %"
    assert body["override"]["set_by"] == "nurse-team1" and body["override"]["reason"] == REASON
    assert body["conditions"][0]["value"] == 88 and body["disabled"] is False
    off = put(client, api(place.chen, "bp_low"), {"disabled": True, "reason": "runs low"})
    assert off.status_code == 200 and off.json()["disabled"] is True
    assert {r["rule"]["code"] for r in client.get(api(place.chen)).json() if r["override"]} == {
        "spo2_low",
        "bp_low",
    }
    assert client.delete(api(place.chen, "spo2_low")).status_code == 204
    assert list(ResidentRule.objects.values_list("rule__code", flat=True)) == ["bp_low"]
    assert client.delete(api(place.chen, "spo2_low")).status_code == 204  # already default


def test_api_errors_change_nothing(place):
    client = client_for(nurse(place))
    put(client, api(place.chen, "spo2_low"), {"conditions": COPD, "reason": REASON})
    before = overrides_now()
    wrong = put(
        client,
        api(place.chen, "spo2_low"),
        {"conditions": [{"metric": "glucose.mmol", "op": "le", "value": 3}], "reason": "x"},
    )
    assert wrong.status_code == 400
    assert wrong.json()["field"] == "conditions" and "Blood glucose" in wrong.json()["detail"]
    no_reason = put(client, api(place.chen, "spo2_low"), {"disabled": True})
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    sos = put(client, api(place.chen, "sos"), {"disabled": True, "reason": "x"})
    assert sos.status_code == 400 and sos.json()["code"] == "critical_rule"
    bad_type = put(client, api(place.chen, "spo2_low"), {"disabled": "maybe", "reason": "x"})
    assert bad_type.status_code == 422
    assert (
        put(client, api(place.chen, "nope"), {"disabled": True, "reason": "x"}).status_code == 404
    )
    assert overrides_now() == before


def test_api_permissions_and_scope(place):
    put(client_for(nurse(place)), api(place.chen, "spo2_low"), {"conditions": COPD, "reason": "x"})
    before = overrides_now()
    carer = client_for(place.carer)
    assert carer.get(api(place.chen)).status_code == 200
    assert (
        put(carer, api(place.chen, "spo2_low"), {"disabled": True, "reason": "x"}).status_code
        == 403
    )
    assert carer.delete(api(place.chen, "spo2_low")).status_code == 403
    assert client_for(place.supervisor).get(api(place.chen)).status_code == 403
    outsider = client_for(place.outsider)
    assert outsider.get(api(place.chen)).status_code == 404
    refused = put(outsider, api(place.chen, "spo2_low"), {"disabled": True, "reason": "x"})
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert outsider.delete(api(place.chen, "spo2_low")).status_code == 404
    assert overrides_now() == before
