"""Assessment session pages: start, the bedside form (autosaved with htmx), submit with
on-device co-signing, the result view, sign-off, discard and the PDF report (ADR 0017).

URLs (namespace ``assessments``, mounted at ``/assessments/``):

* ``start`` — ``new/?resident=<pk>[&supersedes=<id>]`` GET/POST: open a draft.
* ``session`` — ``<id>/`` GET: the bedside form of a draft, else the result.
* ``answer`` — ``<id>/answer/`` POST: save answers/context (htmx: the item's fieldset and
  the running-score bar; plain: redirect back).
* ``submit`` — ``<id>/submit/`` POST: score and submit, optionally co-signed on the
  device by the second assessor's username and password.
* ``sign_off`` — ``<id>/sign/`` POST: the named second assessor signs a pending session.
* ``discard`` — ``<id>/discard/`` POST: drop a draft.
* ``report`` — ``<id>/report.pdf`` GET: the printable report.

Access: login; the session's resident through ``get_resident_for`` (scope, audited read;
missing or out of scope → 404) and ``can_view_health`` (else 403) for every view;
recording (start, answer, submit, sign-off, discard) also needs ``AssessmentPerm.RECORD``
(403). The services check the rest (participants, consent, state) and their
``ValidationFailed`` is shown next to the field at fault.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from functools import partial, wraps
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.accounts.services.signin import LoginRefused, check_password, check_second_factor
from yiyang.assessments import history_chart as history_chart_mod
from yiyang.assessments import progress, record_context, report_data
from yiyang.assessments.errors import AssessmentError
from yiyang.assessments.models import (
    Assessment,
    InstrumentStatus,
    InstrumentVersion,
    Place,
    Reason,
    SessionStatus,
)
from yiyang.assessments.permissions import AssessmentPerm
from yiyang.assessments.report import render_report
from yiyang.assessments.scoring import ItemError
from yiyang.assessments.selectors import assessor_candidates, can_assess, current_version
from yiyang.assessments.services import sessions
from yiyang.assessments.services.base import ABILITY_INSTRUMENT
from yiyang.assessments.services.schedule import policy_for
from yiyang.common.errors import CommonError, NotFound, PermissionDenied, ValidationFailed
from yiyang.common.pages import apply_error, errors_to_http
from yiyang.residents.access import can_view_health
from yiyang.residents.models import Resident
from yiyang.residents.selectors.registry import get_resident_for

FIRST_INSTRUMENT = ABILITY_INSTRUMENT
ANSWER_PREFIX = "a-"
CONTEXT_PREFIX = "ctx-"
_ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
_SPLIT = re.compile(r"[\s,，、;；]+")

View = Callable[..., HttpResponseBase]


def english() -> bool:
    return (get_language() or "").lower().startswith("en")


def _can_record(user: User) -> bool:
    return bool(user.has_perm_code(AssessmentPerm.RECORD))


def _require_record(request: PageRequest) -> None:
    if not _can_record(request.user):
        raise DjangoPermissionDenied


def _resident(user: User, pk: Any) -> Resident:
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
        resident = _resident(request.user, found)
        session = Assessment.objects.select_related(
            "instrument", "assessor", "second_assessor", "supersedes"
        ).get(pk=pk)
        session.resident = resident
        return view(request, session, *args, **kwargs)

    return errors_to_http(wrapped)


# --- start ------------------------------------------------------------------------------


def instrument_choices() -> list[tuple[str, str]]:
    """The current version of every active instrument, GB/T 42195 first, then by name."""
    codes = (
        InstrumentVersion.objects.filter(status=InstrumentStatus.ACTIVE)
        .values_list("code", flat=True)
        .distinct()
    )
    versions = [v for v in (current_version(code) for code in set(codes)) if v is not None]
    en = english()
    versions.sort(key=lambda v: (v.code != FIRST_INSTRUMENT, v.name_en if en else v.name_zh))
    return [
        (v.code, f"{v.name_en if en else v.name_zh} · {v.source_document} · v{v.version}")
        for v in versions
    ]


def second_assessor_candidates(actor: User, resident: Resident) -> list[User]:
    """The assessors the actor works with (``selectors.assessor_candidates``) who can open
    ``resident``'s record and so could sign."""
    return [u for u in assessor_candidates(actor) if can_assess(u, resident)]


