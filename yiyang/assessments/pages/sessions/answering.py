"""The bedside form of a draft session, autosaved with htmx.

* ``answer`` — ``<id>/answer/`` POST: save answers/context (htmx: the item's fieldset and
  the running-score bar; plain: redirect back).

Also the form's context (``form_context``, ``render_form``) and the engine's item errors
in the UI language (``error_map``), which submitting shows on the same form.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.assessments import progress, record_context, report_data
from yiyang.assessments.models import Assessment, SessionStatus
from yiyang.assessments.pages.sessions.common import (
    english,
    instrument_name,
    may_record,
    require_record,
    session_page,
)
from yiyang.assessments.scoring import ItemError
from yiyang.assessments.services import sessions
from yiyang.assessments.services.schedule import policy_for
from yiyang.common.errors import ValidationFailed

ANSWER_PREFIX = "a-"
CONTEXT_PREFIX = "ctx-"
_ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
_SPLIT = re.compile(r"[\s,，、;；]+")


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
                "label": report_data.pick(option, "label", not en),
                "anchor": report_data.pick(option, "anchor", not en),
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
        "label": report_data.pick(item, "label", not english()),
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
            "label": report_data.pick(d, "label", not en),
            "max": d.get("max"),
            "items": [],
        }
        groups.append(group)
        by_code[d["code"]] = group
    rest: dict[str, Any] = {"code": "", "label": "", "max": None, "items": []}
    for item in definition["items"]:
        dom = progress.domain_of(definition, item) or report_data.indicator_of(
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


def error_map(errors: list[ItemError], definition: dict[str, Any]) -> dict[str, list[str]]:
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


def form_context(
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
        and may_record(user)
        and user.pk in (session.assessor_id, session.second_assessor_id)
    )
    item_labels = {
        i["code"]: report_data.pick(i, "label", not english())
        for i in session.instrument.definition["items"]
    }
    return {
        "session": session,
        "resident": session.resident,
        "instrument": session.instrument,
        "instrument_name": instrument_name(session.instrument),
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


def render_form(request: PageRequest, session: Assessment, status: int = 200, **kw: Any) -> Any:
    context = form_context(request, session, **kw)
    return render(request, "assessments/session/form.html", context, status=status)


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
    require_record(request)
    answers = _posted_answers(request)
    errors: dict[str, list[str]] = {}
    notice = None
    try:
        context = _posted_context(request, session)
        saved = sessions.save_answers(request.user, session.pk, answers, context)
        saved.resident = session.resident  # already loaded through the access check
        session = saved
    except ContextInvalid as exc:
        errors = error_map(exc.errors, session.instrument.definition)
    except sessions.AnswersInvalid as exc:
        errors = error_map(exc.errors, session.instrument.definition)
    except ValidationFailed as exc:
        notice = exc.detail
    if not getattr(request, "htmx", False):
        if errors or notice:
            return render_form(
                request, session, status=422 if errors else 400, errors=errors, submit_error=notice
            )
        messages.success(request, _("Answers saved."))
        return redirect("assessments:session", session.pk)
    # htmx: the posted item (or the context block) again, the running bar out of band.
    context_view = form_context(request, session, errors=errors)
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


urlpatterns: list[URLPattern] = [
    path("<int:pk>/answer/", answer, name="answer"),
]
