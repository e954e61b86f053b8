"""``yiyang serve``: a real granian process in production mode answers on loopback;
missing production secrets give a clear error, not a traceback."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError

from yiyang.ops.management.commands.serve import parse_bind

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIYANG_", "DJANGO_"))}
    env.update(
        YIYANG_MODE="production",
        YIYANG_SECRET_KEY=secrets.token_urlsafe(50),
        YIYANG_FIELD_KEY=secrets.token_urlsafe(32),
        YIYANG_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}",
    )
    return env


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), b""


def test_serve_answers_login_and_static_then_stops(tmp_path):
    env = production_env(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "yiyang.cli", "collectstatic", "--noinput", "-v0"],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "yiyang.cli",
                "serve",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, content_type, body = get(f"http://127.0.0.1:{port}/login/")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200, log.read_text()
        assert content_type.startswith("text/html")
        assert b'name="password"' in body
        status, content_type, _ = get(f"http://127.0.0.1:{port}/static/web/yiyang.css")
        assert (status, content_type.split(";")[0]) == (200, "text/css")
        # Idle keep-alive connections (a browser opens several) must not starve others.
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
        try:
            status, _, _ = get(f"http://127.0.0.1:{port}/login/")
            assert status == 200
        finally:
            for sock in idle:
                sock.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = log.read_text()
    assert f"Yiyang (production) on http://127.0.0.1:{port}" in text
    assert "granian WSGI, 1 worker(s)" in text


def test_serve_without_production_secrets_says_what_is_missing(tmp_path):
    env = production_env(tmp_path)
    del env["YIYANG_SECRET_KEY"]
    del env["YIYANG_MODE"]  # `yiyang serve` defaults to production mode
    done = subprocess.run(
        [sys.executable, "-m", "yiyang.cli", "serve", "--bind", "127.0.0.1:1"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "YIYANG_SECRET_KEY is required in production mode" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_parse_bind():
    assert parse_bind("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert parse_bind("[::1]:9000") == ("::1", 9000)
    for bad in ("8000", "127.0.0.1:", ":80", "host:99999", "host:http"):
        with pytest.raises(CommandError, match="--bind must be HOST:PORT"):
            parse_bind(bad)
