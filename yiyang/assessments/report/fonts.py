"""The font reports are typeset in.

Chinese text is typeset in an embedded (subset) TrueType font so that every viewer shows
it. ``settings.YIYANG_PDF_FONT`` names the font file (.ttf, .ttc, or .otf with TrueType
outlines, with Chinese glyphs); unset, the first usable Chinese font of the system is taken
(:data:`FONT_CANDIDATES`, then what fontconfig's ``fc-list :lang=zh`` lists), registered
once per process. Only when none is usable (or the setting says ``STSong-Light``) does the
report fall back to ReportLab's built-in CID font ``STSong-Light`` (Adobe-GB1), which needs
no file but is not embedded — the viewer must supply a Chinese font, and viewers without
one (poppler on a server, many Linux desktops) show nothing — and the fallback is logged as
a warning.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

__all__ = ["report_font"]

# The report's logger, named as before the report became a package.
logger = logging.getLogger("yiyang.assessments.report")

BUILTIN_FONT = "STSong-Light"
# Chinese fonts with TrueType outlines from Debian packages (ReportLab cannot embed the CFF
# outlines of Noto/Source Han CJK), tried in this order when YIYANG_PDF_FONT is unset:
# fonts-wqy-microhei, fonts-wqy-zenhei, fonts-arphic-uming, fonts-arphic-ukai. Their
# licences allow embedding.
FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
)
# Characters every configured font must have: a font without them would print the form's
# own labels as empty boxes.
_REQUIRED_GLYPHS = "老年人能力评估报告签名日期第页共"


_font_lock = threading.Lock()
_registered_fonts: dict[str, str] = {}  # resolved path, "auto" or the built-in -> font name
_font_numbers = itertools.count()


@dataclass(frozen=True)
class ReportFont:
    """The font reports are typeset in: its registered name, the file (None for the
    built-in CID font) and whether it is embedded."""

    name: str
    path: str | None

    @property
    def embedded(self) -> bool:
        return self.path is not None


_fonts: dict[str, ReportFont] = {}  # the same keys -> the font


def report_font() -> ReportFont:
    """Register (once per process and setting) and return the font to typeset with."""
    configured = (getattr(settings, "YIYANG_PDF_FONT", None) or "").strip()
    if configured == BUILTIN_FONT:
        key = BUILTIN_FONT
    elif configured:
        key = str(Path(configured).expanduser().resolve())
    else:
        key = "auto"
    with _font_lock:
        found = _fonts.get(key)
        if found is None:
            if key == BUILTIN_FONT:
                found = ReportFont(_register_builtin_font(), None)
            elif key == "auto":
                found = _discover()
            else:
                found = ReportFont(_register_file_font(key), key)
            _fonts[key] = found
            _registered_fonts[key] = found.name
        return found


def _system_fonts() -> list[str]:
    """Font files to try: :data:`FONT_CANDIDATES`, then fontconfig's Chinese fonts."""
    paths = list(FONT_CANDIDATES)
    fc_list = shutil.which("fc-list")
    if fc_list:
        try:
            listed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
                [fc_list, ":lang=zh", "file"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            listed = ""
        paths += sorted(line.split(":", 1)[0].strip() for line in listed.splitlines())
    return [p for p in dict.fromkeys(paths) if p and Path(p).is_file()]


def _discover() -> ReportFont:
    """The first usable system font, embedded; else the built-in CID font, with a
    warning saying what that means and how to fix it."""
    tried = []
    for path in _system_fonts():
        try:
            name = _register_file_font(path)
        except ImproperlyConfigured as exc:
            tried.append(f"{path}: {exc}")
            continue
        logger.info("PDF reports embed the font %s", path)
        return ReportFont(name, path)
    logger.warning(
        "PDF reports: no Chinese TrueType font found (%s); falling back to the non-embedded "
        "CID font %s, whose Chinese text is invisible in viewers without an Adobe-GB1 font "
        "(poppler, many Linux desktops). Install fonts-wqy-microhei (or fonts-wqy-zenhei, "
        "fonts-arphic-uming) or set YIYANG_PDF_FONT to a TrueType font with Chinese glyphs.",
        "; ".join(tried) or "none installed",
        BUILTIN_FONT,
    )
    return ReportFont(_register_builtin_font(), None)


def _register_builtin_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(BUILTIN_FONT))
    return BUILTIN_FONT


def _register_file_font(path: str) -> str:
    if not Path(path).is_file():
        raise ImproperlyConfigured(
            f"YIYANG_PDF_FONT is {path!r}, which is not a file: point it at a TrueType font "
            f"with Chinese glyphs, unset it to use a system font, or set it to {BUILTIN_FONT}."
        )
    name = f"YiyangFont{next(_font_numbers)}"
    try:
        # A collection (.ttc) uses its first face.
        font = TTFont(name, path, subfontIndex=0)
    except (TTFError, OSError) as exc:
        raise ImproperlyConfigured(
            f"YIYANG_PDF_FONT {path!r} cannot be embedded ({exc}). ReportLab embeds TrueType "
            "outlines only (.ttf, .ttc, or .otf with TrueType outlines); "
            "CFF-based .otf fonts are not supported."
        ) from exc
    missing = [char for char in _REQUIRED_GLYPHS if ord(char) not in font.face.charToGlyph]
    if missing:
        raise ImproperlyConfigured(
            f"YIYANG_PDF_FONT {path!r} has no glyphs for Chinese text "
            f"(missing e.g. {''.join(missing[:5])}): choose a font that covers Chinese."
        )
    pdfmetrics.registerFont(font)
    return name
