"""Security headers (CSP, no-store, HSTS), the production answers to errors (JSON for the
API, a page otherwise), demo mode without debug pages, and who may read the API docs."""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from yiyang.accounts.services.tokens import issue_token

ROOT = Path(__file__).resolve().parents[3]
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


# --- Content-Security-Policy and Cache-Control ------------------------------------------


def test_every_answer_has_the_strict_policy(client: Client, doctor) -> None:
    assert settings.CONTENT_SECURITY_POLICY == CSP
    anonymous = [client.get("/login/"), client.get("/no-such-page/"), client.get("/api/v1/auth/me")]
    client.force_login(doctor)
    answers = [*anonymous, client.get("/"), client.get("/api/v1/auth/me")]
    assert [r.status_code for r in answers] == [200, 404, 401, 200, 200]
    for response in answers:
        assert response["Content-Security-Policy"] == CSP


def test_pages_and_api_answers_are_not_stored(client: Client, doctor) -> None:
    client.force_login(doctor)
    for response in (client.get("/"), client.get("/api/v1/auth/me"), client.get("/nope/")):
        assert response["Cache-Control"] == "no-store"
    # A view's own directives are kept.
    badge = client.get("/notifications/badge/")
    assert "no-store" in badge["Cache-Control"]


def test_the_token_answer_is_not_stored(client: Client, doctor) -> None:
    response = client.post(
        "/api/v1/auth/token",
        {"username": "doctor", "password": "Yiyang#2026"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client: Client, db) -> None:
    response = client.get("/static/web/yiyang.css")
    if response.status_code == 404:
        pytest.skip("static files are not collected (make install)")
    assert "no-store" not in response.get("Cache-Control", "")


def test_pages_have_no_inline_script_or_style(client: Client, doctor) -> None:
    client.force_login(doctor)
    page = client.get("/").content.decode()
    assert "<script>" not in page and " onchange=" not in page and " style=" not in page
    assert 'src="/static/web/yiyang.js"' in page
    assert '"includeIndicatorStyles": false' in page


def test_hsts_is_sent_on_https_when_configured(client: Client, db, settings) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    assert client.get("/login/", secure=True)["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/login/")


# --- the modes -------------------------------------------------------------------------


def mode_settings(tmp_path: Path, **env: str) -> dict:
    """Settings of a fresh process started with ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("YIYANG_", "DJANGO_"))}
    clean.update(YIYANG_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="yiyang.settings", **env)
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k, None) for k in ["
        "'DEBUG', 'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER', 'SESSION_COOKIE_SECURE', "
        "'CSRF_COOKIE_SECURE', 'API_DOCS', 'MODE']}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_production_mode_sends_hsts_secures_cookies_and_closes_the_docs(tmp_path) -> None:
    keys = {
        "YIYANG_SECRET_KEY": secrets.token_urlsafe(50),
        "YIYANG_FIELD_KEY": secrets.token_urlsafe(32),
    }
    assert mode_settings(tmp_path, YIYANG_MODE="production", **keys) == {
        "DEBUG": False,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_PROXY_SSL_HEADER": None,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "API_DOCS": "login",
        "MODE": "production",
    }
    proxied = mode_settings(tmp_path, YIYANG_MODE="production", YIYANG_BEHIND_TLS_PROXY="1", **keys)
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_demo_mode_has_no_debug_pages(tmp_path) -> None:
    assert mode_settings(tmp_path, YIYANG_MODE="demo") == {
        "DEBUG": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_PROXY_SSL_HEADER": None,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "API_DOCS": "public",
        "MODE": "demo",
    }
    assert mode_settings(tmp_path, YIYANG_MODE="development")["DEBUG"] is True


def test_yiyang_demo_runs_in_demo_mode(monkeypatch) -> None:
    from django.core import management

    from yiyang import cli

    seen = {}
    monkeypatch.delenv("YIYANG_MODE", raising=False)
    monkeypatch.setattr(
        management,
        "execute_from_command_line",
        lambda argv: seen.update(mode=os.environ["YIYANG_MODE"]),
    )
    cli.main(["demo", "--no-serve"])
    assert seen == {"mode": "demo"}


# --- unexpected errors -------------------------------------------------------------------


def test_an_api_500_answers_json_and_is_logged(doctor, monkeypatch, caplog) -> None:
    from yiyang.accounts import api as accounts_api

    def broken(user):
        raise RuntimeError("boom")

    monkeypatch.setattr(accounts_api, "scope_out", broken)
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(doctor)

    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/auth/me", HTTP_X_REQUEST_ID="req-500")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "server_error",
        "detail": "Something went wrong on the server; the error is logged. Try again later "
        "or tell your administrator (reference req-500).",
        "field": None,
    }
    assert "boom" not in response.content.decode()
    # Django logs the exception with its traceback; our line adds the request id.
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)
    assert "server error answering GET /api/v1/auth/me (request id req-500)" in caplog.text


def test_a_page_500_is_a_short_page_in_chinese(doctor, monkeypatch) -> None:
    from yiyang.web import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "render", broken)
    client = Client(raise_request_exception=False)
    client.force_login(doctor)

    response = client.get("/", HTTP_X_REQUEST_ID="req-page")

    assert response.status_code == 500
    page = response.content.decode()
    assert 'id="error-500"' in page and "服务器错误" in page
    assert '<span class="mono" id="error-reference">req-page</span>' in page
    assert "boom" not in page and "Traceback" not in page
    assert response["Content-Security-Policy"] == CSP

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Server error" in client.get("/").content.decode()


def test_a_404_is_the_chinese_page_without_the_url_patterns(client: Client, db) -> None:
    response = client.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert 'id="error-404"' in page and "此页面不存在" in page
    assert "URLconf" not in page and "api/v1/" not in page


# --- the API schema and docs -------------------------------------------------------------


def test_docs_are_public_outside_production(client: Client, db) -> None:
    assert settings.API_DOCS == "public"
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


def test_docs_need_a_login_when_so_configured(client: Client, doctor, settings) -> None:
    settings.API_DOCS = "login"
    schema = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="en")
    assert schema.status_code == 401
    assert schema.json() == {
        "code": "not_authenticated",
        "detail": "Log in or send a bearer token to read the API schema.",
        "field": None,
    }
    docs = client.get("/api/v1/docs")
    assert (docs.status_code, docs["Location"]) == (
        302,
        f"{reverse('web:login')}?next=/api/v1/docs",
    )

    token = issue_token(None, username="doctor", password="Yiyang#2026").key
    with_token = client.get("/api/v1/openapi.json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert with_token.status_code == 200 and "paths" in with_token.json()
    assert client.get("/api/v1/docs", HTTP_AUTHORIZATION="Bearer wrong").status_code == 302
    client.force_login(doctor)
    assert client.get("/api/v1/docs").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_the_schema_is_built_without_a_request() -> None:
    from yiyang.api import api

    assert "/api/v1/auth/me" in api.get_openapi_schema()["paths"]
