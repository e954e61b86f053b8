"""Typesetting a report: :func:`render_report` lays a :class:`ReportData` out as a complete
A4 PDF (title, the resident, the assessment, the result, domain and item tables, the
eligibility, notes and signature lines; "page x of y" and a running head on every page).

Everything that comes from data is escaped for ReportLab's paragraph mark-up, so ``<`` and
``&`` in names or notes print as typed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from yiyang.assessments.report.data import ReportData, ReportItem, check
from yiyang.assessments.report.fonts import report_font

__all__ = ["render_report"]


def _font_name() -> str:
    return report_font().name


# --- text helpers -----------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _plain(text: str) -> str:
    """Text for the canvas (no mark-up): drop control characters, flatten line breaks."""
    return _CONTROL.sub("", text.replace("\r\n", " ").replace("\n", " "))


def _markup(text: str) -> str:
    """Data text for a Paragraph: escape its mini-mark-up, keep line breaks."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n"))
    return escape(text).replace("\n", "<br/>")


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


# --- layout -----------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 20 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

_GRID = colors.HexColor("#8A8F99")
_HEAD_BG = colors.HexColor("#E6ECF3")
_GROUP_BG = colors.HexColor("#F3F5F8")
_LABEL_BG = colors.HexColor("#F6F7F9")


@dataclass
class _Styles:
    font: str
    body: ParagraphStyle = field(init=False)
    cell: ParagraphStyle = field(init=False)
    head: ParagraphStyle = field(init=False)
    title: ParagraphStyle = field(init=False)
    section: ParagraphStyle = field(init=False)
    section_flowing: ParagraphStyle = field(init=False)

    def __post_init__(self) -> None:
        base = {"fontName": self.font, "wordWrap": "CJK"}
        self.body = ParagraphStyle("body", fontSize=10, leading=15, **base)
        self.cell = ParagraphStyle("cell", fontSize=9.5, leading=12.5, **base)
        self.head = ParagraphStyle("head", parent=self.cell, textColor=colors.HexColor("#1F2A37"))
        self.title = ParagraphStyle(
            "title", fontSize=20, leading=26, alignment=TA_CENTER, spaceAfter=8, **base
        )
        self.section = ParagraphStyle(
            "section",
            fontSize=12.5,
            leading=17,
            spaceBefore=8,
            spaceAfter=4,
            textColor=colors.HexColor("#1F3A5F"),
            keepWithNext=1,
            **base,
        )
        self.section_flowing = ParagraphStyle(
            "section_flowing", parent=self.section, keepWithNext=0
        )


def _table(
    rows: list[list[Any]],
    widths: Sequence[float],
    *,
    font: str,
    header_rows: int = 0,
    extra: Sequence[tuple[Any, ...]] = (),
) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=header_rows, hAlign="LEFT")
    style: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if header_rows:
        style.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), _HEAD_BG))
    style.extend(extra)
    table.setStyle(TableStyle(style))
    return table


