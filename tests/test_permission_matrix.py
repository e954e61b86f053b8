"""The permission matrix: every URL of the project, every role, in and out of scope.

``test_every_url_has_a_rule`` walks the whole URL tree (Django Ninja operations included)
and fails naming each pattern that is neither in ``PUBLIC`` nor in ``MATRIX`` — so a new
endpoint without a rule fails the suite. ``test_matrix`` then runs each rule for each role
and for an anonymous caller:

* anonymous → 401 (API) or a redirect to the login page (pages);
* a role without the permission → 403;
* a permitted role → ``rule.ok`` on an object in its scope, and 404 on the same kind of
  object outside it (out of scope answers exactly like missing);
* for a write, a refused call leaves ``rule.state`` as it was, and an accepted one
  changes it (which shows the snapshot would have caught a refused write that went
  through).

The world: the two-county network of ``yiyang.testing.network``; every staff and
administrator role scoped to county A (region subtree), residents and family members to
"self". Out-of-scope objects live in county B. API calls use a bearer token, pages a
session. The world is built once per module and each test runs in a savepoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pyotp
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests.matrix_rules import EXTENSIONS, build_residents
from tests.matrix_support import (
    ANONYMOUS,
    PASSWORD,
    Payload,
    Rule,
    World,
    form_values,
    holders,
    pk,
    rows,
)
from yiyang.accounts.models import ApiToken, LoginFailure, User
from yiyang.accounts.permissions import AccountPerm
from yiyang.accounts.services.totp import enrol_totp
from yiyang.audit.permissions import AuditPerm
from yiyang.common.permissions import Role, mfa_required
from yiyang.network.forms.institutions import AgreementForm, InstitutionForm, NodeForm
from yiyang.network.forms.regions import GridForm
from yiyang.network.forms.staff import StaffForm
from yiyang.network.forms.teams import TeamForm
from yiyang.network.models import (
    Agreement,
    Alliance,
    ChainNode,
    Grid,
    Institution,
    Region,
    Staff,
    Team,
)
from yiyang.network.permissions import NetworkPerm
from yiyang.network.services.agreements import update_agreement
from yiyang.testing.accounts import bearer_token, make_account
from yiyang.testing.network import build_network, in_force

pytestmark = pytest.mark.django_db

ALL_ROLES = frozenset(Role.values)
NEW_PASSWORD = "Kangyang#2027"

# Patterns anyone may use without logging in (or that serve no data).
PUBLIC = {
    "web:login",  # the login page itself
    "set_language",  # language switch
    "static",  # static files
    "api:openapi-json",  # API schema
    "api:openapi-view",  # API docs page
    "api:api-root",  # Ninja's API root
    "api:not_found",  # any other path under /api/v1/: the JSON 404 (yiyang/api.py)
    "api:auth_token",  # API sign-in: username + password (+ TOTP)
    # Devices authenticate themselves (serial + secret), not users: no role may use it
    # and no user session or token is accepted (yiyang/devices/tests/test_ingest.py).
    "api:devices_ingest",
}


# --- the world ------------------------------------------------------------------------


def _document(name: str = "协议.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% signed agreement\n", "application/pdf")


def build_world() -> World:
    net = build_network()
    for county in (net.a, net.b):
        update_agreement(net.admin, county.agreement, document=_document())
    users = {}
    for role in Role.values:
        scope = None if role in (Role.RESIDENT, Role.FAMILY) else net.a.county
        users[role] = make_account(role, scope, username=f"m-{role}")
    account_in = make_account(Role.NURSE, net.a.thc, username="m-target-a", totp=True)
    account_out = make_account(Role.NURSE, net.b.thc, username="m-target-b", totp=True)
    world = World(net, users, account_in, account_out)
    build_residents(world)
    for extension in EXTENSIONS:
        build = getattr(extension, "build", None)
        if build is not None:
            build(world)
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """Built once per module inside a transaction that is rolled back at the end; every
    test runs in a savepoint of it (pytest-django's ``db``)."""
    media = tmp_path_factory.mktemp("media")
    storages = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media)},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with (
        override_settings(STORAGES=storages, MEDIA_ROOT=str(media)),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        yield build_world()
        transaction.set_rollback(True)


# --- rules ------------------------------------------------------------------------------


def csv_file(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("regions.csv", text.encode(), "text/csv")


def lock_out(w: World, user: User) -> None:
    now = timezone.now()
    for account in (w.account_in, w.account_out):
        LoginFailure.objects.bulk_create(
            [LoginFailure(username=account.username, address="10.0.0.9", at=now)] * 5
        )


def deactivate_targets(w: World, user: User) -> None:
    User.objects.filter(pk__in=[w.account_in.pk, w.account_out.pk]).update(is_active=False)


def start_totp(w: World, user: User) -> None:
    if not user.totp_confirmed:
        enrol_totp(user)


def totp_now(w: World, user: User) -> dict[str, str]:
    user.refresh_from_db()
    return {"code": pyotp.TOTP(user.totp_secret).now() if user.totp_secret else "000000"}


def unless_enrolled(status: int) -> Callable[[str], int]:
    """``status`` for roles that have not enrolled TOTP; 400 for those that have."""
    return lambda role: 400 if mfa_required(role) else status


VIEW = holders(NetworkPerm.VIEW)
MANAGE = holders(NetworkPerm.MANAGE)
STAFF_VIEW = holders(NetworkPerm.STAFF_VIEW)
STAFF_MANAGE = holders(NetworkPerm.STAFF_MANAGE)
REGION_IMPORT = holders(NetworkPerm.REGION_IMPORT)
ACCOUNTS = holders(AccountPerm.MANAGE)
SECURITY = holders(AccountPerm.SECURITY)
ACCOUNTS_OR_SECURITY = holders(AccountPerm.MANAGE, AccountPerm.SECURITY)
AUDIT = holders(AuditPerm.VIEW)

USER_ROWS = rows(User, "role", "is_active", "scope_kind", "display_name", "totp_confirmed")
PASSWORDS = rows(User, "password")
TOKENS = rows(ApiToken, "revoked")
FAILURES = rows(LoginFailure, "username")
REGIONS = rows(Region, "code", "name", "code_year")
GRIDS = rows(Grid, "code", "name")
INSTITUTIONS = rows(Institution, "name", "beds_medical")
ALLIANCES = rows(Alliance, "name")
NODES = rows(ChainNode, "name")
AGREEMENTS = rows(Agreement, "title", "document")
STAFF = rows(Staff, "name")
TEAMS = rows(Team, "name")


def account_in(w: World) -> User:
    return w.account_in


def account_out(w: World) -> User:
    return w.account_out


def new_account(scope: Callable[[World], Any]) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        return {
            "username": "m-new-account",
            "password": "Xinzhanghu#2026",
            "role": Role.NURSE,
            "scope_kind": "institution",
            "institution_id": scope(w).pk,
            "display_name": "新护士",
        }

    return payload


def new_account_form(scope: Callable[[World], Any]) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        return {
            "username": "m-new-account",
            "password": "Xinzhanghu#2026",
            "role": Role.NURSE,
            "scope_kind": "institution",
            "scope_institution": str(scope(w).pk),
            "display_name": "新护士",
        }

    return payload


def account_edit_form(w: World, user: User) -> dict[str, str]:
    return {
        "display_name": "改名",
        "role": Role.NURSE,
        "scope_kind": "institution",
        "scope_institution": str(w.a.thc.pk),
    }


def institution_form(get: Callable[[World], Any], **overrides: Any) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        return form_values(InstitutionForm(instance=get(w), user=w.net.admin), **overrides)

    return payload


def new_institution_form(region: Callable[[World], Region]) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        return {
            "name": "新建卫生室",
            "type": "village_clinic",
            "region": str(region(w).pk),
            "beds_medical": "0",
            "beds_care": "0",
            "beds_home": "0",
            "active": "on",
        }

    return payload


def agreement_form(get: Callable[[World], Any], **overrides: Any) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        return form_values(AgreementForm(instance=get(w), user=w.net.admin), **overrides)

    return payload


def new_agreement(county: Callable[[World], Any], form: bool = False) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        c = county(w)
        valid_from, valid_to = in_force()
        return {
            "kind": "referral",
            "party_a": c.lead.pk,
            "party_b": c.thc.pk,
            "title": "双向转诊协议",
            "valid_from": valid_from.isoformat(),
            "valid_to": valid_to.isoformat(),
            "status": "draft",
        }

    if not form:
        return payload
    return lambda w, user: {k: str(v) for k, v in payload(w, user).items()}


def staff_form(get: Callable[[World], Any], **overrides: Any) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        return form_values(StaffForm(instance=get(w), user=w.net.admin), **overrides)

    return payload


def new_staff_form(county: Callable[[World], Any]) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        return {
            "name": "新护士",
            "sex": "F",
            "profession": "nurse",
            "institution": str(county(w).thc.pk),
            "position": "护士",
            "active": "on",
        }

    return payload


def new_staff(county: Callable[[World], Any]) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        return {
            "name": "新护士",
            "sex": "F",
            "profession": "nurse",
            "memberships": [{"institution": county(w).thc.pk, "primary": True}],
        }

    return payload


def new_team(county: Callable[[World], Any]) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        c = county(w)
        return {
            "name": "第二家庭医生团队",
            "node": c.stations[0].pk,
            "leader": c.nurse.pk,
            "members": [{"staff": c.nurse.pk, "role": "leader"}],
        }

    return payload


def new_node(county: Callable[[World], Any]) -> Payload:
    """A second station in the county's first village, formed by two new institutions."""

    def payload(w: World, user: User) -> dict[str, Any]:
        c = county(w)
        village = c.villages[0]
        clinic = Institution.objects.create(name="新卫生室", type="village_clinic", region=village)
        home = Institution.objects.create(name="新幸福院", type="happiness_home", region=village)
        return {
            "level": "station",
            "name": "新医养服务站",
            "region": village.pk,
            "medical_member": clinic.pk,
            "care_member": home.pk,
            "integration_mode": "contracted",
            "center": c.center.pk,
        }

    return payload


def team_form(get: Callable[[World], Any], **overrides: Any) -> Payload:
    """The team edit form as posted back: members as rows ``members-<i>-staff/role``."""

    def payload(w: World, user: User) -> dict[str, Any]:
        team = get(w)
        data = form_values(TeamForm(instance=team, user=w.net.admin), **overrides)
        data.pop("members", None)
        for i, m in enumerate(team.memberships.order_by("pk")):
            data[f"members-{i}-staff"] = str(m.staff_id)
            data[f"members-{i}-role"] = m.role
        return data

    return payload


def new_team_form(county: Callable[[World], Any]) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        c = county(w)
        return {
            "name": "第二家庭医生团队",
            "node": str(c.stations[0].pk),
            "leader": str(c.nurse.pk),
            "members-0-staff": str(c.nurse.pk),
            "members-0-role": "leader",
            "grids": [str(c.grids[0].pk)],
        }

    return payload


def node_form(get: Callable[[World], Any], **overrides: Any) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        return form_values(NodeForm(instance=get(w), user=w.net.admin), **overrides)

    return payload


def new_node_form(county: Callable[[World], Any]) -> Payload:
    make = new_node(county)
    return lambda w, user: {k: str(v) for k, v in make(w, user).items()}


def grid_form(get: Callable[[World], Any], **overrides: Any) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        return form_values(GridForm(instance=get(w), user=w.net.admin), **overrides)

    return payload


def new_grid_form(county: Callable[[World], Any]) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        village = county(w).villages[0]
        return {"village": str(village.pk), "code": "M-GRID-2", "name": "第二网格"}

    return payload


def new_alliance(county: Callable[[World], Any]) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        c = county(w)
        return {
            "name": "第二医共体",
            "kind": "county_community",
            "region": c.county.pk,
            "lead": c.lead.pk,
            "members": [c.clinics[0].pk],
        }

    return payload


def audit_seq(w: World) -> dict[str, int]:
    return {"seq": 1}


MATRIX: list[Rule] = [
    # --- web and the caller's own account ----------------------------------------------
    Rule("web:home", "GET", ALL_ROLES),
    Rule("web:logout", "POST", ALL_ROLES, ok=302, body="form"),
    Rule("accounts:security", "GET", ALL_ROLES),
    Rule("accounts:password", "GET", ALL_ROLES),
    Rule(
        "accounts:password",
        "POST",
        ALL_ROLES,
        body="form",
        data=lambda w, u: {
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        ok=302,
        state=PASSWORDS,
    ),
    Rule("api:auth_me", "GET", ALL_ROLES),
    Rule(
        "api:auth_password",
        "POST",
        ALL_ROLES,
        data=lambda w, u: {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        state=PASSWORDS,
    ),
    Rule("api:auth_token_revoke", "DELETE", ALL_ROLES, state=TOKENS),
    Rule("api:auth_token_revoke_post", "POST", ALL_ROLES, state=TOKENS),
    Rule(
        "api:auth_totp_enrol",
        "POST",
        ALL_ROLES,
        ok=unless_enrolled(200),
        state=USER_ROWS,
        changes=False,
    ),
    Rule(
        "api:auth_totp_confirm",
        "POST",
        ALL_ROLES,
        prepare=start_totp,
        data=totp_now,
        ok=unless_enrolled(200),
        state=USER_ROWS,
    ),
    # --- accounts: system administrator ------------------------------------------------
    Rule("accounts:users", "GET", ACCOUNTS),
    Rule("accounts:user_create", "GET", ACCOUNTS),
    Rule(
        "accounts:user_create",
        "POST",
        ACCOUNTS,
        body="form",
        data=new_account_form(lambda w: w.a.thc),
        out_data=new_account_form(lambda w: w.b.thc),
        out_status=200,
        ok=302,
        state=USER_ROWS,
    ),
    Rule("accounts:user_edit", "GET", ACCOUNTS, pk(account_in), out=pk(account_out)),
    Rule(
        "accounts:user_edit",
        "POST",
        ACCOUNTS,
        pk(account_in),
        out=pk(account_out),
        body="form",
        data=account_edit_form,
        ok=302,
        state=USER_ROWS,
    ),
    Rule(
        "accounts:user_deactivate",
        "POST",
        ACCOUNTS,
        pk(account_in),
        out=pk(account_out),
        body="form",
        ok=302,
        state=USER_ROWS,
    ),
    Rule(
        "accounts:user_reactivate",
        "POST",
        ACCOUNTS,
        pk(account_in),
        out=pk(account_out),
        body="form",
        ok=302,
        state=USER_ROWS,
        prepare=deactivate_targets,
    ),
    Rule("api:auth_users", "GET", ACCOUNTS_OR_SECURITY),
    Rule(
        "api:auth_user",
        "GET",
        ACCOUNTS_OR_SECURITY,
        pk(account_in, "user_id"),
        out=pk(account_out, "user_id"),
    ),
    Rule(
        "api:auth_user_create",
        "POST",
        ACCOUNTS,
        data=new_account(lambda w: w.a.thc),
        out_data=new_account(lambda w: w.b.thc),
        out_status=400,
        ok=201,
        state=USER_ROWS,
    ),
    Rule(
        "api:auth_user_update",
        "PATCH",
        ACCOUNTS,
        pk(account_in, "user_id"),
        out=pk(account_out, "user_id"),
        data=lambda w, u: {
            "role": Role.NURSE,
            "scope_kind": "institution",
            "institution_id": w.a.thc.pk,
            "display_name": "改名",
        },
        state=USER_ROWS,
    ),
    Rule(
        "api:auth_user_deactivate",
        "POST",
        ACCOUNTS,
        pk(account_in, "user_id"),
        out=pk(account_out, "user_id"),
        state=USER_ROWS,
    ),
    Rule(
        "api:auth_user_reactivate",
        "POST",
        ACCOUNTS,
        pk(account_in, "user_id"),
        out=pk(account_out, "user_id"),
        state=USER_ROWS,
        prepare=deactivate_targets,
    ),
    # --- accounts: security administrator ----------------------------------------------
    Rule("accounts:locked", "GET", SECURITY),
    Rule(
        "accounts:unlock",
        "POST",
        SECURITY,
        body="form",
        prepare=lock_out,
        data=lambda w, u: {"username": w.account_in.username, "address": "10.0.0.9"},
        out_data=lambda w, u: {"username": w.account_out.username, "address": "10.0.0.9"},
        ok=302,
        state=FAILURES,
    ),
    Rule("accounts:mfa", "GET", SECURITY),
    Rule(
        "accounts:totp_reset",
        "POST",
        SECURITY,
        pk(account_in),
        out=pk(account_out),
        body="form",
        ok=302,
        state=USER_ROWS,
    ),
    Rule("api:auth_lockouts", "GET", SECURITY, prepare=lock_out),
    Rule(
        "api:auth_unlock",
        "POST",
        SECURITY,
        prepare=lock_out,
        data=lambda w, u: {"username": w.account_in.username, "address": "10.0.0.9"},
        out_data=lambda w, u: {"username": w.account_out.username, "address": "10.0.0.9"},
        state=FAILURES,
    ),
    Rule(
        "api:auth_user_reset_totp",
        "POST",
        SECURITY,
        pk(account_in, "user_id"),
        out=pk(account_out, "user_id"),
        state=USER_ROWS,
    ),
    # --- network pages -----------------------------------------------------------------
    Rule("network:tree", "GET", VIEW),
    Rule("network:node", "GET", VIEW, pk(lambda w: w.a.center), out=pk(lambda w: w.b.center)),
    Rule("network:node_create", "GET", MANAGE),
    Rule(
        "network:node_create",
        "POST",
        MANAGE,
        body="form",
        data=new_node_form(lambda w: w.a),
        out_data=new_node_form(lambda w: w.b),
        out_status=200,
        ok=302,
        state=NODES,
    ),
    Rule(
        "network:node_edit", "GET", MANAGE, pk(lambda w: w.a.center), out=pk(lambda w: w.b.center)
    ),
    Rule(
        "network:node_edit",
        "POST",
        MANAGE,
        pk(lambda w: w.a.center),
        out=pk(lambda w: w.b.center),
        body="form",
        data=node_form(lambda w: w.a.center, name="改名中心"),
        out_data=node_form(lambda w: w.a.center, name="改名中心"),
        ok=302,
        state=NODES,
    ),
    Rule("network:regions", "GET", VIEW),
    Rule("network:region_import", "GET", REGION_IMPORT),
    Rule(
        "network:region_import",
        "POST",
        REGION_IMPORT,
        body="form",
        data=lambda w, u: {"file": csv_file("code,name\n411521102000,新建镇\n"), "year": "2023"},
        # a row of county B is a bad row "outside your data scope": reported, nothing imported
        out_data=lambda w, u: {
            "file": csv_file("code,name\n411522103000,新建镇\n"),
            "year": "2023",
        },
        out_status=200,
        state=REGIONS,
    ),
    Rule("network:grids", "GET", VIEW),
    Rule("network:grid_create", "GET", MANAGE),
    Rule(
        "network:grid_create",
        "POST",
        MANAGE,
        body="form",
        data=new_grid_form(lambda w: w.a),
        out_data=new_grid_form(lambda w: w.b),
        out_status=200,
        ok=302,
        state=GRIDS,
    ),
    Rule(
        "network:grid_edit",
        "GET",
        MANAGE,
        pk(lambda w: w.a.grids[0]),
        out=pk(lambda w: w.b.grids[0]),
    ),
    Rule(
        "network:grid_edit",
        "POST",
        MANAGE,
        pk(lambda w: w.a.grids[0]),
        out=pk(lambda w: w.b.grids[0]),
        body="form",
        data=grid_form(lambda w: w.a.grids[0], name="改名网格"),
        out_data=grid_form(lambda w: w.a.grids[0], name="改名网格"),
        ok=302,
        state=GRIDS,
    ),
    Rule("network:alliances", "GET", VIEW),
    Rule(
        "network:alliance", "GET", VIEW, pk(lambda w: w.a.alliance), out=pk(lambda w: w.b.alliance)
    ),
    Rule("network:alliance_create", "GET", MANAGE),
    Rule(
        "network:alliance_create",
        "POST",
        MANAGE,
        body="form",
        data=lambda w, u: {
            "name": "第二医共体",
            "kind": "county_community",
            "region": str(w.a.county.pk),
            "lead": str(w.a.lead.pk),
            "members": [str(w.a.clinics[0].pk)],
        },
        # county B's region, lead and member are no choices: the form redisplays
        out_data=lambda w, u: {
            "name": "第二医共体",
            "kind": "county_community",
            "region": str(w.b.county.pk),
            "lead": str(w.b.lead.pk),
            "members": [str(w.b.clinics[0].pk)],
        },
        out_status=200,
        ok=302,
        state=ALLIANCES,
    ),
    Rule(
        "network:alliance_edit",
        "GET",
        MANAGE,
        pk(lambda w: w.a.alliance),
        out=pk(lambda w: w.b.alliance),
    ),
    Rule(
        "network:alliance_edit",
        "POST",
        MANAGE,
        pk(lambda w: w.a.alliance),
        out=pk(lambda w: w.b.alliance),
        body="form",
        data=lambda w, u: {
            "name": "改名医共体",
            "kind": "county_community",
            "region": str(w.a.county.pk),
            "lead": str(w.a.lead.pk),
            "members": [str(w.a.thc.pk)],
        },
        out_data=lambda w, u: {
            "name": "改名医共体",
            "kind": "county_community",
            "region": str(w.b.county.pk),
            "lead": str(w.b.lead.pk),
            "members": [str(w.b.thc.pk)],
        },
        ok=302,
        state=ALLIANCES,
    ),
    Rule("network:institutions", "GET", VIEW),
    Rule("network:institution", "GET", VIEW, pk(lambda w: w.a.thc), out=pk(lambda w: w.b.thc)),
    Rule("network:institution_create", "GET", MANAGE),
    Rule(
        "network:institution_create",
        "POST",
        MANAGE,
        body="form",
        data=new_institution_form(lambda w: w.a.villages[0]),
        out_data=new_institution_form(lambda w: w.b.villages[0]),
        out_status=200,
        ok=302,
        state=INSTITUTIONS,
    ),
    Rule(
        "network:institution_edit", "GET", MANAGE, pk(lambda w: w.a.thc), out=pk(lambda w: w.b.thc)
    ),
    Rule(
        "network:institution_edit",
        "POST",
        MANAGE,
        pk(lambda w: w.a.thc),
        out=pk(lambda w: w.b.thc),
        body="form",
        data=institution_form(lambda w: w.a.thc, beds_medical="55"),
        out_data=institution_form(lambda w: w.a.thc, beds_medical="55"),
        ok=302,
        state=INSTITUTIONS,
    ),
    Rule("network:agreements", "GET", VIEW),
    Rule(
        "network:agreement",
        "GET",
        VIEW,
        pk(lambda w: w.a.agreement),
        out=pk(lambda w: w.b.agreement),
    ),
    Rule("network:agreement_create", "GET", MANAGE),
    Rule(
        "network:agreement_create",
        "POST",
        MANAGE,
        body="form",
        data=new_agreement(lambda w: w.a, form=True),
        out_data=new_agreement(lambda w: w.b, form=True),
        out_status=200,
        ok=302,
        state=AGREEMENTS,
    ),
    Rule(
        "network:agreement_edit",
        "GET",
        MANAGE,
        pk(lambda w: w.a.agreement),
        out=pk(lambda w: w.b.agreement),
    ),
    Rule(
        "network:agreement_edit",
        "POST",
        MANAGE,
        pk(lambda w: w.a.agreement),
        out=pk(lambda w: w.b.agreement),
        body="form",
        data=agreement_form(lambda w: w.a.agreement, title="修订后的协议"),
        out_data=agreement_form(lambda w: w.a.agreement, title="修订后的协议"),
        ok=302,
        state=AGREEMENTS,
    ),
    Rule(
        "network:agreement_document",
        "GET",
        VIEW,
        pk(lambda w: w.a.agreement),
        out=pk(lambda w: w.b.agreement),
    ),
    Rule("network:staff", "GET", STAFF_VIEW),
    Rule(
        "network:staff_detail",
        "GET",
        STAFF_VIEW,
        pk(lambda w: w.a.doctor),
        out=pk(lambda w: w.b.doctor),
    ),
    Rule("network:staff_create", "GET", STAFF_MANAGE),
    Rule(
        "network:staff_create",
        "POST",
        STAFF_MANAGE,
        body="form",
        data=new_staff_form(lambda w: w.a),
        out_data=new_staff_form(lambda w: w.b),
        out_status=200,
        ok=302,
        state=STAFF,
    ),
    Rule(
        "network:staff_edit",
        "GET",
        STAFF_MANAGE,
        pk(lambda w: w.a.doctor),
        out=pk(lambda w: w.b.doctor),
    ),
    Rule(
        "network:staff_edit",
        "POST",
        STAFF_MANAGE,
        pk(lambda w: w.a.doctor),
        out=pk(lambda w: w.b.doctor),
        body="form",
        data=staff_form(lambda w: w.a.doctor, name="王建军"),
        out_data=staff_form(lambda w: w.a.doctor, name="王建军"),
        ok=302,
        state=STAFF,
    ),
    Rule("network:teams", "GET", VIEW),
    Rule("network:team", "GET", VIEW, pk(lambda w: w.a.team), out=pk(lambda w: w.b.team)),
    Rule("network:team_create", "GET", MANAGE),
    Rule(
        "network:team_create",
        "POST",
        MANAGE,
        body="form",
        data=new_team_form(lambda w: w.a),
        out_data=new_team_form(lambda w: w.b),
        out_status=200,
        ok=302,
        state=TEAMS,
    ),
    Rule("network:team_edit", "GET", MANAGE, pk(lambda w: w.a.team), out=pk(lambda w: w.b.team)),
    Rule(
        "network:team_edit",
        "POST",
        MANAGE,
        pk(lambda w: w.a.team),
        out=pk(lambda w: w.b.team),
        body="form",
        data=team_form(lambda w: w.a.team, name="改名团队"),
        out_data=team_form(lambda w: w.a.team, name="改名团队"),
        ok=302,
        state=TEAMS,
    ),
    # --- network API -------------------------------------------------------------------
    Rule("api:network_tree", "GET", VIEW),
    Rule("api:network_region_list", "GET", VIEW),
    Rule(
        "api:network_region_detail",
        "GET",
        VIEW,
        pk(lambda w: w.a.townships[0]),
        out=pk(lambda w: w.b.townships[0]),
    ),
    Rule(
        "api:network_region_create",
        "POST",
        REGION_IMPORT,
        data=lambda w, u: {"code": "411521102000", "name": "新建镇"},
        out_data=lambda w, u: {"code": "411522103000", "name": "新建镇"},
        ok=201,
        state=REGIONS,
    ),
    Rule(
        "api:network_region_update",
        "PATCH",
        REGION_IMPORT,
        pk(lambda w: w.a.townships[0]),
        out=pk(lambda w: w.b.townships[0]),
        data=lambda w, u: {"name": "改名镇"},
        state=REGIONS,
    ),
    Rule(
        "api:network_region_import",
        "POST",
        REGION_IMPORT,
        body="form",
        data=lambda w, u: {"file": csv_file("code,name\n411521102000,新建镇\n"), "year": "2023"},
        state=REGIONS,
    ),
    Rule("api:network_grid_list", "GET", VIEW),
    Rule(
        "api:network_grid_detail",
        "GET",
        VIEW,
        pk(lambda w: w.a.grids[0]),
        out=pk(lambda w: w.b.grids[0]),
    ),
    Rule(
        "api:network_grid_create",
        "POST",
        MANAGE,
        data=lambda w, u: {"village": w.a.villages[0].pk, "code": "M-GRID-2", "name": "第二网格"},
        out_status=400,  # unknown_reference naming the field
        out_data=lambda w, u: {
            "village": w.b.villages[0].pk,
            "code": "M-GRID-2",
            "name": "第二网格",
        },
        ok=201,
        state=GRIDS,
    ),
    Rule(
        "api:network_grid_update",
        "PATCH",
        MANAGE,
        pk(lambda w: w.a.grids[0]),
        out=pk(lambda w: w.b.grids[0]),
        data=lambda w, u: {"name": "改名网格"},
        state=GRIDS,
    ),
    Rule("api:network_institution_list", "GET", VIEW),
    Rule(
        "api:network_institution_detail",
        "GET",
        VIEW,
        pk(lambda w: w.a.thc),
        out=pk(lambda w: w.b.thc),
    ),
    Rule(
        "api:network_institution_create",
        "POST",
        MANAGE,
        data=lambda w, u: {
            "name": "新建卫生室",
            "type": "village_clinic",
            "region": w.a.villages[0].pk,
        },
        out_status=400,  # unknown_reference on the region field
        out_data=lambda w, u: {
            "name": "新建卫生室",
            "type": "village_clinic",
            "region": w.b.villages[0].pk,
        },
        ok=201,
        state=INSTITUTIONS,
    ),
    Rule(
        "api:network_institution_update",
        "PATCH",
        MANAGE,
        pk(lambda w: w.a.thc),
        out=pk(lambda w: w.b.thc),
        data=lambda w, u: {"beds_medical": 55},
        state=INSTITUTIONS,
    ),
    Rule("api:network_alliance_list", "GET", VIEW),
    Rule(
        "api:network_alliance_detail",
        "GET",
        VIEW,
        pk(lambda w: w.a.alliance),
        out=pk(lambda w: w.b.alliance),
    ),
    Rule(
        "api:network_alliance_create",
        "POST",
        MANAGE,
        data=new_alliance(lambda w: w.a),
        out_status=400,  # unknown_reference naming the field
        out_data=new_alliance(lambda w: w.b),
        ok=201,
        state=ALLIANCES,
    ),
    Rule(
        "api:network_alliance_update",
        "PATCH",
        MANAGE,
        pk(lambda w: w.a.alliance),
        out=pk(lambda w: w.b.alliance),
        data=lambda w, u: {"name": "改名医共体"},
        state=ALLIANCES,
    ),
    Rule("api:network_node_list", "GET", VIEW),
    Rule(
        "api:network_node_detail",
        "GET",
        VIEW,
        pk(lambda w: w.a.center),
        out=pk(lambda w: w.b.center),
    ),
    Rule(
        "api:network_node_create",
        "POST",
        MANAGE,
        data=new_node(lambda w: w.a),
        out_data=new_node(lambda w: w.b),
        out_status=400,  # unknown_reference on the region field
        ok=201,
        state=NODES,
    ),
    Rule(
        "api:network_node_update",
        "PATCH",
        MANAGE,
        pk(lambda w: w.a.center),
        out=pk(lambda w: w.b.center),
        data=lambda w, u: {"name": "改名中心"},
        state=NODES,
    ),
    Rule("api:network_agreement_list", "GET", VIEW),
    Rule(
        "api:network_agreement_detail",
        "GET",
        VIEW,
        pk(lambda w: w.a.agreement),
        out=pk(lambda w: w.b.agreement),
    ),
    Rule(
        "api:network_agreement_create",
        "POST",
        MANAGE,
        data=new_agreement(lambda w: w.a),
        out_data=new_agreement(lambda w: w.b),
        ok=201,
        state=AGREEMENTS,
    ),
    Rule(
        "api:network_agreement_update",
        "PATCH",
        MANAGE,
        pk(lambda w: w.a.agreement),
        out=pk(lambda w: w.b.agreement),
        data=lambda w, u: {"title": "修订后的协议"},
        state=AGREEMENTS,
    ),
    Rule(
        "api:network_agreement_document",
        "POST",
        MANAGE,
        pk(lambda w: w.a.agreement),
        out=pk(lambda w: w.b.agreement),
        body="form",
        data=lambda w, u: {"file": _document("新协议.pdf")},
        state=AGREEMENTS,
    ),
    Rule("api:network_staff_list", "GET", STAFF_VIEW),
    Rule(
        "api:network_staff_detail",
        "GET",
        STAFF_VIEW,
        pk(lambda w: w.a.doctor),
        out=pk(lambda w: w.b.doctor),
    ),
    Rule(
        "api:network_staff_create",
        "POST",
        STAFF_MANAGE,
        data=new_staff(lambda w: w.a),
        out_status=400,  # unknown_reference naming the field
        out_data=new_staff(lambda w: w.b),
        ok=201,
        state=STAFF,
    ),
    Rule(
        "api:network_staff_update",
        "PATCH",
        STAFF_MANAGE,
        pk(lambda w: w.a.doctor),
        out=pk(lambda w: w.b.doctor),
        data=lambda w, u: {"name": "王建军"},
        state=STAFF,
    ),
    Rule("api:network_team_list", "GET", VIEW),
    Rule(
        "api:network_team_detail", "GET", VIEW, pk(lambda w: w.a.team), out=pk(lambda w: w.b.team)
    ),
    Rule(
        "api:network_team_create",
        "POST",
        MANAGE,
        data=new_team(lambda w: w.a),
        out_status=400,  # unknown_reference naming the field
        out_data=new_team(lambda w: w.b),
        ok=201,
        state=TEAMS,
    ),
    Rule(
        "api:network_team_update",
        "PATCH",
        MANAGE,
        pk(lambda w: w.a.team),
        out=pk(lambda w: w.b.team),
        data=lambda w, u: {"name": "改名团队"},
        state=TEAMS,
    ),
    # --- audit (not scoped: an audit administrator reads the whole trail) ----------------
    Rule("audit:events", "GET", AUDIT),
    Rule("audit:event_detail", "GET", AUDIT, audit_seq),
    Rule("audit:export", "GET", AUDIT),
    Rule("audit:verify", "GET", AUDIT),
    Rule("audit:verify", "POST", AUDIT, body="form"),
    Rule("api:audit_event_list", "GET", AUDIT),
    Rule("api:audit_event_detail", "GET", AUDIT, audit_seq),
    Rule("api:audit_verify", "POST", AUDIT),
]


# --- the URL tree -----------------------------------------------------------------------


for _extension in EXTENSIONS:
    MATRIX += _extension.RULES


@dataclass(frozen=True)
class Endpoint:
    name: str
    route: str
    methods: frozenset[str] = field(default_factory=frozenset)  # Ninja operations only


def _ninja_methods(pattern: URLPattern) -> frozenset[str]:
    """The HTTP methods of the Ninja operation behind ``pattern`` (empty if not Ninja)."""
    for cell in getattr(pattern.callback, "__closure__", None) or ():
        path_view = cell.cell_contents
        for operation in getattr(path_view, "operations", ()):
            if getattr(operation, "url_name", None) == pattern.name:
                return frozenset(operation.methods)
    return frozenset()


def endpoints(resolver: URLResolver | None = None, prefix: str = "", ns: str = "") -> list:
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = ns + (f"{entry.namespace}:" if entry.namespace else "")
            found += endpoints(entry, prefix + str(entry.pattern), inner)
        else:
            name = f"{ns}{entry.name}" if entry.name else f"{ns}<unnamed {prefix}{entry.pattern}>"
            found.append(Endpoint(name, prefix + str(entry.pattern), _ninja_methods(entry)))
    return found


def test_every_url_has_a_rule():
    covered: dict[str, set[str]] = {}
    for rule in MATRIX:
        covered.setdefault(rule.name, set()).add(rule.method)
    missing, wrong_methods = [], []
    names = set()
    for endpoint in endpoints():
        names.add(endpoint.name)
        if endpoint.name in PUBLIC:
            continue
        if endpoint.name.startswith("api:") and not endpoint.methods:
            wrong_methods.append(f"{endpoint.name}: cannot see the operation's methods")
        elif endpoint.name not in covered:
            missing.append(f"{endpoint.name} ({endpoint.route})")
        elif endpoint.methods and endpoint.methods != covered[endpoint.name]:
            wrong_methods.append(
                f"{endpoint.name}: operation {sorted(endpoint.methods)}, "
                f"matrix {sorted(covered[endpoint.name])}"
            )
    assert missing == [], "URL patterns without a rule in MATRIX:\n" + "\n".join(missing)
    assert wrong_methods == [], "\n".join(wrong_methods)
    stale = sorted((set(covered) | PUBLIC) - names)
    assert stale == [], f"rules for URLs that no longer exist: {stale}"


# --- running a rule ---------------------------------------------------------------------


def _call(client: Any, rule: Rule, kwargs: dict, data: Any, token: str | None) -> Any:
    # Keys starting with "?" are query parameters, the rest URL kwargs.
    query = {k[1:]: v for k, v in kwargs.items() if k.startswith("?")}
    kwargs = {k: v for k, v in kwargs.items() if not k.startswith("?")}
    url = reverse(rule.name, kwargs=kwargs)
    if query:
        url += "?" + urlencode(query)
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if rule.method == "GET":
        return client.get(url, **extra)
    if rule.body == "form":
        return client.post(url, data or {}, **extra)
    return client.generic(
        rule.method, url, json.dumps(data or {}), content_type="application/json", **extra
    )


def _explain(response: Any) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    location = response.get("Location", "")
    return f"status {response.status_code} {location} {body[:300]!r}"


CASES = [
    pytest.param(rule, role, id=f"{rule.method} {rule.name} [{role}]")
    for rule in MATRIX
    for role in [ANONYMOUS, *Role.values]
]


@pytest.mark.parametrize(("rule", "role"), CASES)
def test_matrix(world: World, client: Any, rule: Rule, role: str) -> None:
    def snapshot() -> Any:
        return rule.state(world) if rule.state else None

    kwargs = rule.kwargs(world)
    if role == ANONYMOUS:
        user = world.users[Role.SYSTEM_ADMIN]  # only to build a body
        data = rule.data(world, user) if rule.data else None
        before = snapshot()
        response = _call(client, rule, kwargs, data, None)
        if rule.api:
            assert response.status_code == 401, _explain(response)
        else:
            assert response.status_code == 302, _explain(response)
            assert response["Location"].startswith(reverse("web:login")), _explain(response)
        assert snapshot() == before
        return

    user = world.users[role]
    token = bearer_token(user) if rule.api else None
    if not rule.api:
        client.force_login(user)
    if rule.prepare:
        rule.prepare(world, user)

    if role not in rule.roles:
        data = rule.data(world, user) if rule.data else None
        before = snapshot()
        response = _call(client, rule, kwargs, data, token)
        assert response.status_code == 403, _explain(response)
        assert snapshot() == before
        return

    if rule.out is not None or rule.out_data is not None:
        out_kwargs = rule.out(world) if rule.out else kwargs
        payload = rule.out_data or rule.data
        data = payload(world, user) if payload else None
        before = snapshot()
        response = _call(client, rule, out_kwargs, data, token)
        assert response.status_code == rule.out_status, "out of scope: " + _explain(response)
        assert snapshot() == before

    data = rule.data(world, user) if rule.data else None
    before = snapshot()
    response = _call(client, rule, kwargs, data, token)
    expected = rule.expected(role)
    assert response.status_code == expected, _explain(response)
    if rule.state and rule.changes and expected < 400:
        assert snapshot() != before, "an accepted write changed nothing the rule watches"
    if rule.state and expected >= 400:
        assert snapshot() == before
