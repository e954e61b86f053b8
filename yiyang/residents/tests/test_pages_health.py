"""The health-record tabs of the resident page: full page and htmx fragment, inline add /
edit / remove (htmx and plain POST), errors next to the field, the observations tab with
its charts and quick forms, documents, and who sees what."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from yiyang.residents import loinc
from yiyang.residents.models import Condition, Document, Medication, Observation
from yiyang.residents.services.health import add_condition, add_medication
from yiyang.residents.services.observations import record_bp, record_observation
from yiyang.testing.clients import client_for

from .test_health_documents import EXE, PDF
from .test_health_services import H, ago, setup_health

pytestmark = pytest.mark.usefixtures("english")

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def h(world, tmp_path, settings) -> H:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return setup_health(world)


def url(name: str, resident, *args) -> str:
    return reverse(f"residents:{name}", args=[resident.pk, *args])


def text(response) -> str:
    return response.content.decode()


def field_errors(response, name: str) -> list[str]:
    page = text(response)
    assert f'id="field-{name}"' in page, f"no field {name}"
    block = page.split(f'id="field-{name}"', 1)[1].split('id="field-', 1)[0]
    return [html.unescape(m) for m in re.findall(r'role="alert"[^>]*>(.*?)</p>', block)]


@pytest.mark.parametrize(
    "tab", ["conditions", "medications", "allergies", "observations", "encounters", "documents"]
)
def test_tabs_whole_page_and_fragment(h, tab):
    nurse = client_for(h.nurse)
    page = nurse.get(url(tab, h.resident))
    assert page.status_code == 200
    body = text(page)
    assert "<html" in body and 'id="resident-tabs"' in body
    assert f'id="health-{tab}"' in body
    assert re.search(rf'data-tab="{tab}" class="active"', body)
    fragment = nurse.get(url(tab, h.resident), **HX)
    assert fragment.status_code == 200
    assert "<html" not in text(fragment) and f'id="health-{tab}"' in text(fragment)


def test_who_sees_the_tabs(h):
    for user in (h.caregiver, h.dispatcher, h.own, h.family):
        assert client_for(user).get(url("conditions", h.resident)).status_code == 200, user.role
    assert client_for(h.supervisor).get(url("conditions", h.resident)).status_code == 403
    assert client_for(h.outsider).get(url("conditions", h.resident)).status_code == 404
    assert client_for(h.family).get(url("conditions", h.outside)).status_code == 404
    assert Client().get(url("conditions", h.resident)).status_code == 302


def test_readers_get_no_forms(h):
    add_condition(h.nurse, h.resident, icd10="I10")
    for user in (h.own, h.family, h.dispatcher):
        body = text(client_for(user).get(url("conditions", h.resident), **HX))
        assert "原发性高血压" in body
        assert 'id="add-form"' not in body and "Remove" not in body
    body = text(client_for(h.own).get(url("observations", h.resident), **HX))
    assert 'id="bp-form"' not in body and "<svg" in body


def test_add_condition_with_htmx(h):
    nurse = client_for(h.nurse)
    response = nurse.post(url("conditions", h.resident), {"icd10": "g20", "status": "active"}, **HX)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and "Diagnosis added." in body
    condition = Condition.objects.get()
    assert (condition.icd10, condition.name) == ("G20", "帕金森病")
    assert f'id="condition-{condition.pk}"' in body and "帕金森病" in body
    assert 'id="icd10-catalogue"' in body and '<option value="I10">' in body


def test_add_condition_plain_post_redirects(h):
    response = client_for(h.nurse).post(
        url("conditions", h.resident), {"icd10": "I10", "status": "active"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("conditions", h.resident)
    assert Condition.objects.count() == 1


def test_errors_next_to_the_field(h):
    nurse = client_for(h.nurse)
    response = nurse.post(url("conditions", h.resident), {"icd10": "X1", "status": "active"}, **HX)
    assert response.status_code == 200
    assert field_errors(response, "icd10") == [
        "X1 is not an ICD-10 code: a letter, two digits and optionally a dot with up to four "
        "more characters (e.g. I10, E11.9, I10.x00)."
    ]
    response = nurse.post(url("conditions", h.resident), {"icd10": "Q87.4", "status": "active"})
    assert response.status_code == 200 and "<html" in text(response)
    assert field_errors(response, "name") == [
        "Q87.4 is not in the catalogue of common diagnoses: enter its name."
    ]
    response = nurse.post(
        url("medications", h.resident),
        {"name": "阿司匹林", "start": "2024-05-01", "end": "2024-04-01"},
        **HX,
    )
    assert field_errors(response, "end") == [
        "The end (2024-04-01) is before the start (2024-05-01)."
    ]
    assert not Condition.objects.exists() and not Medication.objects.exists()


def test_no_consent_hides_the_forms_and_refuses(h):
    nurse = client_for(h.nurse)
    body = text(nurse.get(url("conditions", h.other), **HX))
    assert 'id="no-health-consent"' in body and 'id="add-form"' not in body
    response = nurse.post(url("conditions", h.other), {"icd10": "I10", "status": "active"}, **HX)
    assert "has not consented" in html.unescape(text(response))
    assert not Condition.objects.exists()


def test_edit_and_remove_inline(h):
    nurse = client_for(h.nurse)
    medication = add_medication(h.nurse, h.resident, name="氨氯地平", dose="5 mg")
    edit = url("medication_edit", h.resident, medication.pk)
    response = nurse.get(edit, **HX)
    assert response.status_code == 200
    body = text(response)
    assert f'id="editing-{medication.pk}"' in body and 'value="5 mg"' in body
    assert 'id="add-form"' not in body
    response = nurse.post(edit, {"name": "氨氯地平", "dose": "10 mg", "long_term": "on"}, **HX)
    assert "Medication saved." in text(response)
    medication.refresh_from_db()
    assert (medication.dose, medication.long_term) == ("10 mg", True)
    # the plain edit page shows the whole resident page with the row as a form
    assert "<html" in text(nurse.get(edit))
    remove = url("medication_remove", h.resident, medication.pk)
    assert nurse.get(remove).status_code == 405
    assert client_for(h.caregiver).post(remove, **HX).status_code == 403
    response = nurse.post(remove, **HX)
    assert "Medication removed." in text(response)
    assert not Medication.objects.exists()
    assert nurse.post(remove).status_code == 404


def test_encounter_form_offers_scoped_choices(h):
    nurse = client_for(h.nurse)
    a, b = h.world.net.a, h.world.net.b
    body = text(nurse.get(url("encounters", h.resident), **HX))
    assert f'<option value="{a.lead.pk}">' in body and f'<option value="{b.lead.pk}">' not in body
    response = nurse.post(
        url("encounters", h.resident),
        {"kind": "clinic", "date": "2024-02-02", "institution": str(b.lead.pk)},
        **HX,
    )
    assert field_errors(response, "institution")  # not a choice
    response = nurse.post(
        url("encounters", h.resident),
        {
            "kind": "hospital_stay",
            "date": "2024-02-02",
            "end_date": "2024-02-09",
            "institution": str(a.lead.pk),
            "practitioner": str(a.doctor.pk),
        },
        **HX,
    )
    assert "Encounter added." in text(response)
    assert a.lead.name in text(response) and "2024-02-02 – 2024-02-09" in text(response)


def test_record_bp_updates_the_chart(h):
    caregiver = client_for(h.caregiver)
    before = text(caregiver.get(url("observations", h.resident), **HX))
    assert 'id="chart-bp"' in before and 'data-points="0"' in before
    assert "No blood pressure readings in this period." in before
    response = caregiver.post(
        url("observation_bp", h.resident),
        {"systolic": "148", "diastolic": "92", "heart_rate": "76", "period": "30"},
        **HX,
    )
    assert response.status_code == 200
    body = text(response)
    assert "Recorded: Systolic 148 mmHg, Diastolic 92 mmHg, Heart rate 76 /min." in body
    bp_svg = body.split('id="chart-bp"', 1)[1].split("</svg>", 1)[0]
    assert 'data-points="2"' in bp_svg and "<circle" in bp_svg
    assert "148/92" in body  # the readings table
    assert re.search(r'href="[^"]*\?period=30"[^>]*class="active"', body)
    panel = Observation.objects.filter(resident=h.resident).values_list("panel", flat=True)
    assert len(set(panel)) == 1 and len(panel) == 3


def test_record_bp_errors_and_plain_post(h):
    caregiver = client_for(h.caregiver)
    response = caregiver.post(
        url("observation_bp", h.resident), {"systolic": "80", "diastolic": "90"}, **HX
    )
    assert field_errors(response, "diastolic") == [
        "Systolic pressure (80) must be higher than diastolic (90)."
    ]
    response = caregiver.post(
        url("observation_bp", h.resident),
        {"systolic": "120", "diastolic": "80", "effective_at": "2999-01-01T08:00"},
        **HX,
    )
    assert field_errors(response, "effective_at") == [
        "measured at 2999-01-01 08:00 is in the future."
    ]
    assert not Observation.objects.exists()
    response = caregiver.post(
        url("observation_bp", h.resident), {"systolic": "120", "diastolic": "80", "period": "365"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("observations", h.resident) + "?period=365"
    assert client_for(h.dispatcher).post(url("observation_bp", h.resident), {}).status_code == 403


def test_glucose_and_other_measurements(h):
    caregiver = client_for(h.caregiver)
    response = caregiver.post(
        url("observation_record", h.resident),
        {
            "form": "glucose",
            "glucose-code": loinc.GLUCOSE_FASTING,
            "glucose-value": "130",
            "glucose-unit": "mg/dL",
        },
        **HX,
    )
    assert "Recorded: Fasting glucose 7.2 mmol/L." in text(response)
    glucose_svg = text(response).split('id="chart-glucose"', 1)[1].split("</svg>", 1)[0]
    assert 'data-points="1"' in glucose_svg
    response = caregiver.post(
        url("observation_record", h.resident),
        {"form": "vital", "vital-code": loinc.TEMPERATURE, "vital-value": "52"},
        **HX,
    )
    assert field_errors(response, "vital-value") == [
        "Body temperature 52.0 °C is outside the plausible range 30.0–45.0 °C: check the reading."
    ]
    response = caregiver.post(
        url("observation_record", h.resident),
        {"form": "vital", "vital-code": loinc.WEIGHT, "vital-value": "60", "vital-unit": "m"},
        **HX,
    )
    assert field_errors(response, "vital-unit") == [
        "m is not a unit for Body weight (use kg, 斤, lb)."
    ]
    assert Observation.objects.count() == 1


def test_latest_values_and_delete_reading(h):
    record_observation(h.nurse, h.resident, "height", 160, effective_at=ago(days=5))
    weight, bmi = record_observation(h.nurse, h.resident, "weight", "51.2")
    caregiver = client_for(h.caregiver)
    body = text(caregiver.get(url("observations", h.resident), **HX))
    latest = body.split('id="latest-vitals"', 1)[1].split("</section>", 1)[0]
    assert f'data-code="{loinc.BMI}"' in latest and "<strong>20.0</strong> kg/m2" in latest
    row = body.split(f'id="reading-{weight.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Weight <strong>51.2</strong> kg" in row and "BMI <strong>20.0</strong>" in row
    remove = url("observation_remove", h.resident, weight.pk)
    response = caregiver.post(remove, {"period": "90"}, **HX)
    assert "Reading deleted." in text(response)
    assert list(Observation.objects.values_list("code", flat=True)) == [loinc.HEIGHT]
    device = record_observation(h.nurse, h.resident, "spo2", 95, source="device")[0]
    response = caregiver.post(url("observation_remove", h.resident, device.pk), **HX)
    assert "A reading from a device cannot be deleted by hand." in text(response)
    assert Observation.objects.filter(pk=device.pk).exists()


def test_period_selection(h):
    record_bp(h.nurse, h.resident, 150, 95, effective_at=ago(days=60))
    nurse = client_for(h.nurse)
    body30 = text(nurse.get(url("observations", h.resident) + "?period=30", **HX))
    body90 = text(nurse.get(url("observations", h.resident) + "?period=90", **HX))
    assert 'data-points="0"' in body30.split('id="chart-bp"', 1)[1][:400]
    assert 'data-points="2"' in body90.split('id="chart-bp"', 1)[1][:400]
    odd = text(nurse.get(url("observations", h.resident) + "?period=7", **HX))
    assert re.search(r'\?period=90"[^>]*class="active"', odd)


def test_documents_tab(h):
    nurse = client_for(h.nurse)
    response = nurse.post(
        url("documents", h.resident),
        {"file": SimpleUploadedFile("心电图.png", EXE, "image/png"), "kind": "imaging"},
        **HX,
    )
    assert field_errors(response, "file")[0].startswith("心电图.png is not a real PNG file")
    response = nurse.post(
        url("documents", h.resident),
        {"file": SimpleUploadedFile("出院记录.pdf", PDF, "application/pdf"), "kind": "discharge"},
    )
    assert response.status_code == 302
    document = Document.objects.get()
    body = text(client_for(h.family).get(url("documents", h.resident), **HX))
    download = url("document_download", h.resident, document.pk)
    assert f'href="{download}"' in body and "出院记录" in body and "Remove" not in body
    response = client_for(h.family).get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == PDF
    assert client_for(h.outsider).get(download).status_code == 404
    assert client_for(h.supervisor).get(download).status_code == 403
    assert "/media/" not in body
    response = nurse.post(url("document_remove", h.resident, document.pk), **HX)
    assert "Document removed." in text(response)
    assert not Document.objects.exists()
