"""``yiyang demo``: its set-up part (migrate, static files, seed once) keeps the data
when run again; the printed logins cover every role."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from yiyang.accounts.models import User
from yiyang.audit.models import AuditEvent
from yiyang.network.models import ChainNode, Institution, Region, Staff
from yiyang.ops.management.commands.demo import setup_demo
from yiyang.seed.users import DEMO_USERNAMES


def counts() -> tuple[int, ...]:
    return (
        Region.objects.count(),
        Institution.objects.count(),
        ChainNode.objects.count(),
        Staff.objects.count(),
        User.objects.count(),
        AuditEvent.objects.filter(action="seed.run").count(),
    )


@pytest.mark.django_db
def test_setup_twice_seeds_once_and_keeps_the_data(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    assert setup_demo() is True
    first = counts()
    assert first == (26, 47, 23, first[3], 12, 1)
    passwords = dict(User.objects.values_list("username", "password"))
    assert setup_demo() is False
    assert counts() == first
    assert dict(User.objects.values_list("username", "password")) == passwords
    assert (tmp_path / "static" / "web" / "yiyang.css").exists()


@pytest.mark.django_db
def test_demo_without_server_prints_url_and_one_login_per_role(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    text = out.getvalue()
    assert "Demo data loaded." in text
    assert "http://127.0.0.1:8000" in text
    lines = text.splitlines()
    for username in DEMO_USERNAMES:
        assert any(line.startswith(f"{username} ") and "Yiyang#2026" in line for line in lines)
    assert text.count("TOTP secret:") == 3

    again = StringIO()
    call_command("demo", "--no-serve", stdout=again)
    assert "already has data: kept as it is" in again.getvalue()
    assert User.objects.count() == 12
