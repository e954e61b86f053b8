"""Emergency-call actions: SOS alert → call → taken → steps → closed with its alert handled
and closed; idempotent opening from alerts in constant queries; phone lookup; refusals
that change nothing; a closed call is read-only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from yiyang.audit.models import AuditEvent
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.devices.models import Alert, AlertState
from yiyang.emergency import selectors, services
from yiyang.emergency.models import CallSource, CallState, CallStep, EmergencyCall
from yiyang.emergency.tests.conftest import DAUGHTER_PHONE, OTHER_PHONE, RESIDENT_PHONE


def snapshot(call: EmergencyCall) -> tuple:
    call = EmergencyCall.objects.get(pk=call.pk)
    alert = Alert.objects.filter(pk=call.alert_id).values_list("state", "outcome").first()
    return (
        call.state,
        call.outcome,
        call.outcome_note,
        call.closed_at,
        call.taken_by_id,
        call.resident_id,
        call.steps.count(),
        alert,
        AuditEvent.objects.count(),
    )


def sos_call(scene) -> EmergencyCall:
    alert = scene.sos_alert()
    services.open_from_alerts([alert])  # a no-op once the alert engine opens it itself
    return EmergencyCall.objects.get(alert=alert)


def test_the_whole_loop_from_an_sos_press(scene):
    alert = scene.sos_alert()
    assert alert.state == AlertState.OPEN and alert.severity == "critical"
    services.open_from_alerts([alert])
    call = EmergencyCall.objects.get()
    assert (call.source, call.state, call.resident, call.alert) == (
        CallSource.SOS_DEVICE,
        CallState.OPEN,
        scene.resident,
        alert,
    )
    assert call.opened_by is None and call.taken_by is None

    d = scene.dispatcher
    services.take(d, call)
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == d

    services.add_step(d, call, "called_back", "no answer")
    services.add_step(d, call, "ambulance_120_called", "120 dispatched at 10:02")
    services.add_step(d, call, "family_informed", "daughter 王芳 on her way")
    services.close(d, call, "ambulance_120", "taken to the county hospital")

    call.refresh_from_db()
    alert.refresh_from_db()
    assert call.state == CallState.CLOSED and call.outcome == "ambulance_120"
    assert call.closed_by == d and call.closed_at is not None
    assert [s.kind for s in selectors.steps_of(call)] == [
        "called_back",
        "ambulance_120_called",
        "family_informed",
    ]
    assert alert.state == AlertState.CLOSED
    assert alert.outcome == "emergency" and alert.handled_by == d
    assert f"#{call.pk}" in alert.note and "county hospital" in alert.note
    actions = list(
        AuditEvent.objects.filter(action__startswith="emergency.call")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "emergency.call.open",
        "emergency.call.take",
        "emergency.call.step",
        "emergency.call.step",
        "emergency.call.step",
        "emergency.call.close",
    ]
    assert AuditEvent.objects.filter(action="devices.alert.close").exists()


@pytest.mark.parametrize(
    ("outcome", "steps", "alert_outcome"),
    [
        ("false_alarm", ["called_back"], "false_alarm"),
        ("resolved_by_phone", ["called_back"], "phoned_fine"),
        ("team_visit", ["team_sent"], "home_visit"),
        ("hospital_transfer", ["team_sent"], "referred"),
        ("died", ["ambulance_120_called"], "emergency"),
        ("other", ["team_sent"], "home_visit"),
        ("other", ["note"], "phoned_fine"),
    ],
)
def test_the_alert_outcome_follows_the_call(scene, outcome, steps, alert_outcome):
    call = sos_call(scene)
    for kind in steps:
        services.add_step(scene.dispatcher, call, kind, "done")
    services.close(scene.dispatcher, call, outcome, "what happened")
    assert Alert.objects.get().outcome == alert_outcome


def test_opening_from_alerts_is_idempotent_and_skips_other_alerts(scene):
    alert = scene.sos_alert()
    first = services.open_from_alerts([alert])
    again = services.open_from_alerts([alert])
    assert len(first) + len(again) <= 1 and again == []
    assert EmergencyCall.objects.filter(alert=alert).count() == 1
    # A glucose alert opens no call by itself.
    scene.send(scene.meter, "glucose", {"mmol": 2.8, "context": "fasting"})
    low = Alert.objects.get(rule__code="glucose_low")
    assert services.open_from_alerts([low]) == []
    assert not EmergencyCall.objects.filter(alert=low).exists()
    # A fall opens one, as an SOS device call.
    scene.send(scene.sos, "fall")
    fall = Alert.objects.get(rule__code="fall")
    services.open_from_alerts([fall])
    assert EmergencyCall.objects.get(alert=fall).source == CallSource.SOS_DEVICE


def test_opening_many_calls_costs_a_constant_number_of_queries(scene):
    from yiyang.emergency.tests.conftest import _device

    devices = [scene.sos] + [
        _device(f"SOS-MANY-{i}", "sos_button", scene.net.a.thc, scene.resident) for i in range(3)
    ]
    scene.send(devices[0], "sos")
    one = list(Alert.objects.filter(rule__code="sos"))
    # Only one live SOS alert per resident: more residents would be needed for more
    # alerts; falls of the same resident give a second rule.
    scene.send(devices[1], "fall")
    two = list(Alert.objects.filter(rule__code__in=["sos", "fall"]))
    EmergencyCall.objects.all().delete()
    with CaptureQueriesContext(connection) as single:
        services.open_from_alerts(one)
    EmergencyCall.objects.all().delete()
    with CaptureQueriesContext(connection) as double:
        services.open_from_alerts(two)
    assert EmergencyCall.objects.count() == 2
    assert len(double) == len(single)


@translation.override("en")
def test_lookup_finds_the_residents_own_phone_and_a_contacts(scene):
    d = scene.dispatcher
    [own] = services.lookup_phone(d, "139-1234-0001")
    assert own.resident == scene.resident and own.own
    assert own.reasons == ["resident's own phone"]
    [via] = services.lookup_phone(d, DAUGHTER_PHONE)
    assert via.resident == scene.resident and not via.own
    assert via.reasons == ["contact: Daughter 王芳"]
    assert services.lookup_phone(d, "13600000000") == []
    # County B's resident is out of county A's scope, and the other way round.
    assert services.lookup_phone(d, OTHER_PHONE) == []
    assert services.lookup_phone(scene.dispatcher_b, RESIDENT_PHONE) == []
    assert [m.resident for m in services.lookup_phone(scene.dispatcher_b, OTHER_PHONE)] == [
        scene.other
    ]
    with pytest.raises(ValidationFailed) as bad:
        services.lookup_phone(d, "13x")
    assert bad.value.field == "phone"
    with pytest.raises(PermissionDenied):
        services.lookup_phone(scene.caregiver, RESIDENT_PHONE)


def test_a_number_shared_by_two_residents_lists_both(scene):
    from yiyang.residents.models import Contact

    Contact.objects.create(
        resident=scene.other, name="王芳", relation="other_relative", phone=DAUGHTER_PHONE,
        phone_index=scene.daughter.phone_index,
    )  # fmt: skip
    from yiyang.testing.network import make_user

    everywhere = make_user("dispatcher", "all", username="dispatcher-all")
    matches = services.lookup_phone(everywhere, DAUGHTER_PHONE)
    assert {m.resident for m in matches} == {scene.resident, scene.other}


def test_logging_a_phone_call(scene):
    d = scene.dispatcher
    call = services.log_call(
        d, caller_phone="138 1234 5678", resident=scene.resident.pk, note="mother fell"
    )
    assert (call.source, call.caller_phone, call.resident) == (
        "phone",
        DAUGHTER_PHONE,
        scene.resident,
    )
    assert call.opened_by == d and call.taken_by == d
    assert list(call.steps.values_list("kind", "note")) == [("note", "mother fell")]
    event = AuditEvent.objects.get(action="emergency.call.log")
    assert event.details["caller_phone"] == "138****5678"
    assert DAUGHTER_PHONE not in str(event.details)
    # The phone is stored encrypted and found by its keyed hash.
    with connection.cursor() as cursor:
        cursor.execute("SELECT caller_phone FROM emergency_emergencycall")
        [(stored,)] = cursor.fetchall()
    assert stored.startswith("v1:") and DAUGHTER_PHONE not in stored


@pytest.mark.parametrize(
    ("phone", "resident", "field", "code"),
    [
        ("", None, "caller_phone", "required"),
        ("13x45", None, "caller_phone", "invalid_phone"),
        (DAUGHTER_PHONE, "other", "resident", "unknown_reference"),
        (DAUGHTER_PHONE, 999999, "resident", "unknown_reference"),
    ],
)
def test_logging_refuses_bad_input_and_writes_nothing(scene, phone, resident, field, code):
    if resident == "other":
        resident = scene.other.pk
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as error:
        services.log_call(scene.dispatcher, caller_phone=phone, resident=resident)
    assert (error.value.field, error.value.code) == (field, code)
    assert not EmergencyCall.objects.exists() and AuditEvent.objects.count() == before


def test_identifying_the_resident_of_a_phone_call(scene):
    d = scene.dispatcher
    call = services.log_call(d, caller_phone="13600000000")
    assert call.resident is None
    # An unidentified call is visible to whoever opened it, not to colleagues elsewhere.
    assert selectors.get_call_for(d, call.pk) == call
    with pytest.raises(NotFound):
        selectors.get_call_for(scene.dispatcher_b, call.pk)
    with pytest.raises(ValidationFailed) as out:
        services.identify(d, call, scene.other.pk)
    assert out.value.code == "unknown_reference"
    services.identify(d, call, scene.resident)
    call.refresh_from_db()
    assert call.resident == scene.resident
    with pytest.raises(ValidationFailed) as same:
        services.identify(d, call, scene.resident)
    assert same.value.code == "unchanged"


def test_a_call_that_came_with_an_alert_keeps_its_resident(scene):
    call = sos_call(scene)
    from yiyang.testing.network import make_user

    everywhere = make_user("dispatcher", "all", username="dispatcher-all")
    before = snapshot(call)
    with pytest.raises(ValidationFailed) as error:
        services.identify(everywhere, call, scene.other)
    assert error.value.code == "alert_resident"
    assert snapshot(call) == before


def test_closing_needs_an_outcome_and_a_step_and_changes_nothing_otherwise(scene):
    call = sos_call(scene)
    d = scene.dispatcher
    before = snapshot(call)
    for outcome, field, code in (
        ("", "outcome", "required"),
        ("fine", "outcome", "invalid_choice"),
        ("false_alarm", "steps", "no_steps"),
    ):
        with pytest.raises(ValidationFailed) as error:
            services.close(d, call, outcome)
        assert (error.value.field, error.value.code) == (field, code)
        assert snapshot(call) == before
    services.add_step(d, call, "called_back")
    before = snapshot(call)
    with pytest.raises(ValidationFailed) as error:
        services.close(d, call, "other", "  ")
    assert (error.value.field, error.value.code) == ("note", "required")
    assert snapshot(call) == before
    assert Alert.objects.get().state == AlertState.ACKNOWLEDGED  # taken by the step


def test_a_closed_call_is_read_only(scene):
    call = sos_call(scene)
    d = scene.dispatcher
    services.add_step(d, call, "called_back", "fine, pressed by mistake")
    services.close(d, call, "false_alarm")
    before = snapshot(call)
    attempts = [
        lambda: services.add_step(d, call, "note", "late"),
        lambda: services.take(d, call, take_over=True),
        lambda: services.close(d, call, "other", "again"),
        lambda: services.identify(d, call, scene.resident),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationFailed) as error:
            attempt()
        assert error.value.code == "closed"
        assert snapshot(call) == before
    assert Alert.objects.get().state == AlertState.CLOSED


def test_taking_and_taking_over(scene):
    call = sos_call(scene)
    from yiyang.common.permissions import Role
    from yiyang.testing.network import make_user

    nurse = make_user(Role.NURSE, scene.net.a.county, username="nurse-a")
    services.take(scene.dispatcher, call)
    with pytest.raises(ValidationFailed) as mine:
        services.take(scene.dispatcher, call)
    assert mine.value.code == "already_yours"
    with pytest.raises(ValidationFailed) as taken:
        services.take(nurse, call)
    assert taken.value.code == "taken" and "dispatcher-a" in taken.value.detail
    services.take(nurse, call, take_over=True)
    call.refresh_from_db()
    assert call.taken_by == nurse
    event = AuditEvent.objects.filter(action="emergency.call.take").latest("seq")
    assert event.details["from"] == "dispatcher-a"


def test_permission_and_scope(scene):
    call = sos_call(scene)
    before = snapshot(call)
    with pytest.raises(PermissionDenied):
        services.add_step(scene.caregiver, call, "note", "x")
    with pytest.raises(PermissionDenied):
        selectors.calls_for(scene.caregiver)
    with pytest.raises(NotFound):
        services.add_step(scene.dispatcher_b, call, "note", "x")
    with pytest.raises(NotFound):
        selectors.get_call_for(scene.dispatcher_b, call.pk)
    assert list(selectors.calls_for(scene.dispatcher_b)) == []
    with pytest.raises(NotFound):
        services.call_for_alert(scene.dispatcher_b, call.alert_id)
    assert snapshot(call) == before


def test_a_call_for_an_alert_without_one(scene):
    scene.send(scene.meter, "glucose", {"mmol": 2.8, "context": "fasting"})
    low = Alert.objects.get(rule__code="glucose_low")
    call, created = services.call_for_alert(scene.dispatcher, low.pk)
    assert created and call.source == CallSource.ALERT and call.resident == scene.resident
    assert call.taken_by == scene.dispatcher and call.opened_by == scene.dispatcher
    low.refresh_from_db()
    assert low.state == AlertState.ACKNOWLEDGED
    again, created = services.call_for_alert(scene.dispatcher, low.pk)
    assert again == call and not created
    # A handled alert without a call gets none.
    scene.send(scene.meter_b, "glucose", {"mmol": 2.8, "context": "fasting"})
    other = Alert.objects.get(resident=scene.other)
    from yiyang.devices.services import alerts

    alerts.handle(scene.dispatcher_b, other, outcome="phoned_fine")
    with pytest.raises(ValidationFailed) as error:
        services.call_for_alert(scene.dispatcher_b, other.pk)
    assert error.value.code == "alert_not_live"
    assert not EmergencyCall.objects.filter(alert=other).exists()


def test_steps_validate_their_kind_and_note(scene):
    call = sos_call(scene)
    with pytest.raises(ValidationFailed) as kind:
        services.add_step(scene.dispatcher, call, "prayed")
    assert kind.value.field == "kind"
    with pytest.raises(ValidationFailed) as note:
        services.add_step(scene.dispatcher, call, "note", "")
    assert note.value.field == "note"
    with pytest.raises(ValidationFailed) as long:
        services.add_step(scene.dispatcher, call, "note", "x" * (services.NOTE_MAX + 1))
    assert long.value.code == "too_long"
    assert not CallStep.objects.exists()


def test_the_dispatcher_sees_a_contacts_number_to_call_back_only_during_an_open_call(scene):
    call = sos_call(scene)
    d = scene.dispatcher

    assert services.reveal_contact_phone(d, call, scene.daughter) == DAUGHTER_PHONE

    event = AuditEvent.objects.filter(action="emergency.call.reveal_contact").get()
    assert event.details == {"contact": scene.daughter.pk, "resident": scene.resident.pk}
    assert DAUGHTER_PHONE not in str(event.details)
    # Another resident's contact, a county-B dispatcher, a closed call: refused.
    with pytest.raises(NotFound):
        services.reveal_contact_phone(d, call, scene.daughter.pk + 999)
    with pytest.raises(NotFound):
        services.reveal_contact_phone(scene.dispatcher_b, call, scene.daughter)
    services.add_step(d, call, "family_informed", "daughter on her way")
    services.close(d, call, "resolved_by_phone")
    with pytest.raises(ValidationFailed) as error:
        services.reveal_contact_phone(d, call, scene.daughter)
    assert error.value.code == "closed"
    assert AuditEvent.objects.filter(action="emergency.call.reveal_contact").count() == 1
