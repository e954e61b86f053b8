"""Alert pages (ADR 0019): the live alert board, one alert with its actions, and the
resident page's "Alerts & readings" tab. Mounted under ``/devices/`` (namespace
``devices``).

* ``devices:alerts`` (``alerts/``): the board — the alerts of the residents in the user's
  scope (``selectors.alerts_for``), live ones (open and acknowledged) by default, critical
  first and then the one waiting longest; filters state, severity, team.
* ``devices:alerts_poll`` (``alerts/poll/``): the board's rows for htmx, polled every
  second (every ``HISTORY_POLL_SECONDS`` when the filter shows history) with the
  filters, the version token ``v`` of what the browser shows and ``at`` (when it was
  drawn, epoch seconds). One aggregate query decides: nothing changed (and
  the ages shown are under a minute old) → 204, which htmx leaves alone; else the rows
  (one more query), alerts newer than the browser's marked as new.
* ``devices:alert_detail`` (``alerts/<pk>/``): the alert, its triggering readings (health
  data: ``residents.health_view``, an audited read), its event log, and the actions.
* ``devices:alert_acknowledge`` / ``alert_handle`` / ``alert_close`` (POST): the services
  of ``yiyang.devices.services.alerts`` (``devices.alert_handle``, the resident in scope, audited).
  Success redirects to the alert (or to the board with ``next=board``); a refused step
  shows the alert page again with the service's reason.
* ``devices:resident_alerts`` (``residents/<pk>/alerts/``): the resident tab — her live
  and recent alerts, her devices, her latest readings. Visible with ``devices.view`` and
  the right to see her health record.

The board and the alert need ``devices.view``; an alert outside the scope is a 404 like a
missing one.
"""

from __future__ import annotations

import datetime
import time
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.common.errors import ValidationFailed
from yiyang.common.pages import apply_error, errors_to_http, page
from yiyang.devices import page_actions, selectors
from yiyang.devices.models import Alert, AlertRule, AlertState, Device, Outcome, Severity
from yiyang.devices.pages.registry import LOW_BATTERY_PCT
from yiyang.devices.permissions import DevicePerm
from yiyang.devices.services import alerts
from yiyang.network.models import Team
from yiyang.residents.access import can_view_health
from yiyang.residents.models import Resident
from yiyang.residents.pages.shell import render_tab, require_tab, resident_page
from yiyang.residents.permissions import ResidentPerm

BOARD_ROWS = 200  # the board shows at most this many alerts (the count says how many)
AGES_FRESH_SECONDS = 60  # redraw unchanged rows after this long so that ages stay right
# The live view (open and acknowledged) polls every second; a view of history (handled,
# closed, all) counts over every matching alert of the scope, which grows without end,
# and needs no second-by-second freshness: it polls this often.
HISTORY_POLL_SECONDS = 10
READINGS_SHOWN = 50
TAB_ALERTS = 20
TAB_READINGS = 20
RESIDENT_TAB = "devices:resident_alerts"
LIVE = "live"
ALL = "all"
NO_TEAM = "none"


