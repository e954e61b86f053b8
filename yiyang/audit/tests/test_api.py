"""``/api/v1/audit``: list with the page's filters, detail, verify — audit admins only."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from yiyang.audit.models import AuditEvent
from yiyang.audit.services import record

pytestmark = pytest.mark.django_db

LIST = reverse("api:audit_event_list")
VERIFY = reverse("api:audit_verify")


def detail(seq: int) -> str:
    return reverse("api:audit_event_detail", kwargs={"seq": seq})


@pytest.fixture
def trail(auditor, doctor) -> list[AuditEvent]:
    return [
        record(
            actor=doctor,
            action="network.staff.read",
            object_type="network.staff",
            object_id=7,
            object_repr="王建国",
        ),
        record(actor=doctor, action="network.institution.update", outcome="denied"),
        record(actor=None, action="auth.login", outcome="failure", details={"username": "张三"}),
    ]


@pytest.mark.parametrize("method,url", [("get", LIST), ("get", "detail"), ("post", VERIFY)])
def test_anonymous_gets_401_and_others_403(client, doctor, trail, method, url):
    url = detail(1) if url == "detail" else url
    assert getattr(client, method)(url).status_code == 401
    client.force_login(doctor)
    response = getattr(client, method)(url)
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "detail": "only audit administrators read the audit trail",
        "field": None,
    }
    # The refusal itself is audited (one access.denied row), nothing else is written.
    assert AuditEvent.objects.count() == 4
    assert AuditEvent.objects.latest("seq").action == "access.denied"


def test_list_newest_first_with_cursor(client, auditor, trail):
    client.force_login(auditor)
    response = client.get(LIST, {"limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert [e["seq"] for e in body["items"]] == [3, 2]
    assert body["next_before"] == 2
    older = client.get(LIST, {"limit": 2, "before": 2}).json()
    assert [e["seq"] for e in older["items"]] == [1]
    assert older["next_before"] is None
    first = older["items"][0]
    assert first["actor_username"] == "doctor"
    assert first["object_repr"] == "王建国"
    assert first["hash"] == trail[0].hash
    local = datetime.datetime.fromisoformat(first["at"])
    assert local.utcoffset() == datetime.timedelta(hours=8)
    at = trail[0].at
    assert local == at.replace(microsecond=at.microsecond // 1000 * 1000)  # JSON keeps ms
    last = AuditEvent.objects.order_by("-seq").first()
    assert (last.action, last.details) == ("audit.browse", {"filter": {}, "rows": 1, "before": 2})


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"actor": "doctor"}, [2, 1]),
        ({"action": "network.staff"}, [1]),
        ({"outcome": "failure"}, [3]),
        ({"object_type": "network.staff", "object_id": "7"}, [1]),
    ],
)
def test_list_filters(client, auditor, trail, query, expected):
    client.force_login(auditor)
    response = client.get(LIST, query)
    assert [e["seq"] for e in response.json()["items"]] == expected


def test_list_rejects_bad_filters(client, auditor, trail):
    client.force_login(auditor)
    response = client.get(LIST, {"date_from": "2026-03-02", "date_to": "2026-03-01"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_date_range",
        "detail": "the end date is before the start date",
        "field": "date_to",
    }
    assert client.get(LIST, {"outcome": "lost"}).status_code == 422
    assert client.get(LIST, {"limit": 500}).status_code == 422
    assert AuditEvent.objects.count() == 3


def test_detail(client, auditor, trail):
    client.force_login(auditor)
    response = client.get(detail(3))
    assert response.status_code == 200
    assert response.json()["details"] == {"username": "张三"}
    assert response.json()["outcome"] == "failure"
    missing = client.get(detail(99))
    assert missing.status_code == 404
    assert missing.json() == {"code": "not_found", "detail": "audit event not found", "field": None}


def test_verify(client, auditor, trail, attacker):
    client.force_login(auditor)
    response = client.post(VERIFY)
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "count": 3,
        "head_seq": 3,
        "head_hash": trail[-1].hash,
        "broken_seq": None,
        "problem": "",
        "detail": "",
        "summary": "audit chain OK: 3 events",
    }
    attacker("UPDATE audit_auditevent SET action = 'network.staff.list' WHERE seq = 1")
    body = client.post(VERIFY).json()
    assert (body["ok"], body["broken_seq"], body["problem"]) == (False, 1, "edited")
