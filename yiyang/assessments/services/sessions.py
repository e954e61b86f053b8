"""Assessment sessions: record, resume, submit, co-sign, correct (ADR 0017).

Lifecycle: ``start`` → draft; ``save_answers`` (any number of times, partial answers are
checked item by item); ``submit`` scores with the engine — all or nothing — and the
session becomes final, or ``pending_signoff`` when the instrument's local policy wants a
second assessor who has not signed yet (``sign_off``). A final session is immutable; a
correction is ``start(..., supersedes=old, correction_reason=...)`` and, once final, marks
the old one ``superseded``. Becoming final applies the session to the resident's standing
(``services.standing.apply_final``). Also the reads of a resident's sessions (``history``,
``final_q``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.assessments import progress as progress_mod
from yiyang.assessments import record_context
from yiyang.assessments.errors import AssessmentError
from yiyang.assessments.models import Assessment, InstrumentVersion, Place, Reason, SessionStatus
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.assessments.scoring import ItemError, ScoringError, score
from yiyang.assessments.selectors import assessor_candidates, can_assess, current_version
from yiyang.assessments.services.base import checked_date, locked_resident
from yiyang.assessments.services.schedule import policy_for
from yiyang.assessments.services.standing import apply_final
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, DomainError, NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.residents.access import require_health_consent
from yiyang.residents.models import Resident
from yiyang.residents.selectors.registry import scoped_residents


class AnswersInvalid(DomainError):
    """Answers the engine refuses; ``errors`` names every offending item. Nothing stored."""

    status = 422

    def __init__(self, errors: list[ItemError]):
        super().__init__(
            AssessmentError.INVALID_ANSWERS,
            _("Some answers are missing or invalid: %(items)s")
            % {"items": ", ".join(e.item for e in errors)},
            field="answers",
        )
        self.errors = errors

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "errors": [e.as_dict() for e in self.errors]}


# --- helpers ----------------------------------------------------------------------------


def _session(actor: User, assessment: Any) -> Assessment:
    """The session, locked, if its resident is in the actor's scope."""
    pk = assessment.pk if isinstance(assessment, Assessment) else assessment
    if pk is None or isinstance(pk, bool):
        raise NotFound("assessment")
    try:
        found = (
            Assessment.objects.select_for_update(no_key=True)
            .select_related("instrument")
            .get(pk=pk, resident__in=scoped_residents(actor).values("pk"))
        )
    except (Assessment.DoesNotExist, ValueError, TypeError):
        raise NotFound("assessment") from None
    return found


def _require_open_by(actor: User, session: Assessment, *statuses: str) -> None:
    if session.status not in statuses:
        raise ValidationFailed(
            AssessmentError.NOT_EDITABLE,
            _("This assessment is %(status)s and can no longer be changed.")
            % {"status": session.get_status_display()},
            field="status",
        )


def _choice(value: Any, choices: Any, name: str, label: str) -> str:
    if value not in choices.values:
        raise ValidationFailed(
            CommonError.INVALID_CHOICE,
            _("%(f)s must be one of: %(c)s") % {"f": label, "c": ", ".join(choices.values)},
            field=name,
        )
    return str(value)


# --- start / answers / submit -----------------------------------------------------------


