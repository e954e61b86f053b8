"""Notes the system writes on an assessment (the instrument's unverified rules) are in
the reader's language: Chinese on the Chinese pages and always on the printed (Chinese)
report, English on the English pages."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django.utils import translation

from yiyang.assessments.models import Assessment
from yiyang.assessments.report_data import report_data
from yiyang.assessments.selectors import get_session_for
from yiyang.assessments.services.sessions import submit
from yiyang.assessments.tests.test_api_sessions import call, open_draft
from yiyang.assessments.tests.test_scoring import EXAMPLE_GBT
from yiyang.testing.clients import client_for

STACK_EN = (
    "changes.stack_plus_one: Whether the mental-disorder and care-risk-event +1 changes "
    "stack is not stated in the sources available; default: they stack (cap 4)."
)
STACK_ZH = (
    "changes.stack_plus_one：现有资料未说明精神障碍与照护风险事件两项“提高一级”是否叠加；"
    "默认叠加（最高4级）。"
)


def zh_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_unverified_notes_follow_the_reader_and_the_report_is_chinese(w):
    draft = open_draft(client_for(w.doctor), w)
    page = zh_client(w.doctor).get(reverse("assessments:session", args=[draft["id"]]))
    body = page.content.decode()
    assert f"<li>{STACK_ZH}</li>" in body
    assert "<li>items.*.options.anchor：选项说明摘录自公开转录文本，有删节。</li>" in body
    assert "Whether the mental-disorder" not in body
    english = client_for(w.doctor).get(reverse("assessments:session", args=[draft["id"]]))
    assert f"<li>{STACK_EN}</li>" in english.content.decode()

    call(
        client_for(w.doctor), "patch", f"/sessions/{draft['id']}/answers", {"answers": EXAMPLE_GBT}
    )
    submit(w.doctor, draft["id"], cosigned_by=w.nurse)
    with translation.override("en"):  # the reader's screen is English; the report is not
        data = report_data(get_session_for(w.doctor, draft["id"]))
    assert f"未核实规则：{STACK_ZH}" in data.notes
    assert not [n for n in data.notes if "Whether" in n or "Anchor descriptions" in n]
    assert Assessment.objects.get(pk=draft["id"]).result is not None
