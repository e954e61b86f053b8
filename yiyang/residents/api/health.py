"""The health-record API under ``/api/v1/residents/{pk}/``: conditions, medications,
allergies, encounters (list, create, update, delete), observations (list with code and
period filters, record one or a BP panel, delete one entered in error) and documents
(list, upload, download, delete).

Reads fetch the resident with ``get_resident_for`` (scoped, audited) and need the right to
see the health record (``access.can_view_health``); writes call the actions
(``services.health``, ``services.observations``, ``services.documents``), which check the
permission, the scope, the consent and the input. Errors come back as
``{"code", "detail", "field"}``.
"""

import datetime
from typing import Any

from django.http import FileResponse, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile
from ninja.pagination import paginate

from yiyang.accounts.actor import actor
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.common.params import Id, Pagination
from yiyang.common.schemas import ErrorOut
from yiyang.residents import loinc
from yiyang.residents.errors import ResidentError
from yiyang.residents.health_schemas import (
    AllergyIn,
    AllergyOut,
    AllergyPatch,
    ConditionIn,
    ConditionOut,
    ConditionPatch,
    DocumentOut,
    EncounterIn,
    EncounterOut,
    EncounterPatch,
    MedicationIn,
    MedicationOut,
    MedicationPatch,
    ObservationFilter,
    ObservationIn,
    ObservationOut,
)
from yiyang.residents.models import DocumentKind, Resident
from yiyang.residents.selectors.health import (
    allergies_for,
    conditions_for,
    documents_for,
    encounters_for,
    get_document_for,
    medications_for,
    observations_for,
)
from yiyang.residents.selectors.registry import get_resident_for
from yiyang.residents.services.documents import remove_document, upload_document
from yiyang.residents.services.health import (
    add_allergy,
    add_condition,
    add_encounter,
    add_medication,
    remove_allergy,
    remove_condition,
    remove_encounter,
    remove_medication,
    update_allergy,
    update_condition,
    update_encounter,
    update_medication,
)
from yiyang.residents.services.observations import record_bp, record_observation, remove_observation

router = Router(tags=["residents"])

ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
OBSERVATION_PAGE_SIZE = 200


def _resident(request: HttpRequest, pk: Id) -> Resident:
    return get_resident_for(actor(request), pk)


# --- conditions -------------------------------------------------------------------------


@router.get(
    "/{int:pk}/conditions",
    response={200: list[ConditionOut], **ERRORS},
    url_name="residents_condition_list",
    summary="The resident's diagnoses",
)
def condition_list(request: HttpRequest, pk: Id) -> Any:
    return list(conditions_for(actor(request), _resident(request, pk)))


@router.post(
    "/{int:pk}/conditions",
    response={201: ConditionOut, **ERRORS},
    url_name="residents_condition_create",
    summary="Add a diagnosis (ICD-10)",
)
def condition_create(request: HttpRequest, pk: Id, payload: ConditionIn) -> Any:
    return 201, add_condition(actor(request), pk, **payload.dict())


@router.patch(
    "/{int:pk}/conditions/{int:item_id}",
    response={200: ConditionOut, **ERRORS},
    url_name="residents_condition_update",
)
def condition_update(request: HttpRequest, pk: Id, item_id: Id, payload: ConditionPatch) -> Any:
    return update_condition(actor(request), pk, item_id, **payload.dict(exclude_unset=True))


@router.delete(
    "/{int:pk}/conditions/{int:item_id}",
    response={204: None, **ERRORS},
    url_name="residents_condition_delete",
)
def condition_delete(request: HttpRequest, pk: Id, item_id: Id) -> Any:
    remove_condition(actor(request), pk, item_id)
    return 204, None


# --- medications ------------------------------------------------------------------------


@router.get(
    "/{int:pk}/medications",
    response={200: list[MedicationOut], **ERRORS},
    url_name="residents_medication_list",
)
def medication_list(request: HttpRequest, pk: Id) -> Any:
    return list(medications_for(actor(request), _resident(request, pk)))


