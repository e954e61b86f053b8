"""Template context: the navigation the acting user may see (the entries every app
registered, ``common.registry.register_nav``)."""

from __future__ import annotations

from django.urls import reverse

from yiyang.accounts.models import User
from yiyang.common import registry
from yiyang.common.permissions import perms_for


def uses_api(user: User) -> bool:
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
        {"label": entry.label, "url": reverse(entry.url_name)}
        for entry in registry.nav_entries()
        if entry.shown_to(user)
    ]
    # The active entry is the one with the longest URL the current path starts with
    # ("/network/" holds the tree, but "/network/staff/" is the staff entry).
    matching = [item["url"] for item in items if request.path.startswith(item["url"])]
    active = max(matching, key=len, default=None)
    for item in items:
        item["active"] = item["url"] == active
    return {"nav": items, "uses_api": uses_api(user)}
