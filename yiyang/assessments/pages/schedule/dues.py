"""The team's due list.

* ``assessments:due`` (``due/``, GET): the open dues of the residents in the user's
  scope (``services.schedule.open_dues``), filtered by team (default: the user's own
  team), by instrument and "overdue only", earliest first, paged by keyset on (due date,
  id) — no ``COUNT(*)``. Needs ``AssessmentPerm.RECORD`` or ``ResidentPerm.HEALTH_VIEW``.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.assessments.models import Due
from yiyang.assessments.pages.schedule.common import decorate_dues, instrument_names, is_htmx
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.assessments.services import schedule
from yiyang.common.pages import refuses_control_characters
from yiyang.common.paging import KeysetPage, keyset_page
from yiyang.common.scope import ScopeKind, scope_of
from yiyang.network.models import Team
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors import teams as network_selectors
from yiyang.residents.permissions import ResidentPerm

PAGE_SIZE = 50


def _cursor(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


# --- the team's due list ------------------------------------------------------------------


def can_see_dues(user: User) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and (
            user.has_perm_code(AssessmentPerm.RECORD)
            or user.has_perm_code(ResidentPerm.HEALTH_VIEW)
        )
    )


def team_choices(user: User) -> tuple[list[tuple[int, str]], int | None]:
    """The teams the due list offers and the default one.

    A user with a team scope is offered the teams she belongs to (her scope's team and
    her staff record's teams); a wider scope (institution, region, all) is offered the
    teams in it as well. The default is her own team (her scope's team first), if any."""
    scope = scope_of(user)
    own_q = Q(pk__in=[])
    staff_id = getattr(user, "staff_id", None)
    if staff_id:
        own_q = Q(memberships__staff_id=staff_id) | Q(leader_id=staff_id)
    if scope.kind == ScopeKind.TEAM and scope.team_id:
        own_q |= Q(pk=scope.team_id)
    own = list(
        Team.objects.filter(own_q).distinct().order_by("name", "pk").values_list("pk", "name")
    )
    wider = scope.kind in (ScopeKind.ALL, ScopeKind.REGION, ScopeKind.INSTITUTION)
    if wider and user.has_perm_code(NetworkPerm.VIEW):
        in_scope = Q(pk__in=network_selectors.teams_for(user).values("pk"))
        choices = list(
            Team.objects.filter(in_scope | own_q)
            .distinct()
            .order_by("name", "pk")
            .values_list("pk", "name")
        )
    else:
        choices = own
    default = None
    if scope.kind == ScopeKind.TEAM and any(pk == scope.team_id for pk, _name in own):
        default = scope.team_id
    elif own:
        default = own[0][0]
    return choices, default


class DueFilterForm(forms.Form):
    team = forms.TypedChoiceField(
        label=gettext_lazy("Team"), coerce=int, required=False, empty_value=None
    )
    instrument = forms.ChoiceField(label=gettext_lazy("Instrument"), required=False)
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)

    def __init__(
        self, data: Any, *, teams: list[tuple[int, str]], instruments: dict[str, str]
    ) -> None:
        super().__init__(data)
        cast(forms.TypedChoiceField, self.fields["team"]).choices = [
            ("", _("All teams")),
            *teams,
        ]
        cast(forms.ChoiceField, self.fields["instrument"]).choices = [
            ("", _("All instruments")),
            *sorted(instruments.items(), key=lambda item: item[1]),
        ]


@require_http_methods(["GET"])
@login_required
@refuses_control_characters
def due_list(request: PageRequest) -> HttpResponse:
    user = request.user
    if not can_see_dues(user):
        raise DjangoPermissionDenied
    teams, default_team = team_choices(user)
    names = instrument_names()
    data = request.GET.copy()
    if "team" not in data:
        data["team"] = str(default_team) if default_team is not None else ""
    form = DueFilterForm(data, teams=teams, instruments=names)
    today = timezone.localdate()
    results: KeysetPage
    if form.is_valid():
        filters = form.cleaned_data
        qs = schedule.open_dues(user, team=filters.get("team"))
        if filters.get("instrument"):
            qs = qs.filter(instrument_code=filters["instrument"])
        if filters.get("overdue"):
            qs = qs.filter(due_on__lt=today)
        results = keyset_page(
            cast(Any, qs),
            after=_cursor(request.GET.get("after")),
            before=_cursor(request.GET.get("before")),
            limit=PAGE_SIZE,
            key="due_on",
        )
    else:
        results = keyset_page(cast(Any, Due.objects.none()), key="due_on")
    decorate_dues(cast(list[Due], results.items), names, today)
    query = data.copy()
    for name in ("after", "before"):
        query.pop(name, None)
    context = {
        "filter_form": form,
        "results": results,
        "query": query.urlencode(),
        "today": today,
        "can_record": user.has_perm_code(AssessmentPerm.RECORD),
    }
    if is_htmx(request):
        return render(request, "assessments/schedule/_due_results.html", context)
    return render(request, "assessments/schedule/due_list.html", context)


urlpatterns: list[URLPattern] = [
    path("due/", due_list, name="due"),
]
