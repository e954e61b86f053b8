"""The printable assessment report: rendered for real, read back with pypdf."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pypdf
import pytest
import reportlab
from django.core.exceptions import ImproperlyConfigured
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

from yiyang.assessments.instruments.gbt42195_2022 import DEFINITION
from yiyang.assessments.report.data import (
    ReportData,
    ReportDataError,
    ReportDomain,
    ReportItem,
    ReportLabels,
)
from yiyang.assessments.report.render import render_report

# A realistic answer pattern: the option index chosen for each of the 26 items (0 = best).
_CHOICES = [1, 1, 1, 2, 2, 1, 0, 2, 1, 2, 2, 1, 1, 1, 0, 2, 1, 1, 0, 0, 0, 0, 0, 1, 1, 2]
GENERATED = datetime(2026, 11, 22, 6, 5, tzinfo=UTC)  # 14:05 in Asia/Shanghai


def gbt_items() -> list[ReportItem]:
    items = []
    for item, choice in zip(DEFINITION["items"], _CHOICES, strict=True):
        option = item["options"][choice]
        items.append(
            ReportItem(
                code=item["code"],
                label=item["label_zh"],
                answer=option["anchor_zh"],
                score=option["score"],
                domain=item["code"].rsplit(".", 1)[0],
            )
        )
    return items


def gbt_data(**changes: Any) -> ReportData:
    items = gbt_items()
    domains = [
        ReportDomain(
            code=d["code"],
            label=d["label_zh"],
            score=sum(i.score or 0 for i in items if i.domain == d["code"]),
            max=d["max"],
        )
        for d in DEFINITION["domains"]
    ]
    total = sum(d.score for d in domains)
    band = next(b for b in DEFINITION["levels"] if b["min"] <= total <= b["max"])
    final = band["level"] + 1
    final_name = next(b["name_zh"] for b in DEFINITION["levels"] if b["level"] == final)
    data = ReportData(
        title="老年人能力评估报告",
        instrument="老年人能力评估（GB/T 42195-2022）",
        instrument_version="1",
        source="GB/T 42195-2022 老年人能力评估规范 2022",
        organisation="郑州市金水区颐养服务中心",
        assessment_no="PG-000123",
        resident_name="王秀英",
        resident_sex="女",
        resident_age=82,
        resident_id_masked="4101**********1234",
        resident_address="河南省郑州市金水区文化路街道农业路东12号院3号楼2单元501室",
        reason="首次评估",
        place="居家",
        assessed_on=date(2026, 11, 20),
        assessors=["李敏", "赵建国"],
        status="待复核签字",
        summary=[
            ("总分", f"{total} / 90"),
            ("初步等级", f"{band['level']} {band['name_zh']}"),
            ("等级变更", "痴呆诊断 +1"),
            ("能力等级", f"{final} {final_name}"),
        ],
        domains=domains,
        items=items,
        eligibility=[("长护险待遇", "符合（原：不符合）"), ("高龄津贴", "符合")],
        next_due=date(2027, 5, 20),
        notes=[
            "本评估更正 PG-000101：原评估漏记痴呆诊断（F03）。",
            "“精神障碍 +1”与“照护风险事件 +1”是否叠加尚未核实（默认叠加）。",
        ],
        generated_at=GENERATED,
    )
    return dataclasses.replace(data, **changes)


def pages_text(pdf: bytes) -> list[str]:
    """Each page's text with all white space removed (line breaks depend on layout)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [re.sub(r"\s+", "", page.extract_text()) for page in reader.pages]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_full_report_spans_pages_and_contains_everything():
    data = gbt_data()
    pdf = render_report(data)

    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    pages = pages_text(pdf)
    assert len(pages) > 1
    text = "".join(pages)
    level = dict(data.summary)["能力等级"]
    assert level == "3 重度失能"  # 64 points → 2 中度失能, then +1
    for needle in [
        "老年人能力评估报告",
        "郑州市金水区颐养服务中心",
        "PG-000123",
        "老年人能力评估（GB/T 42195-2022）",
        "GB/T 42195-2022 老年人能力评估规范 2022",
        "王秀英",
        "82 岁",
        "4101**********1234",
        data.resident_address,
        "首次评估",
        "2026年11月20日",
        "李敏、赵建国",
        "待复核签字",
        "64 / 90",
        "2 中度失能",
        "痴呆诊断 +1",
        level,
        "B.1自理能力（22 / 32）",
        "长护险待遇",
        "符合（原：不符合）",
        "高龄津贴",
        "2027年05月20日",
        *data.notes,
        "评估员1签名",
        "评估员2签名",
        "老年人或监护人签名",
        "生成时间：2026年11月22日 14:05",  # local time (Asia/Shanghai)
        "第 1 页",
    ]:
        assert squash(needle) in text, needle
    for item in data.items:
        assert squash(f"{item.code}{item.label}{item.answer}{item.score}") in text, item
    for domain in data.domains:
        assert squash(f"{domain.code}{domain.label}{domain.score} / {domain.max}") in text
    for number, page in enumerate(pages, 1):
        assert f"第{number}页共{len(pages)}页" in page
    # The running head identifies loose pages after the first.
    assert all("PG-000123王秀英" in page for page in pages[1:])
    # Signature lines come last.
    assert text.rindex("老年人或监护人签名") > text.rindex(squash(data.notes[-1]))


