"""The alert pages: the live board (scope, order, filters, the poll that answers 204 while
nothing changes and the new rows when something does), one alert with its readings and
actions (through the real state machine), and the resident's "Alerts & readings" tab.

Alerts are real: readings go through ``ingest.process`` from bound devices of residents
who consented to monitoring."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role
from yiyang.devices import page_actions
from yiyang.devices.models import Alert, AlertState
from yiyang.devices.services import alerts
from yiyang.devices.tests.conftest import msg, send
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.django_db

BOARD = "/devices/alerts/"
POLL = "/devices/alerts/poll/"


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="alert-(\d+)"', html)]


def poll_url(html: str) -> str:
    """The poll URL the board's htmx element carries (what the browser would request)."""
    found = re.search(r'id="alert-board"[^>]*?hx-get="([^"]+)"', html, re.DOTALL)
    assert found, "no poll element"
    return found.group(1).replace("&amp;", "&")


# --- the board --------------------------------------------------------------------------


def test_board_lists_live_alerts_in_scope_critical_first_then_oldest(place):
    send(place.chen_bp, msg(1, "glucose", {"mmol": 2.8, "context": "fasting"}))  # urgent
    send(place.chen_bp, msg(2, "battery", {"pct": 10}))  # info
    send(place.wang_bp, msg(1, "fall", {}))  # critical
    send(place.chen_bp, msg(3, "sos", {}))  # critical, newer
    send(place.zhao_bp, msg(1, "sos", {}))  # county B
    fall = Alert.objects.get(rule__code="fall")
    sos_chen = Alert.objects.get(rule__code="sos", resident=place.chen)
    glucose = Alert.objects.get(rule__code="glucose_low")
    battery = Alert.objects.get(rule__code="battery_low")
    Alert.objects.filter(pk=fall.pk).update(
        opened_at=timezone.now() - datetime.timedelta(minutes=5)
    )

    page = client_for(place.dispatcher).get(BOARD)
    assert page.status_code == 200
    html = page.content.decode()
    assert row_ids(html) == [fall.pk, sos_chen.pk, glucose.pk, battery.pk]
    assert "陈秀英" in html and "王桂芳" in html and "赵兰" not in html
    assert 'id="board-open-critical"' in html  # the alarm banner
    assert "2 critical alerts are waiting" in html
    assert 'class="alert-row sev-critical state-open"' in html
    assert "5 min" in html  # the fall's age
    assert reverse("residents:detail", args=[place.wang.pk]) in html
    # English rule names by default here, Chinese for a Chinese page.
    assert fall.rule.name_en in html
    zh = client_for(place.dispatcher, "zh-hans").get(BOARD).content.decode()
    assert fall.rule.name_zh in zh


def test_board_filters_state_severity_team(place):
    send(place.chen_bp, msg(1, "sos", {}))
    send(place.wang_bp, msg(1, "glucose", {"mmol": 2.5, "context": "random"}))
    sos = Alert.objects.get(rule__code="sos")
    low = Alert.objects.get(rule__code="glucose_low")
    alerts.handle(place.dispatcher, sos, outcome="false_alarm")
    client = client_for(place.dispatcher)
    assert row_ids(client.get(BOARD).content.decode()) == [low.pk]
    assert row_ids(client.get(BOARD, {"state": "handled"}).content.decode()) == [sos.pk]
    assert set(row_ids(client.get(BOARD, {"state": "all"}).content.decode())) == {sos.pk, low.pk}
    assert row_ids(client.get(BOARD, {"severity": "critical"}).content.decode()) == []
    by_team = client.get(BOARD, {"state": "all", "team": place.team2.pk}).content.decode()
    assert row_ids(by_team) == [low.pk]
    # The team filter offers the teams that have alerts in scope.
    assert f'<option value="{place.team.pk}">' in by_team
    bad = client.get(BOARD, {"team": "x", "severity": "nope"})
    assert bad.status_code == 200
    text = bad.content.decode()
    assert 'id="filter-errors"' in text and "Choose a team from the list." in text
    assert "Severity: Select a valid choice." in text
    assert row_ids(text) == [low.pk]  # invalid filters are shown and ignored


