"""Template context: the navigation the acting user may see."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yiyang.accounts.roles import Perm

# (label, url name, permission needed): every entry must name an existing page.
NAV = [
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


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = [
        {"label": label, "url": reverse(name)}
        for label, name, perm in NAV
        if user.has_perm_code(perm)
    ]
    # The active entry is the one with the longest URL the current path starts with
    # ("/network/" holds the tree, but "/network/staff/" is the staff entry).
    matching = [item["url"] for item in items if request.path.startswith(item["url"])]
    active = max(matching, key=len, default=None)
    for item in items:
        item["active"] = item["url"] == active
    return {"nav": items}