@transaction.atomic
def start(
    actor: User,
    resident: Any,
    *,
    instrument: str,
    reason: str,
    assessed_on: Any,
    place: str,
    place_note: str = "",
    reason_note: str = "",
    second_assessor: Any = None,
    supersedes: Any = None,
    correction_reason: str = "",
) -> Assessment:
    """Open a draft session with the CURRENT version of ``instrument`` (a code)."""
    require_perm(actor, AssessmentPerm.RECORD)
    found = locked_resident(actor, resident)
    require_health_consent(found)
    version = current_version(instrument) if isinstance(instrument, str) else None
    if version is None:
        raise ValidationFailed(
            AssessmentError.UNKNOWN_INSTRUMENT,
            _("Unknown instrument: %(code)s") % {"code": instrument},
            field="instrument",
        )
    reason = _choice(reason, Reason, "reason", _("Reason"))
    place = _choice(place, Place, "place", _("Place"))
    day = checked_date(assessed_on, found)
    second = _second_assessor(actor, second_assessor, found)
    old = None
    if supersedes is not None and supersedes != "":
        old = _session(actor, supersedes)
        if old.resident_id != found.pk or old.instrument.code != version.code:
            raise ValidationFailed(
                AssessmentError.WRONG_CORRECTION,
                _("A correction must be of the same resident and instrument."),
                field="supersedes",
            )
        if old.status != SessionStatus.FINAL:
            raise ValidationFailed(
                AssessmentError.NOT_FINAL,
                _("Only a submitted assessment can be corrected."),
                field="supersedes",
            )
        if (
            Assessment.objects.filter(supersedes=old)
            .exclude(status=SessionStatus.DISCARDED)
            .exists()
        ):
            raise ValidationFailed(
                AssessmentError.ALREADY_CORRECTED,
                _("A correction of this assessment already exists."),
                field="supersedes",
            )
        correction_reason = (correction_reason or "").strip()
        if not correction_reason:
            raise ValidationFailed(
                CommonError.REQUIRED,
                _("Say why the assessment is corrected."),
                field="correction_reason",
            )
    if old is not None:
        # A correction starts from the context that was confirmed, and its provenance.
        same = old.instrument_id == version.pk
        context = dict(old.context) if same else {}
        context_source = dict(old.context_source) if same else {}
    else:
        context, context_source = record_context.from_record(
            actor, found, version.definition, timezone.localdate()
        )
    session = Assessment.objects.create(
        resident=found,
        instrument=version,
        reason=reason,
        reason_note=(reason_note or "").strip()[:255],
        assessed_on=day,
        place=place,
        place_note=(place_note or "").strip()[:255],
        assessor=actor,
        second_assessor=second,
        supersedes=old,
        correction_reason=correction_reason[:255] if old else "",
        # A correction starts from the answers it corrects (same items in the same
        # version; otherwise only the items the new version still has).
        answers=_carry_over(old, version) if old else {},
        context=context,
        context_source=context_source,
    )
    record(
        actor=actor,
        action="assessments.assessment.create",
        obj=session,
        details={
            "resident": found.pk,
            "instrument": version.code,
            "version": version.version,
            "supersedes": old.pk if old else None,
        },
    )
    return session


def _carry_over(old: Assessment, version: InstrumentVersion) -> dict[str, Any]:
    items = {item["code"] for item in version.definition["items"]}
    return {k: v for k, v in old.answers.items() if k in items}


def _second_assessor(
    actor: User, user: User | int | str | None, resident: Resident, *, signed_in: bool = False
) -> Any:
    """The second assessor named by ``user`` (a ``User`` or a pk), or ``None``.

    Only an assessor the actor works with (``selectors.assessor_candidates``) can be named;
    anyone else — missing, inactive, elsewhere, or not an assessor — gets the same answer
    without a name, so the field cannot be used to look up accounts. ``signed_in``: the
    person authenticated on this device (co-signing), so they are known and named. Either
    way they must be able to open the resident's record, else they could never sign."""
    if user is None or user == "":
        return None

    pk: Any = user.pk if isinstance(user, User) else user
    if isinstance(pk, bool):
        pk = None
    if pk is not None and str(pk) == str(actor.pk):
        raise ValidationFailed(
            AssessmentError.SAME_ASSESSOR,
            _("The second assessor must be another person."),
            field="second_assessor",
        )
    pool = User.objects.filter(is_active=True) if signed_in else assessor_candidates(actor)
    try:
        found = pool.get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        found = None
    if found is None or not found.has_perm_code(AssessmentPerm.RECORD):
        if signed_in and found is not None:
            raise ValidationFailed(
                AssessmentError.NOT_ASSESSOR,
                _("%(user)s may not record assessments.") % {"user": found},
                field="second_assessor",
            )
        raise ValidationFailed(
            AssessmentError.UNKNOWN_USER,
            _("No such assessor among the people you work with."),
            field="second_assessor",
        )
    if not can_assess(found, resident):
        raise ValidationFailed(
            AssessmentError.OUT_OF_SCOPE,
            _(
                "%(user)s cannot open the record of %(name)s (outside their area), so they "
                "could not sign this assessment."
            )
            % {"user": found, "name": resident.name},
            field="second_assessor",
        )
    return found


