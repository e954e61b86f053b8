"""Template context: the navigation the acting user may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yiyang.accounts.roles import Perm, Role, perms_for
from yiyang.residents.access import followed_for_alerts


def _role(role: str) -> Callable[[Any], bool]:
    return lambda user: user.role == role


def _staff_residents(user: Any) -> bool:
    return bool(user.has_perm_code(Perm.RESIDENT_VIEW))


def _assessment_dues(user: Any) -> bool:
    return bool(user.has_perm_code(Perm.ASSESSMENT_RECORD) or user.has_perm_code(Perm.HEALTH_VIEW))


def _family_follows_alerts(user: Any) -> bool:
    followed = followed_for_alerts(user)
    return followed is not None and followed.exists()


# (label, url name, who sees it: a permission, or a predicate on the user). Every entry
# must name an existing page. Resident and family logins hold no permission; their entries
# are predicates on the role (their pages show their "self" scope).
NAV: list[tuple[Any, str, Perm | Callable[[Any], bool]]] = [
    (_("Residents"), "residents:list", _staff_residents),
    (_("My record"), "residents:list", _role(Role.RESIDENT)),
    (_("My family"), "residents:list", _role(Role.FAMILY)),
    (_("Assessments due"), "assessments:due", _assessment_dues),
    (_("Assessment policy"), "assessments:policy", Perm.ASSESSMENT_POLICY),
    (_("Alerts"), "devices:alerts", Perm.DEVICE_VIEW),
    (_("Her alerts"), "devices:alerts", _family_follows_alerts),
    (_("Duty roster"), "devices:duty", Perm.STAFF_VIEW),
    (_("Escalation schedule"), "devices:escalation", Perm.DEVICE_VIEW),
    (_("Alert rules"), "devices:rules", Perm.DEVICE_VIEW),
    (_("Emergency calls"), "emergency:list", Perm.EMERGENCY_CALL),
    (_("Devices"), "devices:list", Perm.DEVICE_VIEW),
    (_("Quarantine"), "devices:quarantine", Perm.DEVICE_QUARANTINE),
    (_("Network"), "network:tree", Perm.NETWORK_VIEW),
    (_("Institutions"), "network:institutions", Perm.NETWORK_VIEW),
    (_("Agreements"), "network:agreements", Perm.NETWORK_VIEW),
    (_("Staff"), "network:staff", Perm.STAFF_VIEW),
    (_("Teams"), "network:teams", Perm.NETWORK_VIEW),
    (_("Regions"), "network:regions", Perm.NETWORK_VIEW),
    (_("Users"), "accounts:users", Perm.ACCOUNTS_MANAGE),
    (_("Locked accounts"), "accounts:locked", Perm.SECURITY_MANAGE),
    (_("Two-step login resets"), "accounts:mfa", Perm.SECURITY_MANAGE),
    (_("Audit trail"), "audit:events", Perm.AUDIT_VIEW),
]


def _allowed(user: Any, rule: Perm | Callable[[Any], bool]) -> bool:
    if isinstance(rule, Perm):
        return bool(user.has_perm_code(rule))
    return bool(rule(user))


def uses_api(user: Any) -> bool:
    """Whether the user works through the API and so manages API tokens: users holding a
    permission. Resident and family logins hold none (their pages show their own records)
    and are not offered tokens."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active) and bool(
        perms_for(user.role)
    )


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": [], "uses_api": False}
    items = [
        {"label": label, "url": reverse(name)} for label, name, rule in NAV if _allowed(user, rule)
    ]
    # The active entry is the one with the longest URL the current path starts with
    # ("/network/" holds the tree, but "/network/staff/" is the staff entry).
    matching = [item["url"] for item in items if request.path.startswith(item["url"])]
    active = max(matching, key=len, default=None)
    for item in items:
        item["active"] = item["url"] == active
    return {"nav": items, "uses_api": uses_api(user)}