class _Builder:
    def __init__(self, data: ReportData, font: str):
        self.data = data
        self.labels = data.labels
        self.styles = _Styles(font)

    # small pieces
    def p(self, text: str, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(
            _markup(text) if text else self.labels.empty_value, style or self.styles.cell
        )

    def h(self, text: str) -> Paragraph:
        return Paragraph(_markup(text), self.styles.head)

    def section(self, text: str) -> Paragraph:
        return Paragraph(_markup(text), self.styles.section)

    def day(self, value: date) -> str:
        return value.strftime(self.labels.date_format)

    def key_values(self, pairs: list[tuple[str, str]], wide: set[str]) -> Table:
        """A four-column label/value grid; labels in ``wide`` take a whole row."""
        half = CONTENT_WIDTH / 2
        widths = [26 * mm, half - 26 * mm, 26 * mm, half - 26 * mm]
        rows: list[list[Any]] = []
        spans: list[tuple[Any, ...]] = []
        pending: list[Any] = []
        for label, value in pairs:
            cells = [self.h(label), self.p(value)]
            if label in wide:
                if pending:
                    spans.append(("SPAN", (1, len(rows)), (3, len(rows))))
                    rows.append([*pending, "", ""])
                    pending = []
                spans.append(("SPAN", (1, len(rows)), (3, len(rows))))
                rows.append([*cells, "", ""])
            elif pending:
                rows.append([*pending, *cells])
                pending = []
            else:
                pending = cells
        if pending:
            spans.append(("SPAN", (1, len(rows)), (3, len(rows))))
            rows.append([*pending, "", ""])
        extra = [
            ("BACKGROUND", (0, 0), (0, -1), _LABEL_BG),
            ("BACKGROUND", (2, 0), (2, -1), _LABEL_BG),
            *spans,
        ]
        return _table(rows, widths, extra=extra, font=self.styles.font)

    # sections
    def story(self) -> list[Flowable]:
        d, lab = self.data, self.labels
        out: list[Flowable] = [Paragraph(_markup(d.title), self.styles.title)]
        out.append(
            self.key_values(
                [
                    (lab.organisation, d.organisation),
                    (lab.report_no, d.assessment_no),
                    (lab.instrument, d.instrument),
                    (lab.version, d.instrument_version),
                    (lab.source, d.source),
                ],
                wide={lab.instrument, lab.source},
            )
        )
        out.append(self.section(lab.resident))
        out.append(
            self.key_values(
                [
                    (lab.name, d.resident_name),
                    (lab.sex, d.resident_sex),
                    (lab.age, lab.age_value.format(age=d.resident_age)),
                    (lab.id_number, d.resident_id_masked),
                    (lab.address, d.resident_address),
                ],
                wide={lab.address},
            )
        )
        out.append(self.section(lab.assessment))
        out.append(
            self.key_values(
                [
                    (lab.reason, d.reason),
                    (lab.place, d.place),
                    (lab.assessed_on, self.day(d.assessed_on)),
                    (lab.status, d.status),
                    (lab.assessors, lab.list_separator.join(d.assessors)),
                ],
                wide={lab.assessors},
            )
        )
        out.append(self.section(lab.summary))
        out.append(self.pairs(d.summary, (50 * mm, CONTENT_WIDTH - 50 * mm)))
        out.append(self.section(lab.domains))
        out.append(self.domain_table())
        # The item tables may split across pages: only keep the heading off a page's foot.
        out.append(CondPageBreak(40 * mm))
        out.append(Paragraph(_markup(lab.items), self.styles.section_flowing))
        out.extend(self.item_tables())
        out.append(self.section(lab.eligibility))
        out.append(
            self.pairs(
                d.eligibility,
                (60 * mm, CONTENT_WIDTH - 60 * mm),
                header=(lab.rule, lab.conclusion),
            )
        )
        out.append(self.section(lab.next_due))
        out.append(self.p(self.day(d.next_due) if d.next_due else lab.not_set, self.styles.body))
        out.append(self.section(lab.notes))
        if d.notes:
            for number, note in enumerate(d.notes, 1):
                out.append(Paragraph(f"{number}. {_markup(note)}", self.styles.body))
        else:
            out.append(self.p(lab.none, self.styles.body))
        out.append(self.signatures())
        return out

    def pairs(
        self,
        rows: list[tuple[str, str]],
        widths: tuple[float, float],
        header: tuple[str, str] | None = None,
    ) -> Flowable:
        if not rows:
            return self.p(self.labels.none, self.styles.body)
        body = [[self.h(key), self.p(value)] for key, value in rows]
        if header is None:
            return _table(
                body,
                widths,
                extra=[("BACKGROUND", (0, 0), (0, -1), _LABEL_BG)],
                font=self.styles.font,
            )
        return _table(
            [[self.h(header[0]), self.h(header[1])], *body],
            widths,
            header_rows=1,
            font=self.styles.font,
        )

    def score(self, score: int, top: int | None) -> str:
        return f"{score} / {top}" if top is not None else str(score)

    def domain_table(self) -> Flowable:
        lab = self.labels
        if not self.data.domains:
            return self.p(lab.none, self.styles.body)
        rows: list[list[Any]] = [
            [self.h(lab.code), self.h(lab.domain_name), self.h(lab.score_of_max)]
        ]
        for domain in self.data.domains:
            rows.append(
                [
                    self.p(domain.code),
                    self.p(domain.label),
                    self.p(self.score(domain.score, domain.max)),
                ]
            )
        return _table(
            rows, (25 * mm, CONTENT_WIDTH - 65 * mm, 40 * mm), header_rows=1, font=self.styles.font
        )

    def item_tables(self) -> list[Flowable]:
        """One table per domain: its heading and the column headers repeat on each page."""
        lab = self.labels
        if not self.data.items:
            return [self.p(lab.none, self.styles.body)]
        groups: list[tuple[str | None, list[ReportItem]]] = []
        for domain in self.data.domains:
            members = [item for item in self.data.items if item.domain == domain.code]
            if members:
                title = lab.domain_heading.format(
                    code=domain.code, label=domain.label, score=self.score(domain.score, domain.max)
                )
                groups.append((title, members))
        loose = [item for item in self.data.items if not item.domain]
        if loose:
            groups.append((lab.other_items if groups else None, loose))
        widths = (20 * mm, 44 * mm, CONTENT_WIDTH - 84 * mm, 20 * mm)
        columns = [
            self.h(lab.code),
            self.h(lab.item_label),
            self.h(lab.item_answer),
            self.h(lab.item_score),
        ]
        tables: list[Flowable] = []
        for heading, members in groups:
            rows: list[list[Any]] = []
            extra: list[tuple[Any, ...]] = [("ALIGN", (3, 0), (3, -1), "CENTER")]
            if heading is not None:
                rows.append([self.h(heading), "", "", ""])
                extra += [("SPAN", (0, 0), (-1, 0)), ("BACKGROUND", (0, 0), (-1, 0), _GROUP_BG)]
            rows.append(columns)
            header_rows = len(rows)
            extra.append(("BACKGROUND", (0, header_rows - 1), (-1, header_rows - 1), _HEAD_BG))
            for item in members:
                score = lab.empty_value if item.score is None else str(item.score)
                rows.append(
                    [self.p(item.code), self.p(item.label), self.p(item.answer), self.p(score)]
                )
            table = _table(rows, widths, font=self.styles.font, extra=extra)
            table.repeatRows = header_rows
            # Room for the headings and a few rows, else the group starts on the next page.
            tables += [CondPageBreak(28 * mm), table, Spacer(1, 2.5 * mm)]
        return tables

    def signatures(self) -> Flowable:
        lab = self.labels
        lines = [lab.assessor1_signature, lab.assessor2_signature, lab.subject_signature]
        rows = [[self.h(f"{line}："), "", self.h(f"{lab.signature_date}："), ""] for line in lines]
        table = Table(
            rows,
            colWidths=[40 * mm, 62 * mm, 16 * mm, CONTENT_WIDTH - 118 * mm],
            rowHeights=[11 * mm] * len(rows),
            hAlign="LEFT",
        )
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), self.styles.font),
                    ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                    ("ALIGN", (2, 0), (2, -1), "RIGHT"),
                    ("LINEBELOW", (1, 0), (1, -1), 0.7, colors.black),
                    ("LINEBELOW", (3, 0), (3, -1), 0.7, colors.black),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return KeepTogether([self.section(lab.signatures), table])