def test_poll_answers_unchanged_then_the_new_alert_then_unchanged(place):
    client = client_for(place.dispatcher)
    board = client.get(BOARD).content.decode()
    assert row_ids(board) == []
    url = poll_url(board)
    assert url.startswith(POLL) and "v=" in url and "at=" in url
    unchanged = client.get(url)
    assert unchanged.status_code == 204 and unchanged.content == b""

    send(place.chen_bp, msg(1, "sos", {}))
    sos = Alert.objects.get()
    changed = client.get(url)
    assert changed.status_code == 200
    rows = changed.content.decode()
    assert row_ids(rows) == [sos.pk]
    assert 'class="alert-row sev-critical state-open is-new"' in rows
    assert 'id="alert-board"' in rows and 'hx-trigger="every 1s"' in rows
    # The fragment carries the new version: polling it again is "unchanged".
    url2 = poll_url(rows)
    assert url2 != url
    assert client.get(url2).status_code == 204

    # A folded trigger, an acknowledgement: each changes the version.
    send(place.chen_bp, msg(2, "sos", {}))
    folded = client.get(url2)
    assert folded.status_code == 200 and "is-new" not in folded.content.decode()
    url3 = poll_url(folded.content.decode())
    alerts.acknowledge(place.dispatcher, sos)
    acked = client.get(url3)
    assert acked.status_code == 200 and 'data-state="acknowledged"' in acked.content.decode()
    # Handled: it leaves the live board.
    url4 = poll_url(acked.content.decode())
    alerts.handle(place.dispatcher, sos, outcome="phoned_fine")
    gone = client.get(url4)
    assert gone.status_code == 200 and row_ids(gone.content.decode()) == []


def test_poll_redraws_after_a_minute_so_that_ages_stay_right(place):
    send(place.chen_bp, msg(1, "sos", {}))
    client = client_for(place.dispatcher)
    url = poll_url(client.get(BOARD).content.decode())
    assert client.get(url).status_code == 204
    stale = re.sub(r"at=\d+", f"at={int(timezone.now().timestamp()) - 61}", url)
    assert client.get(stale).status_code == 200
    assert client.get(re.sub(r"at=\d+", "at=", url)).status_code == 200


def test_poll_keeps_the_filters(place):
    send(place.chen_bp, msg(1, "glucose", {"mmol": 2.8, "context": "fasting"}))
    client = client_for(place.dispatcher)
    url = poll_url(client.get(BOARD, {"severity": "critical"}).content.decode())
    assert "severity=critical" in url
    send(place.chen_bp, msg(2, "battery", {"pct": 5}))  # not critical: still unchanged
    assert client.get(url).status_code == 204
    send(place.wang_bp, msg(1, "fall", {}))
    assert row_ids(client.get(url).content.decode()) == [Alert.objects.get(rule__code="fall").pk]


def test_history_views_poll_every_ten_seconds_the_live_view_every_second(place):
    send(place.chen_bp, msg(1, "glucose", {"mmol": 2.8, "context": "fasting"}))
    client = client_for(place.dispatcher)
    for state, trigger in (
        ("", "every 1s"),
        ("open", "every 1s"),
        ("acknowledged", "every 1s"),
        ("handled", "every 10s"),
        ("closed", "every 10s"),
        ("all", "every 10s"),
    ):
        page = client.get(BOARD, {"state": state} if state else {}).content.decode()
        assert f'hx-trigger="{trigger}"' in page, state


def test_poll_is_cheap(place, django_assert_max_num_queries):
    send(place.chen_bp, msg(1, "sos", {}))
    send(place.wang_bp, msg(1, "fall", {}))
    client = client_for(place.dispatcher)
    url = poll_url(client.get(BOARD).content.decode())
    # Session, user and the user's scope region, then one aggregate.
    with django_assert_max_num_queries(4):
        assert client.get(url).status_code == 204
    send(place.chen_bp, msg(2, "glucose", {"mmol": 2.0, "context": "random"}))
    # ... plus the rows (rules, residents and teams joined in).
    with django_assert_max_num_queries(5):
        assert client.get(url).status_code == 200


