from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.module_loading import import_string

from yiyang.common import registry


@login_required
def home(request):
    """The staff console's home, or the home an app registered for the user's role
    (``common.registry.register_home``: resident and family logins get her record in
    plain words)."""
    view_path = registry.home_for(request.user.role)
    if view_path is not None:
        return import_string(view_path)(request)
    return render(request, "web/home.html")