@transaction.atomic
def save_answers(
    actor: User,
    assessment: Any,
    answers: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> Assessment:
    """Merge answers (an item → value; ``None`` clears it) and context into a draft. Each
    given answer is checked on its own (unknown item, wrong type, out of range) — all
    refused answers are named in one ``AnswersInvalid`` and nothing is saved."""
    require_perm(actor, AssessmentPerm.RECORD)
    session = _session(actor, assessment)
    _require_open_by(actor, session, SessionStatus.DRAFT)
    _require_participant(actor, session)
    definition = session.instrument.definition
    merged = dict(session.answers)
    errors: list[ItemError] = []
    if answers is not None and not isinstance(answers, Mapping):
        raise AnswersInvalid([ItemError("answers", "wrong_type", "answers must be an object")])
    for code, value in (answers or {}).items():
        if value is None or value == "":
            merged.pop(str(code), None)
            continue
        problem = progress_mod.check_one(definition, str(code), value)
        if problem is not None:
            errors.append(problem)
        else:
            merged[str(code)] = progress_mod.coerce(definition, str(code), value)
    new_context = dict(session.context)
    if context is not None:
        if not isinstance(context, Mapping):
            errors.append(ItemError("context", "wrong_type", "context must be an object"))
        else:
            for key, value in context.items():
                if value is None:
                    new_context.pop(str(key), None)
                else:
                    new_context[str(key)] = value
    if errors:
        raise AnswersInvalid(errors)
    session.answers = merged
    session.context = new_context
    session.save(update_fields=["answers", "context", "updated_at"])
    record(
        actor=actor,
        action="assessments.assessment.save",
        obj=session,
        details={"answered": len(merged)},
    )
    return session


def _require_participant(actor: User, session: Assessment) -> None:
    if actor.pk not in (session.assessor_id, session.second_assessor_id):
        raise ValidationFailed(
            AssessmentError.NOT_ASSESSOR,
            _("Only the assessors of this session can change it."),
            field="assessor",
        )


@transaction.atomic
def submit(actor: User, assessment: Any, *, cosigned_by: Any = None) -> Assessment:
    """Score a draft and submit it. ``cosigned_by``: the second assessor, already
    authenticated by the caller (e.g. they typed their password on the same device);
    required to go straight to final when the local policy wants a second assessor."""
    require_perm(actor, AssessmentPerm.RECORD)
    session = _session(actor, assessment)
    _require_open_by(actor, session, SessionStatus.DRAFT)
    _require_participant(actor, session)
    require_health_consent(locked_resident(actor, session.resident_id))
    if cosigned_by is not None:
        session.second_assessor = _second_assessor(
            actor, cosigned_by, session.resident, signed_in=True
        )
    policy = policy_for(session.instrument.code)
    if policy.requires_second_assessor and session.second_assessor_id is None:
        raise ValidationFailed(
            AssessmentError.SECOND_ASSESSOR_REQUIRED,
            _("This instrument needs a second assessor: name one."),
            field="second_assessor",
        )
    try:
        result = score(session.instrument.definition, session.answers, session.context)
    except ScoringError as exc:
        raise AnswersInvalid(exc.errors) from None
    now = timezone.now()
    session.result = result
    session.total = result.get("total")
    session.level = result.get("level")
    session.submitted_at = now
    if policy.requires_second_assessor and cosigned_by is None:
        session.status = SessionStatus.PENDING_SIGNOFF
    else:
        if cosigned_by is not None:
            session.second_signed_at = now
        session.status = SessionStatus.FINAL
    session.save()
    record(
        actor=actor,
        action="assessments.assessment.submit",
        obj=session,
        details={
            "status": session.status,
            "level": session.level,
            "total": session.total,
            "cosigned": cosigned_by is not None,
        },
    )
    if session.status == SessionStatus.FINAL:
        apply_final(actor, session)
    return session


@transaction.atomic
def set_second_assessor(actor: User, assessment: Any, user: User | int | str | None) -> Assessment:
    """Name (or, with ``None``, clear) the second assessor of a draft; or hand a session
    awaiting sign-off to another second assessor (e.g. one named before the scope check
    who can never open the resident's record) — it cannot be cleared then."""
    require_perm(actor, AssessmentPerm.RECORD)
    session = _session(actor, assessment)
    _require_open_by(actor, session, SessionStatus.DRAFT, SessionStatus.PENDING_SIGNOFF)
    _require_participant(actor, session)
    if actor.pk == session.second_assessor_id:
        raise ValidationFailed(
            AssessmentError.NOT_ASSESSOR,
            _("Only the first assessor can change who the second assessor is."),
            field="second_assessor",
        )
    second = _second_assessor(actor, user, session.resident)
    if second is None and session.status == SessionStatus.PENDING_SIGNOFF:
        raise ValidationFailed(
            AssessmentError.SECOND_ASSESSOR_REQUIRED,
            _("This instrument needs a second assessor: name one."),
            field="second_assessor",
        )
    session.second_assessor = second
    session.save(update_fields=["second_assessor", "updated_at"])
    record(
        actor=actor,
        action="assessments.assessment.second_assessor",
        obj=session,
        details={"second_assessor": session.second_assessor_id},
    )
    return session


@transaction.atomic
def sign_off(actor: User, assessment: Any) -> Assessment:
    """The named second assessor signs a pending session, which becomes final."""
    require_perm(actor, AssessmentPerm.RECORD)
    session = _session(actor, assessment)
    _require_open_by(actor, session, SessionStatus.PENDING_SIGNOFF)
    if actor.pk != session.second_assessor_id:
        raise ValidationFailed(
            AssessmentError.NOT_SECOND_ASSESSOR,
            _("Only the named second assessor can sign this assessment."),
            field="second_assessor",
        )
    session.status = SessionStatus.FINAL
    session.second_signed_at = timezone.now()
    session.save(update_fields=["status", "second_signed_at", "updated_at"])
    record(actor=actor, action="assessments.assessment.sign", obj=session)
    apply_final(actor, session)
    return session


@transaction.atomic
def discard(actor: User, assessment: Any) -> Assessment:
    """Drop a draft (kept, marked discarded, for the trail)."""
    require_perm(actor, AssessmentPerm.RECORD)
    session = _session(actor, assessment)
    _require_open_by(actor, session, SessionStatus.DRAFT)
    _require_participant(actor, session)
    session.status = SessionStatus.DISCARDED
    session.save(update_fields=["status", "updated_at"])
    record(actor=actor, action="assessments.assessment.discard", obj=session)
    return session


# --- reads ------------------------------------------------------------------------------


def history(resident: Resident, code: str | None = None) -> QuerySet[Assessment]:
    qs = Assessment.objects.filter(resident=resident).select_related(
        "instrument", "assessor", "second_assessor"
    )
    if code:
        qs = qs.filter(instrument__code=code)
    return qs.exclude(status=SessionStatus.DISCARDED)


def final_q() -> Q:
    return Q(status__in=[SessionStatus.FINAL, SessionStatus.SUPERSEDED])