def test_a_team_sees_its_residents_alerts_only(place):
    send(place.chen_bp, msg(1, "sos", {}))
    send(place.wang_bp, msg(1, "glucose", {"mmol": 2.8, "context": "fasting"}))
    chen_alert = Alert.objects.get(resident=place.chen)
    wang_alert = Alert.objects.get(resident=place.wang)
    assert (chen_alert.team, wang_alert.team) == (place.team, place.team2)

    carer = client_for(place.carer)
    board = carer.get(BOARD).content.decode()
    assert row_ids(board) == [chen_alert.pk] and "王桂芳" not in board
    assert carer.get(reverse("devices:alert_detail", args=[wang_alert.pk])).status_code == 404
    nurse2 = client_for(place.nurse2)
    url = poll_url(nurse2.get(BOARD).content.decode())
    assert nurse2.get(url).status_code == 204
    # A new alert of the other team's resident does not wake this team's board …
    send(place.chen_bp, msg(2, "fall", {}))
    assert nurse2.get(url).status_code == 204
    # … one of its own does.
    send(place.wang_bp, msg(2, "sos", {}))
    assert row_ids(nurse2.get(url).content.decode()) == [
        Alert.objects.get(resident=place.wang, rule__code="sos").pk,
        wang_alert.pk,
    ]
    # Acting on the other team's alert: 404, nothing changes.
    response = nurse2.post(reverse("devices:alert_acknowledge", args=[chen_alert.pk]))
    assert response.status_code == 404
    assert Alert.objects.get(pk=chen_alert.pk).state == AlertState.OPEN


def test_board_needs_devices_view(place):
    assessor = make_user(Role.ASSESSOR, place.net.a.county, username="assessor-a")
    assert client_for(assessor).get(BOARD).status_code == 403
    assert client_for(assessor).get(POLL).status_code == 403
    assert Client().get(BOARD).status_code == 302


def test_navigation_has_the_board(place):
    html = client_for(place.supervisor).get("/").content.decode()
    assert f'href="{BOARD}"' in html
    assessor = make_user(Role.ASSESSOR, place.net.a.county, username="assessor-a")
    assert f'href="{BOARD}"' not in client_for(assessor).get("/").content.decode()


# --- one alert ---------------------------------------------------------------------------


def _emergency_url(pk: int) -> str | None:
    try:
        return reverse("emergency:from_alert", args=[pk])
    except NoReverseMatch:
        return None


