"""The home of a resident's own login and of a family login (issue 12): her record in
plain words and large text (``residents.plain``) instead of the staff's clinical chart.
``/`` and the "My record" / "My family" entry both show it."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from yiyang.accounts.actor import PageRequest
from yiyang.common.permissions import Role
from yiyang.residents.plain import summary_for
from yiyang.residents.selectors.registry import get_resident_for, residents_for

SHOWN = 20  # a family login looks after a few people, not a registry


def plain_home(request: PageRequest) -> HttpResponse:
    user = request.user
    ids = list(residents_for(user).order_by("name", "pk").values_list("pk", flat=True)[:SHOWN])
    # each one read through ``get_resident_for``: scope, and the read audited
    summaries = [summary_for(user, get_resident_for(user, pk)) for pk in ids]
    context = {"summaries": summaries, "is_family": user.role == Role.FAMILY}
    return render(request, "residents/home/plain.html", context)
