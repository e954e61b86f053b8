"""Every 403 — page or API — writes one ``access.denied`` row through the audit chain: who,
which method, path and view, when, from where. A failing audit write is logged and the
answer stays a 403."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse

from yiyang.accounts.services.tokens import issue_token
from yiyang.audit.models import AuditEvent
from yiyang.audit.services import verify_chain
from yiyang.common.permissions import Role
from yiyang.testing.network import make_user


@pytest.fixture
def doctor(db):
    return make_user(Role.DOCTOR, scope="self", username="doctor")


def denials() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="access.denied").order_by("seq"))


def test_a_refused_page_is_audited(client: Client, doctor) -> None:
    client.force_login(doctor)
    url = reverse("audit:events")

    response = client.get(url + "?actor=someone", HTTP_USER_AGENT="pytest-browser")

    assert response.status_code == 403
    [row] = denials()
    assert (row.actor_id, row.actor_username, row.actor_role, row.outcome) == (
        doctor.pk,
        "doctor",
        "doctor",
        "denied",
    )
    assert (row.object_type, row.object_id, row.object_repr) == ("url", "audit:events", url)
    # The query string is left out: it may hold personal data (a searched ID number).
    assert row.details == {
        "method": "GET",
        "path": url,
        "view": "audit:events",
        "code": "forbidden",
    }
    assert (row.address, row.user_agent) == ("127.0.0.1", "pytest-browser")
    assert row.request_id
    assert verify_chain().ok


def test_a_refused_api_call_is_audited_with_its_error_code(client: Client, doctor) -> None:
    token = issue_token(None, username="doctor", password="Yiyang#2026").key

    response = client.post(
        "/api/v1/audit/verify", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_REQUEST_ID="req-42"
    )

    assert response.status_code == 403
    [row] = denials()
    assert (row.actor_username, row.request_id) == ("doctor", "req-42")
    assert row.details == {
        "method": "POST",
        "path": "/api/v1/audit/verify",
        "view": "api:audit_verify",
        "code": "permission_denied",
    }


def test_each_denial_is_one_row(client: Client, doctor) -> None:
    client.force_login(doctor)
    for _ in range(3):
        assert client.get(reverse("audit:verify")).status_code == 403
    assert len(denials()) == 3


def test_a_failing_audit_write_leaves_the_403_and_is_logged(
    client: Client, doctor, monkeypatch, caplog
) -> None:
    from yiyang.audit import middleware

    def broken(**kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(middleware, "record", broken)
    client.force_login(doctor)

    with caplog.at_level(logging.ERROR, logger="yiyang.audit"):
        response = client.get(reverse("audit:events"))

    assert response.status_code == 403
    assert denials() == []
    assert "could not audit the denial of GET /audit/" in caplog.text


def test_a_locked_sign_in_is_audited_once_by_the_sign_in_itself(client: Client, doctor) -> None:
    for _ in range(5):
        client.post(
            "/api/v1/auth/token",
            {"username": "doctor", "password": "Bad#Pass1"},
            content_type="application/json",
        )
    response = client.post(
        "/api/v1/auth/token",
        {"username": "doctor", "password": "Bad#Pass1"},
        content_type="application/json",
    )

    assert (response.status_code, response.json()["code"]) == (403, "account_locked")
    assert denials() == []
    assert (
        AuditEvent.objects.filter(action="auth.login_failed", details__reason="locked").count() == 1
    )


def test_successful_requests_and_other_errors_write_no_denial(client: Client, doctor) -> None:
    client.force_login(doctor)
    assert client.get(reverse("web:home")).status_code == 200
    assert client.get("/no-such-page/").status_code == 404
    assert denials() == []
