"""What the session pages share: the UI language, the recording right, the resident
fetched through the user's scope with the right to see her health record, and the
``session_page`` decorator that loads a session through them."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponseBase
from django.utils.translation import get_language

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.assessments.models import Assessment, InstrumentVersion
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.common.errors import NotFound, PermissionDenied
from yiyang.common.pages import errors_to_http
from yiyang.residents.access import can_view_health
from yiyang.residents.models import Resident
from yiyang.residents.selectors.registry import get_resident_for

View = Callable[..., HttpResponseBase]


def english() -> bool:
    return (get_language() or "").lower().startswith("en")


def may_record(user: User) -> bool:
    return bool(user.has_perm_code(AssessmentPerm.RECORD))


def require_record(request: PageRequest) -> None:
    if not may_record(request.user):
        raise DjangoPermissionDenied


def health_resident(user: User, pk: Any) -> Resident:
    """The resident in the user's scope (audited read) whose health record they may see."""
    resident = get_resident_for(user, pk)
    if not can_view_health(user, resident):
        raise PermissionDenied()
    return resident


def session_page(view: View) -> View:
    """Decorate ``view(request, session)`` taking the URL's ``pk`` (the session)."""

    @wraps(view)
    def wrapped(request: PageRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponseBase:
        resident_id = Assessment.objects.filter(pk=pk).values_list("resident_id", flat=True)
        found = resident_id.first()
        if found is None:
            raise NotFound("assessment")
        resident = health_resident(request.user, found)
        session = Assessment.objects.select_related(
            "instrument", "assessor", "second_assessor", "supersedes"
        ).get(pk=pk)
        session.resident = resident
        return view(request, session, *args, **kwargs)

    return errors_to_http(wrapped)


def instrument_name(version: InstrumentVersion) -> str:
    return version.name_en if english() else version.name_zh
