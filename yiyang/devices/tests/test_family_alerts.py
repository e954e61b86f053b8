"""A family login with the right to see alerts (``can_view_alerts``, while her grant and
the resident's consent to family sharing stand) follows her mother's alerts read-only —
the board, one alert with who acknowledged and handled it and when, the API — and only
her mother's; without that right, or once a consent is withdrawn, nothing (403). Her
alert notifications link to the alert itself."""

from __future__ import annotations

import pytest
from django.utils import timezone

from yiyang.common.permissions import Role
from yiyang.devices.models import Alert, AlertState
from yiyang.devices.services import alerts
from yiyang.devices.tests.conftest import _family, msg, send
from yiyang.residents.models import Consent, ConsentPurpose
from yiyang.testing.clients import client_for

pytestmark = pytest.mark.django_db


def _alerts(place) -> tuple[Alert, Alert]:
    send(place.chen_bp, msg(1, "bp", {"sys": 186, "dia": 118}))
    send(place.wang_bp, msg(1, "bp", {"sys": 190, "dia": 120}))
    return (
        Alert.objects.get(resident=place.chen),
        Alert.objects.get(resident=place.wang),
    )


def _daughter(place, *, alerts_right: bool = True):
    registrar = place.net.admin
    return _family(place.chen, f"daughter-{alerts_right}", alerts_right=alerts_right,
                   registrar=registrar)  # fmt: skip


def test_the_daughter_follows_her_mothers_alerts_read_only(place):
    mine, other = _alerts(place)
    alerts.acknowledge(place.carer, mine)
    daughter = _daughter(place)
    client = client_for(daughter)

    board = client.get("/devices/alerts/")
    assert board.status_code == 200
    html = board.content.decode()
    assert f'id="alert-{mine.pk}"' in html and f'id="alert-{other.pk}"' not in html
    assert "王桂芳" not in html
    assert 'class="ack"' not in html  # no actions

    page = client.get(f"/devices/alerts/{mine.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Acknowledged" in text and place.carer.username in text
    assert 'action="/devices/alerts/' not in text  # no forms to act
    assert client.get(f"/devices/alerts/{other.pk}/").status_code == 404

    listed = client.get("/api/v1/alerts").json()
    rows = listed["items"] if isinstance(listed, dict) else listed
    assert [r["id"] for r in rows] == [mine.pk]
    assert rows[0]["state"] == AlertState.ACKNOWLEDGED
    assert client.get(f"/api/v1/alerts/{other.pk}").status_code == 404

    # Read-only: every action is refused and changes nothing.
    handle = client.post(f"/devices/alerts/{mine.pk}/handle/", {"outcome": "phoned_fine"})
    assert handle.status_code == 403
    close = client.post(f"/api/v1/alerts/{mine.pk}/close", content_type="application/json")
    assert close.status_code == 403
    mine.refresh_from_db()
    assert mine.state == AlertState.ACKNOWLEDGED


def test_without_the_alerts_right_or_consent_nothing(place):
    mine, _ = _alerts(place)
    son = _daughter(place, alerts_right=False)
    client = client_for(son)
    assert client.get("/devices/alerts/").status_code == 403
    assert client.get(f"/devices/alerts/{mine.pk}/").status_code == 403
    assert client.get("/api/v1/alerts").status_code == 403

    daughter = _daughter(place)
    client = client_for(daughter)
    assert client.get(f"/devices/alerts/{mine.pk}/").status_code == 200
    Consent.objects.filter(resident=place.chen, purpose=ConsentPurpose.FAMILY_SHARING).update(
        withdrawn_at=timezone.now()
    )
    assert client.get(f"/devices/alerts/{mine.pk}/").status_code == 403
    assert client.get("/api/v1/alerts").status_code == 403


def test_a_resident_login_still_sees_no_alert_board(place):
    from yiyang.testing.network import make_user

    _alerts(place)
    me = make_user(Role.RESIDENT, scope="self", username="chen-herself")
    assert client_for(me).get("/devices/alerts/").status_code == 403


def test_her_notification_links_to_the_alert(place):
    import datetime

    from yiyang.devices.services import timers
    from yiyang.notifications.models import Notification

    mine, _ = _alerts(place)
    daughter = _daughter(place)
    timers.run_due(timezone.now() + datetime.timedelta(hours=2))
    notes = Notification.objects.filter(recipient=daughter)
    assert notes.exists()
    assert {n.link for n in notes} == {f"/devices/alerts/{mine.pk}/"}


def test_the_daughter_finds_her_mothers_alerts_from_the_menu_and_her_record(place):
    mine, _ = _alerts(place)
    client = client_for(_daughter(place))
    home = client.get("/").content.decode()
    assert 'href="/devices/alerts/"' in home  # the menu entry

    tab = client.get(f"/devices/residents/{place.chen.pk}/alerts/")
    assert tab.status_code == 200
    html = tab.content.decode()
    assert f"/devices/alerts/{mine.pk}/" in html
    assert "186/118" in html  # her readings, with the readings right
    # No link she could not follow (thresholds and device pages are for staff).
    assert "/thresholds/" not in html
    assert f'href="/devices/{place.chen_bp.pk}/"' not in html

    son = client_for(_daughter(place, alerts_right=False))
    assert 'href="/devices/alerts/"' not in son.get("/").content.decode()
    assert son.get(f"/devices/residents/{place.chen.pk}/alerts/").status_code in {403, 404}
