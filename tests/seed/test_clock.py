"""The seed writes nothing that happened later than the moment it runs: readings, consents,
diagnoses, assessments, bindings, audit rows and every other event are at or before the
seed's clock, whatever the hour it runs at (its records are anchored at 09:00 on ``today``,
so a run before 09:00 in the deployment's time zone used to write times still to come).
Dates that are plans (a due date, an agreement's end) may lie ahead."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.apps import apps
from django.db import models
from django.db.models import Max
from django.utils import timezone

from yiyang.common.errors import ValidationFailed
from yiyang.network.models import Agreement, Region
from yiyang.seed import seed

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Times that are planned, not happened: they may be later than the seed's clock.
PLANNED = {
    ("accounts", "ApiToken", "expires_at"),
    ("notifications", "Notification", "next_attempt_at"),
    ("devices", "Alert", "next_escalation_at"),
    ("network", "Agreement", "valid_to"),
    ("network", "DutyShift", "starts_at"),
    ("network", "DutyShift", "ends_at"),
    ("network", "StaffMembership", "end_on"),
    ("assessments", "Due", "due_on"),
    ("residents", "Medication", "end"),
    ("residents", "Encounter", "end_date"),
}


def _latest_times() -> dict[str, datetime.datetime | datetime.date]:
    """The latest value of every date and time field of the project's models that is not a
    plan (``PLANNED``), by "app.Model.field"."""
    latest = {}
    for model in apps.get_models():
        if not model.__module__.startswith("yiyang."):
            continue
        for f in model._meta.concrete_fields:
            if not isinstance(f, models.DateField):
                continue
            if (model._meta.app_label, model.__name__, f.name) in PLANNED:
                continue
            value = model._default_manager.aggregate(m=Max(f.name))["m"]
            if value is not None:
                latest[f"{model._meta.label}.{f.name}"] = value
    return latest


@pytest.mark.django_db
@pytest.mark.parametrize("hour", [0, 7, 23])
def test_the_demo_writes_no_time_after_the_moment_it_runs(monkeypatch, hour):
    """The demo seeded (default ``today``) at ``hour``:30 in Shanghai, the clock stopped
    there: no event after that moment, no event date after that day. The moment is the
    next ``hour``:30 to come, so that rows written before the test (reference data) are
    earlier."""
    now = timezone.localtime(timezone.now(), SHANGHAI)
    moment = now.replace(hour=hour, minute=30, second=0, microsecond=0)
    if moment <= now:
        moment = datetime.datetime.combine(
            moment.date() + datetime.timedelta(days=1), moment.timetz()
        )
    today = moment.date()
    monkeypatch.setattr(timezone, "now", lambda: moment)

    seed("demo", 7, residents=150)

    latest = _latest_times()
    assert {"residents.Observation.effective_at", "residents.Consent.given_at"} <= set(latest)
    assert "assessments.Assessment.submitted_at" in latest
    assert "devices.Binding.bound_at" in latest
    late = {
        name: value
        for name, value in latest.items()
        if (value > moment if isinstance(value, datetime.datetime) else value > today)
    }
    assert late == {}
    # The demo still shows agreements in force, expiring and expired; none not yet in force.
    markers = {a.expiry_marker(today) for a in Agreement.objects.all()}
    assert markers == {"", "expiring", "expired"}


@pytest.mark.django_db
def test_a_today_after_the_clock_is_refused():
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationFailed) as caught:
        seed("demo", 7, tomorrow, residents=0)
    assert (caught.value.code, caught.value.field) == ("seed_today_in_future", "today")
    assert not Region.objects.exists()
