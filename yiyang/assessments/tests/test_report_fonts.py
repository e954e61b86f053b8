"""Which font a report embeds: by default a Chinese TrueType font of the system, so that
viewers without Adobe's fonts (poppler's pdftotext, most Linux desktops) show the Chinese
text; the non-embedded CID font STSong-Light only when none is found (said in the log) or
when asked for by name."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import shutil
import subprocess

import pypdf
import pytest

from yiyang.assessments.report import fonts
from yiyang.assessments.report.data import ReportLabels
from yiyang.assessments.report.fonts import report_font
from yiyang.assessments.report.render import render_report
from yiyang.assessments.tests.test_report import _strings, build_font, gbt_data


@pytest.fixture(autouse=True)
def fresh_fonts(monkeypatch, settings):
    """Each test chooses the font anew (the choice is made once per process)."""
    monkeypatch.setattr(fonts, "_fonts", {})
    monkeypatch.setattr(fonts, "_registered_fonts", {})
    settings.YIYANG_PDF_FONT = None


def embedded_fonts(pdf: bytes) -> set[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            parts = [font, *(d.get_object() for d in font.get("/DescendantFonts", []))]
            for part in parts:
                descriptor = part.get("/FontDescriptor")
                if descriptor is not None and "/FontFile2" in descriptor.get_object():
                    names.add(str(font["/BaseFont"]))
    return names


def pdftotext(pdf: bytes) -> str:
    binary = shutil.which("pdftotext")
    if binary is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    done = subprocess.run(  # noqa: S603 - fixed arguments
        [binary, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode()


def test_by_default_a_system_font_is_embedded_and_poppler_reads_the_chinese(monkeypatch, tmp_path):
    data = gbt_data()
    text = _strings(dataclasses.astuple(data)) + _strings(dataclasses.astuple(ReportLabels()))
    font = build_font(tmp_path / "system-cjk.ttf", text + "0123456789年月日")
    # A CFF-outline font (here: not a font at all) is skipped, the next usable one taken.
    bad = tmp_path / "NotoSansCJK-Regular.ttc"
    bad.write_bytes(b"OTTO not embeddable")
    monkeypatch.setattr(fonts, "_system_fonts", lambda: [str(bad), str(font)])

    pdf = render_report(data)
    assert report_font().path == str(font) and report_font().embedded
    assert [name for name in embedded_fonts(pdf) if "YiyangTest-Regular" in name]
    assert b"STSong" not in pdf
    shown = re.sub(r"\s+", "", pdftotext(pdf))
    for expected in ("老年人能力评估报告", "王秀英", "评估员1签名", "第1页共3页", "第3页共3页"):
        assert expected in shown, expected


def test_with_the_installed_chinese_font(monkeypatch):
    """The same with the machine's own font (fonts-wqy-microhei on CI)."""
    if not fonts._system_fonts():
        pytest.skip("no Chinese font installed (install fonts-wqy-microhei)")
    pdf = render_report(gbt_data())
    chosen = report_font()
    if not chosen.embedded:
        pytest.skip("no installed Chinese font has TrueType outlines (fonts-wqy-microhei)")
    assert embedded_fonts(pdf)
    shown = pdftotext(pdf)
    assert "老年人能力评估报告" in shown and "王秀英" in shown


def test_without_a_usable_font_the_cid_font_is_used_and_the_log_says_so(monkeypatch, caplog):
    monkeypatch.setattr(fonts, "_system_fonts", lambda: [])
    with caplog.at_level(logging.WARNING, logger="yiyang.assessments.report"):
        pdf = render_report(gbt_data())
    assert report_font().name == "STSong-Light" and not report_font().embedded
    assert b"/FontFile" not in pdf and b"/STSong-Light" in pdf
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "falling back to the non-embedded CID font STSong-Light" in warning
    assert "Install fonts-wqy-microhei" in warning


def test_the_cid_font_by_name(settings, monkeypatch):
    monkeypatch.setattr(fonts, "_system_fonts", lambda: pytest.fail("no lookup expected"))
    settings.YIYANG_PDF_FONT = "STSong-Light"
    pdf = render_report(gbt_data())
    assert b"/FontFile" not in pdf and report_font().name == "STSong-Light"