class StartForm(forms.Form):
    instrument = forms.ChoiceField(label=gettext_lazy("Instrument"))
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=Reason.choices)
    reason_note = forms.CharField(
        label=gettext_lazy("Reason details"), max_length=255, required=False
    )
    assessed_on = forms.DateField(
        label=gettext_lazy("Assessment date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    place = forms.ChoiceField(label=gettext_lazy("Place"), choices=Place.choices)
    place_note = forms.CharField(
        label=gettext_lazy("Place details"), max_length=255, required=False
    )
    second_assessor = forms.ChoiceField(label=gettext_lazy("Second assessor"), required=False)
    correction_reason = forms.CharField(
        label=gettext_lazy("Why is the assessment corrected?"),
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        actor: User,
        resident: Resident,
        correcting: Assessment | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["instrument"])
        if correcting is not None:
            version = correcting.instrument
            field.choices = [(version.code, version.name_en if english() else version.name_zh)]
            self.fields["correction_reason"].required = True
        else:
            field.choices = instrument_choices()
            del self.fields["correction_reason"]
        people = [("", _("— none —"))] + [
            (str(u.pk), f"{u} ({u.get_role_display()})")
            for u in second_assessor_candidates(actor, resident)
        ]
        cast(forms.ChoiceField, self.fields["second_assessor"]).choices = people
        self.fields["second_assessor"].help_text = _(
            "Needed to submit without co-signing on this device when the instrument requires "
            "two assessors."
        )


def _correcting(request: HttpRequest, resident: Resident) -> Assessment | None:
    raw = request.GET.get("supersedes") or ""
    if not raw:
        return None
    if not raw.isdigit():
        raise NotFound("assessment")
    found = (
        Assessment.objects.filter(pk=int(raw), resident=resident)
        .select_related("instrument")
        .first()
    )
    if found is None:
        raise NotFound("assessment")
    return found


@require_http_methods(["GET", "POST"])
@errors_to_http
def start(request: PageRequest) -> HttpResponseBase:
    _require_record(request)
    raw = request.GET.get("resident") or ""
    if not raw.isdigit():
        raise NotFound("resident")
    resident = _resident(request.user, int(raw))
    correcting = _correcting(request, resident)
    status = 200
    if request.method == "POST":
        form = StartForm(request.POST, actor=request.user, resident=resident, correcting=correcting)
        if form.is_valid():
            data = form.cleaned_data
            try:
                session = sessions.start(
                    request.user,
                    resident.pk,
                    instrument=data["instrument"],
                    reason=data["reason"],
                    reason_note=data["reason_note"],
                    assessed_on=data["assessed_on"],
                    place=data["place"],
                    place_note=data["place_note"],
                    second_assessor=data["second_assessor"] or None,
                    supersedes=correcting.pk if correcting else None,
                    correction_reason=data.get("correction_reason", ""),
                )
            except ValidationFailed as exc:
                apply_error(form, exc, {"date": "assessed_on"})
            else:
                return redirect("assessments:session", session.pk)
        status = 400
    else:
        has_final = resident.assessments.filter(sessions.final_q()).exists()
        initial: dict[str, Any] = {
            "assessed_on": timezone.localdate(),
            "reason": Reason.ROUTINE if has_final else Reason.FIRST,
            "place": Place.HOME,
        }
        if correcting is not None:
            initial.update(
                instrument=correcting.instrument.code,
                reason=Reason.DISPUTE,
                place=correcting.place,
                second_assessor=str(correcting.second_assessor_id or ""),
            )
        form = StartForm(
            initial=initial, actor=request.user, resident=resident, correcting=correcting
        )
    context = {"resident": resident, "form": form, "correcting": correcting}
    return render(request, "assessments/session/start.html", context, status=status)


# --- the bedside form ---------------------------------------------------------------------


def _option_rows(definition: dict[str, Any], item: dict[str, Any], chosen: Any) -> list[dict]:
    en = english()
    by_value = progress.by_value(definition, item)
    rows = []
    for option in item["options"]:
        value = option["value"] if by_value else option["score"]
        rows.append(
            {
                "value": value,
                "score": option["score"],
                "label": report_data._pick(option, "label", not en),
                "anchor": report_data._pick(option, "anchor", not en),
                "checked": chosen is not None and str(chosen) == str(value),
            }
        )
    return rows


def _item_row(
    session: Assessment, item: dict[str, Any], errors: dict[str, list[str]]
) -> dict[str, Any]:
    definition = session.instrument.definition
    code = item["code"]
    chosen = (session.answers or {}).get(code)
    return {
        "code": code,
        "name": ANSWER_PREFIX + code,
        "dom_id": "item-" + re.sub(r"[^A-Za-z0-9_-]", "_", code),
        "label": report_data._pick(item, "label", not english()),
        "options": _option_rows(definition, item, chosen),
        "answered": chosen is not None,
        "errors": errors.get(code, []),
    }


def _groups(session: Assessment, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The items grouped by domain (or indicator); the rest in a last group."""
    definition = session.instrument.definition
    en = english()
    groups: list[dict[str, Any]] = []
    by_code: dict[str, dict[str, Any]] = {}
    for d in definition.get("domains", []) + definition.get("indicators", []):
        group = {
            "code": d["code"],
            "label": report_data._pick(d, "label", not en),
            "max": d.get("max"),
            "items": [],
        }
        groups.append(group)
        by_code[d["code"]] = group
    rest: dict[str, Any] = {"code": "", "label": "", "max": None, "items": []}
    for item in definition["items"]:
        dom = progress.domain_of(definition, item) or report_data._indicator_of(
            definition, item["code"]
        )
        target = by_code.get(dom or "", rest)
        target["items"].append(_item_row(session, item, errors))
    if rest["items"]:
        if groups:
            rest["label"] = _("Other items")
        groups.append(rest)
    return [g for g in groups if g["items"]]


def context_fields(session: Assessment) -> list[str]:
    """The context the instrument reads (the scorer's allowed keys)."""
    kind = session.instrument.definition.get("kind")
    if kind == "gbt42195":
        return ["coma", "diagnoses", "risk_events_30d"]
    if kind == "barthel":
        return ["band_set"]
    if kind == "tcm":
        return ["bmi"]
    return []


def _context_view(session: Assessment, errors: dict[str, list[str]]) -> dict[str, Any] | None:
    fields = context_fields(session)
    if not fields:
        return None
    ctx = session.context or {}
    definition = session.instrument.definition
    band_sets = [
        (code, f"{code}: {spec.get('source', '')}")
        for code, spec in definition.get("band_sets", {}).items()
    ]
    return {
        "fields": fields,
        "params": ",".join(["ctx", *(CONTEXT_PREFIX + f for f in fields)]),
        "coma": bool(ctx.get("coma")),
        "diagnoses": ", ".join(str(d) for d in ctx.get("diagnoses", [])),
        "risk_events_30d": ctx.get("risk_events_30d", ""),
        "band_set": ctx.get("band_set", definition.get("default_band_set", "")),
        "band_sets": band_sets,
        "bmi": "" if ctx.get("bmi") is None else ctx.get("bmi"),
        "bmi_item": definition.get("bmi_item", ""),
        "sources": _sources(session, fields),
        "errors": {f: errors.get(f"context.{f}", []) for f in fields},
        "other_errors": [
            e
            for key, msgs in errors.items()
            if key.startswith("context") and key.split(".", 1)[-1] not in fields
            for e in msgs
        ],
    }


def _sources(session: Assessment, fields: list[str]) -> dict[str, str]:
    """Context field → where its value came from ("From the health record (date)"), or
    what the record said once the assessor changed it."""
    out: dict[str, str] = {}
    ctx = session.context or {}
    for key, entry in (session.context_source or {}).items():
        if key not in fields or entry.get("from") != record_context.HEALTH_RECORD:
            continue
        recorded = entry.get("value")
        if isinstance(recorded, list):
            said = ", ".join(str(v) for v in recorded) or _("no active diagnosis")
        else:
            said = str(recorded)
        if record_context.unchanged(key, ctx.get(key), entry):
            if recorded in ([], None):
                out[key] = _("From the health record (%(date)s): %(value)s.") % {
                    "date": entry.get("on", ""),
                    "value": said,
                }
            else:
                out[key] = _("From the health record (%(date)s)") % {"date": entry.get("on", "")}
        else:
            out[key] = _("Changed by the assessor; the health record (%(date)s) has: %(value)s") % {
                "date": entry.get("on", ""),
                "value": said,
            }
    return out


def running_view(session: Assessment) -> dict[str, Any]:
    definition = session.instrument.definition
    answers = session.answers or {}
    run = progress.running(definition, answers)
    labels = {d["code"]: d for d in definition.get("domains", [])}
    sums = dict(run["domains"])
    for indicator in definition.get("indicators", []):  # the LTC grade's indicators
        labels[indicator["code"]] = indicator
        sums[indicator["code"]] = sum(
            progress.item_score(definition, code, answers[code]) or 0
            for code in indicator["items"]
            if code in answers
        )
    return {
        **run,
        "domain_rows": [
            {"code": code, "score": score, "max": labels.get(code, {}).get("max")}
            for code, score in sums.items()
        ],
        "complete": run["answered"] >= run["count"],
    }


def _error_map(errors: list[ItemError], definition: dict[str, Any]) -> dict[str, list[str]]:
    """Item code (or ``context.<key>``) → messages in the UI language;
    ``context.diagnoses[2]`` is filed under ``context.diagnoses``."""
    out: dict[str, list[str]] = {}
    for e in errors:
        key = re.sub(r"\[\d+\]$", "", e.item)
        message = _item_message(e, definition)
        if message not in out.setdefault(key, []):
            out[key].append(message)
    return out


def _item_message(e: ItemError, definition: dict[str, Any]) -> str:
    """The engine's item errors (English details) said in the UI language."""
    item = next((i for i in definition["items"] if i["code"] == e.item), None)
    if e.code == "missing":
        return _("Not answered yet.")
    if e.code == "unknown_item":
        return _("Not an item of this instrument.")
    if e.code == "both_given":
        return _("Answer only one of the alternatives.")
    if e.code in ("out_of_range", "wrong_type") and item is not None:
        by_value = progress.by_value(definition, item)
        if by_value:
            allowed = ", ".join(str(o["value"]) for o in item["options"])
        else:
            allowed = ", ".join(str(v) for v in sorted(o["score"] for o in item["options"]))
        return _("%(item)s must be one of %(allowed)s") % {"item": e.item, "allowed": allowed}
    if e.code == "invalid_code":
        return _("Not an ICD-10 code (e.g. F03, I10, E11.9).")
    if e.item == "context.coma" and e.code == "inconsistent_context":
        changes = definition.get("changes", {})
        return _("Tick “in a coma” exactly when %(item)s is answered %(score)s (coma).") % {
            "item": changes.get("coma_item", ""),
            "score": changes.get("coma_item_score", ""),
        }
    return str(e.detail)


def _policy(session: Assessment) -> Any:
    return policy_for(session.instrument.code)


def _form_context(
    request: PageRequest,
    session: Assessment,
    *,
    errors: dict[str, list[str]] | None = None,
    summary: list[str] | None = None,
    submit_error: str | None = None,
    cosign_username: str = "",
) -> dict[str, Any]:
    errors = errors or {}
    user = request.user
    editable = (
        session.status == SessionStatus.DRAFT
        and _can_record(user)
        and user.pk in (session.assessor_id, session.second_assessor_id)
    )
    item_labels = {
        i["code"]: report_data._pick(i, "label", not english())
        for i in session.instrument.definition["items"]
    }
    return {
        "session": session,
        "resident": session.resident,
        "instrument": session.instrument,
        "instrument_name": _instrument_name(session.instrument),
        "groups": _groups(session, errors),
        "ctx": _context_view(session, errors),
        "running": running_view(session),
        "editable": editable,
        "policy": partial(_policy, session),  # called by the full page only
        "errors": errors,
        "summary": summary
        or [f"{code} {item_labels.get(code, '')}: {'; '.join(m)}" for code, m in errors.items()],
        "submit_error": submit_error,
        "cosign_username": cosign_username,
        "unverified": report_data.unverified_notes(session),
    }


def _instrument_name(version: InstrumentVersion) -> str:
    return version.name_en if english() else version.name_zh


def _render_form(request: PageRequest, session: Assessment, status: int = 200, **kw: Any) -> Any:
    context = _form_context(request, session, **kw)
    return render(request, "assessments/session/form.html", context, status=status)


# --- the result ---------------------------------------------------------------------------


def history_chart(session: Assessment) -> SafeString | None:
    """Inline SVG of the resident's final assessments of this instrument over time: the
    level when the instrument has levels, else the total; None when neither exists
    (``assessments.history_chart``: drawn for a phone first)."""
    rows = list(
        Assessment.objects.filter(
            resident_id=session.resident_id,
            instrument__code=session.instrument.code,
            status=SessionStatus.FINAL,
        )
        .order_by("assessed_on", "id")
        .values("assessed_on", "level", "total")
    )
    definition = session.instrument.definition
    levels = definition.get("levels") or []
    by_level = "levels" in definition
    key = "level" if by_level else "total"
    if not rows and session.result is None:
        return None
    if session.result is not None and key not in session.result:
        return None
    names = {row.get("level"): report_data._pick(row, "name", not english()) for row in levels}
    points = [
        history_chart_mod.HistoryPoint(
            r["assessed_on"], int(value), f"{value} {names.get(value, '')}".strip()
        )
        for r in rows
        if (value := (r["level"] if by_level else r["total"])) is not None
    ]
    first = points[0].day if points else session.assessed_on
    last = points[-1].day if points else session.assessed_on
    bounds = None
    if by_level and levels:
        numbers = [int(row["level"]) for row in levels if "level" in row]
        bounds = (min(numbers), max(numbers))
    label = _("Level") if by_level else _("Total")
    return history_chart_mod.history_svg(
        chart_id="assessment-history",
        title=_("%(instrument)s over time") % {"instrument": _instrument_name(session.instrument)},
        unit=str(label),
        points=points,
        start=first - datetime.timedelta(days=30),
        end=max(last, timezone.localdate()) + datetime.timedelta(days=30),
        bounds=bounds,
        empty_text=_("No submitted assessments yet."),
    )


def _result_context(request: PageRequest, session: Assessment) -> dict[str, Any]:
    user = request.user
    definition = session.instrument.definition
    chinese = not english()
    result = session.result or {}
    corrected_by = (
        Assessment.objects.filter(supersedes=session)
        .exclude(status=SessionStatus.DISCARDED)
        .first()
    )
    due = report_data.next_due(session)
    can_record = _can_record(user)
    return {
        "session": session,
        "resident": session.resident,
        "instrument": session.instrument,
        "instrument_name": _instrument_name(session.instrument),
        "unverified": report_data.unverified_notes(session),
        "summary": report_data.summary_rows(definition, result, chinese=chinese) if result else [],
        "domains": report_data.domain_scores(definition, result, chinese=chinese),
        "eligibility": report_data.eligibility_rows(session, chinese=chinese),
        "next_due": due,
        "chart": history_chart(session) if result else None,
        "items": report_data.answered_items(session, chinese=chinese),
        "context_notes": report_data._context_notes(session) if chinese else _context_en(session),
        "corrected_by": corrected_by,
        "can_sign": session.status == SessionStatus.PENDING_SIGNOFF
        and can_record
        and user.pk == session.second_assessor_id,
        "can_correct": session.status == SessionStatus.FINAL
        and can_record
        and corrected_by is None,
        "has_report": session.result is not None,
    }


def _context_en(session: Assessment) -> list[str]:
    ctx = session.context or {}
    out = []
    if ctx.get("coma"):
        out.append(_("Coma: yes"))
    source = report_data.source_note(session, "diagnoses", chinese=False)
    if ctx.get("diagnoses") or source:
        codes = ", ".join(ctx.get("diagnoses", [])) or _("none")
        out.append(_("Diagnoses (ICD-10): %(codes)s") % {"codes": codes} + source)
    if "risk_events_30d" in ctx:
        out.append(_("Care-risk events in 30 days: %(n)s") % {"n": ctx["risk_events_30d"]})
    if "band_set" in ctx:
        out.append(_("Band set: %(set)s") % {"set": ctx["band_set"]})
    if ctx.get("bmi") is not None:
        source = report_data.source_note(session, "bmi", chinese=False)
        out.append(_("BMI: %(bmi)s") % {"bmi": ctx["bmi"]} + source)
    return out


@require_GET
@session_page
def session_view(request: PageRequest, session: Assessment) -> HttpResponseBase:
    if session.status == SessionStatus.DRAFT and _can_record(request.user):
        return _render_form(request, session)
    return render(request, "assessments/session/result.html", _result_context(request, session))


# --- autosave -----------------------------------------------------------------------------


def _posted_answers(request: HttpRequest) -> dict[str, Any]:
    return {
        key[len(ANSWER_PREFIX) :]: value
        for key, value in request.POST.items()
        if key.startswith(ANSWER_PREFIX)
    }


class ContextInvalid(Exception):
    def __init__(self, errors: list[ItemError]):
        self.errors = errors


def _posted_context(request: HttpRequest, session: Assessment) -> dict[str, Any] | None:
    """The context fields of the form, parsed; ``ContextInvalid`` names the bad ones."""
    if "ctx" not in request.POST:
        return None
    post = request.POST
    out: dict[str, Any] = {}
    errors: list[ItemError] = []
    fields = context_fields(session)
    if "coma" in fields:
        out["coma"] = post.get(CONTEXT_PREFIX + "coma") in ("on", "1", "true")
    if "diagnoses" in fields:
        raw = post.get(CONTEXT_PREFIX + "diagnoses", "")
        codes = [c.upper() for c in _SPLIT.split(raw.strip()) if c]
        bad = [c for c in codes if not _ICD10.match(c)]
        if bad:
            errors.append(
                ItemError(
                    "context.diagnoses",
                    "invalid_codes",
                    _("Not ICD-10 codes: %(codes)s (e.g. F03, I10, E11.9)")
                    % {"codes": ", ".join(bad)},
                )
            )
        out["diagnoses"] = codes
    if "risk_events_30d" in fields:
        raw = post.get(CONTEXT_PREFIX + "risk_events_30d", "").strip()
        if raw == "":
            out["risk_events_30d"] = None
        elif raw.isdigit():
            out["risk_events_30d"] = int(raw)
        else:
            errors.append(
                ItemError(
                    "context.risk_events_30d",
                    "wrong_type",
                    _("Enter a whole number of events, 0 or more."),
                )
            )
    if "band_set" in fields:
        raw = post.get(CONTEXT_PREFIX + "band_set", "")
        sets = session.instrument.definition.get("band_sets", {})
        if raw not in sets:
            errors.append(
                ItemError(
                    "context.band_set",
                    "out_of_range",
                    _("Choose one of: %(sets)s") % {"sets": ", ".join(sets)},
                )
            )
        out["band_set"] = raw
    if "bmi" in fields:
        raw = post.get(CONTEXT_PREFIX + "bmi", "").strip().replace(",", ".")
        if raw == "":
            out["bmi"] = None
        else:
            try:
                bmi = float(raw)
            except ValueError:
                bmi = -1.0
            if not 10 <= bmi <= 80:
                errors.append(
                    ItemError("context.bmi", "out_of_range", _("BMI must be a number 10–80."))
                )
            out["bmi"] = int(bmi) if bmi.is_integer() else round(bmi, 1)
    if errors:
        raise ContextInvalid(errors)
    return out


@require_POST
@session_page
def answer(request: PageRequest, session: Assessment) -> HttpResponseBase:
    _require_record(request)
    answers = _posted_answers(request)
    errors: dict[str, list[str]] = {}
    notice = None
    try:
        context = _posted_context(request, session)
        saved = sessions.save_answers(request.user, session.pk, answers, context)
        saved.resident = session.resident  # already loaded through the access check
        session = saved
    except ContextInvalid as exc:
        errors = _error_map(exc.errors, session.instrument.definition)
    except sessions.AnswersInvalid as exc:
        errors = _error_map(exc.errors, session.instrument.definition)
    except ValidationFailed as exc:
        notice = exc.detail
    if not getattr(request, "htmx", False):
        if errors or notice:
            return _render_form(
                request, session, status=422 if errors else 400, errors=errors, submit_error=notice
            )
        messages.success(request, _("Answers saved."))
        return redirect("assessments:session", session.pk)
    # htmx: the posted item (or the context block) again, the running bar out of band.
    context_view = _form_context(request, session, errors=errors)
    parts = []
    if "ctx" in request.POST:
        parts.append(render_to_string("assessments/session/_context.html", context_view, request))
    items = {i["code"]: i for g in context_view["groups"] for i in g["items"]}
    for code in answers:
        if code in items:
            parts.append(
                render_to_string(
                    "assessments/session/_item.html",
                    {**context_view, "item": items[code]},
                    request,
                )
            )
    bar = render_to_string(
        "assessments/session/_running.html",
        {**context_view, "oob": True, "notice": notice},
        request,
    )
    return HttpResponse("".join(parts) + bar)


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
    _require_record(request)
    cosign = request.POST.get("mode") == "cosign"
    username = (request.POST.get("cosign_username") or "").strip()
    try:
        cosigner = _cosigner(request) if cosign else None
        done = sessions.submit(request.user, session.pk, cosigned_by=cosigner)
    except sessions.AnswersInvalid as exc:
        return _render_form(
            request,
            session,
            status=422,
            errors=_error_map(exc.errors, session.instrument.definition),
            cosign_username=username,
        )
    except (ValidationFailed, LoginRefused) as exc:
        return _render_form(
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
    _require_record(request)
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
    _require_record(request)
    try:
        sessions.discard(request.user, session.pk)
    except ValidationFailed as exc:
        messages.error(request, exc.detail)
        return redirect("assessments:session", session.pk)
    messages.success(request, _("Draft discarded."))
    return redirect(reverse("residents:detail", args=[session.resident_id]))


# --- the PDF ------------------------------------------------------------------------------


@require_GET
@session_page
def report(request: HttpRequest, session: Assessment) -> HttpResponseBase:
    if session.result is None:
        raise Http404(_("This assessment has no result yet: submit it first."))
    pdf = render_report(report_data.report_data(session))
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"{session.number}-{session.instrument.code}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


urlpatterns: list[URLPattern] = [
    path("new/", start, name="start"),
    path("<int:pk>/", session_view, name="session"),
    path("<int:pk>/answer/", answer, name="answer"),
    path("<int:pk>/submit/", submit, name="submit"),
    path("<int:pk>/sign/", sign_off, name="sign_off"),
    path("<int:pk>/discard/", discard, name="discard"),
    path("<int:pk>/report.pdf", report, name="report"),
]
