"""The demo's assessments: the demo team's residents have levels, standings and dues; the
demo resident is overdue at level 1 and not yet eligible for the high-age allowance."""

from __future__ import annotations

import datetime

import pytest

from yiyang.accounts.models import User
from yiyang.assessments.models import Assessment, Due, DueReason, SessionStatus, Standing
from yiyang.assessments.scoring import score
from yiyang.assessments.services.schedule import open_dues
from yiyang.residents.models import Resident
from yiyang.seed import seed

TODAY = datetime.date(2026, 5, 4)


@pytest.mark.django_db
def test_demo_assessments_are_scored_scheduled_and_deterministic():
    report = seed("demo", 7, TODAY)
    n = report.counts["assessments"]
    assert n > 20
    assert Assessment.objects.count() == n
    for session in Assessment.objects.select_related("instrument")[:50]:
        assert session.status == SessionStatus.FINAL
        assert score(session.instrument.definition, session.answers, session.context) == (
            session.result
        )
        assert session.level == session.result["level"]
    # Every assessed resident has her standing from her latest assessment.
    for standing in Standing.objects.select_related("ability_assessment")[:50]:
        latest = Assessment.objects.filter(resident_id=standing.resident_id).first()
        assert standing.ability_assessment == latest
        assert standing.ability_level == latest.level
    kinds = set(Due.objects.values_list("reason", flat=True))
    assert {DueReason.FIRST, DueReason.ROUTINE} <= kinds
    assert Due.objects.filter(due_on__lt=TODAY).exists()  # some overdue
    assert Due.objects.filter(due_on__gt=TODAY).exists()  # some upcoming

    chen = Resident.objects.get(name="陈秀英")
    assert chen.age_on(TODAY) >= 80
    history = list(Assessment.objects.filter(resident=chen).order_by("assessed_on"))
    assert [a.total for a in history] == [80, 72] and {a.level for a in history} == {1}
    standing = Standing.objects.get(resident=chen)
    assert standing.ability_level == 1
    assert standing.eligibility["high_age_disability_allowance"] is False
    due = Due.objects.get(resident=chen, done_by__isnull=True)
    assert due.due_on < TODAY  # overdue
    doctor = User.objects.get(username="doctor")
    assert due in open_dues(doctor)


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_assessments():
    from yiyang.seed.assessments import write_assessments

    seed("demo", 7, TODAY)
    chen = Resident.objects.get(name="陈秀英")

    def rows() -> list[tuple]:
        return list(
            Assessment.objects.order_by("resident_id", "assessed_on").values_list(
                "resident_id", "assessed_on", "total", "answers"
            )
        )

    first = rows()
    grids = list(chen.grid.teams.first().grids.values_list("pk", flat=True))
    Standing.objects.all().delete()
    Due.objects.all().delete()
    Assessment.objects.all().delete()
    write_assessments(
        grids,
        TODAY,
        7,
        assessor=User.objects.get(username="assessor"),
        demo_resident_id=chen.pk,
    )
    assert rows() == first
