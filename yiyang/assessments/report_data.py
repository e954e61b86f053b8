"""What an assessment session shows: the result rows, the domain scores, the answered
items and the eligibility change — for the result page (in the UI language) and for the
printed report (:func:`report_data`, always Chinese: the report is a Chinese document
form, see ``yiyang.assessments.report``).

Everything here reads a session already loaded through the caller's access checks; no
function checks access or writes anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiyang.accounts.models import User
from yiyang.assessments import progress, record_context
from yiyang.assessments.models import Assessment, Due, EligibilityRule, SessionStatus
from yiyang.assessments.report.data import ReportData, ReportDomain, ReportItem
from yiyang.assessments.scoring import bmi_answer

# --- labels ---------------------------------------------------------------------------
# The printed form is Chinese whatever the UI language (like the labels of report.py);
# the page uses the English msgids, translated by the catalogue.

_ZH: dict[str, str] = {
    "total": "总分",
    "preliminary_level": "初步等级",
    "changes": "等级变更",
    "no_changes": "无",
    "level": "最终等级",
    "band": "分级",
    "primary": "主要体质",
    "no_primary": "无（未判定为“是”的体质）",
    "yes": "是",
    "tendency": "倾向是",
    "basically": "基本是",
    "no": "否",
    "eligible": "符合",
    "not_eligible": "不符合",
    "change.coma": "昏迷：直接评定为完全失能",
    "change.dementia": "确诊痴呆（F00–F03）：提高一级",
    "change.mental_disorder": "精神科诊断的精神障碍（F04–F99）：提高一级",
    "change.risk_events": "近30天发生2次及以上照护风险事件：提高一级",
    "from_bmi": "由 BMI {bmi} 推算",
    "unverified": "未核实规则",
}
_EN: dict[str, str | Promise] = {
    "total": _("Total"),
    "preliminary_level": _("Preliminary level"),
    "changes": _("Level changes"),
    "no_changes": _("none"),
    "level": _("Final level"),
    "band": _("Band"),
    "primary": _("Primary constitution"),
    "no_primary": _("none (no constitution judged “yes”)"),
    "yes": _("yes"),
    "tendency": _("tendency"),
    "basically": _("basically"),
    "no": _("no"),
    "eligible": _("eligible"),
    "not_eligible": _("not eligible"),
    "change.coma": _("coma: level 4 directly"),
    "change.dementia": _("diagnosed dementia (F00–F03): +1 level"),
    "change.mental_disorder": _("mental disorder diagnosed by a psychiatrist (F04–F99): +1"),
    "change.risk_events": _("2 or more care-risk events in 30 days: +1 level"),
    "from_bmi": _("from BMI {bmi}"),
    "unverified": _("unverified rule"),
}

REASONS_ZH = {
    "first": "首次评估",
    "routine": "常规评估",
    "immediate": "即时评估（状况发生变化）",
    "dispute": "因对评估结果有疑问进行的复评",
    "other": "其他",
}
PLACES_ZH = {
    "home": "居家",
    "station": "村级服务站",
    "center": "乡镇服务中心",
    "institution": "养老机构",
    "hospital": "医院",
    "other": "其他",
}
STATUSES_ZH: dict[str, str] = {
    SessionStatus.DRAFT: "草稿",
    SessionStatus.PENDING_SIGNOFF: "待第二评估员签字",
    SessionStatus.FINAL: "已提交",
    SessionStatus.SUPERSEDED: "已被更正",
    SessionStatus.DISCARDED: "已作废",
}
SEX_ZH = {"M": "男", "F": "女"}

# Result keys shown by the rows below; any other key is listed as it is.
_KNOWN = {
    "instrument",
    "version",
    "total",
    "domains",
    "preliminary_level",
    "level",
    "level_name",
    "changes",
    "band",
    "band_name",
    "indicator_grades",
    "scores",
    "results",
    "primary",
}


def _labels(chinese: bool) -> Mapping[str, str | Promise]:
    return _ZH if chinese else _EN


def pick(obj: Mapping[str, Any], key: str, chinese: bool) -> str:
    """``obj[key_zh]`` or ``obj[key_en]`` (falling back to the other, then "")."""
    first, second = ("zh", "en") if chinese else ("en", "zh")
    return str(obj.get(f"{key}_{first}") or obj.get(f"{key}_{second}") or "")


def _level_name(definition: dict[str, Any], level: Any) -> str:
    for row in definition.get("levels", []):
        if row.get("level") == level:
            return str(row.get("name_zh", ""))
    return ""


def constitution_names(definition: dict[str, Any]) -> dict[str, str]:
    names = {c["code"]: c["name_zh"] for c in definition.get("constitutions", [])}
    balanced = definition.get("balanced")
    if balanced:
        names[balanced["code"]] = balanced["name_zh"]
    return names


# --- result rows ----------------------------------------------------------------------


def summary_rows(
    definition: dict[str, Any], result: Mapping[str, Any], *, chinese: bool = True
) -> list[tuple[str, str]]:
    """The headline of a result as (label, value) rows, read from the result's keys."""
    t = _labels(chinese)
    rows: list[tuple[str, str]] = []
    if "scores" in result and "results" in result:  # TCM constitution
        names = constitution_names(definition)
        primary = [names.get(code, code) for code in result.get("primary", [])]
        rows.append((str(t["primary"]), "、".join(primary) if primary else str(t["no_primary"])))
        for code, value in result["scores"].items():
            judged = result["results"].get(code, "")
            rows.append((names.get(code, code), f"{value} · {t.get(judged, judged)}"))
    if "total" in result:
        rows.append((str(t["total"]), str(result["total"])))
    if "preliminary_level" in result:
        pre = result["preliminary_level"]
        rows.append((str(t["preliminary_level"]), f"{pre} {_level_name(definition, pre)}".strip()))
    if "changes" in result:
        changes = [str(t.get(f"change.{c}", c)) for c in result["changes"]]
        rows.append((str(t["changes"]), "；".join(changes) if changes else str(t["no_changes"])))
    if "level" in result:
        name = result.get("level_name") or _level_name(definition, result["level"])
        rows.append((str(t["level"]), f"{result['level']} {name}".strip()))
    if "band" in result:
        name = result.get("band_name") or result["band"]
        rows.append((str(t["band"]), str(name)))
    for code, grade in (result.get("indicator_grades") or {}).items():
        label = next(
            (
                pick(ind, "label", chinese)
                for ind in definition.get("indicators", [])
                if ind["code"] == code
            ),
            code,
        )
        rows.append((label, str(grade.get("name") or grade.get("code"))))
    for key, value in result.items():
        if key not in _KNOWN:
            rows.append((key, str(value)))
    return rows


