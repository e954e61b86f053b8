from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from yiyang.common.permissions import PUBLIC_ROLES


@login_required
def home(request):
    if request.user.role in PUBLIC_ROLES:  # her record in plain words (residents.plain)
        from yiyang.residents.pages.home import plain_home

        return plain_home(request)
    return render(request, "web/home.html")
