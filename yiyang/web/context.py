"""Template context: the navigation the acting user may see."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yiyang.accounts.roles import Perm

# (label, url name, permission needed)
NAV = [
    (_("Network"), "network:tree", Perm.NETWORK_VIEW),
    (_("Institutions"), "network:institutions", Perm.NETWORK_VIEW),
    (_("Agreements"), "network:agreements", Perm.NETWORK_VIEW),
    (_("Staff"), "network:staff", Perm.STAFF_VIEW),
    (_("Teams"), "network:teams", Perm.NETWORK_VIEW),
    (_("Audit trail"), "audit:events", Perm.AUDIT_VIEW),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = []
    for label, name, perm in NAV:
        if not user.has_perm_code(perm):
            continue
        try:
            url = reverse(name)
        except Exception:  # noqa: BLE001 - a page not built yet is simply not shown
            continue
        items.append({"label": label, "url": url, "active": request.path.startswith(url)})
    return {"nav": items}