def _canvas_class(decorate: Callable[[Canvas, int, int], None], pdf_date: str) -> type[Canvas]:
    """A canvas that holds its pages until the end, so each can print "page x of y"."""

    class _NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held_pages: list[dict[str, Any]] = []
            # Invariant output, but with the report's own generation time as creation date.
            self.setDateFormatter(lambda *_: pdf_date)

        def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
            self._held_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held_pages)
            for number, state in enumerate(self._held_pages, 1):
                self.__dict__.update(state)
                decorate(self, number, total)
                Canvas.showPage(self)
            Canvas.save(self)

    return _NumberedCanvas


def render_report(data: ReportData) -> bytes:
    """Typeset ``data`` as an A4 PDF and return its bytes.

    Raises :class:`ReportDataError` for inconsistent data and ``ImproperlyConfigured`` for an
    unusable ``YIYANG_PDF_FONT``. The output is deterministic for the same data and font.
    """
    check(data)
    font = _font_name()
    labels = data.labels
    generated = _local(data.generated_at)
    footer_left = _plain(
        labels.generated_at.format(when=generated.strftime(labels.datetime_format))
    )
    running_head = _plain(f"{data.title}    {data.assessment_no}    {data.resident_name}")

    def decorate(canvas: Canvas, number: int, total: int) -> None:
        canvas.saveState()
        canvas.setFont(font, 8.5)
        canvas.setFillColor(colors.HexColor("#4B5563"))
        canvas.setStrokeColor(_GRID)
        canvas.setLineWidth(0.4)
        if number > 1:
            top = PAGE_HEIGHT - 13 * mm
            canvas.drawString(MARGIN_X, top, running_head)
            canvas.line(MARGIN_X, top - 2 * mm, PAGE_WIDTH - MARGIN_X, top - 2 * mm)
        bottom = 11 * mm
        canvas.line(MARGIN_X, bottom + 4 * mm, PAGE_WIDTH - MARGIN_X, bottom + 4 * mm)
        canvas.drawString(MARGIN_X, bottom, footer_left)
        canvas.drawRightString(
            PAGE_WIDTH - MARGIN_X, bottom, labels.page.format(page=number, pages=total)
        )
        canvas.restoreState()

    offset = generated.strftime("%z") if generated.tzinfo else ""
    pdf_date = generated.strftime("D:%Y%m%d%H%M%S") + (
        f"{offset[:3]}'{offset[3:5]}'" if offset else ""
    )
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=_plain(f"{data.title} {data.assessment_no}"),
        author=_plain(data.organisation),
        subject=_plain(data.instrument),
        creator="Yiyang",
        lang="zh-CN",
        invariant=True,
        initialFontName=font,
    )
    builder = _Builder(data, font)
    document.build(builder.story(), canvasmaker=_canvas_class(decorate, pdf_date))
    return buffer.getvalue()