@dataclass(frozen=True)
class DomainScore:
    code: str
    label: str
    score: int
    max: int | None

    @property
    def percent(self) -> float:
        if not self.max:
            return 0.0
        return max(0.0, min(100.0, 100.0 * self.score / self.max))


def domain_scores(
    definition: dict[str, Any], result: Mapping[str, Any], *, chinese: bool = True
) -> list[DomainScore]:
    """Per-domain (or per-indicator) scores with their maxima; for the TCM questionnaire
    the per-constitution scores (maximum: 5 per item)."""
    if isinstance(result.get("domains"), Mapping):
        meta = {d["code"]: d for d in definition.get("domains", [])}
        meta.update({d["code"]: d for d in definition.get("indicators", [])})
        out = []
        for code, score in result["domains"].items():
            d = meta.get(code, {})
            out.append(
                DomainScore(code, pick(d, "label", chinese) or code, int(score), d.get("max"))
            )
        return out
    if isinstance(result.get("scores"), Mapping):
        names = constitution_names(definition)
        sizes = {c["code"]: len(c["items"]) for c in definition.get("constitutions", [])}
        balanced = definition.get("balanced")
        if balanced:
            sizes[balanced["code"]] = len(balanced["items"])
        top = max((o["score"] for item in definition["items"] for o in item["options"]), default=5)
        return [
            DomainScore(code, names.get(code, code), int(score), sizes.get(code, 0) * top or None)
            for code, score in result["scores"].items()
        ]
    return []


@dataclass(frozen=True)
class AnsweredItem:
    code: str
    label: str
    answer: str  # the chosen option's anchor ("" when unanswered)
    score: int | None
    domain: str
    note: str = ""


def answered_items(session: Assessment, *, chinese: bool = True) -> list[AnsweredItem]:
    """Every item of the definition with the chosen option's anchor and score."""
    definition = session.instrument.definition
    answers = session.answers or {}
    t = _labels(chinese)
    bmi = (session.context or {}).get("bmi")
    out = []
    for item in definition["items"]:
        code = item["code"]
        value = answers.get(code)
        note = ""
        if value is None and code == definition.get("bmi_item") and bmi is not None:
            value = bmi_answer(definition, float(bmi))
            note = str(t["from_bmi"]).format(bmi=bmi)
        option = _option(definition, item, value)
        anchor = ""
        if option is not None:
            anchor = pick(option, "anchor", chinese) or pick(option, "label", chinese)
        out.append(
            AnsweredItem(
                code=code,
                label=pick(item, "label", chinese) or code,
                answer=anchor,
                score=None if option is None else int(option["score"]),
                domain=progress.domain_of(definition, item) or indicator_of(definition, code),
                note=note,
            )
        )
    return out