@router.post(
    "/{int:pk}/medications",
    response={201: MedicationOut, **ERRORS},
    url_name="residents_medication_create",
)
def medication_create(request: HttpRequest, pk: Id, payload: MedicationIn) -> Any:
    return 201, add_medication(actor(request), pk, **payload.dict())


@router.patch(
    "/{int:pk}/medications/{int:item_id}",
    response={200: MedicationOut, **ERRORS},
    url_name="residents_medication_update",
)
def medication_update(request: HttpRequest, pk: Id, item_id: Id, payload: MedicationPatch) -> Any:
    return update_medication(actor(request), pk, item_id, **payload.dict(exclude_unset=True))


@router.delete(
    "/{int:pk}/medications/{int:item_id}",
    response={204: None, **ERRORS},
    url_name="residents_medication_delete",
)
def medication_delete(request: HttpRequest, pk: Id, item_id: Id) -> Any:
    remove_medication(actor(request), pk, item_id)
    return 204, None


# --- allergies --------------------------------------------------------------------------


@router.get(
    "/{int:pk}/allergies",
    response={200: list[AllergyOut], **ERRORS},
    url_name="residents_allergy_list",
)
def allergy_list(request: HttpRequest, pk: Id) -> Any:
    return list(allergies_for(actor(request), _resident(request, pk)))


@router.post(
    "/{int:pk}/allergies",
    response={201: AllergyOut, **ERRORS},
    url_name="residents_allergy_create",
)
def allergy_create(request: HttpRequest, pk: Id, payload: AllergyIn) -> Any:
    return 201, add_allergy(actor(request), pk, **payload.dict())


@router.patch(
    "/{int:pk}/allergies/{int:item_id}",
    response={200: AllergyOut, **ERRORS},
    url_name="residents_allergy_update",
)
def allergy_update(request: HttpRequest, pk: Id, item_id: Id, payload: AllergyPatch) -> Any:
    return update_allergy(actor(request), pk, item_id, **payload.dict(exclude_unset=True))


@router.delete(
    "/{int:pk}/allergies/{int:item_id}",
    response={204: None, **ERRORS},
    url_name="residents_allergy_delete",
)
def allergy_delete(request: HttpRequest, pk: Id, item_id: Id) -> Any:
    remove_allergy(actor(request), pk, item_id)
    return 204, None


# --- encounters -------------------------------------------------------------------------


@router.get(
    "/{int:pk}/encounters",
    response={200: list[EncounterOut], **ERRORS},
    url_name="residents_encounter_list",
)
def encounter_list(request: HttpRequest, pk: Id) -> Any:
    return list(encounters_for(actor(request), _resident(request, pk)))


@router.post(
    "/{int:pk}/encounters",
    response={201: EncounterOut, **ERRORS},
    url_name="residents_encounter_create",
)
def encounter_create(request: HttpRequest, pk: Id, payload: EncounterIn) -> Any:
    return 201, add_encounter(actor(request), pk, **payload.dict())


@router.patch(
    "/{int:pk}/encounters/{int:item_id}",
    response={200: EncounterOut, **ERRORS},
    url_name="residents_encounter_update",
)
def encounter_update(request: HttpRequest, pk: Id, item_id: Id, payload: EncounterPatch) -> Any:
    return update_encounter(actor(request), pk, item_id, **payload.dict(exclude_unset=True))


@router.delete(
    "/{int:pk}/encounters/{int:item_id}",
    response={204: None, **ERRORS},
    url_name="residents_encounter_delete",
)
def encounter_delete(request: HttpRequest, pk: Id, item_id: Id) -> Any:
    remove_encounter(actor(request), pk, item_id)
    return 204, None


# --- observations -----------------------------------------------------------------------


def _codes(text: str | None) -> list[str]:
    codes = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        spec = loinc.lookup(part)
        if spec is None:
            raise ValidationFailed(
                ResidentError.UNKNOWN_CODE,
                _("%(code)s is not a measurement the health record knows.")
                % {"code": part.strip()},
                field="code",
            )
        codes.append(spec.code)
    return codes