def test_long_item_table_repeats_headers_on_every_page():
    items = [
        ReportItem(f"X.1.{n}", f"测试项目{n}", "需他人部分帮助，大部分自己完成", n % 5, "X.1")
        for n in range(1, 121)
    ]
    data = gbt_data(
        domains=[ReportDomain("X.1", "长表维度", sum(i.score or 0 for i in items), None)],
        items=items,
    )
    pages = pages_text(render_report(data))

    assert len(pages) >= 3
    item_pages = [p for p in pages if "测试项目" in p]
    assert len(item_pages) >= 3
    for page in item_pages:  # domain heading + column headers repeated on each page
        assert "X.1长表维度（240）" in page
        assert "编号项目评估结果（所选选项）得分" in page
    text = "".join(pages)
    for item in items:
        assert f"{item.code}{item.label}" in text
    for number, page in enumerate(pages, 1):
        assert f"第{number}页共{len(pages)}页" in page


def test_short_report_fits_one_page():
    data = gbt_data(
        organisation="",
        assessors=["李敏"],
        domains=[],
        items=[ReportItem("Q1", "自评健康", "一般", None)],
        summary=[("结果", "未分级")],
        eligibility=[],
        notes=[],
        next_due=None,
    )
    pages = pages_text(render_report(data))

    assert len(pages) == 1
    page = pages[0]
    for needle in ["Q1自评健康一般—", "未设定", "结果未分级", "评估员2签名", "第1页共1页"]:
        assert needle in page, needle


def test_user_text_is_escaped_not_interpreted():
    hostile = [
        "<script>alert('x')</script> & done",
        "1 < 2 && 3 > 2 &amp; <b>not bold</b> <br/> &nbsp;",
        "第一行\n第二行",
    ]
    data = gbt_data(
        resident_name="张<三>&",
        resident_address="<para>某街道&某号</para>",
        notes=hostile,
        summary=[("能力等级", "3 重度失能 <i>")],
    )
    text = "".join(pages_text(render_report(data)))

    for needle in ["张<三>&", "<para>某街道&某号</para>", "3重度失能<i>", *hostile]:
        assert squash(needle) in text, needle


