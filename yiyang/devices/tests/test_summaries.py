"""An alert's summary is rendered in the reader's language from its facts: on the board,
in the API and in the notifications (the stored ``summary`` is the English rendering)."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone, translation

from yiyang.common.permissions import Role
from yiyang.devices import news2, summaries
from yiyang.devices.models import Alert, Device
from yiyang.devices.services import escalation, timers
from yiyang.devices.tests.conftest import msg, send
from yiyang.notifications.topics import render
from yiyang.testing.network import make_user


def both(facts) -> tuple[str, str]:
    return summaries.render_in(facts, "en"), summaries.render_in(facts, "zh-hans")


@pytest.mark.parametrize(
    ("kind", "values", "en", "zh"),
    [
        ("bp", {"sys": 186.0, "dia": 118.0, "hr": 92.0}, "BP 186/118 mmHg, HR 92/min",
         "血压 186/118 mmHg，心率 92 次/分"),
        ("bp", {"sys": 88.0, "dia": 60.0}, "BP 88/60 mmHg", "血压 88/60 mmHg"),
        ("glucose", {"mmol": 2.8, "context": "fasting"}, "Glucose 2.8 mmol/L (fasting)",
         "血糖 2.8 mmol/L（空腹）"),
        ("glucose", {"mmol": 16.7, "context": "postprandial"},
         "Glucose 16.7 mmol/L (postprandial)", "血糖 16.7 mmol/L（餐后）"),
        ("spo2", {"spo2": 88.0, "hr": 120.0}, "SpO2 88%, HR 120/min", "血氧 88%，心率 120 次/分"),
        ("temp", {"c": 39.1}, "Temperature 39.1 °C", "体温 39.1 °C"),
        ("hr", {"hr": 38.0}, "HR 38/min", "心率 38 次/分"),
        ("weight", {"kg": 61.5}, "Weight 61.5 kg", "体重 61.5 kg"),
        ("battery", {"pct": 12}, "Battery 12%", "电量 12%"),
        ("sos", {}, "SOS pressed", "按下 SOS 呼救"),
        ("fall", {}, "Fall detected", "检测到跌倒"),
    ],
)  # fmt: skip
def test_each_reading_kind_in_both_languages(kind, values, en, zh):
    assert both(summaries.reading_facts(kind, values)) == (en, zh)


def test_a_silent_device_in_both_languages():
    since = datetime.datetime(2026, 11, 22, 2, 0, tzinfo=datetime.UTC)  # 10:00 in Shanghai
    facts = summaries.silence_facts("BP-1", "bp_monitor", since, 30)
    en, zh = both(facts)
    assert en == (
        "Device BP-1 (Blood-pressure monitor) silent since 2026-11-22 10:00; expected every 30 min"
    )
    assert zh == "设备 BP-1（血压计）自 2026-11-22 10:00 起无数据；应每 30 分钟上报一次"


def test_a_news2_score_in_both_languages():
    scored = news2.score({"spo2": 91, "sbp": 95, "pulse": 125})
    en, zh = both(summaries.news2_facts(scored))
    assert en == (
        "NEWS2 ≥ 7 (high; SpO2 91 (3), SBP 95 (2), pulse 125 (2); RR, ACVPU, O2 not measured)"
    )
    assert zh == (
        "NEWS2 ≥ 7（高；血氧 91 (3)、收缩压 95 (2)、脉搏 125 (2)；未测呼吸频率、意识水平、吸氧）"
    )


def test_unknown_or_broken_facts_render_nothing_and_the_stored_text_is_shown():
    assert summaries.render({}) == "" and summaries.render(None) == ""
    assert summaries.render({"kind": "bp", "values": {"sys": 1}}) == ""  # no dia
    alert = Alert(summary="old text", facts={})
    assert alert.summary_text == "old text"


def test_an_alert_keeps_its_facts_and_shows_them_in_the_readers_language(home):
    send(home.device, msg(1, "glucose", {"mmol": 2.8, "context": "fasting"}))
    alert = Alert.objects.get()
    assert alert.facts == {"kind": "glucose", "values": {"mmol": 2.8, "context": "fasting"}}
    assert alert.summary == "Glucose 2.8 mmol/L (fasting)"  # the English rendering, stored
    with translation.override("zh-hans"):
        assert alert.summary_text == "血糖 2.8 mmol/L（空腹）"

    supervisor = make_user(Role.SUPERVISOR, "all", username="sup")
    client = Client()
    client.force_login(supervisor)
    zh = client.get("/api/v1/alerts", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["items"]
    en = client.get("/api/v1/alerts", HTTP_ACCEPT_LANGUAGE="en").json()["items"]
    assert [a["summary"] for a in zh] == ["血糖 2.8 mmol/L（空腹）"]
    assert [a["summary"] for a in en] == ["Glucose 2.8 mmol/L (fasting)"]
    assert zh[0]["facts"]["kind"] == "glucose"
    page = client.get("/devices/alerts/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "血糖 2.8 mmol/L（空腹）" in page.content.decode()


def test_a_folded_trigger_updates_the_facts(home):
    send(home.device, msg(1, "bp", {"sys": 182, "dia": 100}))
    send(home.device, msg(2, "bp", {"sys": 195, "dia": 112}))
    alert = Alert.objects.get()
    assert alert.count == 2 and alert.facts["values"]["sys"] == 195
    assert alert.summary == "BP 195/112 mmHg"


def test_notifications_say_the_summary_in_their_readers_language(home):
    send(home.device, msg(1, "sos", {}))
    alert = Alert.objects.get()
    params = escalation.params_of(alert, home.resident.name, 1)
    with translation.override("zh-hans"):
        assert render(escalation.TOPIC, params)[1] == "按下 SOS 呼救"
    with translation.override("en"):
        assert render(escalation.TOPIC, params)[1] == "SOS pressed"


def test_a_silence_alert_has_facts(home):
    device = Device.objects.get(pk=home.device.pk)
    device.expected_interval_minutes = 30
    device.last_seen_at = timezone.now() - datetime.timedelta(hours=3)
    device.save()
    timers.check_silence()
    alert = Alert.objects.get(device=device)
    assert alert.facts["kind"] == "silent" and alert.facts["serial"] == device.serial
    with translation.override("zh-hans"):
        assert alert.summary_text.startswith(f"设备 {device.serial}（")


def test_older_alert_notifications_get_both_summaries_from_their_text(home):
    import importlib

    from django.apps import apps

    from yiyang.notifications.models import Notification

    migration = importlib.import_module(
        "yiyang.devices.migrations.0008_alert_notification_summaries"
    )
    user = make_user(Role.NURSE, "all", username="nurse-old")
    old = {
        "severity_en": "Urgent",
        "severity_zh": "紧急",
        "rule_en": "Low glucose",
        "rule_zh": "低血糖",
        "resident": "陈秀英",
        "summary": "Glucose 2.8 mmol/L (fasting)",
    }
    row = Notification.objects.create(recipient=user, topic=escalation.TOPIC, params=old)
    other = Notification.objects.create(
        recipient=user, topic="other.topic", params={"summary": "x"}
    )
    migration.forwards(apps, None)
    row.refresh_from_db()
    other.refresh_from_db()
    assert row.params["summary_en"] == row.params["summary_zh"] == old["summary"]
    assert other.params == {"summary": "x"}
    with translation.override("zh-hans"):
        assert render(escalation.TOPIC, row.params)[1] == "Glucose 2.8 mmol/L (fasting)"
