"""Permission-matrix rules of the health record — the resident page's health tabs and
``/api/v1/residents/{pk}/…`` (see ``tests/matrix_support.py``).

Who: ``residents.health_view`` holders, the resident's own login and the family login
with ``can_view_readings`` read; ``residents.health_manage`` adds, edits and removes
conditions, medications, allergies, encounters and documents;
``residents.observation_record`` records and deletes readings. Out of scope: the same
entries of ``world.resident_out`` (county B) answer 404 and change nothing; an encounter
naming an institution of county B is a 400 ``unknown_reference``.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.matrix_support import Kwargs, Payload, Rule, World, holders, rows
from yiyang.common.permissions import Role
from yiyang.residents import loinc
from yiyang.residents.models import (
    Allergy,
    Condition,
    Document,
    Encounter,
    Medication,
    Observation,
    ObservationSource,
)
from yiyang.residents.permissions import ResidentPerm

READ = holders(ResidentPerm.HEALTH_VIEW) | {Role.RESIDENT, Role.FAMILY}
MANAGE = holders(ResidentPerm.HEALTH_MANAGE)
RECORD = holders(ResidentPerm.OBSERVATION_RECORD)

CONDITIONS = rows(Condition, "icd10", "status", "note")
MEDICATIONS = rows(Medication, "name", "dose", "end")
ALLERGIES = rows(Allergy, "substance", "severity")
ENCOUNTERS = rows(Encounter, "kind", "date", "institution_id", "reason")
OBSERVATIONS = rows(Observation, "code", "value")
DOCUMENTS = rows(Document, "title", "sha256")

PDF = b"%PDF-1.4\n% lab report\n"


def build(w: World) -> None:
    """For each side (``in``: ``resident_in``, ``out``: ``resident_out``) one entry of
    each kind: ``h_condition_<side>``, ``h_medication_…``, ``h_allergy_…``,
    ``h_encounter_…``, ``h_observation_…`` (the systolic row of a manual BP panel) and
    ``h_document_…`` (a PDF)."""
    by = w.net.admin
    when = timezone.now() - datetime.timedelta(days=1)
    for side, resident in (("in", w.resident_in), ("out", w.resident_out)):
        extra = w.extra
        extra[f"h_condition_{side}"] = Condition.objects.create(
            resident=resident, icd10="I10", name="原发性高血压", recorded_by=by
        )
        extra[f"h_medication_{side}"] = Medication.objects.create(
            resident=resident, name="氨氯地平片", dose="5 mg", recorded_by=by
        )
        extra[f"h_allergy_{side}"] = Allergy.objects.create(
            resident=resident, substance="青霉素", recorded_by=by
        )
        extra[f"h_encounter_{side}"] = Encounter.objects.create(
            resident=resident, kind="clinic", date=datetime.date(2025, 3, 1), recorded_by=by
        )
        panel = uuid.uuid4()
        extra[f"h_observation_{side}"] = Observation.objects.create(
            resident=resident,
            code=loinc.SYSTOLIC,
            value=145,
            unit="mmHg",
            effective_at=when,
            source=ObservationSource.MANUAL,
            panel=panel,
            recorded_by=by,
        )
        Observation.objects.create(
            resident=resident,
            code=loinc.DIASTOLIC,
            value=92,
            unit="mmHg",
            effective_at=when,
            source=ObservationSource.MANUAL,
            panel=panel,
            recorded_by=by,
        )
        content = PDF + side.encode()
        document = Document(
            resident=resident,
            kind="lab",
            title="化验单",
            original_name="化验单.pdf",
            content_type="application/pdf",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=by,
        )
        document.file.save(f"m-{side}.pdf", ContentFile(content), save=False)
        document.save()
        extra[f"h_document_{side}"] = document


def resident(side: str) -> Kwargs:
    return lambda w: {"pk": getattr(w, f"resident_{side}").pk}


def item(kind: str, side: str) -> Kwargs:
    return lambda w: {
        "pk": getattr(w, f"resident_{side}").pk,
        "item_id": w.extra[f"h_{kind}_{side}"].pk,
    }


def body(**values: Any) -> Payload:
    return lambda w, user: dict(values)


def pdf_upload(**values: Any) -> Payload:
    def payload(w: World, user: Any) -> dict[str, Any]:
        upload = SimpleUploadedFile("检查报告.pdf", PDF + b"new", "application/pdf")
        return {"file": upload, **values}

    return payload


def encounter_at(county: Callable[[World], Any], form: bool = False) -> Payload:
    def payload(w: World, user: Any) -> dict[str, Any]:
        data = {"kind": "clinic", "date": "2025-04-02", "institution": county(w).lead.pk}
        return {k: str(v) for k, v in data.items()} if form else data

    return payload


# (tab, entry, state, page form for add/edit, API body for create, API body for update)
_AREAS: list[tuple[str, str, Callable[[World], Any], dict, dict, dict]] = [
    (
        "conditions",
        "condition",
        CONDITIONS,
        {"icd10": "E11", "status": "active"},
        {"icd10": "E11"},
        {"note": "控制良好"},
    ),
    (
        "medications",
        "medication",
        MEDICATIONS,
        {"name": "二甲双胍", "dose": "0.5 g"},
        {"name": "二甲双胍", "dose": "0.5 g"},
        {"dose": "10 mg"},
    ),
    (
        "allergies",
        "allergy",
        ALLERGIES,
        {"substance": "磺胺", "severity": "moderate"},
        {"substance": "磺胺"},
        {"severity": "severe"},
    ),
    (
        "encounters",
        "encounter",
        ENCOUNTERS,
        {"kind": "phone", "date": "2025-04-01", "reason": "随访"},
        {"kind": "phone", "date": "2025-04-01"},
        {"reason": "电话随访"},
    ),
]


def _area_rules() -> list[Rule]:
    found: list[Rule] = []
    for tab, entry, state, page_form, api_create, api_update in _AREAS:
        found += [
            Rule(f"residents:{tab}", "GET", READ, resident("in"), out=resident("out")),
            Rule(
                f"residents:{tab}",
                "POST",
                MANAGE,
                resident("in"),
                out=resident("out"),
                body="form",
                data=body(**page_form),
                ok=302,
                state=state,
            ),
            Rule(
                f"residents:{entry}_edit",
                "GET",
                MANAGE,
                item(entry, "in"),
                out=item(entry, "out"),
            ),
            Rule(
                f"residents:{entry}_edit",
                "POST",
                MANAGE,
                item(entry, "in"),
                out=item(entry, "out"),
                body="form",
                data=body(**page_form),
                ok=302,
                state=state,
            ),
            Rule(
                f"residents:{entry}_remove",
                "POST",
                MANAGE,
                item(entry, "in"),
                out=item(entry, "out"),
                body="form",
                ok=302,
                state=state,
            ),
            Rule(f"api:residents_{entry}_list", "GET", READ, resident("in"), out=resident("out")),
            Rule(
                f"api:residents_{entry}_create",
                "POST",
                MANAGE,
                resident("in"),
                out=resident("out"),
                data=body(**api_create),
                ok=201,
                state=state,
            ),
            Rule(
                f"api:residents_{entry}_update",
                "PATCH",
                MANAGE,
                item(entry, "in"),
                out=item(entry, "out"),
                data=body(**api_update),
                state=state,
            ),
            Rule(
                f"api:residents_{entry}_delete",
                "DELETE",
                MANAGE,
                item(entry, "in"),
                out=item(entry, "out"),
                ok=204,
                state=state,
            ),
        ]
    return found


RULES: list[Rule] = [
    *_area_rules(),
    # an encounter naming an institution outside the scope: 400 on the API, the form
    # redisplays on the page (the institution is not a choice) — never a change
    Rule(
        "api:residents_encounter_create",
        "POST",
        MANAGE,
        resident("in"),
        data=encounter_at(lambda w: w.a),
        out_data=encounter_at(lambda w: w.b),
        out_status=400,
        ok=201,
        state=ENCOUNTERS,
    ),
    Rule(
        "residents:encounters",
        "POST",
        MANAGE,
        resident("in"),
        body="form",
        data=encounter_at(lambda w: w.a, form=True),
        out_data=encounter_at(lambda w: w.b, form=True),
        out_status=200,
        ok=302,
        state=ENCOUNTERS,
    ),
    # observations
    Rule("residents:observations", "GET", READ, resident("in"), out=resident("out")),
    Rule(
        "residents:observation_bp",
        "POST",
        RECORD,
        resident("in"),
        out=resident("out"),
        body="form",
        data=body(systolic="132", diastolic="84", heart_rate="70"),
        ok=302,
        state=OBSERVATIONS,
    ),
    Rule(
        "residents:observation_record",
        "POST",
        RECORD,
        resident("in"),
        out=resident("out"),
        body="form",
        data=body(
            form="glucose", **{"glucose-code": loinc.GLUCOSE_FASTING, "glucose-value": "6.2"}
        ),
        ok=302,
        state=OBSERVATIONS,
    ),
    Rule(
        "residents:observation_remove",
        "POST",
        RECORD,
        item("observation", "in"),
        out=item("observation", "out"),
        body="form",
        ok=302,
        state=OBSERVATIONS,
    ),
    Rule(
        "api:residents_observation_list",
        "GET",
        READ,
        resident("in"),
        out=resident("out"),
    ),
    Rule(
        "api:residents_observation_create",
        "POST",
        RECORD,
        resident("in"),
        out=resident("out"),
        data=body(systolic=132, diastolic=84),
        ok=201,
        state=OBSERVATIONS,
    ),
    Rule(
        "api:residents_observation_delete",
        "DELETE",
        RECORD,
        item("observation", "in"),
        out=item("observation", "out"),
        ok=204,
        state=OBSERVATIONS,
    ),
    # documents
    Rule("residents:documents", "GET", READ, resident("in"), out=resident("out")),
    Rule(
        "residents:documents",
        "POST",
        MANAGE,
        resident("in"),
        out=resident("out"),
        body="form",
        data=pdf_upload(kind="lab"),
        ok=302,
        state=DOCUMENTS,
    ),
    Rule(
        "residents:document_download",
        "GET",
        READ,
        item("document", "in"),
        out=item("document", "out"),
    ),
    Rule(
        "residents:document_remove",
        "POST",
        MANAGE,
        item("document", "in"),
        out=item("document", "out"),
        body="form",
        ok=302,
        state=DOCUMENTS,
    ),
    Rule("api:residents_document_list", "GET", READ, resident("in"), out=resident("out")),
    Rule(
        "api:residents_document_create",
        "POST",
        MANAGE,
        resident("in"),
        out=resident("out"),
        body="form",
        data=pdf_upload(kind="lab"),
        ok=201,
        state=DOCUMENTS,
    ),
    Rule(
        "api:residents_document_download",
        "GET",
        READ,
        item("document", "in"),
        out=item("document", "out"),
    ),
    Rule(
        "api:residents_document_delete",
        "DELETE",
        MANAGE,
        item("document", "in"),
        out=item("document", "out"),
        ok=204,
        state=DOCUMENTS,
    ),
]