def _option(definition: dict[str, Any], item: dict[str, Any], value: Any) -> Any:
    if value is None:
        return None
    if progress.by_value(definition, item):
        return next((o for o in item["options"] if o.get("value") == value), None)
    return next((o for o in item["options"] if o["score"] == value), None)


def indicator_of(definition: dict[str, Any], code: str) -> str:
    """The code of the indicator (a group of items, e.g. an ability domain) item ``code``
    belongs to in the instrument ``definition``; "" when none."""
    for indicator in definition.get("indicators", []):
        if code in indicator.get("items", []):
            return str(indicator["code"])
    return ""


@dataclass(frozen=True)
class EligibilityRow:
    code: str
    name: str
    before: bool | None
    after: bool | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def eligibility_rows(session: Assessment, *, chinese: bool = True) -> list[EligibilityRow]:
    before = session.eligibility_before or {}
    after = session.eligibility_after or {}
    codes = list(dict.fromkeys([*after, *before]))
    rules = {r.code: r for r in EligibilityRule.objects.filter(code__in=codes)}
    rows = []
    for code in codes:
        rule = rules.get(code)
        name = code
        if rule is not None:
            name = (rule.name_zh or rule.name_en) if chinese else (rule.name_en or rule.name_zh)
        rows.append(EligibilityRow(code, name, before.get(code), after.get(code)))
    return rows


def next_due(session: Assessment) -> Any:
    """The earliest open due of this resident and instrument, or None."""
    return (
        Due.objects.filter(
            resident_id=session.resident_id,
            instrument_code=session.instrument.code,
            done_by__isnull=True,
        )
        .order_by("due_on", "id")
        .first()
    )


def unverified_notes(session: Assessment, *, chinese: bool | None = None) -> list[str]:
    """The instrument's unverified rules, each "rule: note" with the note in the reader's
    language (the active one; Chinese or English when ``chinese`` says so). The notes are
    English in the definitions (marked for translation there) and translated by the
    catalogue; a note without a translation is shown as it is."""
    version = session.instrument
    notes = version.unverified or version.definition.get("unverified") or []
    language = None if chinese is None else ("zh-hans" if chinese else "en")
    with translation.override(language, deactivate=False) if language else nullcontext():
        return [
            f"{n.get('rule', '')}{'：' if _is_chinese() else ': '}{gettext(str(n.get('note', '')))}"
            for n in notes
            if isinstance(n, dict)
        ]


def _is_chinese() -> bool:
    return not (translation.get_language() or "").lower().startswith("en")


def organisation_of(user: User | None) -> str:
    """The institution an assessor works for: their scope's institution, else the
    institution of their staff record's primary membership, else their team's node."""
    if user is None:
        return ""
    if user.scope_institution is not None:
        return str(user.scope_institution.name)
    staff = getattr(user, "staff", None)
    if staff is not None:
        membership = staff.memberships.select_related("institution").order_by("-primary").first()
        if membership is not None:
            return str(membership.institution.name)
    if user.scope_team is not None:
        return str(user.scope_team.node.name)
    return ""


def _title(name_zh: str) -> str:
    if name_zh.endswith("评估"):
        return f"{name_zh}报告"
    return f"{name_zh}评估报告"


def source_note(session: Assessment, key: str, *, chinese: bool = True) -> str:
    """Where a context value came from, for the notes: " (from the health record, date)"
    while unchanged, else what the record had; "" when it was not pre-filled."""
    entry = (session.context_source or {}).get(key)
    if not entry or entry.get("from") != record_context.HEALTH_RECORD:
        return ""
    recorded = entry.get("value")
    on = entry.get("on", "")
    if record_context.unchanged(key, (session.context or {}).get(key), entry):
        return (
            f"（来自健康档案，{on}）"
            if chinese
            else " " + str(_("(from the health record, %(date)s)") % {"date": on})
        )
    if isinstance(recorded, list):
        said = ("、" if chinese else ", ").join(str(v) for v in recorded) or (
            "无" if chinese else str(_("none"))
        )
    else:
        said = str(recorded)
    if chinese:
        return f"（评估员已修改；健康档案 {on} 记录为：{said}）"
    return " " + str(
        _("(changed by the assessor; the health record of %(date)s has: %(value)s)")
        % {"date": on, "value": said}
    )