@router.get(
    "/{int:pk}/observations",
    response={200: list[ObservationOut], **ERRORS},
    url_name="residents_observation_list",
    summary="Observations, newest first (filters: code, since, until)",
)
@paginate(Pagination, page_size=OBSERVATION_PAGE_SIZE)
def observation_list(request: HttpRequest, pk: Id, filters: Query[ObservationFilter]) -> Any:
    codes = _codes(filters.code)
    return observations_for(
        actor(request),
        _resident(request, pk),
        codes=codes,
        since=_aware(filters.since),
        until=_aware(filters.until),
    )


def _aware(value: datetime.datetime | None) -> datetime.datetime | None:
    """A filter time without zone is local time."""
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value)


@router.post(
    "/{int:pk}/observations",
    response={201: list[ObservationOut], **ERRORS},
    url_name="residents_observation_create",
    summary="Record a measurement, or a blood-pressure panel (systolic + diastolic)",
)
def observation_create(request: HttpRequest, pk: Id, payload: ObservationIn) -> Any:
    user = actor(request)
    if payload.systolic is not None or payload.diastolic is not None:
        if payload.code is not None or payload.value is not None:
            raise ValidationFailed(
                ResidentError.AMBIGUOUS,
                _("Send either a blood-pressure panel or one measurement, not both."),
                field="code",
            )
        rows = record_bp(
            user,
            pk,
            systolic=payload.systolic,
            diastolic=payload.diastolic,
            heart_rate=payload.heart_rate,
            effective_at=payload.effective_at,
            unit=payload.unit,
        )
    else:
        if not payload.code:
            raise ValidationFailed(
                CommonError.REQUIRED,
                _("Send a code and a value, or systolic and diastolic pressures."),
                field="code",
            )
        rows = record_observation(
            user,
            pk,
            payload.code,
            payload.value,
            unit=payload.unit,
            effective_at=payload.effective_at,
        )
    return 201, rows


@router.delete(
    "/{int:pk}/observations/{int:item_id}",
    response={204: None, **ERRORS},
    url_name="residents_observation_delete",
    summary="Delete a reading entered in error (with its panel); device readings cannot be",
)
def observation_delete(request: HttpRequest, pk: Id, item_id: Id) -> Any:
    remove_observation(actor(request), pk, item_id)
    return 204, None


# --- documents --------------------------------------------------------------------------


@router.get(
    "/{int:pk}/documents",
    response={200: list[DocumentOut], **ERRORS},
    url_name="residents_document_list",
)
def document_list(request: HttpRequest, pk: Id) -> Any:
    return list(documents_for(actor(request), _resident(request, pk)))


@router.post(
    "/{int:pk}/documents",
    response={201: DocumentOut, **ERRORS},
    url_name="residents_document_create",
    summary="Upload a document (multipart: file, kind, title)",
)
def document_create(
    request: HttpRequest,
    pk: Id,
    file: File[UploadedFile],
    kind: Form[DocumentKind],
    title: Form[str] = "",
) -> Any:
    return 201, upload_document(actor(request), pk, file=file, kind=kind, title=title)


@router.get(
    "/{int:pk}/documents/{int:item_id}",
    response={200: None, **ERRORS},
    url_name="residents_document_download",
    summary="Download a document (as an attachment)",
)
def document_download(request: HttpRequest, pk: Id, item_id: Id) -> Any:
    user = actor(request)
    document = get_document_for(user, _resident(request, pk), item_id)
    return download_response(document)


@router.delete(
    "/{int:pk}/documents/{int:item_id}",
    response={204: None, **ERRORS},
    url_name="residents_document_delete",
)
def document_delete(request: HttpRequest, pk: Id, item_id: Id) -> Any:
    remove_document(actor(request), pk, item_id)
    return 204, None


def download_response(document: Any) -> FileResponse:
    """The file as an attachment with its own content type (pages use it too)."""
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
