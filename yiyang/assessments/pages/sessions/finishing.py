"""Finishing a session.

* ``submit`` — ``<id>/submit/`` POST: score and submit, optionally co-signed on the
  device by the second assessor's username and password.
* ``sign_off`` — ``<id>/sign/`` POST: the named second assessor signs a pending session.
* ``discard`` — ``<id>/discard/`` POST: drop a draft.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBase
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.accounts.services.signin import LoginRefused, check_password, check_second_factor
from yiyang.assessments.errors import AssessmentError
from yiyang.assessments.models import Assessment, SessionStatus
from yiyang.assessments.pages.sessions.answering import error_map, render_form
from yiyang.assessments.pages.sessions.common import require_record, session_page
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.assessments.services import sessions
from yiyang.common.errors import CommonError, ValidationFailed

# --- submit, sign off, discard ----------------------------------------------------------


def _cosigner(request: PageRequest) -> User:
    """The second assessor who typed their username and password (and code, when they
    use two-step login) on this device; ``DomainError`` when refused. Failures count
    towards the lockout like a login."""
    username = (request.POST.get("cosign_username") or "").strip()
    password = request.POST.get("cosign_password") or ""
    if not username or not password:
        raise ValidationFailed(
            CommonError.REQUIRED,
            _("The second assessor must enter their username and password."),
            field="cosign",
        )
    user = check_password(request, username=username, password=password)
    if user.totp_confirmed:
        check_second_factor(request, user, (request.POST.get("cosign_code") or "").strip())
    if user.pk == request.user.pk:
        raise ValidationFailed(
            AssessmentError.SAME_ASSESSOR,
            _("The second assessor must be another person."),
            field="cosign",
        )
    if not user.has_perm_code(AssessmentPerm.RECORD):
        raise ValidationFailed(
            AssessmentError.NOT_ASSESSOR,
            _("%(user)s may not record assessments.") % {"user": user},
            field="cosign",
        )
    return user


@require_POST
@session_page
def submit(request: PageRequest, session: Assessment) -> HttpResponseBase:
    require_record(request)
    cosign = request.POST.get("mode") == "cosign"
    username = (request.POST.get("cosign_username") or "").strip()
    try:
        cosigner = _cosigner(request) if cosign else None
        done = sessions.submit(request.user, session.pk, cosigned_by=cosigner)
    except sessions.AnswersInvalid as exc:
        return render_form(
            request,
            session,
            status=422,
            errors=error_map(exc.errors, session.instrument.definition),
            cosign_username=username,
        )
    except (ValidationFailed, LoginRefused) as exc:
        return render_form(
            request, session, status=400, submit_error=exc.detail, cosign_username=username
        )
    if done.status == SessionStatus.FINAL:
        messages.success(request, _("Assessment submitted."))
    else:
        messages.success(
            request,
            _("Assessment submitted; it is final when %(user)s signs it.")
            % {"user": done.second_assessor},
        )
    return redirect("assessments:session", session.pk)


@require_POST
@session_page
def sign_off(request: PageRequest, session: Assessment) -> HttpResponseBase:
    require_record(request)
    try:
        sessions.sign_off(request.user, session.pk)
    except ValidationFailed as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Assessment signed; it is final."))
    return redirect("assessments:session", session.pk)


@require_POST
@session_page
def discard(request: PageRequest, session: Assessment) -> HttpResponseBase:
    require_record(request)
    try:
        sessions.discard(request.user, session.pk)
    except ValidationFailed as exc:
        messages.error(request, exc.detail)
        return redirect("assessments:session", session.pk)
    messages.success(request, _("Draft discarded."))
    return redirect(reverse("residents:detail", args=[session.resident_id]))


urlpatterns: list[URLPattern] = [
    path("<int:pk>/submit/", submit, name="submit"),
    path("<int:pk>/sign/", sign_off, name="sign_off"),
    path("<int:pk>/discard/", discard, name="discard"),
]
