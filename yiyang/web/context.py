"""Template context: the navigation the acting user may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yiyang.accounts.permissions import AccountPerm
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.audit.permissions import AuditPerm
from yiyang.common.permissions import Permission, Role, perms_for
from yiyang.devices.permissions import DevicePerm
from yiyang.emergency.permissions import EmergencyPerm
from yiyang.network.permissions import NetworkPerm
from yiyang.residents.access import followed_for_alerts
from yiyang.residents.permissions import ResidentPerm


def _role(role: str) -> Callable[[Any], bool]:
    return lambda user: user.role == role


def _staff_residents(user: Any) -> bool:
    return bool(user.has_perm_code(ResidentPerm.VIEW))


def _assessment_dues(user: Any) -> bool:
    return bool(
        user.has_perm_code(AssessmentPerm.RECORD) or user.has_perm_code(ResidentPerm.HEALTH_VIEW)
    )


def _family_follows_alerts(user: Any) -> bool:
    followed = followed_for_alerts(user)
    return followed is not None and followed.exists()


# (label, url name, who sees it: a permission, or a predicate on the user). Every entry
# must name an existing page. Resident and family logins hold no permission; their entries
# are predicates on the role (their pages show their "self" scope).
NAV: list[tuple[Any, str, Permission | Callable[[Any], bool]]] = [
    (_("Residents"), "residents:list", _staff_residents),
    (_("My record"), "residents:list", _role(Role.RESIDENT)),
    (_("My family"), "residents:list", _role(Role.FAMILY)),
    (_("Assessments due"), "assessments:due", _assessment_dues),
    (_("Assessment policy"), "assessments:policy", AssessmentPerm.POLICY),
    (_("Alerts"), "devices:alerts", DevicePerm.VIEW),
    (_("Her alerts"), "devices:alerts", _family_follows_alerts),
    (_("Duty roster"), "devices:duty", NetworkPerm.STAFF_VIEW),
    (_("Escalation schedule"), "devices:escalation", DevicePerm.VIEW),
    (_("Alert rules"), "devices:rules", DevicePerm.VIEW),
    (_("Emergency calls"), "emergency:list", EmergencyPerm.CALL),
    (_("Devices"), "devices:list", DevicePerm.VIEW),
    (_("Quarantine"), "devices:quarantine", DevicePerm.QUARANTINE),
    (_("Network"), "network:tree", NetworkPerm.VIEW),
    (_("Institutions"), "network:institutions", NetworkPerm.VIEW),
    (_("Agreements"), "network:agreements", NetworkPerm.VIEW),
    (_("Staff"), "network:staff", NetworkPerm.STAFF_VIEW),
    (_("Teams"), "network:teams", NetworkPerm.VIEW),
    (_("Regions"), "network:regions", NetworkPerm.VIEW),
    (_("Users"), "accounts:users", AccountPerm.MANAGE),
    (_("Locked accounts"), "accounts:locked", AccountPerm.SECURITY),
    (_("Two-step login resets"), "accounts:mfa", AccountPerm.SECURITY),
    (_("Audit trail"), "audit:events", AuditPerm.VIEW),
]


def _allowed(user: Any, rule: Permission | Callable[[Any], bool]) -> bool:
    if isinstance(rule, Permission):
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
