"""The columns of the resident spreadsheet (ADR 0013): the import template's Chinese
headers with their aliases, the kind of each cell, the choices and their labels, what a new
resident gets for a blank cell, and the header and choice maps the import matches with.
The export writes the same columns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy

from yiyang.residents.models import FLAGS, CareSetting, Insurance, ResidentStatus, Sex
from yiyang.residents.services import registry


@dataclass(frozen=True)
class Choice:
    code: str
    label: str  # the Chinese label the template shows
    aliases: tuple[str, ...] = ()


SEX_CHOICES = (Choice(Sex.MALE, "男", ("male",)), Choice(Sex.FEMALE, "女", ("female",)))
INSURANCE_CHOICES = (
    Choice(Insurance.EMPLOYEE, "职工基本医疗保险", ("职工医保", "城镇职工基本医疗保险")),
    Choice(Insurance.URBAN_RURAL, "城乡居民基本医疗保险", ("居民医保", "城乡居民医保")),
    Choice(Insurance.NONE, "无", ("未参保",)),
)
STATUS_CHOICES = (
    Choice(ResidentStatus.ACTIVE, "在册", ("正常",)),
    Choice(ResidentStatus.MOVED_OUT, "迁出", ("已迁出",)),
    Choice(ResidentStatus.DECEASED, "死亡", ("已故", "去世")),
)
CARE_CHOICES = (
    Choice(CareSetting.HOME, "居家", ("居家养老",)),
    Choice(CareSetting.COMMUNITY, "社区", ("社区养老",)),
    Choice(CareSetting.INSTITUTION, "机构", ("机构养老",)),
)
BOOL_TRUE = ("是", "y", "yes", "true", "t", "1", "√", "✓", "有")
BOOL_FALSE = ("否", "n", "no", "false", "f", "0", "×", "✗", "无")


@dataclass(frozen=True)
class Column:
    key: str  # the Resident field it fills
    header: str  # the Chinese header of the template
    kind: str  # text | id | sex | date | phone | region | grid | choice | institution | bool
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    width: int = 10
    text_format: bool = False  # Excel must keep it as text (long digit strings)


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "text", True, ("名字", "老人姓名"), width=10),
    Column(
        "id_number",
        "公民身份号码",
        "id",
        True,
        ("身份证号", "身份证号码", "居民身份证号码", "身份证", "证件号码"),
        width=22,
        text_format=True,
    ),
    Column("sex", "性别", "sex", choices=SEX_CHOICES, width=6),
    Column("birth_date", "出生日期", "date", aliases=("出生年月日",), width=12),
    Column(
        "phone",
        "联系电话",
        "phone",
        aliases=("电话", "手机", "手机号", "手机号码", "联系方式"),
        width=14,
        text_format=True,
    ),
    Column("address", "现住址", "text", aliases=("住址", "地址", "居住地址"), width=28),
    Column(
        "region",
        "村（居）区划代码",
        "region",
        True,
        (
            "区划代码",
            "村区划代码",
            "村居区划代码",
            "村(社区)区划代码",
            "region code",
            "village code",
        ),
        width=16,
        text_format=True,
    ),
    Column("grid", "网格编码", "grid", aliases=("网格", "网格代码", "grid code"), width=20),
    Column("ethnicity", "民族", "text", width=8),
    Column(
        "insurance",
        "医疗保险",
        "choice",
        aliases=("医保", "医保类型", "医疗保险类型"),
        choices=INSURANCE_CHOICES,
        width=20,
    ),
    Column("ltc_insured", "长护险参保", "bool", aliases=("长期护理保险", "长护险"), width=10),
    Column("status", "人员状态", "choice", aliases=("状态",), choices=STATUS_CHOICES, width=10),
    Column("deceased_on", "死亡日期", "date", aliases=("date of death",), width=12),
    Column("care_setting", "照护方式", "choice", aliases=("养老方式",), choices=CARE_CHOICES),
    Column("institution", "照护机构", "institution", aliases=("机构", "养老机构"), width=24),
    Column("empty_nest", "空巢", "bool", aliases=("空巢老人",), width=6),
    Column("living_alone", "独居", "bool", aliases=("独居老人",), width=6),
    Column("left_behind", "留守", "bool", aliases=("留守老人",), width=6),
    Column("widowed_childless", "丧偶无子女", "bool", width=10),
    Column("lost_only_child", "失独", "bool", aliases=("失独老人",), width=6),
    Column("minimum_allowance", "低保", "bool", aliases=("低保对象", "最低生活保障"), width=6),
    Column("extreme_poverty", "特困", "bool", aliases=("特困人员", "特困供养"), width=6),
    Column("veteran", "退役军人（军休）", "bool", aliases=("退役军人", "军休", "军休干部")),
    Column("permanent_resident", "常住", "bool", aliases=("常住人口",), width=6),
)
BY_KEY: dict[str, Column] = {column.key: column for column in COLUMNS}
REQUIRED_KEYS = tuple(column.key for column in COLUMNS if column.required)
BOOL_KEYS = tuple(column.key for column in COLUMNS if column.kind == "bool")
CHOICE_KEYS = ("insurance", "status", "care_setting")

# What a new resident gets for a blank cell (the model's defaults).
DEFAULTS: dict[str, Any] = {
    "phone": "",
    "address": "",
    "ethnicity": "",
    "insurance": Insurance.NONE,
    "status": ResidentStatus.ACTIVE,
    "care_setting": CareSetting.HOME,
    "deceased_on": None,
    "ltc_insured": False,
    **{name: False for name in FLAGS},
    "permanent_resident": True,
}

# Column notes for the template's instructions sheet.
FORMATS: dict[str, Any] = {
    "name": gettext_lazy("The resident's name as on the ID card."),
    "id_number": gettext_lazy(
        "18 characters, validated (province, birth date, check character); a lower-case x "
        "is accepted. It identifies the person: a row for a registered resident updates her "
        "record. Keep the column formatted as text in Excel."
    ),
    "sex": gettext_lazy("Optional: derived from the ID number; if given it must agree."),
    "birth_date": gettext_lazy(
        "Optional: derived from the ID number; if given it must agree. YYYY-MM-DD (also "
        "YYYY/MM/DD, YYYYMMDD, YYYY年M月D日 or an Excel date)."
    ),
    "phone": gettext_lazy("Digits only (spaces and dashes are removed)."),
    "address": gettext_lazy("Current address, up to 255 characters."),
    "region": gettext_lazy(
        "The 12-digit statistical code of the village or community the resident lives in; "
        "it must be inside your data scope."
    ),
    "grid": gettext_lazy("Optional: the code of a grid in that village."),
    "ethnicity": gettext_lazy("E.g. 汉族, up to 20 characters."),
    "deceased_on": gettext_lazy(
        "Only for a deceased resident (and then required): between the birth date and today."
    ),
    "institution": gettext_lazy(
        "Required for institutional care, empty otherwise: the institution's elderly-care "
        "filing number, medical practice licence number or exact name."
    ),
}
BOOL_FORMAT = gettext_lazy("是 or 否 (also Y/N, 1/0); blank: 否 for a new resident.")


def fold(text: str) -> str:
    """Full-width → half-width, trimmed (NFKC)."""
    return unicodedata.normalize("NFKC", text).strip()


def normalise_header(text: Any) -> str:
    """A header as compared: folded, lower case, no spaces, underscores, dashes or
    required-marks."""
    folded = fold("" if text is None else str(text)).lower()
    return re.sub(r"[\s_\-*]", "", folded)


def without_note(text: str) -> str:
    return re.sub(r"\(.*?\)", "", text)


def _header_map() -> dict[str, str]:
    """Normalised header → column key: the Chinese header (with and without its
    parenthesised part), the aliases, the field name and the field's English label."""
    found: dict[str, str] = {}
    with translation.override("en"):
        for column in COLUMNS:
            label = registry.resident_label(column.key)
            names = (column.header, *column.aliases, column.key, label)
            for name in names:
                norm = normalise_header(name)
                for variant in (norm, without_note(norm)):
                    found.setdefault(variant, column.key)
    return found


def _choice_map(choices: Sequence[Choice]) -> dict[str, str]:
    found: dict[str, str] = {}
    with translation.override("en"):
        labels = {
            str(value): str(label)
            for enum in (Sex, Insurance, ResidentStatus, CareSetting)
            for value, label in enum.choices
        }
    for choice in choices:
        for name in (choice.label, *choice.aliases, choice.code, labels.get(choice.code, "")):
            if name:
                found[normalise_header(name)] = str(choice.code)
    return found


HEADERS = _header_map()
CHOICE_MAPS: dict[str, dict[str, str]] = {
    "sex": _choice_map(SEX_CHOICES),
    "insurance": _choice_map(INSURANCE_CHOICES),
    "status": _choice_map(STATUS_CHOICES),
    "care_setting": _choice_map(CARE_CHOICES),
}
BOOL_MAP = {**{v: True for v in BOOL_TRUE}, **{v: False for v in BOOL_FALSE}}
CHOICE_LABELS: dict[str, dict[str, str]] = {
    key: {str(c.code): c.label for c in BY_KEY[key].choices}
    for key in ("sex", "insurance", "status", "care_setting")
}


def label(key: str) -> str:
    """A column's field label (translated), as the services name it."""
    return registry.resident_label(key)
