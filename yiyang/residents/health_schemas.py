"""Pydantic schemas of the health-record API (``yiyang.residents.api.health``). Input
field names are the services' (``icd10``, ``institution``, ``effective_at`` …) so that an
error's ``field`` is the input field at fault."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from yiyang.common.params import Id
from yiyang.common.schemas import PatchSchema
from yiyang.residents import loinc
from yiyang.residents.models import (
    AllergySeverity,
    ConditionStatus,
    DocumentKind,
    EncounterKind,
)


class Ref(Schema):
    id: int
    name: str


def ref(obj: Any) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": obj.name}


# --- conditions -------------------------------------------------------------------------


class ConditionIn(Schema):
    icd10: str = Field(..., description="ICD-10 code, e.g. I10, E11.9, I10.x00")
    name: str = Field("", description="Empty: the Chinese name from the catalogue")
    onset: datetime.date | None = None
    status: ConditionStatus = ConditionStatus.ACTIVE
    note: str = ""


class ConditionPatch(PatchSchema):
    nullable = frozenset({"onset"})

    icd10: str | None = None
    name: str | None = None
    onset: datetime.date | None = None
    status: ConditionStatus | None = None
    note: str | None = None


class ConditionOut(Schema):
    id: int
    icd10: str
    name: str
    onset: datetime.date | None
    status: ConditionStatus
    note: str
    recorded_at: datetime.datetime


# --- medications ------------------------------------------------------------------------


class MedicationIn(Schema):
    name: str
    dose: str = ""
    frequency: str = ""
    route: str = ""
    long_term: bool = False
    start: datetime.date | None = None
    end: datetime.date | None = None
    note: str = ""


class MedicationPatch(PatchSchema):
    nullable = frozenset({"start", "end"})

    name: str | None = None
    dose: str | None = None
    frequency: str | None = None
    route: str | None = None
    long_term: bool | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None
    note: str | None = None


class MedicationOut(Schema):
    id: int
    name: str
    dose: str
    frequency: str
    route: str
    long_term: bool
    start: datetime.date | None
    end: datetime.date | None
    note: str
    recorded_at: datetime.datetime


# --- allergies --------------------------------------------------------------------------


class AllergyIn(Schema):
    substance: str
    reaction: str = ""
    severity: AllergySeverity = AllergySeverity.MILD
    note: str = ""


class AllergyPatch(PatchSchema):
    substance: str | None = None
    reaction: str | None = None
    severity: AllergySeverity | None = None
    note: str | None = None


class AllergyOut(Schema):
    id: int
    substance: str
    reaction: str
    severity: AllergySeverity
    note: str
    recorded_at: datetime.datetime


# --- encounters -------------------------------------------------------------------------


class EncounterIn(Schema):
    kind: EncounterKind
    date: datetime.date
    end_date: datetime.date | None = Field(None, description="Hospital stays only")
    institution: Id | None = Field(None, description="Institution id (in your scope)")
    practitioner: Id | None = Field(None, description="Staff id (in your scope)")
    reason: str = ""
    notes: str = ""


class EncounterPatch(PatchSchema):
    nullable = frozenset({"end_date", "institution", "practitioner"})

    kind: EncounterKind | None = None
    date: datetime.date | None = None
    end_date: datetime.date | None = None
    institution: Id | None = None
    practitioner: Id | None = None
    reason: str | None = None
    notes: str | None = None


class EncounterOut(Schema):
    id: int
    kind: EncounterKind
    date: datetime.date
    end_date: datetime.date | None
    institution: Ref | None
    practitioner: Ref | None
    reason: str
    notes: str
    recorded_at: datetime.datetime

    @staticmethod
    def resolve_institution(obj: Any) -> dict[str, Any] | None:
        return ref(obj.institution)

    @staticmethod
    def resolve_practitioner(obj: Any) -> dict[str, Any] | None:
        return ref(obj.practitioner)


# --- observations -----------------------------------------------------------------------


class ObservationIn(Schema):
    """One measurement (``code``, ``value``, ``unit``) or a blood-pressure panel
    (``systolic``, ``diastolic``, optional ``heart_rate``)."""

    code: str | None = Field(
        None, description="LOINC code or key: " + ", ".join(loinc.SINGLE_CODES)
    )
    value: float | str | None = None
    unit: str | None = Field(None, description="Empty: the code's canonical unit")
    systolic: float | str | None = None
    diastolic: float | str | None = None
    heart_rate: float | str | None = None
    effective_at: datetime.datetime | None = Field(
        None, description="When measured (default now; a time without zone is local)"
    )


class ObservationOut(Schema):
    id: int
    code: str
    label: str
    value: float
    unit: str
    effective_at: datetime.datetime
    source: str
    panel: str | None

    @staticmethod
    def resolve_label(obj: Any) -> str:
        return loinc.label(obj.code)

    @staticmethod
    def resolve_value(obj: Any) -> float:
        return float(obj.value)

    @staticmethod
    def resolve_panel(obj: Any) -> str | None:
        return str(obj.panel) if obj.panel else None


class ObservationFilter(Schema):
    code: str | None = Field(None, description="LOINC codes or keys, comma-separated")
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None


# --- documents --------------------------------------------------------------------------


class DocumentOut(Schema):
    id: int
    kind: DocumentKind
    title: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime.datetime
