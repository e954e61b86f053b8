"""The device registry: register (the secret given once, stored encrypted), rotate, edit,
bind/unbind with history, retire, the credentials check, scoping and permissions — through
the services, the API and the pages."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.audit.models import AuditEvent
from yiyang.common import crypto
from yiyang.common.errors import NotFound, PermissionDenied, ValidationFailed
from yiyang.common.permissions import Role
from yiyang.devices import selectors
from yiyang.devices.models import Binding, Device, DeviceStatus, Quarantine, Reading
from yiyang.devices.services import registry
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import Resident
from yiyang.residents.services.registry import register_resident
from yiyang.testing.clients import client_for
from yiyang.testing.network import Network, build_network, make_user

pytestmark = pytest.mark.django_db

DEVICES = "/api/v1/devices"


@dataclass
class World:
    net: Network
    admin: User  # institution admin, scope county A
    zhang: Resident  # county A, grid of team A
    li: Resident  # county A
    zhao: Resident  # county B


@pytest.fixture
def w() -> World:
    net = build_network()
    registrar = make_user(Role.INSTITUTION_ADMIN, scope="all", username="registrar")
    people = []
    for village, grid, name, seq in (
        (net.a.villages[0], net.a.grids[0], "张三", 11),
        (net.a.villages[1], None, "李四", 22),
        (net.b.villages[0], net.b.grids[0], "赵六", 33),
    ):
        resident, _ = register_resident(
            registrar,
            name=name,
            id_number=make_id_number(village.code[:6], datetime.date(1948, 5, 6), seq),
            region=village,
            grid=grid,
        )
        people.append(resident)
    admin = make_user(Role.INSTITUTION_ADMIN, net.a.county, username="dev-admin")
    return World(net, admin, *people)


def register(w: World, **extra) -> tuple[Device, str]:
    fields = {"kind": "bp_monitor", "institution": w.net.a.thc, **extra}
    return registry.register_device(w.admin, **fields)


def audit(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


# --- services ---------------------------------------------------------------------------


def test_register_generates_serials_and_returns_the_secret_once_stored_encrypted(w):
    first, secret = register(w, model="OMRON U10")
    second, _ = register(w)
    glucometer, _ = register(w, kind="glucometer")

    assert first.serial == "BP-411521-000001"
    assert second.serial == "BP-411521-000002"
    assert glucometer.serial == "GLU-411521-000001"
    assert len(secret) == 43
    stored = Device.objects.get(pk=first.pk)
    assert stored.secret.startswith("v1:") and secret not in stored.secret
    assert crypto.decrypt(stored.secret) == secret
    assert stored.status == DeviceStatus.ACTIVE
    assert stored.institution_id == w.net.a.thc.pk
    rows = audit("devices.device.create")
    assert len(rows) == 3
    assert rows[0].details["serial"] == "BP-411521-000001"
    assert secret not in json.dumps([r.details for r in rows])
    assert registry.check_credentials(first.serial, secret) == first


def test_a_given_serial_is_validated_and_unique(w):
    device, _ = register(w, serial="omr-0001")
    assert device.serial == "OMR-0001"

    for bad in ("AB1", "AB_12", "X" * 65, "序列号12"):
        with pytest.raises(ValidationFailed) as exc:
            register(w, serial=bad)
        assert (exc.value.code, exc.value.field) == ("invalid_serial", "serial")
    with pytest.raises(ValidationFailed) as exc:
        register(w, serial="OMR-0001")
    assert (exc.value.code, exc.value.field) == ("duplicate_serial", "serial")
    assert Device.objects.count() == 1


def test_register_refuses_an_institution_outside_the_scope_and_bad_input(w):
    for institution in (w.net.b.thc, 999999):
        with pytest.raises(ValidationFailed) as exc:
            register(w, institution=institution)
        assert (exc.value.code, exc.value.field) == ("unknown_reference", "institution")
    with pytest.raises(ValidationFailed) as exc:
        register(w, kind="toaster")
    assert (exc.value.code, exc.value.field) == ("invalid_choice", "kind")
    with pytest.raises(ValidationFailed) as exc:
        register(w, expected_interval_minutes=-5)
    assert exc.value.field == "expected_interval_minutes"
    assert Device.objects.count() == 0


def test_only_device_managers_register(w):
    doctor = make_user(Role.DOCTOR, w.net.a.county)
    with pytest.raises(PermissionDenied):
        registry.register_device(doctor, kind="scale", institution=w.net.a.thc)
    assert Device.objects.count() == 0


def test_rotate_invalidates_the_old_secret(w):
    device, old = register(w)
    issued = device.secret_issued_at

    new = registry.rotate_secret(w.admin, device)

    assert new != old and len(new) == 43
    assert registry.check_credentials(device.serial, old) is None
    assert registry.check_credentials(device.serial, new) == device
    device.refresh_from_db()
    assert device.secret_issued_at > issued
    assert len(audit("devices.device.rotate_secret")) == 1


def test_check_credentials_refuses_unknown_wrong_and_retired(w):
    device, secret = register(w)
    assert registry.check_credentials("NOPE-0001", secret) is None
    assert registry.check_credentials(device.serial, secret + "x") is None
    assert registry.check_credentials(device.serial, "") is None
    registry.retire(w.admin, device)
    assert registry.check_credentials(device.serial, secret) is None


def test_bind_keeps_history_with_one_open_binding(w):
    device, _ = register(w)

    registry.bind(w.admin, device, w.zhang)
    registry.bind(w.admin, device, w.li.pk)

    device.refresh_from_db()
    assert device.resident_id == w.li.pk
    history = list(Binding.objects.filter(device=device).order_by("pk"))
    assert [(b.resident_id, b.unbound_at is None) for b in history] == [
        (w.zhang.pk, False),
        (w.li.pk, True),
    ]
    assert history[0].unbound_by == w.admin and history[1].bound_by == w.admin
    with pytest.raises(ValidationFailed) as exc:
        registry.bind(w.admin, device, w.li)
    assert exc.value.code == "already_bound"

    registry.unbind(w.admin, device)

    device.refresh_from_db()
    assert device.resident_id is None
    assert Binding.objects.filter(device=device, unbound_at__isnull=True).count() == 0
    with pytest.raises(ValidationFailed) as exc:
        registry.unbind(w.admin, device)
    assert (exc.value.code, exc.value.field) == ("not_bound", "resident")
    assert len(audit("devices.device.bind")) == 2
    assert len(audit("devices.device.unbind")) == 1


def test_bind_refuses_a_resident_or_device_outside_the_scope(w):
    device, _ = register(w)
    with pytest.raises(ValidationFailed) as exc:
        registry.bind(w.admin, device, w.zhao)
    assert (exc.value.code, exc.value.field) == ("unknown_reference", "resident")

    everywhere = make_user(Role.INSTITUTION_ADMIN, scope="all")
    outside, _ = registry.register_device(everywhere, kind="scale", institution=w.net.b.thc)
    for action in (
        lambda: registry.bind(w.admin, outside, w.zhang),
        lambda: registry.rotate_secret(w.admin, outside),
        lambda: registry.update_device(w.admin, outside, model="X"),
        lambda: registry.retire(w.admin, outside),
    ):
        with pytest.raises(NotFound):
            action()
    assert Binding.objects.count() == 0


def test_retire_unbinds_and_refuses_further_changes(w):
    device, _ = register(w)
    registry.bind(w.admin, device, w.zhang)

    registry.retire(w.admin, device)

    device.refresh_from_db()
    assert (device.status, device.resident_id) == (DeviceStatus.RETIRED, None)
    assert Binding.objects.get(device=device).unbound_at is not None
    for action in (
        lambda: registry.bind(w.admin, device, w.li),
        lambda: registry.rotate_secret(w.admin, device),
        lambda: registry.update_device(w.admin, device, model="X"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            action()
        assert exc.value.code == "device_retired"
    with pytest.raises(ValidationFailed) as exc:
        registry.retire(w.admin, device)
    assert exc.value.code == "already_retired"


def test_update_changes_only_what_is_given(w):
    device, _ = register(w)

    registry.update_device(
        w.admin, device, model="GM-500", expected_interval_minutes=60, status="inactive"
    )

    device.refresh_from_db()
    assert (device.model, device.expected_interval_minutes, device.status) == (
        "GM-500",
        60,
        DeviceStatus.INACTIVE,
    )
    assert audit("devices.device.update")[-1].details == {
        "changed": {"model": "GM-500", "expected_interval_minutes": 60, "status": "inactive"}
    }
    for fields, code in (
        ({"status": "retired"}, "retire_required"),
        ({"serial": "X-1234"}, "unknown_field"),
        ({"institution": w.net.b.thc.pk}, "unknown_reference"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            registry.update_device(w.admin, device, **fields)
        assert exc.value.code == code


# --- scope ------------------------------------------------------------------------------


def test_a_team_sees_the_devices_of_its_residents_whoever_owns_them(w):
    everywhere = make_user(Role.INSTITUTION_ADMIN, scope="all")
    owned_by_lead, _ = registry.register_device(everywhere, kind="scale", institution=w.net.b.lead)
    other, _ = registry.register_device(everywhere, kind="scale", institution=w.net.b.lead)
    registry.bind(everywhere, owned_by_lead, w.zhang)  # zhang lives in team A's grid
    caregiver = make_user(Role.CAREGIVER, w.net.a.team)

    assert list(selectors.devices_for(caregiver)) == [owned_by_lead]
    assert other not in selectors.devices_for(w.admin)
    # Seeing it through the resident does not make it the admin's to change.
    with pytest.raises(NotFound):
        registry.rotate_secret(w.admin, owned_by_lead)


def test_quarantine_rows_of_unknown_serials_by_scope(w):
    device, _ = register(w)
    now = timezone.now()

    def row(serial: str, device=None) -> Quarantine:
        return Quarantine.objects.create(
            device=device, serial=serial, source="http", code="x", detail="d", received_at=now
        )

    own = row(device.serial, device)
    in_a = row("BP-411521-999999")
    in_b = row("BP-411522-000001")
    junk = row("whatever")
    supervisor_a = make_user(Role.SUPERVISOR, w.net.a.county)
    supervisor_all = make_user(Role.SUPERVISOR, scope="all")
    supervisor_thc = make_user(Role.SUPERVISOR, w.net.a.thc)
    supervisor_b = make_user(Role.SUPERVISOR, w.net.b.county)

    assert set(selectors.quarantine_for(supervisor_all)) == {own, in_a, in_b, junk}
    assert set(selectors.quarantine_for(supervisor_a)) == {own, in_a}
    assert set(selectors.quarantine_for(supervisor_thc)) == {own}
    assert set(selectors.quarantine_for(supervisor_b)) == {in_b}
    with pytest.raises(PermissionDenied):
        selectors.quarantine_for(make_user(Role.DOCTOR, w.net.a.county))


# --- API --------------------------------------------------------------------------------


def post(client: Client, url: str, body: dict | None = None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_api_register_answers_the_secret_once(w):
    client = client_for(w.admin)
    response = post(
        client,
        DEVICES,
        {"kind": "pulse_oximeter", "institution": w.net.a.thc.pk, "model": "PO-1"},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["serial"] == "SPO-411521-000001"
    assert len(body["secret"]) == 43
    assert body["institution"] == {"id": w.net.a.thc.pk, "name": w.net.a.thc.name}
    device = Device.objects.get(pk=body["id"])
    assert crypto.decrypt(device.secret) == body["secret"]
    detail = client.get(f"{DEVICES}/{device.pk}")
    assert detail.status_code == 200
    assert "secret" not in detail.json()
    assert body["secret"] not in detail.content.decode()
    listed = client.get(DEVICES).json()
    assert [d["serial"] for d in listed["items"]] == ["SPO-411521-000001"]
    assert "secret" not in listed["items"][0]


def test_api_register_errors(w):
    client = client_for(w.admin)
    out = post(client, DEVICES, {"kind": "scale", "institution": w.net.b.thc.pk})
    assert out.status_code == 400
    assert out.json()["code"] == "unknown_reference"
    assert out.json()["field"] == "institution"
    bad = post(client, DEVICES, {"kind": "scale", "institution": w.net.a.thc.pk, "serial": "a"})
    assert (bad.status_code, bad.json()["field"]) == (400, "serial")
    doctor = client_for(make_user(Role.DOCTOR, w.net.a.county))
    refused = post(doctor, DEVICES, {"kind": "scale", "institution": w.net.a.thc.pk})
    assert refused.status_code == 403
    assert Device.objects.count() == 0


def test_api_rotate_bind_unbind_retire(w):
    device, old = register(w)
    client = client_for(w.admin)
    url = f"{DEVICES}/{device.pk}"

    rotated = post(client, f"{url}/secret")
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert registry.check_credentials(device.serial, old) is None
    assert registry.check_credentials(device.serial, new) == device

    bound = post(client, f"{url}/binding", {"resident": w.zhang.pk})
    assert bound.status_code == 200
    assert bound.json()["resident"] == {"id": w.zhang.pk, "name": "张三"}
    assert [b["resident"]["id"] for b in bound.json()["bindings"]] == [w.zhang.pk]
    out = post(client, f"{url}/binding", {"resident": w.zhao.pk})
    assert out.status_code == 400
    assert (out.json()["code"], out.json()["field"]) == ("unknown_reference", "resident")

    filtered = client.get(DEVICES, {"resident": w.zhang.pk}).json()
    assert [d["id"] for d in filtered["items"]] == [device.pk]
    assert client.get(DEVICES, {"resident": w.li.pk}).json()["items"] == []

    unbound = client.delete(f"{url}/binding")
    assert unbound.status_code == 200
    assert unbound.json()["resident"] is None
    assert unbound.json()["bindings"][0]["unbound_by"] == "dev-admin"

    patched = client.patch(url, json.dumps({"firmware": "2.1"}), content_type="application/json")
    assert (patched.status_code, patched.json()["firmware"]) == (200, "2.1")

    retired = post(client, f"{url}/retire")
    assert (retired.status_code, retired.json()["status"]) == (200, "retired")
    assert client.get(DEVICES, {"status": "retired"}).json()["count"] == 1
    assert client.get(DEVICES, {"status": "active"}).json()["count"] == 0


def test_api_out_of_scope_device_is_404(w):
    everywhere = make_user(Role.INSTITUTION_ADMIN, scope="all")
    outside, _ = registry.register_device(everywhere, kind="scale", institution=w.net.b.thc)
    client = client_for(w.admin)
    url = f"{DEVICES}/{outside.pk}"
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/readings").status_code == 404
    assert post(client, f"{url}/secret").status_code == 404
    assert post(client, f"{url}/binding", {"resident": w.zhang.pk}).status_code == 404
    assert post(client, f"{url}/retire").status_code == 404
    assert client.get(f"{DEVICES}/999999").status_code == 404
    assert client.get(DEVICES).json()["items"] == []


def test_api_readings_and_quarantine(w):
    device, _ = register(w)
    registry.bind(w.admin, device, w.zhang)
    now = timezone.now()
    for seq in (1, 2):
        Reading.objects.create(
            device=device,
            seq=seq,
            resident=w.zhang,
            kind="bp",
            measured_at=now - datetime.timedelta(minutes=10 - seq),
            values={"sys": 140 + seq, "dia": 90},
            source="http",
            received_at=now,
        )
    Quarantine.objects.create(
        device=device,
        serial=device.serial,
        source="mqtt",
        code="out_of_range",
        detail="spo2 130",
        seq=3,
        payload='{"seq":3}',
        received_at=now,
    )
    Quarantine.objects.create(
        serial="BP-411521-777777", source="http", code="unknown_device", detail="?", received_at=now
    )
    nurse = client_for(make_user(Role.NURSE, w.net.a.county))

    readings = nurse.get(f"{DEVICES}/{device.pk}/readings", {"limit": 1})
    assert readings.status_code == 200
    assert [(r["seq"], r["values"]) for r in readings.json()] == [(2, {"sys": 142, "dia": 90})]
    read = audit("devices.device.read")
    assert [(e.object_id, e.details) for e in read] == [
        (str(device.pk), {"readings": 1, "residents": [w.zhang.pk]})
    ]
    assert nurse.get(f"{DEVICES}/quarantine").status_code == 403

    supervisor = client_for(make_user(Role.SUPERVISOR, w.net.a.county))
    rows = supervisor.get(f"{DEVICES}/quarantine").json()
    assert rows["count"] == 2
    by_code = supervisor.get(f"{DEVICES}/quarantine", {"code": "out_of_range"}).json()["items"]
    assert [(r["device"], r["seq"], r["payload"]) for r in by_code] == [(device.pk, 3, '{"seq":3}')]
    by_device = supervisor.get(f"{DEVICES}/quarantine", {"device": device.pk}).json()
    assert by_device["count"] == 1
    by_serial = supervisor.get(f"{DEVICES}/quarantine", {"serial": "777777"}).json()
    assert [r["code"] for r in by_serial["items"]] == ["unknown_device"]


# --- pages ------------------------------------------------------------------------------


def test_register_page_shows_the_serial_and_secret_once(w):
    client = client_for(w.admin)
    assert client.get(reverse("devices:create")).status_code == 200

    response = client.post(
        reverse("devices:create"),
        {
            "serial": "",
            "kind": "thermometer",
            "model": "",
            "firmware": "",
            "institution": w.net.a.thc.pk,
            "expected_interval_minutes": "0",
        },
    )

    assert response.status_code == 200
    device = Device.objects.get()
    secret = crypto.decrypt(device.secret)
    html = response.content.decode()
    assert device.serial == "TMP-411521-000001"
    assert device.serial in html and secret in html
    assert "shown only this once" in html
    assert "no-store" in response["Cache-Control"]
    detail = client.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert secret not in detail


def test_register_page_refuses_an_institution_outside_the_scope(w):
    client = client_for(w.admin)
    response = client.post(
        reverse("devices:create"),
        {"kind": "scale", "institution": w.net.b.thc.pk, "expected_interval_minutes": "0"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Device.objects.count() == 0


def test_list_page_filters(w):
    bound, _ = register(w)
    registry.bind(w.admin, bound, w.zhang)
    loose, _ = register(w, kind="scale")
    Device.objects.filter(pk=loose.pk).update(battery_pct=12, rejected_count=4)
    client = client_for(make_user(Role.CAREGIVER, w.net.a.county))

    def serials(**params) -> list[str]:
        html = client.get(reverse("devices:list"), params).content.decode()
        return [s for s in (bound.serial, loose.serial) if s in html]

    assert serials() == [bound.serial, loose.serial]
    assert serials(bound="yes") == [bound.serial]
    assert serials(bound="no") == [loose.serial]
    assert serials(low_battery="on") == [loose.serial]
    assert serials(kind="scale") == [loose.serial]
    html = client.get(reverse("devices:list")).content.decode()
    assert "张三" in html and "12%" in html


def test_detail_page_bind_rotate_unbind_retire(w):
    device, old = register(w)
    client = client_for(w.admin)
    detail = reverse("devices:detail", args=[device.pk])

    page = client.get(detail, {"rq": "张三"}).content.decode()
    assert f'<option value="{w.zhang.pk}">' in page
    options = client.get(reverse("devices:resident_options"), {"rq": "赵六"}).content.decode()
    assert f'value="{w.zhao.pk}"' not in options  # county B: outside the scope

    response = client.post(reverse("devices:bind", args=[device.pk]), {"resident": w.zhao.pk})
    assert response.status_code == 200
    assert "does not exist in your data scope" in response.content.decode()
    response = client.post(reverse("devices:bind", args=[device.pk]), {"resident": w.zhang.pk})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.resident_id == w.zhang.pk

    unconfirmed = client.post(reverse("devices:rotate_secret", args=[device.pk]))
    assert unconfirmed.status_code == 302
    assert registry.check_credentials(device.serial, old) == device
    rotated = client.post(reverse("devices:rotate_secret", args=[device.pk]), {"confirm": "1"})
    assert rotated.status_code == 200
    device.refresh_from_db()
    assert crypto.decrypt(device.secret) in rotated.content.decode()
    assert registry.check_credentials(device.serial, old) is None

    assert client.post(reverse("devices:unbind", args=[device.pk])).status_code == 302
    device.refresh_from_db()
    assert device.resident_id is None
    assert (
        client.post(reverse("devices:retire", args=[device.pk]), {"confirm": "1"}).status_code
        == 302
    )
    device.refresh_from_db()
    assert device.status == DeviceStatus.RETIRED
    history = client.get(detail).content.decode()
    assert "张三" in history and "Retired" in history
    assert 'id="rotate-form"' not in history


def test_viewers_see_the_device_page_without_the_actions(w):
    device, _ = register(w, expected_interval_minutes=60)
    doctor = client_for(make_user(Role.DOCTOR, w.net.a.county))
    html = doctor.get(reverse("devices:detail", args=[device.pk])).content.decode()
    assert device.serial in html and "60 minutes" in html
    assert 'id="bind-form"' not in html and 'id="retire-form"' not in html
    assert (
        doctor.post(reverse("devices:retire", args=[device.pk]), {"confirm": "1"}).status_code
        == 403
    )
    assert doctor.get(reverse("devices:quarantine")).status_code == 403
    device.refresh_from_db()
    assert device.status == DeviceStatus.ACTIVE


def test_quarantine_page_lists_the_refused_messages(w):
    device, _ = register(w)
    Quarantine.objects.create(
        device=device,
        serial=device.serial,
        source="mqtt",
        code="bad_signature",
        detail="the sig does not match",
        seq=7,
        payload='{"seq":7,' + '"x":1,' * 100 + "}",
        received_at=timezone.now(),
    )
    client = client_for(make_user(Role.SUPERVISOR, w.net.a.county))
    html = client.get(reverse("devices:quarantine"), {"code": "bad_signature"}).content.decode()
    assert "the sig does not match" in html and device.serial in html
    assert "…" in html  # the payload is cut to an excerpt
    empty = client.get(reverse("devices:quarantine"), {"code": "old_ts"}).content.decode()
    assert "No refused messages." in empty
