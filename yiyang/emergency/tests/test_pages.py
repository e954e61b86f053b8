"""The dispatcher's pages: the board, logging a call with the phone lookup, the call
screen popping up the resident, steps, errors on the forms, closing, from an alert."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from yiyang.audit.models import AuditEvent
from yiyang.devices.models import Alert, AlertState
from yiyang.emergency import services
from yiyang.emergency.models import CallState, EmergencyCall
from yiyang.emergency.tests.conftest import DAUGHTER_PHONE, RESIDENT_PHONE


@pytest.fixture
def web(client, scene):
    client.cookies["django_language"] = "en"
    client.force_login(scene.dispatcher)
    return client


def text(response) -> str:
    return response.content.decode()


def sos_call(scene) -> EmergencyCall:
    alert = scene.sos_alert()
    services.open_from_alerts([alert])
    return EmergencyCall.objects.get(alert=alert)


def test_the_board_lists_open_calls_newest_first(web, scene):
    first = sos_call(scene)
    second = services.log_call(scene.dispatcher, caller_phone="13600000000")
    page = text(web.get(reverse("emergency:list")))
    assert page.index(f'id="call-{second.pk}"') < page.index(f'id="call-{first.pk}"')
    assert "resident not identified" in page and "陈秀英" in page
    assert 'id="log-call-form"' in page
    # The htmx refresh answers just the list.
    fragment = web.get(reverse("emergency:list"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="calls")
    assert "<html" not in text(fragment) and f'id="call-{first.pk}"' in text(fragment)


def test_typing_a_phone_shows_whose_it_is(web, scene):
    url = reverse("emergency:lookup")
    assert "Type the caller" in text(web.get(url, {"caller_phone": "1381"}))
    page = text(web.get(url, {"caller_phone": DAUGHTER_PHONE}))
    assert "陈秀英" in page and "王芳" in page and f'value="{scene.resident.pk}"' in page
    assert 'id="lookup-none"' in text(web.get(url, {"caller_phone": "13600000000"}))


def test_logging_a_call_opens_its_screen(web, scene):
    response = web.post(
        reverse("emergency:log"),
        {"caller_phone": DAUGHTER_PHONE, "resident": str(scene.resident.pk), "note": "mother fell"},
    )
    call = EmergencyCall.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "emergency:detail", args=[call.pk]
    )
    page = text(web.get(response["Location"]))
    for shown in (
        "陈秀英",
        "幸福路 8 号",
        "原发性高血压",
        "氨氯地平",
        "青霉素",
        "王芳",
        "138****5678",
    ):
        assert shown in page, shown
    assert "139****0001" in page  # the resident's phone masked …
    assert RESIDENT_PHONE not in page
    assert 'id="reveal-button"' not in page  # … a dispatcher may not reveal it
    assert "mother fell" in page and f'href="tel:{DAUGHTER_PHONE}"' in page
    assert AuditEvent.objects.filter(
        action="residents.resident.read", object_id=str(scene.resident.pk)
    ).exists()


def test_a_logging_error_is_shown_on_the_form(web, scene):
    response = web.post(reverse("emergency:log"), {"caller_phone": "13x", "note": ""})
    assert response.status_code == 200
    assert 'data-field="caller_phone"' in text(response)
    assert not EmergencyCall.objects.exists()


def test_a_nurse_may_reveal_the_residents_phone(client, scene):
    from yiyang.testing.network import make_user

    nurse = make_user("nurse", scene.net.a.county, username="nurse-a")
    call = sos_call(scene)
    client.force_login(nurse)
    page = text(client.get(reverse("emergency:detail", args=[call.pk])))
    assert f'hx-post="{reverse("residents:reveal", args=[scene.resident.pk])}"' in page


def test_steps_errors_and_closing_on_the_screen(web, scene):
    call = sos_call(scene)
    url = reverse("emergency:detail", args=[call.pk])
    page = text(web.get(url))
    assert "SOS pressed" in page and 'id="take-form"' in page
    assert scene.sos.serial in page
    # Closing before any step: the error shows on the close form, nothing changes.
    response = web.post(reverse("emergency:close", args=[call.pk]), {"outcome": "false_alarm"})
    assert response.status_code == 200
    assert "at least one step" in text(response)
    assert EmergencyCall.objects.get().state == CallState.OPEN
    # An empty note is refused on the step form.
    response = web.post(reverse("emergency:step", args=[call.pk]), {"kind": "note", "note": ""})
    assert 'data-field="note"' in text(response)
    response = web.post(
        reverse("emergency:step", args=[call.pk]), {"kind": "called_back", "note": "she is fine"}
    )
    assert response.status_code == 302
    response = web.post(
        reverse("emergency:close", args=[call.pk]), {"outcome": "false_alarm", "note": ""}
    )
    assert response.status_code == 302
    page = text(web.get(url))
    assert 'id="close-form"' not in page and 'id="step-form"' not in page
    assert "False alarm" in page and "she is fine" in page
    assert Alert.objects.get().state == AlertState.CLOSED


def test_identifying_on_the_screen(web, scene):
    call = services.log_call(scene.dispatcher, caller_phone=DAUGHTER_PHONE)
    url = reverse("emergency:detail", args=[call.pk])
    page = text(web.get(url))
    assert 'id="identify-phone-form"' in page and "王芳" in page
    page = text(web.get(url, {"rq": "陈"}))
    assert 'id="identify-form"' in page
    response = web.post(
        reverse("emergency:identify", args=[call.pk]), {"resident": str(scene.other.pk)}
    )
    assert 'id="identify-error"' in text(response)
    response = web.post(
        reverse("emergency:identify", args=[call.pk]), {"resident": str(scene.resident.pk)}
    )
    assert response.status_code == 302
    assert EmergencyCall.objects.get().resident == scene.resident


def test_from_an_alert(web, scene):
    call = sos_call(scene)
    url = reverse("emergency:from_alert", args=[call.alert_id])
    assert web.get(url)["Location"] == reverse("emergency:detail", args=[call.pk])
    scene.send(scene.meter, "glucose", {"mmol": 2.8, "context": "fasting"})
    low = Alert.objects.get(rule__code="glucose_low")
    url = reverse("emergency:from_alert", args=[low.pk])
    with translation.override("en"):
        assert 'id="from-alert-form"' in text(web.get(url))
    response = web.post(url)
    opened = EmergencyCall.objects.get(alert=low)
    assert response["Location"] == reverse("emergency:detail", args=[opened.pk])
    assert web.get(reverse("emergency:from_alert", args=[999999])).status_code == 404


def test_an_sos_or_fall_alert_page_has_the_emergency_call_button(client, scene):
    """The button the emergency plugin adds to the alert page (devices' alert page
    actions): exactly the markup the page had when devices drew it itself."""
    sos = scene.sos_alert()
    scene.send(scene.meter, "glucose", {"mmol": 2.8, "context": "fasting"})
    low = Alert.objects.get(rule__code="glucose_low")
    url = reverse("emergency:from_alert", args=[sos.pk])
    assert url == f"/emergency/from-alert/{sos.pk}/"
    client.force_login(scene.dispatcher)
    page = text(client.get(reverse("devices:alert_detail", args=[sos.pk])))
    assert page.count('id="emergency-call"') == 1
    assert f'<a class="button danger" id="emergency-call" href="{url}">紧急呼叫</a>' in page
    client.cookies["django_language"] = "en"
    page = text(client.get(reverse("devices:alert_detail", args=[sos.pk])))
    assert f'<a class="button danger" id="emergency-call" href="{url}">Emergency call</a>' in page
    assert 'id="emergency-call"' not in text(
        client.get(reverse("devices:alert_detail", args=[low.pk]))
    )
    # A caregiver handles the alert but takes no calls: no button.
    client.force_login(scene.caregiver)
    response = client.get(reverse("devices:alert_detail", args=[sos.pk]))
    assert response.status_code == 200 and 'id="acknowledge-form"' in text(response)
    assert 'id="emergency-call"' not in text(response)


def test_pages_check_permission_and_scope(client, scene):
    call = sos_call(scene)
    client.force_login(scene.caregiver)
    assert client.get(reverse("emergency:list")).status_code == 403
    client.force_login(scene.dispatcher_b)
    assert client.get(reverse("emergency:detail", args=[call.pk])).status_code == 404
    response = client.post(reverse("emergency:step", args=[call.pk]), {"kind": "note", "note": "x"})
    assert response.status_code == 404
    assert not call.steps.exists()


def test_the_board_costs_the_same_queries_for_more_calls(web, scene):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def board_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = web.get(
                reverse("emergency:list"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="calls"
            )
        assert response.status_code == 200
        return len(queries)

    sos_call(scene)
    services.log_call(scene.dispatcher, caller_phone=DAUGHTER_PHONE, resident=scene.resident)
    board_queries()  # the session's first request does more
    few = board_queries()
    for _ in range(4):
        services.log_call(scene.dispatcher, caller_phone="13600000000")
    assert EmergencyCall.objects.count() == 6
    assert board_queries() == few


def test_the_call_screen_shows_a_contacts_number_on_request(web, scene):
    call = sos_call(scene)
    url = reverse("emergency:contact_phone", args=[call.pk, scene.daughter.pk])
    screen = text(web.get(reverse("emergency:detail", args=[call.pk])))
    assert DAUGHTER_PHONE not in screen and f'hx-post="{url}"' in screen

    shown = text(web.post(url))

    assert f'href="tel:{DAUGHTER_PHONE}"' in shown and "<html" not in shown
    services.add_step(scene.dispatcher, call, "called_back", "fine")
    services.close(scene.dispatcher, call, "resolved_by_phone")
    refused = web.post(url)
    assert refused.status_code == 400 and DAUGHTER_PHONE not in text(refused)
    assert f'hx-post="{url}"' not in text(web.get(reverse("emergency:detail", args=[call.pk])))