def test_output_is_deterministic_and_carries_metadata(settings):
    settings.YIYANG_PDF_FONT = "STSong-Light"  # the fallback, asked for by name
    data = gbt_data()
    first, second = render_report(data), render_report(data)

    assert first == second
    reader = pypdf.PdfReader(io.BytesIO(first))
    assert reader.metadata is not None
    assert reader.metadata.title == "老年人能力评估报告 PG-000123"
    assert reader.metadata["/CreationDate"] == "D:20261122140500+08'00'"
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    assert reader.pages[0].mediabox.width == pytest.approx(595.27, abs=0.1)  # A4
    # The built-in CID font: referenced, not embedded.
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts == {"/STSong-Light"}
    assert b"/FontFile" not in first


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"assessors": []}, "assessors must name one or two people, got 0"),
        ({"assessors": ["甲", "乙", "丙"]}, "assessors must name one or two people, got 3"),
        ({"title": " "}, "title is empty"),
        ({"resident_age": -1}, "resident_age is negative (-1)"),
        (
            {"items": [ReportItem("B.9.1", "未知", "—", 1, "B.9")]},
            "item 'B.9.1' names domain 'B.9', which is not listed",
        ),
        (
            {"items": [ReportItem("Q1", "甲", "一", 1), ReportItem("Q1", "乙", "二", 1)]},
            "item 'Q1' is listed twice",
        ),
        (
            {"domains": [ReportDomain("B.1", "自理能力", 40, 32)], "items": []},
            "domain 'B.1' score 40 is outside 0..32",
        ),
    ],
)
def test_inconsistent_data_is_refused_with_the_reason(changes, problem):
    with pytest.raises(ReportDataError) as caught:
        render_report(gbt_data(**changes))
    assert problem in caught.value.problems


# --- YIYANG_PDF_FONT ----------------------------------------------------------------------


def _strings(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "".join(_strings(v) for v in value)
    return ""


def build_font(path: Path, text: str) -> Path:
    """A minimal TrueType font with a box glyph for each character of ``text`` and ASCII."""
    chars = sorted(set(text) | {chr(c) for c in range(33, 127)} - {" ", "\n"})
    names = {char: f"u{ord(char):04X}" for char in chars}
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "space", *names.values()])
    builder.setupCharacterMap({32: "space", **{ord(c): n for c, n in names.items()}})
    pen = TTGlyphPen(None)
    pen.moveTo((100, 0))
    pen.lineTo((100, 700))
    pen.lineTo((900, 700))
    pen.lineTo((900, 0))
    pen.closePath()
    box = pen.glyph()
    blank = TTGlyphPen(None).glyph()
    builder.setupGlyf({".notdef": box, "space": blank, **{n: box for n in names.values()}})
    metrics = {name: (1000, 100) for name in names.values()}
    builder.setupHorizontalMetrics({".notdef": (1000, 100), "space": (500, 0), **metrics})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable(
        {"familyName": "YiyangTest", "styleName": "Regular", "psName": "YiyangTest-Regular"}
    )
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(str(path))
    return path


def test_configured_font_is_embedded(settings, tmp_path):
    data = gbt_data()
    text = _strings(dataclasses.astuple(data)) + _strings(dataclasses.astuple(ReportLabels()))
    settings.YIYANG_PDF_FONT = str(build_font(tmp_path / "cjk.ttf", text + "0123456789年月日"))
    pdf = render_report(data)

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    base_fonts = {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    assert any("YiyangTest-Regular" in name for name in base_fonts), base_fonts
    assert not any("STSong" in name for name in base_fonts)
    assert b"/FontFile2" in pdf  # the TrueType program is embedded
    page_text = "".join(pages_text(pdf))
    assert "王秀英" in page_text and "评估员1签名" in page_text
    assert render_report(data) == pdf  # registered once, same output


def test_font_without_chinese_glyphs_is_refused(settings):
    settings.YIYANG_PDF_FONT = str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf")
    with pytest.raises(ImproperlyConfigured, match="has no glyphs for Chinese text"):
        render_report(gbt_data())


def test_missing_font_file_is_refused(settings, tmp_path):
    settings.YIYANG_PDF_FONT = str(tmp_path / "missing.ttf")
    with pytest.raises(ImproperlyConfigured, match="which is not a file"):
        render_report(gbt_data())


def test_unreadable_font_file_is_refused(settings, tmp_path):
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"not a font at all")
    settings.YIYANG_PDF_FONT = str(bogus)
    with pytest.raises(ImproperlyConfigured, match="cannot be embedded"):
        render_report(gbt_data())
