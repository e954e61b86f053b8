"""The inbox page, the header badge and the API: one's own notifications only, rendered in
the reader's language, mark one / all read."""

from __future__ import annotations

import datetime
import json
import time

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.notifications import services
from yiyang.notifications.models import Notification, State
from yiyang.testing.clients import client_for

pytestmark = pytest.mark.django_db

API = "/api/v1/notifications"
PARAMS = {"serial": "BP-7", "name": "张秀英"}


def tell(user: User, topic: str, *, link: str = "", minutes_ago: int = 0) -> Notification:
    (row,) = services.notify([user], topic=topic, params=PARAMS, link=link)
    services.deliver_pending()
    if minutes_ago:
        Notification.objects.filter(pk=row.pk).update(
            created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
        )
    row.refresh_from_db()
    return row


# --- the page ---------------------------------------------------------------------------


def test_inbox_newest_first_unread_highlighted_in_english(wang, li, topic) -> None:
    old = tell(wang, topic, minutes_ago=10)
    new = tell(wang, topic, link="/devices/7/")
    tell(li, topic)  # someone else's
    Notification.objects.filter(pk=old.pk).update(read_at=timezone.now())
    response = client_for(wang).get("/notifications/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(f'id="notification-{new.pk}"') < html.index(f'id="notification-{old.pk}"')
    assert f'id="notification-{new.pk}" class="notification unread"' in html
    assert f'id="notification-{old.pk}" class="notification"' in html
    assert '<a href="/devices/7/">BP-7 is bound to 张秀英.</a>' in html
    assert html.count("BP-7 is unbound.") == 2
    assert response.context["page_obj"].paginator.count == 2
    # One unread: the header badge says so.
    assert '<span class="count">1</span>' in html


def test_inbox_in_chinese_by_default(wang, topic) -> None:
    tell(wang, topic)
    html = client_for(wang, language="zh-hans").get("/notifications/").content.decode()
    assert "BP-7 已绑定到 张秀英。" in html
    assert "BP-7 已解绑。" in html


def test_pending_rows_are_not_in_the_inbox(wang, topic) -> None:
    services.notify([wang], topic=topic, params=PARAMS)  # not delivered yet
    response = client_for(wang).get("/notifications/")
    assert response.context["page_obj"].paginator.count == 0
    assert response.context["unread"] == 0


def test_unread_filter(wang, topic) -> None:
    read = tell(wang, topic)
    unread = tell(wang, topic)
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    response = client_for(wang).get("/notifications/?unread=1")
    assert [n.pk for n in response.context["page_obj"]] == [unread.pk]


def test_mark_read_page(wang, topic) -> None:
    row = tell(wang, topic)
    response = client_for(wang).post(f"/notifications/{row.pk}/read/")
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    row.refresh_from_db()
    assert row.read_at is not None


def test_mark_read_with_htmx_returns_the_row_and_the_badge(wang, topic) -> None:
    row = tell(wang, topic)
    tell(wang, topic)
    response = client_for(wang).post(f"/notifications/{row.pk}/read/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="notification-{row.pk}" class="notification"' in html
    assert "Mark read" not in html
    assert 'hx-swap-oob="true"' in html
    assert '<span class="count">1</span>' in html


def test_another_users_notification_is_not_found(wang, li, topic) -> None:
    theirs = tell(li, topic)
    client = client_for(wang)
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post("/notifications/999999/read/").status_code == 404
    assert client.post(f"{API}/{theirs.pk}/read").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_page_touches_only_mine(wang, li, topic) -> None:
    tell(wang, topic)
    tell(wang, topic)
    theirs = tell(li, topic)
    response = client_for(wang).post("/notifications/read-all/", follow=True)
    assert response.redirect_chain == [("/notifications/", 302)]
    assert "2 notifications marked read." in response.content.decode()
    assert not Notification.objects.filter(recipient=wang, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_needs_post(wang, topic) -> None:
    row = tell(wang, topic)
    client = client_for(wang)
    assert client.get(f"/notifications/{row.pk}/read/").status_code == 405
    assert client.get("/notifications/read-all/").status_code == 405


def test_mark_read_checks_csrf(wang, topic) -> None:
    row = tell(wang, topic)
    client = Client(enforce_csrf_checks=True)
    client.force_login(wang)
    assert client.post(f"/notifications/{row.pk}/read/").status_code == 403
    row.refresh_from_db()
    assert row.read_at is None


# --- the badge --------------------------------------------------------------------------


def test_badge_partial_is_only_the_badge(wang, topic) -> None:
    client = client_for(wang)
    response = client.get("/notifications/badge/")
    html = response.content.decode().strip()
    assert html.startswith('<a href="/notifications/" id="notification-badge" class="bell"')
    assert 'hx-trigger="every 5s"' in html
    assert '<span class="count">' not in html
    assert response["Cache-Control"] == "no-store"
    for _ in range(3):
        tell(wang, topic)
    html = client.get("/notifications/badge/").content.decode()
    assert 'class="bell has-unread"' in html
    assert '<span class="count">3</span>' in html


def test_badge_shows_99_plus(wang, topic) -> None:
    Notification.objects.bulk_create(
        [Notification(recipient=wang, topic=topic, state=State.SENT) for _ in range(120)]
    )
    html = client_for(wang).get("/notifications/badge/").content.decode()
    assert '<span class="count">99+</span>' in html


def test_badge_poll_after_logout_stops_polling() -> None:
    response = Client().get("/notifications/badge/", HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert response.content == b""
    # Without htmx: the login page, like every page.
    response = Client().get("/notifications/badge/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_header_has_the_bell_for_signed_in_users_only(wang, topic) -> None:
    tell(wang, topic)
    html = client_for(wang).get("/").content.decode()
    # Other pages render the bell without counting: it fetches the count once loaded.
    assert 'id="notification-badge"' in html
    assert 'hx-get="/notifications/badge/" hx-trigger="load, every 5s"' in html
    assert '<span class="count">' not in html
    html = Client().get("/login/").content.decode()
    assert "notification-badge" not in html


def test_no_bell_while_the_password_must_be_changed(wang) -> None:
    User.objects.filter(pk=wang.pk).update(must_change_password=True)
    wang.refresh_from_db()
    response = client_for(wang).get("/account/password/")
    assert response.status_code == 200
    assert "notification-badge" not in response.content.decode()


# --- the API ----------------------------------------------------------------------------


def test_api_lists_mine_newest_first_in_the_requested_language(wang, li, topic) -> None:
    old = tell(wang, topic, minutes_ago=5)
    new = tell(wang, topic, link="/devices/7/")
    tell(li, topic)
    client = client_for(wang)
    body = client.get(API, HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["count"] == 2
    assert [item["id"] for item in body["items"]] == [new.pk, old.pk]
    first = body["items"][0]
    assert first["subject"] == "BP-7 is bound to 张秀英."
    assert first["body"] == "BP-7 is unbound."
    assert first["link"] == "/devices/7/"
    assert first["topic"] == topic
    assert first["params"] == PARAMS
    assert first["unread"] is True
    assert first["read_at"] is None
    # The API follows the language cookie, then Accept-Language.
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    zh = client.get(API, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert zh["items"][0]["subject"] == "BP-7 已绑定到 张秀英。"


def test_api_unread_filter_and_mark_read(wang, topic) -> None:
    first = tell(wang, topic)
    second = tell(wang, topic)
    client = client_for(wang)
    response = client.post(f"{API}/{first.pk}/read")
    assert response.status_code == 200
    assert response.json()["unread"] is False
    read_at = response.json()["read_at"]
    # Again: no change.
    assert client.post(f"{API}/{first.pk}/read").json()["read_at"] == read_at
    body = client.get(f"{API}?unread=1").json()
    assert [item["id"] for item in body["items"]] == [second.pk]


def test_api_read_all(wang, li, topic) -> None:
    tell(wang, topic)
    tell(wang, topic)
    theirs = tell(li, topic)
    client = client_for(wang)
    assert client.post(f"{API}/read-all").json() == {"marked": 2}
    assert client.post(f"{API}/read-all").json() == {"marked": 0}
    assert client.get(f"{API}?unread=1").json()["count"] == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_api_needs_a_login(wang, topic) -> None:
    row = tell(wang, topic)
    anonymous = Client()
    assert anonymous.get(API).status_code == 401
    response = anonymous.post(
        f"{API}/{row.pk}/read", json.dumps({}), content_type="application/json"
    )
    assert response.status_code == 401


def _age_session(client: Client, seconds: int) -> int:
    session = client.session
    session["last_seen"] = int(time.time()) - seconds
    session.save()
    return int(session["last_seen"])


def test_polling_does_not_keep_an_idle_session_alive(wang, settings) -> None:
    client = client_for(wang)
    client.get("/")
    last_seen = _age_session(client, settings.SESSION_IDLE_TIMEOUT - 120)
    response = client.get("/notifications/badge/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert client.session["last_seen"] == last_seen
    # The user's own request does count.
    client.get("/notifications/")
    assert abs(client.session["last_seen"] - int(time.time())) <= 2


def test_polling_an_idle_session_logs_out_and_stops(wang, settings) -> None:
    client = client_for(wang)
    client.get("/")
    _age_session(client, settings.SESSION_IDLE_TIMEOUT + 1)
    response = client.get("/notifications/badge/", HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert "_auth_user_id" not in client.session


def test_badge_poll_is_cheap(wang, topic, django_assert_num_queries) -> None:
    """Everybody's browser polls it every 5 s: session, user, the unread count."""
    for _ in range(5):
        tell(wang, topic)
    client = client_for(wang)
    client.get("/notifications/badge/")
    with django_assert_num_queries(3):
        response = client.get("/notifications/badge/", HTTP_HX_REQUEST="true")
    assert '<span class="count">5</span>' in response.content.decode()
