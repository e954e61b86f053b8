"""What a report shows: :class:`ReportData` (with its :class:`ReportItem` and
:class:`ReportDomain` rows), the fixed wording of the form and :func:`check`, which refuses
inconsistent data with a :class:`ReportDataError` listing every reason.

The fixed labels of the form (section names, column headers, signature lines) are a Chinese
document form by default, like the import template's headers; they live in
:class:`ReportLabels` so a caller may pass other wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

__all__ = [
    "ReportData",
    "ReportDataError",
    "ReportDomain",
    "ReportItem",
    "ReportLabels",
    "check",
]


@dataclass(frozen=True)
class ReportItem:
    """One answered item."""

    code: str  # e.g. "B.1.1"
    label: str  # Chinese item name, e.g. "进食"
    answer: str  # Chinese anchor of the chosen option
    score: int | None
    domain: str = ""  # code of the domain the item belongs to ("" when none)


@dataclass(frozen=True)
class ReportDomain:
    code: str
    label: str
    score: int
    max: int | None


@dataclass(frozen=True)
class ReportLabels:
    """The fixed wording of the form. Defaults: the Chinese form."""

    organisation: str = "评估机构"
    report_no: str = "报告编号"
    instrument: str = "评估工具"
    version: str = "版本"
    source: str = "依据"
    resident: str = "老年人基本信息"
    name: str = "姓名"
    sex: str = "性别"
    age: str = "年龄"
    age_value: str = "{age} 岁"
    id_number: str = "身份证号"
    address: str = "住址"
    assessment: str = "评估信息"
    reason: str = "评估原因"
    place: str = "评估地点"
    assessed_on: str = "评估日期"
    assessors: str = "评估员"
    status: str = "状态"
    summary: str = "评估结果"
    domains: str = "能力维度得分"
    code: str = "编号"
    domain_name: str = "维度"
    score_of_max: str = "得分 / 满分"
    items: str = "评估项目明细"
    item_label: str = "项目"
    item_answer: str = "评估结果（所选选项）"
    item_score: str = "得分"
    domain_heading: str = "{code} {label}（{score}）"
    other_items: str = "其他项目"
    eligibility: str = "待遇资格"
    rule: str = "项目"
    conclusion: str = "结论"
    next_due: str = "下次评估日期"
    not_set: str = "未设定"
    notes: str = "备注"
    none: str = "无"
    signatures: str = "签名"
    assessor1_signature: str = "评估员1签名"
    assessor2_signature: str = "评估员2签名"
    subject_signature: str = "老年人或监护人签名"
    signature_date: str = "日期"
    generated_at: str = "生成时间：{when}"
    page: str = "第 {page} 页 共 {pages} 页"
    date_format: str = "%Y年%m月%d日"
    datetime_format: str = "%Y年%m月%d日 %H:%M"
    list_separator: str = "、"
    empty_value: str = "—"


@dataclass(frozen=True)
class ReportData:
    title: str  # e.g. "老年人能力评估报告"
    instrument: str  # e.g. "老年人能力评估（GB/T 42195-2022）"
    instrument_version: str
    source: str  # source document + edition
    organisation: str  # institution doing the assessment ("" allowed)
    assessment_no: str  # e.g. "PG-000123"
    resident_name: str
    resident_sex: str
    resident_age: int
    resident_id_masked: str  # e.g. "4101**********1234"
    resident_address: str
    reason: str
    place: str
    assessed_on: date
    assessors: list[str]  # one or two names
    status: str  # e.g. "已提交" / "待复核签字"
    summary: list[tuple[str, str]]  # result rows, e.g. ("能力等级", "3 重度失能")
    domains: list[ReportDomain]
    items: list[ReportItem]
    eligibility: list[tuple[str, str]]  # (rule name, conclusion)
    next_due: date | None
    notes: list[str]
    generated_at: datetime
    labels: ReportLabels = ReportLabels()


class ReportDataError(ValueError):
    """The report data is inconsistent; ``problems`` lists each reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("Cannot render the report: " + "; ".join(problems))


# --- validation -------------------------------------------------------------------------


def check(data: ReportData) -> None:
    """Raise :class:`ReportDataError` listing every inconsistency of ``data``."""
    problems: list[str] = []
    if not data.title.strip():
        problems.append("title is empty")
    if not data.resident_name.strip():
        problems.append("resident_name is empty")
    if not 1 <= len(data.assessors) <= 2:
        problems.append(f"assessors must name one or two people, got {len(data.assessors)}")
    if any(not name.strip() for name in data.assessors):
        problems.append("an assessor name is empty")
    if data.resident_age < 0:
        problems.append(f"resident_age is negative ({data.resident_age})")
    seen_domains: set[str] = set()
    for domain in data.domains:
        if domain.code in seen_domains:
            problems.append(f"domain {domain.code!r} is listed twice")
        seen_domains.add(domain.code)
        if domain.max is not None and not 0 <= domain.score <= domain.max:
            problems.append(
                f"domain {domain.code!r} score {domain.score} is outside 0..{domain.max}"
            )
    seen_items: set[str] = set()
    for item in data.items:
        if item.code in seen_items:
            problems.append(f"item {item.code!r} is listed twice")
        seen_items.add(item.code)
        if item.domain and item.domain not in seen_domains:
            problems.append(f"item {item.code!r} names domain {item.domain!r}, which is not listed")
    if problems:
        raise ReportDataError(problems)
