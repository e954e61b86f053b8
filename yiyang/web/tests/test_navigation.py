"""The navigation shows the pages the role may open, and marks the current section."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.common.scope import ScopeKind

pytestmark = pytest.mark.django_db


def _nav(client, role: str, path: str = "/") -> list[tuple[str, bool]]:
    scope = ScopeKind.SELF if role in (Role.RESIDENT, Role.FAMILY) else ScopeKind.ALL
    user = User.objects.create_user(
        username=f"nav-{role}-{User.objects.count()}", role=role, scope_kind=scope
    )
    client.force_login(user)
    client.cookies["django_language"] = "en"
    html = client.get(path).content.decode()
    found = re.search(r'<nav class="mainnav">(.*?)</nav>', html, re.S)
    assert found is not None, html[:300]
    nav = found.group(1)
    return [
        (label, bool(active))
        for active, label in re.findall(r'<a href="[^"]+"( class="active")?>([^<]+)</a>', nav)
    ]


@pytest.mark.parametrize(
    ("role", "labels"),
    [
        (
            Role.SUPERVISOR,
            [
                "Residents",
                "Assessment policy",
                "Alerts",
                "Duty roster",
                "Escalation schedule",
                "Alert rules",
                "Devices",
                "Quarantine",
                "Network",
                "Institutions",
                "Agreements",
                "Staff",
                "Teams",
                "Regions",
            ],
        ),
        (
            Role.CAREGIVER,
            [
                "Residents",
                "Assessments due",
                "Alerts",
                "Escalation schedule",
                "Alert rules",
                "Devices",
                "Network",
                "Institutions",
                "Agreements",
                "Teams",
                "Regions",
            ],
        ),
        (
            Role.DISPATCHER,
            [
                "Residents",
                "Assessments due",
                "Alerts",
                "Duty roster",
                "Escalation schedule",
                "Alert rules",
                "Emergency calls",
                "Devices",
                "Network",
                "Institutions",
                "Agreements",
                "Staff",
                "Teams",
                "Regions",
            ],
        ),
        (
            Role.SYSTEM_ADMIN,
            [
                "Duty roster",
                "Network",
                "Institutions",
                "Agreements",
                "Staff",
                "Teams",
                "Regions",
                "Users",
            ],
        ),
        (Role.SECURITY_ADMIN, ["Locked accounts", "Two-step login resets"]),
        (Role.AUDIT_ADMIN, ["Audit trail"]),
        (Role.RESIDENT, ["My record"]),
        (Role.FAMILY, ["My family"]),
    ],
)
def test_nav_entries_follow_the_role(client, settings, role, labels):
    settings.MFA_REQUIRED_ROLES = ""
    assert [label for label, _ in _nav(client, role)] == labels


def test_nav_marks_the_deepest_matching_section(client, settings):
    settings.MFA_REQUIRED_ROLES = ""
    nav = _nav(client, Role.SUPERVISOR, reverse("network:staff"))
    assert [label for label, active in nav if active] == ["Staff"]
    nav = _nav(client, Role.SUPERVISOR, reverse("network:tree"))
    assert [label for label, active in nav if active] == ["Network"]
    nav = _nav(client, Role.SUPERVISOR, reverse("devices:quarantine"))
    assert [label for label, active in nav if active] == ["Quarantine"]
    nav = _nav(client, Role.SUPERVISOR, reverse("devices:list"))
    assert [label for label, active in nav if active] == ["Devices"]