def test_alert_page_shows_readings_log_and_actions(place):
    send(place.chen_bp, msg(1, "bp", {"sys": 186, "dia": 100, "hr": 80}))
    send(place.chen_bp, msg(2, "bp", {"sys": 192, "dia": 104, "hr": 82}))
    alert = Alert.objects.get()
    before = AuditEvent.objects.filter(action="devices.alert.read").count()
    page = client_for(place.dispatcher).get(reverse("devices:alert_detail", args=[alert.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert alert.rule.name_en in html and "陈秀英" in html
    assert "BP 186/" in html and "BP 192/104" in html  # both triggering readings
    assert 'id="acknowledge-form"' in html and 'id="handle-form"' in html
    assert 'id="close-form"' not in html
    assert 'value="emergency"' in html  # the outcomes offered
    assert "BP-TEST-0001" in html
    assert 'id="emergency-call"' not in html  # not an SOS or fall alert
    # Readings are health data: the read is audited.
    assert AuditEvent.objects.filter(action="devices.alert.read").count() == before + 1


def test_sos_alert_links_the_emergency_call(place):
    send(place.chen_bp, msg(1, "sos", {}))
    alert = Alert.objects.get()
    html = client_for(place.dispatcher).get(reverse("devices:alert_detail", args=[alert.pk]))
    expected = _emergency_url(alert.pk)
    if expected is None:  # the emergency app's page is not there yet
        assert 'id="emergency-call"' not in html.content.decode()
    else:
        assert f'href="{expected}"' in html.content.decode()
    # A caregiver takes no calls: no link either way.
    carer = client_for(place.carer).get(reverse("devices:alert_detail", args=[alert.pk]))
    assert 'id="emergency-call"' not in carer.content.decode()


def test_apps_add_buttons_to_the_alert_page(place, monkeypatch):
    """The alert page's extension point (``page_actions``): each registered function
    gives the user's button for the alert, or none; shown in registration order,
    escaped."""

    def first(user, alert):
        if user != place.dispatcher:
            return None
        return page_actions.PageAction("First <b>", f"/first/{alert.pk}/", dom_id="first-button")

    def second(user, alert):
        return page_actions.PageAction("Second", "/second/", css="button quiet")

    monkeypatch.setattr(page_actions, "_ALERT_ACTIONS", {})
    page_actions.register_alert_action("test.first", first)
    page_actions.register_alert_action("test.second", second)
    page_actions.register_alert_action("test.first", first)  # again: same place
    send(place.chen_bp, msg(1, "bp", {"sys": 186, "dia": 100, "hr": 80}))
    alert = Alert.objects.get()
    url = reverse("devices:alert_detail", args=[alert.pk])
    html = client_for(place.dispatcher).get(url).content.decode()
    buttons = (
        f'<a class="button" id="first-button" href="/first/{alert.pk}/">First &lt;b&gt;</a>'
        '<a class="button quiet" href="/second/">Second</a>'
    )
    assert buttons in html
    html = client_for(place.carer).get(url).content.decode()
    assert 'id="first-button"' not in html
    assert '<a class="button quiet" href="/second/">Second</a>' in html


def test_acknowledge_handle_close_through_the_page(place):
    send(place.chen_bp, msg(1, "fall", {}))
    alert = Alert.objects.get()
    client = client_for(place.carer)
    url = reverse("devices:alert_detail", args=[alert.pk])

    done = client.post(reverse("devices:alert_acknowledge", args=[alert.pk]))
    assert done.status_code == 302 and done["Location"] == url
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == place.carer

    done = client.post(
        reverse("devices:alert_handle", args=[alert.pk]),
        {"outcome": "home_visit", "note": "  visit at 3 pm  "},
    )
    assert done.status_code == 302
    alert.refresh_from_db()
    assert (alert.state, alert.outcome, alert.note) == ("handled", "home_visit", "visit at 3 pm")
    page = client.get(url).content.decode()
    assert "Home visit arranged" in page and 'id="close-form"' in page

    done = client.post(reverse("devices:alert_close", args=[alert.pk]), {"next": "board"})
    assert done.status_code == 302 and done["Location"] == BOARD
    alert.refresh_from_db()
    assert alert.state == AlertState.CLOSED and alert.closed_by == place.carer
    actions = list(
        AuditEvent.objects.filter(
            action__in=["devices.alert.acknowledge", "devices.alert.handle", "devices.alert.close"],
            object_id=str(alert.pk),
        )
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "devices.alert.acknowledge",
        "devices.alert.handle",
        "devices.alert.close",
    ]


def test_refused_steps_show_the_reason_and_change_nothing(place):
    send(place.chen_bp, msg(1, "fall", {}))
    alert = Alert.objects.get()
    client = client_for(place.dispatcher)
    closed = client.post(reverse("devices:alert_close", args=[alert.pk]))
    assert closed.status_code == 200
    assert 'id="action-error"' in closed.content.decode()
    assert "This alert is Open." in closed.content.decode()
    bad = client.post(reverse("devices:alert_handle", args=[alert.pk]), {"outcome": "shrug"})
    assert bad.status_code == 200
    assert "Select a valid choice" in bad.content.decode()
    assert Alert.objects.get(pk=alert.pk).state == AlertState.OPEN
    alerts.handle(place.dispatcher, alert, outcome="false_alarm")
    again = client.post(reverse("devices:alert_acknowledge", args=[alert.pk]))
    assert again.status_code == 200 and "This alert is Handled." in again.content.decode()
    assert Alert.objects.get(pk=alert.pk).acknowledged_by == place.dispatcher


def test_viewers_without_the_right_to_handle(place):
    send(place.chen_bp, msg(1, "sos", {}))
    alert = Alert.objects.get()
    client = client_for(place.supervisor)
    page = client.get(reverse("devices:alert_detail", args=[alert.pk])).content.decode()
    assert 'id="alert-actions"' not in page
    assert "your role does not show them" in page  # no health_view: no readings
    board = client.get(BOARD).content.decode()
    assert row_ids(board) == [alert.pk] and 'class="ack"' not in board
    refused = client.post(reverse("devices:alert_acknowledge", args=[alert.pk]))
    assert refused.status_code == 403
    assert Alert.objects.get(pk=alert.pk).state == AlertState.OPEN
    out = client_for(place.outsider).get(reverse("devices:alert_detail", args=[alert.pk]))
    assert out.status_code == 404


def test_acknowledge_from_the_board_returns_to_it(place):
    send(place.chen_bp, msg(1, "sos", {}))
    alert = Alert.objects.get()
    client = client_for(place.dispatcher)
    board = client.get(BOARD).content.decode()
    assert reverse("devices:alert_acknowledge", args=[alert.pk]) in board
    done = client.post(reverse("devices:alert_acknowledge", args=[alert.pk]), {"next": "board"})
    assert done.status_code == 302 and done["Location"] == BOARD
    assert Alert.objects.get().state == AlertState.ACKNOWLEDGED


# --- the resident tab ---------------------------------------------------------------------


def test_resident_tab_shows_her_alerts_devices_and_readings(place):
    send(place.chen_bp, msg(1, "glucose", {"mmol": 2.8, "context": "fasting"}))
    send(place.chen_bp, msg(2, "bp", {"sys": 130, "dia": 80, "hr": 70}))
    send(place.chen_bp, msg(3, "fall", {}))
    fall = Alert.objects.get(rule__code="fall")
    alerts.handle(place.dispatcher, fall, outcome="false_alarm")
    send(place.wang_bp, msg(1, "sos", {}))
    url = reverse("devices:resident_alerts", args=[place.chen.pk])
    client = client_for(place.carer)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="resident-tabs"' in html and f'href="{url}"' in html  # the whole page
    low = Alert.objects.get(rule__code="glucose_low")
    live = html.split('id="resident-live-alerts"')[1].split('id="resident-recent-alerts"')[0]
    assert f'id="resident-alert-{low.pk}"' in live and f"resident-alert-{fall.pk}" not in live
    recent = html.split('id="resident-recent-alerts"')[1].split('id="resident-devices"')[0]
    assert f'id="resident-alert-{fall.pk}"' in recent and "False alarm" in recent
    assert "BP-TEST-0001" in html and "BP-TEST-0002" not in html
    assert "Glucose 2.8 mmol/L" in html and "BP 130/" in html
    assert "王桂芳" not in html
    # htmx gets the fragment alone.
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="resident-alerts-tab"' in fragment and 'id="resident-tabs"' not in fragment
    # The resident page offers the tab.
    detail = client.get(reverse("residents:detail", args=[place.chen.pk])).content.decode()
    assert f'href="{url}"' in detail


def test_resident_tab_access(place):
    url = reverse("devices:resident_alerts", args=[place.chen.pk])
    # devices.view without health_view, and health_view without devices.view: 403.
    assert client_for(place.supervisor).get(url).status_code == 403
    assessor = make_user(Role.ASSESSOR, place.net.a.county, username="assessor-a")
    assert client_for(assessor).get(url).status_code == 403
    detail = reverse("residents:detail", args=[place.chen.pk])
    assert f'href="{url}"' not in client_for(assessor).get(detail).content.decode()
    # Out of scope: 404 (another team's resident, another county's).
    assert client_for(place.nurse2).get(url).status_code == 404
    assert client_for(place.outsider).get(url).status_code == 404


def test_escalation_shows_on_the_board_and_wakes_the_poll(place):
    send(place.chen_bp, msg(1, "sos", {}))
    alert = Alert.objects.get()
    client = client_for(place.dispatcher)
    url = poll_url(client.get(BOARD).content.decode())
    assert client.get(url).status_code == 204
    # The escalation timer moves the alert to the dispatcher tier (as its worker would).
    Alert.objects.filter(pk=alert.pk).update(escalation_level=3)
    changed = client.get(url)
    assert changed.status_code == 200
    assert "escalated: Dispatcher" in changed.content.decode()
    detail = client.get(reverse("devices:alert_detail", args=[alert.pk])).content.decode()
    assert re.search(r'id="alert-escalation">3 · Dispatcher', detail)


def test_board_queries_do_not_grow_with_the_alerts(place):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(place.dispatcher)
    send(place.chen_bp, msg(1, "sos", {}))
    client.get(BOARD)  # the first request of a session does more (e.g. the session's user)
    with CaptureQueriesContext(connection) as few:
        assert row_ids(client.get(BOARD).content.decode()) != []
    send(place.chen_bp, msg(2, "fall", {}), msg(3, "battery", {"pct": 3}))
    send(place.wang_bp, msg(1, "glucose", {"mmol": 2.1, "context": "random"}))
    send(place.wang_bp, msg(2, "bp", {"sys": 200, "dia": 120}))
    with CaptureQueriesContext(connection) as many:
        assert len(row_ids(client.get(BOARD).content.decode())) == 5
    assert len(many) == len(few)
