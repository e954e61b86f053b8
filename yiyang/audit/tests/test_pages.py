"""The audit pages: audit administrators only, filters, keyset pages, htmx, CSV, verify."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.conf import settings
from django.urls import reverse

from yiyang.audit.models import AuditEvent
from yiyang.audit.services import record
from yiyang.network.models import Region

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timedelta(hours=8)


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-seq").first()


def seqs_in(response) -> list[int]:
    return [e.seq for e in response.context["result"].items]


@pytest.fixture
def trail(auditor, doctor) -> list[AuditEvent]:
    """Six events by two actors with different actions, objects and outcomes."""
    region = Region.objects.create(code="410000000000", name="河南省", level="province")
    return [
        record(
            actor=doctor,
            action="network.staff.read",
            object_type="network.staff",
            object_id=7,
            object_repr="王建国",
        ),
        record(actor=doctor, action="network.institution.update", obj=region),
        record(actor=auditor, action="audit.browse"),
        record(
            actor=doctor,
            action="network.staff.read",
            object_type="network.staff",
            object_id=8,
            object_repr="=cmd|' /C calc'!A0",
            outcome="denied",
        ),
        record(actor=None, action="auth.login", outcome="failure", details={"username": "张三"}),
        record(actor=doctor, action="network.staffing.update"),
    ]


@pytest.mark.parametrize(
    "name,args",
    [("audit:events", []), ("audit:event_detail", [1]), ("audit:export", []), ("audit:verify", [])],
)
def test_only_audit_admins_reach_the_pages(client, auditor, doctor, trail, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('web:login')}?next={url}"

    client.force_login(doctor)
    assert client.get(url).status_code == 403
    before = AuditEvent.objects.count()
    client.force_login(auditor)
    assert client.get(url).status_code == 200
    # browse, detail and export record themselves; the verify form page does not.
    assert AuditEvent.objects.count() == before + (0 if name == "audit:verify" else 1)


def test_browse_lists_newest_first_and_records_itself(client, auditor, trail):
    client.force_login(auditor)
    response = client.get(reverse("audit:events"))
    assert response.status_code == 200
    assert seqs_in(response) == [6, 5, 4, 3, 2, 1]
    assert "王建国" in response.content.decode()
    assert '<span class="muted">Audit administrator</span>' in response.content.decode()
    event = last_event()
    assert (event.seq, event.action, event.actor_username) == (7, "audit.browse", "auditor")
    assert event.details == {"filter": {}, "rows": 6}


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"actor": "DOCTOR"}, [6, 4, 2, 1]),
        ({"action": "network.staff"}, [6, 4, 1]),
        ({"action": "network.staff."}, [4, 1]),
        ({"object_type": "network.staff", "object_id": "8"}, [4]),
        ({"outcome": "denied"}, [4]),
        ({"outcome": "failure", "actor": ""}, [5]),
        ({"actor": "doctor", "action": "network.institution"}, [2]),
    ],
)
def test_browse_filters(client, auditor, trail, query, expected):
    client.force_login(auditor)
    response = client.get(reverse("audit:events"), query)
    assert seqs_in(response) == expected
    assert last_event().details["filter"] == {k: v for k, v in query.items() if v}


def test_date_filter_uses_shanghai_days(client, auditor, trail):
    client.force_login(auditor)
    today = (trail[0].at + SHANGHAI).date()
    response = client.get(reverse("audit:events"), {"date_from": today, "date_to": today})
    assert seqs_in(response) == [6, 5, 4, 3, 2, 1]
    tomorrow = today + datetime.timedelta(days=1)
    response = client.get(reverse("audit:events"), {"date_from": tomorrow})
    assert seqs_in(response) == []
    yesterday = today - datetime.timedelta(days=1)
    response = client.get(reverse("audit:events"), {"date_to": yesterday})
    assert seqs_in(response) == []


def test_bad_filters_are_explained_and_nothing_is_listed(client, auditor, trail):
    client.force_login(auditor)
    before = AuditEvent.objects.count()
    response = client.get(
        reverse("audit:events"), {"date_from": "2026-03-02", "date_to": "2026-03-01"}
    )
    assert response.status_code == 200
    assert response.context["result"] is None
    assert response.context["form"].errors == {
        "date_to": ["The end date is before the start date."]
    }
    response = client.get(reverse("audit:events"), {"outcome": "lost"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["outcome"]
    assert 'id="audit-filter-errors"' in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_keyset_pages_of_fifty(client, auditor):
    for i in range(120):
        record(actor=None, action=f"test.{i}")
    client.force_login(auditor)
    first = client.get(reverse("audit:events"), {"action": "test."})
    page = first.context["result"]
    assert seqs_in(first) == list(range(120, 70, -1))
    assert (page.newer, page.older) == (None, 71)
    second = client.get(reverse("audit:events"), {"action": "test.", "before": 71})
    assert seqs_in(second) == list(range(70, 20, -1))
    assert (second.context["result"].newer, second.context["result"].older) == (70, 21)
    third = client.get(reverse("audit:events"), {"action": "test.", "before": 21})
    assert seqs_in(third) == list(range(20, 0, -1))
    assert (third.context["result"].newer, third.context["result"].older) == (20, None)
    back = client.get(reverse("audit:events"), {"action": "test.", "after": 70})
    assert seqs_in(back) == list(range(120, 70, -1))
    assert (back.context["result"].newer, back.context["result"].older) == (None, 71)
    assert 'href="?action=test.&amp;before=71"' in first.content.decode()


def test_htmx_gets_the_results_fragment_only(client, auditor, trail):
    client.force_login(auditor)
    response = client.get(reverse("audit:events"), {"outcome": "denied"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith('<div id="audit-results">')
    assert "<html" not in body
    assert seqs_in(response) == [4]
    assert 'href="/audit/export.csv?outcome=denied"' in body  # export follows the filters


def test_times_are_shown_in_shanghai(client, auditor, trail):
    client.force_login(auditor)
    response = client.get(reverse("audit:events"))
    shown = (trail[0].at + SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    assert f"<td>{shown}</td>" in response.content.decode()


def test_detail_shows_the_event_and_records_the_view(client, auditor, trail):
    client.force_login(auditor)
    response = client.get(reverse("audit:event_detail", args=[5]))
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["event"].seq == 5
    assert response.context["intact"] is True
    assert "&quot;username&quot;: &quot;张三&quot;" in body
    event = last_event()
    assert (event.action, event.object_type, event.object_id) == (
        "audit.browse",
        "audit.auditevent",
        "5",
    )
    assert client.get(reverse("audit:event_detail", args=[99])).status_code == 404


def test_detail_flags_an_edited_row(client, auditor, trail, attacker):
    attacker("UPDATE audit_auditevent SET object_repr = 'someone else' WHERE seq = 1")
    client.force_login(auditor)
    response = client.get(reverse("audit:event_detail", args=[1]))
    assert response.context["intact"] is False
    assert "this row was changed" in response.content.decode()


def read_csv(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_export_streams_utf8_csv_with_the_same_filters(client, auditor, trail):
    client.force_login(auditor)
    response = client.get(reverse("audit:export"), {"actor": "doctor", "action": "network.staff."})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = read_csv(response)
    assert rows[0][:5] == ["Seq", "Time (Asia/Shanghai)", "Actor", "Role", "Action"]
    assert [r[0] for r in rows[1:]] == ["4", "1"]
    assert rows[2][1] == (trail[0].at + SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    assert rows[2][2:9] == [
        "doctor",
        "doctor",
        "network.staff.read",
        "network.staff",
        "7",
        "王建国",
        "success",
    ]
    assert rows[1][7] == "'=cmd|' /C calc'!A0"  # a formula is not run by the spreadsheet
    assert rows[2][14] == trail[0].hash
    event = AuditEvent.objects.get(action="audit.export")
    assert event.details == {"filter": {"actor": "doctor", "action": "network.staff."}}


def test_export_in_chinese_keeps_chinese_text(client, auditor, trail):
    client.force_login(auditor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(reverse("audit:export"), {"outcome": "failure"})
    rows = read_csv(response)
    assert rows[0][:3] == ["序号", "时间（北京时间）", "操作人"]
    assert len(rows) == 2
    assert rows[1][12] == '{"username": "张三"}'


def test_export_with_bad_filters_is_refused(client, auditor, trail):
    client.force_login(auditor)
    response = client.get(reverse("audit:export"), {"date_from": "2026-13-40"})
    assert response.status_code == 400
    assert AuditEvent.objects.filter(action="audit.export").count() == 0


def test_verify_page_runs_the_check_and_records_it(client, auditor, trail):
    client.force_login(auditor)
    page = client.get(reverse("audit:verify"))
    assert 'id="verify-button"' in page.content.decode()
    assert page.context["report"] is None

    response = client.post(reverse("audit:verify"))
    assert response.status_code == 200
    assert response.context["report"].summary() == "audit chain OK: 6 events"
    assert 'data-ok="true"' in response.content.decode()
    event = last_event()
    assert (event.action, event.details) == (
        "audit.verify",
        {"ok": True, "count": 6, "broken_seq": None, "problem": ""},
    )


def test_verify_page_shows_where_the_chain_breaks(client, auditor, trail, attacker):
    attacker("DELETE FROM audit_auditevent WHERE seq = 3")
    client.force_login(auditor)
    response = client.post(reverse("audit:verify"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.startswith('<section class="card" id="verify-result" data-ok="false">')
    assert response.context["report"].broken_seq == 3
    assert 'data-problem="deleted"' in body
    assert "event 3 is missing (deleted)" in body
    assert last_event().details == {
        "ok": False,
        "count": 2,
        "broken_seq": 3,
        "problem": "deleted",
    }
