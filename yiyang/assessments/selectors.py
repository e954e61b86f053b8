"""Reading instrument versions."""

from __future__ import annotations

from typing import Any

from yiyang.assessments.models import Assessment, InstrumentStatus, InstrumentVersion
from yiyang.common.errors import NotFound


def current_version(code: str) -> InstrumentVersion | None:
    """The newest active version of ``code`` (highest id), or None."""
    return (
        InstrumentVersion.objects.filter(code=code, status=InstrumentStatus.ACTIVE)
        .order_by("-id")
        .first()
    )


def get_session_for(user: Any, pk: Any) -> Assessment:
    """A session whose resident ``user`` may see (scope, audited read) and whose health
    record ``user`` may view; otherwise ``NotFound`` / ``PermissionDenied``."""
    from yiyang.residents.access import require_health_view
    from yiyang.residents.selectors import get_resident_for

    if pk is None or isinstance(pk, bool):
        raise NotFound("assessment")
    try:
        session = Assessment.objects.select_related(
            "instrument", "assessor", "second_assessor", "supersedes"
        ).get(pk=pk)
    except (Assessment.DoesNotExist, ValueError, TypeError):
        raise NotFound("assessment") from None
    try:
        resident = get_resident_for(user, session.resident_id)
    except NotFound:
        raise NotFound("assessment") from None
    require_health_view(user, resident)
    session.resident = resident
    return session
