"""Demo logins: one user per role, with a data scope that shows scoping at work.

The doctor and nurse see one family-doctor team (first township only); the institution
admin one township hospital; the caregiver one elderly-care home; the dispatcher the
first township; the supervisor and assessor the whole county; the three administrators
everything. Roles that must use TOTP are pre-enrolled and their secret is printed by
``yiyang demo`` so it can be added to an authenticator app.
"""

from __future__ import annotations

import random

import pyotp
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.common.errors import ValidationFailed
from yiyang.common.permissions import Role, mfa_required
from yiyang.common.scope import ScopeKind
from yiyang.seed import names
from yiyang.seed.errors import SeedError
from yiyang.seed.network.plan import NetworkPlan

DEMO_PASSWORD = "Yiyang#2026"

# (username, role) in the order the demo prints them.
DEMO_USERS: tuple[tuple[str, str], ...] = (
    ("sysadmin", Role.SYSTEM_ADMIN),
    ("secadmin", Role.SECURITY_ADMIN),
    ("auditor", Role.AUDIT_ADMIN),
    ("supervisor", Role.SUPERVISOR),
    ("instadmin", Role.INSTITUTION_ADMIN),
    ("doctor", Role.DOCTOR),
    ("nurse", Role.NURSE),
    ("caregiver", Role.CAREGIVER),
    ("dispatcher", Role.DISPATCHER),
    ("assessor", Role.ASSESSOR),
    ("resident", Role.RESIDENT),
    ("family", Role.FAMILY),
)
DEMO_USERNAMES = tuple(u for u, _ in DEMO_USERS)

ADMIN_NAMES: dict[str, str] = {
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.AUDIT_ADMIN: "审计管理员",
}


def plan_users(plan: NetworkPlan) -> list[User]:
    """Unsaved users for every role, attached to the plan's first county."""
    targets = plan.targets
    assert targets is not None, "the plan has no county to attach users to"
    rng = random.Random(f"users:{plan.seed}")  # noqa: S311 - synthetic names
    users = []
    for username, role in DEMO_USERS:
        user = User(username=username, role=role, is_active=True)
        if role in ADMIN_NAMES:
            user.scope_kind = ScopeKind.ALL
            user.display_name = ADMIN_NAMES[role]
        elif role == Role.SUPERVISOR:
            user.scope_kind, user.scope_region = ScopeKind.REGION, targets.county
        elif role == Role.ASSESSOR:
            user.scope_kind, user.scope_region = ScopeKind.REGION, targets.county
            user.staff = targets.assessor
        elif role == Role.DISPATCHER:
            user.scope_kind, user.scope_region = ScopeKind.REGION, targets.township
            user.staff = targets.dispatcher
        elif role == Role.INSTITUTION_ADMIN:
            user.scope_kind = ScopeKind.INSTITUTION
            user.scope_institution = targets.center_medical
        elif role == Role.CAREGIVER:
            user.scope_kind = ScopeKind.INSTITUTION
            user.scope_institution = targets.center_care
            user.staff = targets.caregiver
        elif role == Role.DOCTOR:
            user.scope_kind, user.scope_team = ScopeKind.TEAM, targets.team
            user.staff = targets.doctor
        elif role == Role.NURSE:
            user.scope_kind, user.scope_team = ScopeKind.TEAM, targets.team
            user.staff = targets.nurse
        else:  # resident, family member
            user.scope_kind = ScopeKind.SELF
        if not user.display_name:
            if user.staff is not None:
                user.display_name = user.staff.name
            else:
                user.display_name = names.person_name(rng, rng.choice("MF"))
        users.append(user)
    return users


def write_users(users: list[User]) -> int:
    """Insert the users with the shared demo password (one hash: the same password for
    all, and argon2 is deliberately slow). TOTP-required roles are pre-enrolled."""
    taken = sorted(
        User.objects.filter(username__in=[u.username for u in users]).values_list(
            "username", flat=True
        )
    )
    if taken:
        raise ValidationFailed(
            SeedError.SEED_USERS_EXIST,
            f"users {', '.join(taken)} already exist: the demo logins are seeded once per "
            "database (use an empty database or a preset without users)",
        )
    password = make_password(DEMO_PASSWORD)
    now = timezone.now()
    for user in users:
        user.password = password
        user.password_changed_at = now
        if mfa_required(user.role):
            user.totp_secret = pyotp.random_base32()
            user.totp_confirmed = True
    User.objects.bulk_create(users)
    return len(users)


SEED_USERNAME = "seed"


def seed_recorder() -> User:
    """The account recorded as having entered seeded consents and diagnoses when the preset
    has no demo staff: inactive, without a usable password (it cannot log in) and, being
    inactive, without any permission. Created once per database."""
    user, _ = User.objects.get_or_create(
        username=SEED_USERNAME,
        defaults={
            "role": Role.SYSTEM_ADMIN,
            "scope_kind": ScopeKind.ALL,
            "is_active": False,
            "display_name": "Synthetic data (seed)",
            "password": make_password(None),
        },
    )
    return user


def describe_self(user: User) -> str:
    """Who a resident or family login stands for (the demo's seeded people)."""
    from yiyang.residents.models import ProxyGrant, Resident

    if user.role == Role.RESIDENT:
        own = Resident.objects.filter(account=user).first()
        if own is not None:
            return f"own record: {own.name} ({own.id_number_masked})"
    grants = ProxyGrant.objects.filter(user=user).select_related("resident", "contact")
    for grant in grants:
        rights = [
            name
            for name, on in (
                ("readings", grant.can_view_readings),
                ("alerts", grant.can_view_alerts),
                ("booking", grant.can_book_services),
                ("bills", grant.can_view_bills),
            )
            if on
        ]
        return (
            f"proxy for {grant.resident.name} as {grant.contact.get_relation_display()} "
            f"({', '.join(rights) or 'no rights'})"
        )
    return str(ScopeKind.SELF)


def describe_scope(user: User) -> str:
    """The user's data scope in a few words, for the demo's login table."""
    kind = user.scope_kind
    if kind == ScopeKind.SELF:
        return describe_self(user)
    if kind == ScopeKind.REGION and user.scope_region is not None:
        return f"region {user.scope_region.name} ({user.scope_region.code})"
    if kind == ScopeKind.INSTITUTION and user.scope_institution is not None:
        return f"institution {user.scope_institution.name}"
    if kind == ScopeKind.TEAM and user.scope_team is not None:
        return f"team {user.scope_team.name}"
    return str(kind)


def login_table(password: str = DEMO_PASSWORD) -> str:
    """One line per demo login found in the database (username, password, role, scope),
    with the TOTP secret under each user enrolled in the second factor."""
    by_name = {
        u.username: u
        for u in User.objects.filter(username__in=DEMO_USERNAMES).select_related(
            "scope_region", "scope_institution", "scope_team"
        )
    }
    lines = [f"{'username':<12} {'password':<13} {'role':<18} scope"]
    for username in DEMO_USERNAMES:
        user = by_name.get(username)
        if user is None:
            continue
        lines.append(f"{username:<12} {password:<13} {user.role:<18} {describe_scope(user)}")
        if user.totp_confirmed and user.totp_secret:
            lines.append(
                f"{'':<12} TOTP secret: {user.totp_secret} (add to an authenticator app; "
                "log in with its 6-digit code)"
            )
    return "\n".join(lines)
