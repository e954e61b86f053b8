"""What the alert pages say (issue 12): the handling form makes the handler choose the
outcome; the board's time column is how long the alert has been open (and her age is
shown as her age); the first tier is "notified", not "escalated"; in the Chinese UI the
rule's source, the reading values and the event log read in Chinese."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from yiyang.devices.models import Alert, AlertEvent, AlertState
from yiyang.devices.tests.conftest import msg, send
from yiyang.testing.clients import client_for

pytestmark = pytest.mark.django_db

BOARD = "/devices/alerts/"


def _bp_alert(place) -> Alert:
    send(place.chen_bp, msg(1, "bp", {"sys": 186, "dia": 118, "hr": 92}))
    return Alert.objects.get(resident=place.chen, rule__code="bp_high")


def _outcome_select(html: str) -> str:
    found = re.search(r'<select name="outcome".*?</select>', html, re.DOTALL)
    assert found, "no outcome select"
    return found.group(0)


def test_the_handling_form_has_no_default_outcome(place):
    alert = _bp_alert(place)
    client = client_for(place.carer)
    page = client.get(f"/devices/alerts/{alert.pk}/").content.decode()
    select = _outcome_select(page)
    options = re.findall(r'<option value="([^"]*)"( selected)?', select)
    assert options[0] == ("", " selected")
    assert [value for value, chosen in options if chosen] == [""]
    assert "false_alarm" in [value for value, _ in options]
    # Posting without choosing changes nothing and says why.
    response = client.post(f"/devices/alerts/{alert.pk}/handle/", {"outcome": "", "note": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN and alert.outcome == ""


def test_the_board_says_how_long_the_alert_is_open_and_her_age(place):
    _bp_alert(place)
    age = place.chen.age
    en = client_for(place.carer).get(BOARD).content.decode()
    assert "<th>Open for</th>" in en and "<th>Age</th>" not in en
    assert f"{age} years" in en
    zh = client_for(place.carer, "zh-hans").get(BOARD).content.decode()
    assert "<th>已持续</th>" in zh and "<th>年龄</th>" not in zh
    assert f"{age} 岁" in zh


@pytest.mark.parametrize(
    ("level", "en", "zh"),
    [
        (1, "notified: Station staff", "已通知：服务站人员"),
        (2, "escalated: Center duty doctor and family", "已升级："),
        (3, "escalated: Dispatcher", "已升级："),
    ],
)
def test_the_first_tier_is_notified_not_escalated(place, level, en, zh):
    alert = _bp_alert(place)
    Alert.objects.filter(pk=alert.pk).update(escalation_level=level)
    board_en = client_for(place.carer).get(BOARD).content.decode()
    assert en in board_en
    board_zh = client_for(place.carer, "zh-hans").get(BOARD).content.decode()
    assert zh in board_zh
    if level == 1:
        assert "escalated" not in board_en and "已升级" not in board_zh


def test_the_chinese_alert_page_reads_in_chinese(place):
    alert = _bp_alert(place)
    AlertEvent.objects.create(
        alert=alert, at=timezone.now(), kind="notified", tier=1, detail="", recipients=[]
    )
    page = client_for(place.carer, "zh-hans").get(f"/devices/alerts/{alert.pk}/")
    text = page.content.decode()
    # The rule's source citation.
    assert "国家基本公共卫生服务规范（第三版）高血压患者健康管理：收缩压 ≥ 180" in text
    assert "urgent referral" not in text
    # The reading's values.
    assert "血压 186/118 mmHg，心率 92 次/分" in text
    assert "sys 186" not in text
    # The event log: "opened" with the summary, "notified" nobody.
    events = text[text.index('id="alert-events"') :]
    assert "血压 186/118 mmHg" in events
    assert "本级无人可通知" in events
    assert "BP 186/118" not in text and "nobody to notify" not in text


def test_the_english_alert_page_keeps_english(place):
    alert = _bp_alert(place)
    text = client_for(place.carer).get(f"/devices/alerts/{alert.pk}/").content.decode()
    assert "urgent referral at SBP ≥ 180" in text
    assert "BP 186/118 mmHg, HR 92/min" in text


def test_device_and_resident_pages_show_readings_in_chinese(place):
    _bp_alert(place)
    client = client_for(place.carer, "zh-hans")
    device = client.get(f"/devices/{place.chen_bp.pk}/").content.decode()
    assert "血压 186/118 mmHg，心率 92 次/分" in device and "sys 186" not in device
    tab = client.get(f"/devices/residents/{place.chen.pk}/alerts/").content.decode()
    assert "血压 186/118 mmHg，心率 92 次/分" in tab and "sys 186" not in tab


def test_the_api_renders_event_details_in_the_readers_language(place):
    alert = _bp_alert(place)
    client = client_for(place.carer, "zh-hans")
    events = client.get(f"/api/v1/alerts/{alert.pk}").json()["events"]
    assert events[0]["kind"] == "opened"
    assert events[0]["detail"] == "血压 186/118 mmHg，心率 92 次/分"
