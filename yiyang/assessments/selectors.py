"""Reading instrument versions."""

from __future__ import annotations

from yiyang.assessments.models import InstrumentStatus, InstrumentVersion


def current_version(code: str) -> InstrumentVersion | None:
    """The newest active version of ``code`` (highest id), or None."""
    return (
        InstrumentVersion.objects.filter(code=code, status=InstrumentStatus.ACTIVE)
        .order_by("-id")
        .first()
    )
