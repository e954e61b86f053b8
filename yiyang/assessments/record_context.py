"""The context an instrument takes from the resident's health record, pre-filled when a
draft opens; the assessor confirms it or changes it on the bedside form.

* GB/T 42195 (``gbt42195``): ``diagnoses`` — the ICD-10 codes of her active conditions
  (dementia F00–F03 or another mental disorder F04–F99 raise the level by one).
* TCM constitution (``tcm``): ``bmi`` — her latest BMI reading (item 9 is derived from it).

Each pre-filled key gets a provenance entry in ``Assessment.context_source``:
``{"from": "health_record", "on": "YYYY-MM-DD", "value": <what was pre-filled>}`` — the
day the record was read (diagnoses) or measured (BMI), so the page can say "from the
health record (date)" while the value is unchanged, and what the record said once the
assessor changed it. Nothing is pre-filled when the actor may not view the health record.
Care-risk events (falls, choking, …) have no structured place in the record and are
entered by the assessor.

Reads go through the residents app (``health.conditions_for``, ``health.observations_for``:
health-view check included) on a resident the caller already fetched through the
actor's scope.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.utils import timezone

from yiyang.accounts.models import User

HEALTH_RECORD = "health_record"
_ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")


def from_record(
    actor: User, resident: Any, definition: dict[str, Any], today: datetime.date
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(context, provenance) pre-filled from ``resident``'s health record."""
    from yiyang.residents import loinc
    from yiyang.residents.access import can_view_health
    from yiyang.residents.models import ConditionStatus
    from yiyang.residents.selectors.health import conditions_for, observations_for

    context: dict[str, Any] = {}
    source: dict[str, Any] = {}
    if not can_view_health(actor, resident):
        return context, source
    kind = definition.get("kind")
    if kind == "gbt42195":
        rows = conditions_for(actor, resident).filter(status=ConditionStatus.ACTIVE)
        codes = sorted(
            {code for c in rows if _ICD10.match(code := (c.icd10 or "").strip().upper())}
        )
        context["diagnoses"] = codes
        source["diagnoses"] = {"from": HEALTH_RECORD, "on": today.isoformat(), "value": codes}
    elif kind == "tcm":
        row = observations_for(actor, resident, codes=[loinc.BMI]).first()
        if row is not None:
            bmi = round(float(row.value), 1)
            if 10 <= bmi <= 80:
                value: int | float = int(bmi) if bmi.is_integer() else bmi
                context["bmi"] = value
                on = timezone.localtime(row.effective_at).date().isoformat()
                source["bmi"] = {"from": HEALTH_RECORD, "on": on, "value": value}
    return context, source


def unchanged(key: str, value: Any, entry: dict[str, Any]) -> bool:
    """Whether ``value`` (the session's context value of ``key``) is still what the
    record said (diagnoses compared as sets)."""
    recorded = entry.get("value")
    if key == "diagnoses":
        return sorted(set(value or [])) == sorted(set(recorded or []))
    return value == recorded