def context_notes(session: Assessment) -> list[str]:
    """The notes on the circumstances of ``session`` (from its ``context``), in Chinese, as
    the report prints them."""
    ctx = session.context or {}
    notes = []
    if ctx.get("coma"):
        notes.append("昏迷：是")
    if ctx.get("diagnoses") or source_note(session, "diagnoses"):
        codes = "、".join(str(d) for d in ctx.get("diagnoses", [])) or "无"
        notes.append(f"诊断（ICD-10）：{codes}{source_note(session, 'diagnoses')}")
    if "risk_events_30d" in ctx:
        notes.append(f"近30天照护风险事件：{ctx['risk_events_30d']} 次")
    if "band_set" in ctx:
        band_sets = session.instrument.definition.get("band_sets", {})
        source = band_sets.get(ctx["band_set"], {}).get("source", "")
        notes.append(f"分级标准：{ctx['band_set']} {source}".strip())
    if ctx.get("bmi") is not None:
        notes.append(f"BMI：{ctx['bmi']}{source_note(session, 'bmi')}")
    return notes


def report_data(session: Assessment) -> ReportData:
    """The printable report of a scored session (pending sign-off, final or superseded);
    Chinese labels, the resident's ID number masked. ``ValueError`` for a session
    without a result (a draft or a discarded draft)."""
    if session.result is None:
        raise ValueError(f"assessment {session.pk} has no result yet (status {session.status})")
    version = session.instrument
    definition = version.definition
    resident = session.resident
    result = session.result
    domains = [
        ReportDomain(d.code, d.label, d.score, d.max)
        for d in (domain_scores(definition, result) if "domains" in result else [])
    ]
    listed = {d.code for d in domains}
    items = [
        ReportItem(
            code=i.code,
            label=i.label,
            answer=f"{i.answer}（{i.note}）" if i.note else i.answer,
            score=i.score,
            domain=i.domain if i.domain in listed else "",
        )
        for i in answered_items(session)
    ]
    eligibility = []
    for row in eligibility_rows(session):
        after = _ZH["eligible"] if row.after else _ZH["not_eligible"]
        if row.changed and row.before is not None:
            before = _ZH["eligible"] if row.before else _ZH["not_eligible"]
            after = f"{before} → {after}"
        eligibility.append((row.name, after))
    notes = []
    if session.supersedes is not None:
        notes.append(f"本评估更正 {session.supersedes.number}（原因：{session.correction_reason}）")
    corrected_by = (
        Assessment.objects.filter(supersedes=session)
        .exclude(status=SessionStatus.DISCARDED)
        .first()
    )
    if corrected_by is not None:
        notes.append(f"本评估已由 {corrected_by.number} 更正")
    if session.status == SessionStatus.PENDING_SIGNOFF:
        notes.append("本评估尚待第二评估员签字确认。")
    if session.reason_note:
        notes.append(f"评估原因说明：{session.reason_note}")
    if session.place_note:
        notes.append(f"评估地点说明：{session.place_note}")
    notes.extend(context_notes(session))
    if session.note:
        notes.append(session.note)
    notes.extend(f"{_ZH['unverified']}：{n}" for n in unverified_notes(session, chinese=True))
    assessors = [str(session.assessor)]
    if session.second_assessor_id:
        assessors.append(str(session.second_assessor))
    reason = REASONS_ZH.get(session.reason, session.reason)
    place = PLACES_ZH.get(session.place, session.place)
    due = next_due(session) if session.status == SessionStatus.FINAL else None
    return ReportData(
        title=_title(version.name_zh),
        instrument=version.name_zh,
        instrument_version=version.version,
        source=f"{version.source_document}（{version.source_edition}）"
        if version.source_edition
        else version.source_document,
        organisation=organisation_of(session.assessor),
        assessment_no=session.number,
        resident_name=resident.name,
        resident_sex=SEX_ZH.get(resident.sex, resident.sex),
        resident_age=resident.age_on(session.assessed_on),
        resident_id_masked=resident.id_number_masked,
        resident_address=resident.address or getattr(resident.region, "name", ""),
        reason=reason,
        place=place,
        assessed_on=session.assessed_on,
        assessors=assessors,
        status=STATUSES_ZH.get(session.status, session.status),
        summary=summary_rows(definition, result),
        domains=domains,
        items=items,
        eligibility=eligibility,
        next_due=due.due_on if due is not None else None,
        notes=notes,
        generated_at=timezone.now(),
    )