def alerts_page(view: Any) -> Any:
    """Like ``page(DevicePerm.VIEW)``, but also lets in a family login that follows
    someone's alerts (read-only; ``selectors.alerts_for`` limits what it sees)."""

    @wraps(view)
    def checked(request: PageRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not selectors.may_see_alerts(request.user):
            raise DjangoPermissionDenied
        return view(request, *args, **kwargs)

    return errors_to_http(checked)


def can_see_tab(user: User, resident: Resident) -> bool:
    """The resident tab: ``devices.view`` and the right to see her health record."""
    return bool(user.has_perm_code(DevicePerm.VIEW)) and can_view_health(user, resident)


def _chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def rule_name(rule: AlertRule) -> str:
    """The rule's name in the page's language."""
    if _chinese():
        return rule.name_zh or rule.name_en
    return rule.name_en or rule.name_zh


def tier_name(level: Any) -> str:
    """The escalation tier's name ("Station staff" …); "" for none yet."""
    from yiyang.devices import models

    tiers = getattr(models, "Tier", None)
    if not level or tiers is None or level not in tiers.values:
        return ""
    return str(tiers(level).label)


def age(since: datetime.datetime, now: datetime.datetime) -> str:
    """A short age: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    seconds = max(0, int((now - since).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 60:
        return _("%(n)d s") % {"n": seconds}
    if minutes < 60:
        return _("%(n)d min") % {"n": minutes}
    if hours < 24:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes % 60}
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours % 24}


# --- the board --------------------------------------------------------------------------


class AlertFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[
            ("", gettext_lazy("Live (open and acknowledged)")),
            *AlertState.choices,
            (ALL, gettext_lazy("All")),
        ],
    )
    severity = forms.ChoiceField(
        label=gettext_lazy("Severity"),
        required=False,
        choices=[("", gettext_lazy("All")), *Severity.choices],
    )
    team = forms.CharField(label=gettext_lazy("Team"), required=False, widget=forms.Select)

    def __init__(self, *args: Any, teams: list[Team] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        team = self.fields["team"]
        team.widget.choices = [  # type: ignore[attr-defined]
            ("", _("All teams")),
            (NO_TEAM, _("No responsible team")),
            *((str(t.pk), t.name) for t in teams or []),
        ]

    def clean_team(self) -> str:
        value = (self.cleaned_data.get("team") or "").strip()
        if value and value != NO_TEAM and not value.isdigit():
            raise forms.ValidationError(_("Choose a team from the list."))
        return value

    def filter(self, qs: QuerySet[Alert]) -> tuple[QuerySet[Alert], bool]:
        """``qs`` filtered by the valid fields (an invalid one is shown and ignored), and
        whether it holds live alerts only."""
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data
        state = data.get("state") or LIVE
        if state == LIVE:
            qs = qs.filter(state__in=selectors.LIVE_STATES)
        elif state != ALL:
            qs = qs.filter(state=state)
        if data.get("severity"):
            qs = qs.filter(severity=data["severity"])
        team = data.get("team")
        if team == NO_TEAM:
            qs = qs.filter(team__isnull=True)
        elif team:
            qs = qs.filter(team_id=int(team))
        return qs, state in (LIVE, AlertState.OPEN, AlertState.ACKNOWLEDGED)


def _filter_query(form: AlertFilterForm) -> str:
    """The board's filters as a query string (for the poll URL)."""
    params = {name: form.data.get(name, "") for name in form.fields if form.data.get(name)}
    return urlencode(params)


def _previous_max_id(version: str) -> int | None:
    parts = version.split("-")
    if len(parts) > 1 and parts[1].isdigit():
        return int(parts[1])
    return None


def _board_context(
    request: PageRequest, form: AlertFilterForm, *, previous: str = ""
) -> dict[str, Any]:
    qs, live = form.filter(selectors.alerts_for(request.user))
    state = selectors.board_state(qs)
    return _rows_context(request, form, qs, live, state, previous=previous)


def _rows_context(
    request: PageRequest,
    form: AlertFilterForm,
    qs: QuerySet[Alert],
    live: bool,
    state: dict[str, Any],
    *,
    previous: str = "",
) -> dict[str, Any]:
    now = timezone.now()
    rows = list(selectors.in_board_order(qs, live)[:BOARD_ROWS])
    new_after = _previous_max_id(previous) if previous else None
    for alert in rows:
        alert.rule_name = rule_name(alert.rule)  # type: ignore[attr-defined]
        alert.age = age(alert.opened_at, now)  # type: ignore[attr-defined]
        alert.tier_name = tier_name(getattr(alert, "escalation_level", 0))  # type: ignore[attr-defined]
        alert.is_new = new_after is not None and alert.pk > new_after  # type: ignore[attr-defined]
    return {
        "alerts": rows,
        "board": state,
        "shown": len(rows),
        "more": max(0, state["count"] - len(rows)),
        "filter_query": _filter_query(form),
        "drawn_at": int(time.time()),
        "can_handle": request.user.has_perm_code(DevicePerm.ALERT_HANDLE),
        "live": live,
        "history_poll_seconds": HISTORY_POLL_SECONDS,
    }


@require_GET
@alerts_page
def alert_board(request: PageRequest) -> HttpResponse:
    user = request.user
    teams = list(
        Team.objects.filter(pk__in=selectors.alerts_for(user).values("team_id")).order_by(
            "name", "pk"
        )
    )
    form = AlertFilterForm(request.GET or None, teams=teams)
    context = {"filter_form": form, **_board_context(request, form)}
    return render(request, "devices/alerts/board.html", context)


@require_GET
@alerts_page
def alert_board_poll(request: PageRequest) -> HttpResponse:
    """The board's rows, or 204 when nothing changed since ``v`` (and ``at`` is recent)."""
    form = AlertFilterForm(request.GET)
    qs, live = form.filter(selectors.alerts_for(request.user))
    state = selectors.board_state(qs)
    shown = request.GET.get("v", "")
    drawn = request.GET.get("at", "")
    fresh = drawn.isdigit() and time.time() - int(drawn) < AGES_FRESH_SECONDS
    if shown == state["version"] and fresh:
        return HttpResponse(status=204)
    context = _rows_context(request, form, qs, live, state, previous=shown)
    return render(request, "devices/alerts/_board.html", context)


# --- one alert --------------------------------------------------------------------------


class HandleForm(forms.Form):
    # No default: the handler chooses (a preselected "false alarm" closed critical alerts
    # in one click).
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=[("", gettext_lazy("— choose the outcome —")), *Outcome.choices],
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _lifecycle(alert: Alert) -> list[dict[str, Any]]:
    steps: list[tuple[str, datetime.datetime, Any]] = [(_("Opened"), alert.opened_at, None)]
    if alert.count > 1:
        steps.append((_("Last triggered"), alert.last_triggered_at, None))
    if alert.acknowledged_at:
        steps.append((_("Acknowledged"), alert.acknowledged_at, alert.acknowledged_by))
    if alert.handled_at:
        steps.append((_("Handled"), alert.handled_at, alert.handled_by))
    if alert.closed_at:
        steps.append((_("Closed"), alert.closed_at, alert.closed_by))
    return [{"label": label, "at": at, "by": by} for label, at, by in steps]


def _detail(
    request: PageRequest,
    alert: Alert,
    *,
    handle_form: HandleForm | None = None,
    action_error: str = "",
) -> HttpResponse:
    user = request.user
    alert.rule_name = rule_name(alert.rule)  # type: ignore[attr-defined]
    alert.age = age(alert.opened_at, timezone.now())  # type: ignore[attr-defined]
    alert.tier_name = tier_name(getattr(alert, "escalation_level", 0))  # type: ignore[attr-defined]
    context = {
        "alert": alert,
        "readings": (
            selectors.alert_readings(user, alert, READINGS_SHOWN)
            if user.has_perm_code(ResidentPerm.HEALTH_VIEW)
            else None
        ),
        "events": selectors.alert_events(alert),
        "lifecycle": _lifecycle(alert),
        "can_handle": user.has_perm_code(DevicePerm.ALERT_HANDLE),
        "handle_form": handle_form or HandleForm(),
        "action_error": action_error,
        "page_actions": page_actions.alert_actions(user, alert),
        "is_open": alert.state == AlertState.OPEN,
        "is_live": alert.state in selectors.LIVE_STATES,
        "is_handled": alert.state == AlertState.HANDLED,
    }
    return render(request, "devices/alerts/detail.html", context)


def _visible(request: PageRequest, pk: int) -> Alert:
    return selectors.get_alert_for(request.user, pk)


@require_GET
@alerts_page
def alert_detail(request: PageRequest, pk: int) -> HttpResponse:
    return _detail(request, _visible(request, pk))


def _done(request: PageRequest, alert: Alert, message: str) -> HttpResponseBase:
    messages.success(request, message)
    if request.POST.get("next") == "board":
        return redirect("devices:alerts")
    return redirect("devices:alert_detail", alert.pk)


@require_POST
@page(DevicePerm.ALERT_HANDLE)
def alert_acknowledge(request: PageRequest, pk: int) -> HttpResponseBase:
    try:
        alert = alerts.acknowledge(request.user, pk)
    except ValidationFailed as error:
        return _detail(request, _visible(request, pk), action_error=error.detail)
    return _done(request, alert, _("Acknowledged: you are handling this alert."))


@require_POST
@page(DevicePerm.ALERT_HANDLE)
def alert_handle(request: PageRequest, pk: int) -> HttpResponseBase:
    form = HandleForm(request.POST)
    if not form.is_valid():
        # Scope first: an alert outside it is a 404 whatever the form says.
        return _detail(request, _visible(request, pk), handle_form=form)
    try:
        alert = alerts.handle(
            request.user, pk, outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"]
        )
    except ValidationFailed as error:
        apply_error(form, error)
        return _detail(
            request,
            _visible(request, pk),
            handle_form=form,
            action_error="" if error.field in form.fields else error.detail,
        )
    return _done(
        request, alert, _("Handled: %(outcome)s.") % {"outcome": alert.get_outcome_display()}
    )


@require_POST
@page(DevicePerm.ALERT_HANDLE)
def alert_close(request: PageRequest, pk: int) -> HttpResponseBase:
    try:
        alert = alerts.close(request.user, pk)
    except ValidationFailed as error:
        return _detail(request, _visible(request, pk), action_error=error.detail)
    return _done(request, alert, _("Closed."))


# --- the resident tab -------------------------------------------------------------------


@require_GET
@resident_page
def resident_alerts(request: PageRequest, resident: Resident) -> HttpResponseBase:
    require_tab(request, resident, RESIDENT_TAB)
    user = request.user
    now = timezone.now()
    theirs = selectors.alerts_for(user).filter(resident_id=resident.pk)
    live = list(selectors.in_board_order(theirs.filter(state__in=selectors.LIVE_STATES), True))
    recent = list(
        selectors.in_board_order(theirs.exclude(state__in=selectors.LIVE_STATES), False)[
            :TAB_ALERTS
        ]
    )
    for alert in (*live, *recent):
        alert.rule_name = rule_name(alert.rule)  # type: ignore[attr-defined]
        alert.age = age(alert.opened_at, now)  # type: ignore[attr-defined]
    context = {
        "live_alerts": live,
        "recent_alerts": recent,
        "devices": list(Device.objects.filter(resident_id=resident.pk).order_by("serial")),
        "readings": selectors.resident_readings(user, resident, TAB_READINGS),
        "low_battery": LOW_BATTERY_PCT,
        "summary": ngettext("%(n)d live alert", "%(n)d live alerts", len(live)) % {"n": len(live)},
    }
    return render_tab(request, resident, RESIDENT_TAB, "devices/alerts/resident_tab.html", context)
