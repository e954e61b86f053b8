"""长期护理失能等级评估标准（试行） — the national long-term-care disability grade (2021).

Source: docs/standards.md §2 and §3. Issued 2021-08-03 by the offices of the national
healthcare security administration and the ministry of civil affairs (医保办发〔2021〕37号).
Three indicators, 17 items, answered by score:

- ``adl`` 日常生活活动能力: the 10 Barthel items, same codes and points as ``barthel.py``
  (0–100) [C];
- ``cognition`` 认知能力: ``cognition.time``, ``cognition.person``, ``cognition.place``,
  ``cognition.memory``, each 0–4 (0–16) [C from public transcriptions of 附件1 表C2];
- ``perception`` 感知觉与沟通能力: ``perception.vision``, ``perception.hearing``,
  ``perception.communication``, each 0–4 (0–12) [C from transcriptions of 附件1 表C3].

Each indicator's items are summed and banded into a grade (``indicators[].grades``); the
level 0–5 is read from ``matrix``: row = ADL grade, column = the worse of the cognition and
perception grades (worse = later in ``grade_order``). The grade bands and the matrix are
[U] — shipped here as data and listed in ``unverified``. The result's ``total`` is the ADL
total (``total_indicator``); the three sums are in ``domains``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop


def _item(code: str, zh: str, en: str, anchors: list[tuple[int, str, str]]) -> dict[str, Any]:
    options = [{"score": s, "anchor_zh": a_zh, "anchor_en": a_en} for s, a_zh, a_en in anchors]
    return {"code": code, "label_zh": zh, "label_en": en, "options": options}


# Activities of daily living (附件1 表C1; Barthel points). Anchors abbreviated from the
# standard's descriptions.
ADL_ITEMS = [
    _item(
        "feeding",
        "进食",
        "feeding",
        [
            (10, "自理,可用辅助工具独立进食(不含做饭)", "independent, aids allowed (not cooking)"),
            (5, "需部分帮助(夹菜、盛饭)", "needs some help (serving food)"),
            (0, "较大或完全依赖,或留置营养管", "largely dependent or tube-fed"),
        ],
    ),
    _item(
        "bathing",
        "洗澡",
        "bathing",
        [
            (5, "准备好洗澡水后可独立完成", "independent once the water is ready"),
            (0, "洗澡过程中需他人帮助", "needs help while bathing"),
        ],
    ),
    _item(
        "grooming",
        "修饰(面部与口腔清洁)",
        "grooming (face and mouth)",
        [
            (5, "独立洗脸、梳头、刷牙、剃须", "washes face, combs, brushes teeth, shaves alone"),
            (0, "需要帮助", "needs help"),
        ],
    ),
    _item(
        "dressing",
        "穿衣",
        "dressing",
        [
            (10, "自理(系扣、拉拉链、穿鞋袜)", "independent (buttons, zips, shoes)"),
            (5, "需部分帮助(整理衣物、系扣或鞋带)", "needs some help (fastening, tidying)"),
            (0, "依赖他人", "dependent"),
        ],
    ),
    _item(
        "bowels",
        "大便控制",
        "bowel control",
        [
            (10, "能控制", "continent"),
            (5, "偶有失禁(每周<1次)或需提示或人工帮助排便", "occasional accident (< 1/week)"),
            (0, "失禁(每周≥1次)或完全依赖他人", "incontinent (≥ 1/week) or dependent"),
        ],
    ),
    _item(
        "bladder",
        "小便控制",
        "bladder control",
        [
            (10, "能控制(或能自行管理导尿管)", "continent (or manages own catheter)"),
            (5, "偶有失禁(每天<1次但每周>1次)或需提示", "occasional accident or needs prompting"),
            (0, "失禁(每天≥1次)或导尿管无法自行管理", "incontinent (≥ 1/day) or catheter managed"),
        ],
    ),
    _item(
        "toilet",
        "如厕",
        "toilet use",
        [
            (10, "自理(能用厕纸、穿脱裤子)", "independent (paper, clothes)"),
            (5, "需部分帮助(整理衣裤、坐上或蹲上便器)", "needs some help (clothes, seating)"),
            (0, "需极大帮助或完全依赖他人", "needs major help or dependent"),
        ],
    ),
    _item(
        "transfer",
        "床椅转移",
        "bed-chair transfer",
        [
            (15, "自理", "independent"),
            (10, "需少量帮助(1人搀扶、辅助工具或旁人监护)", "minor help (1 person, aid, watch)"),
            (5, "需大量帮助(至少2人身体帮助),能坐", "major help (≥ 2 people), can sit"),
            (0, "完全依赖他人,不能坐", "dependent, cannot sit"),
        ],
    ),
    _item(
        "mobility",
        "平地行走",
        "walking on level ground",
        [
            (15, "独立步行(可自行使用辅助工具)", "walks alone (own aids allowed)"),
            (10, "需少量帮助(1人搀扶或旁人提示)", "minor help (1 person or prompting)"),
            (
                5,
                "较大程度依赖他人(≥2人)或需他人帮助使用轮椅",
                "relies on ≥ 2 people or on help with a wheelchair",
            ),
            (0, "卧床不起,不能步行", "bedridden, cannot walk"),
        ],
    ),
    _item(
        "stairs",
        "上下楼梯",
        "stairs",
        [
            (10, "独立上下楼(可借助电梯)", "independent (lift allowed)"),
            (5, "需部分帮助(扶楼梯、他人搀扶或拐杖)", "needs some help (rail, person, stick)"),
            (0, "不能,或需极大帮助或完全依赖他人", "cannot, or needs major help"),
        ],
    ),
]

# Cognition (附件1 表C2), 0–4 each, higher = better.
COGNITION_ITEMS = [
    _item(
        "cognition.time",
        "时间定向",
        "time orientation",
        [
            (4, "时间观念(年、月)清楚,日期或星期可差一天", "knows year and month; day ± 1"),
            (3, "时间观念有些下降,年月日不能全部分清", "somewhat impaired; mixes up dates"),
            (2, "时间观念较差,可知上/下半年或季节", "poor; knows half-year or season"),
            (1, "时间观念很差,可知上午/下午或白天/夜间", "very poor; knows morning/day/night"),
            (0, "无时间观念", "no sense of time"),
        ],
    ),
    _item(
        "cognition.person",
        "人物定向",
        "person orientation",
        [
            (4, "认识长期共同生活的人,能称呼并知道关系", "knows long-term household members"),
            (3, "能认识大部分共同生活的人", "knows most household members"),
            (2, "能认识一半日常同住的亲人或照护者", "knows about half of relatives/carers"),
            (1, "只认识自己或极少数亲人或照护者", "knows only self or very few people"),
            (0, "不认识任何人(包括自己)", "recognises no one, not even self"),
        ],
    ),
    _item(
        "cognition.place",
        "空间定向",
        "place orientation",
        [
            (4, "能在日常生活范围内单独外出", "goes out alone in the neighbourhood"),
            (3, "不能单独外出,但能准确知道居住地地址", "cannot go out alone; knows address"),
            (2, "不能单独外出,知道较多日常生活地址", "cannot go out alone; knows much"),
            (1, "不能单独外出,少量知道居住地地址", "cannot go out alone; knows little"),
            (0, "不能单独外出,无空间观念", "cannot go out alone; no sense of place"),
        ],
    ),
    _item(
        "cognition.memory",
        "记忆力",
        "memory",
        [
            (4, "能完整回忆既往事物,记住3个词语", "full recall; remembers 3 words"),
            (3, "能回忆大部分既往事物,记住2个词语", "recalls most; remembers 2 words"),
            (2, "能回忆大部分既往事物,记住1个词语", "recalls most; remembers 1 word"),
            (1, "对既往事物少部分正确回忆,没有近期记忆", "recalls little; no recent memory"),
            (0, "完全不能回忆即时信息及既往事物", "no immediate or past recall"),
        ],
    ),
]

# Perception and communication (附件1 表C3), 0–4 each, higher = better.
PERCEPTION_ITEMS = [
    _item(
        "perception.vision",
        "视力",
        "vision",
        [
            (4, "日常生活视力(看书报、电视)基本正常", "normal for daily life (reading, TV)"),
            (3, "能看清大字体,看不清书报标准字体", "reads large print, not standard print"),
            (2, "看不清报纸大标题,但能辨认较大物体", "cannot read headlines; sees large objects"),
            (1, "只能看到光、颜色和形状,眼睛可随物体移动", "sees light, colour and shapes only"),
            (0, "完全失明", "blind"),
        ],
    ),
    _item(
        "perception.hearing",
        "听力",
        "hearing",
        [
            (4, "日常生活听力基本正常(门铃、电视、电话)", "normal in daily life (bell, TV, phone)"),
            (3, "轻声说话或距离超过2米时听不清", "misses soft speech or speech beyond 2 m"),
            (2, "需在安静环境大声说话才能听到", "needs loud speech in a quiet room"),
            (1, "讲话者大声或很慢说话才能部分听见", "hears only part of loud, slow speech"),
            (0, "完全失聪", "deaf"),
        ],
    ),
    _item(
        "perception.communication",
        "沟通能力",
        "communication",
        [
            (4, "无困难,能与他人正常沟通和交流", "communicates normally"),
            (3, "能表达需要或理解他人,但需增加时间或帮助", "manages with extra time or help"),
            (2, "勉强可交流,需频繁重复或简化表达", "barely; needs repetition, simplification"),
            (1, "只能以简单单词或手势表达大概意愿", "only single words or gestures"),
            (0, "完全不能理解他人言语,也无法表达", "cannot understand or express"),
        ],
    ),
]

DEFINITION: dict[str, Any] = {
    "code": "ltc-disability-2021",
    "version": "1",
    "kind": "ltc2021",
    "name": {"zh": "长期护理失能等级评估", "en": "Long-term care disability grade"},
    "source": {
        "document": (
            "长期护理失能等级评估标准（试行）, 国家医保局办公室 民政部办公厅"
            " 医保办发〔2021〕37号 (2021-08-03)"
        ),
        "edition": "试行 2021; 3 indicators, 17 items; levels 0–5",
        # Public material consulted (secondary; the standard's PDF itself was not available).
        "references": [
            "Notice 医保办发〔2021〕37号 of 2021-08-03 (nhsa.gov.cn art_14_5693), as mirrored"
            " at http://www.fuhuakainuo.cn/ncss/zc/qg/202108/20210803/2293242053.html",
            "Structure (3 indicators; 10 + 4 + 3 items summed to indicator grades; 组合法;"
            " levels 0–5): http://qebk.com/techan/7f0c7bf8084aa8ba77d8bf35bb4f0962.html",
            "ADL bands 100 / 65–95 / 45–60 / ≤ 40 (secondary, MZ/T 039 wording):"
            " https://z03.net/new/e108cdd7304191e12699121772b0b385.html",
            "Options of 表C2 (cognition) and 表C3 (perception), 0–4 each: two independent"
            " public source-code transcriptions of 附件1 长期护理失能等级评估表",
        ],
    },
    "items": ADL_ITEMS + COGNITION_ITEMS + PERCEPTION_ITEMS,
    # Grades, best first; "worse" means later in this list.
    "grade_order": ["intact", "mild", "moderate", "severe"],
    "indicators": [
        {
            "code": "adl",
            "label_zh": "日常生活活动能力",
            "label_en": "activities of daily living",
            "items": [i["code"] for i in ADL_ITEMS],
            "max": 100,
            "grades": [  # [U] same as MZ/T 039-2013 ADL grading
                {"min": 100, "max": 100, "code": "intact", "name_zh": "能力完好"},
                {"min": 65, "max": 95, "code": "mild", "name_zh": "轻度受损"},
                {"min": 45, "max": 60, "code": "moderate", "name_zh": "中度受损"},
                {"min": 0, "max": 40, "code": "severe", "name_zh": "重度受损"},
            ],
        },
        {
            "code": "cognition",
            "label_zh": "认知能力",
            "label_en": "cognition",
            "items": [i["code"] for i in COGNITION_ITEMS],
            "max": 16,
            "grades": [  # [U]
                {"min": 16, "max": 16, "code": "intact", "name_zh": "能力完好"},
                {"min": 12, "max": 15, "code": "mild", "name_zh": "轻度受损"},
                {"min": 4, "max": 11, "code": "moderate", "name_zh": "中度受损"},
                {"min": 0, "max": 3, "code": "severe", "name_zh": "重度受损"},
            ],
        },
        {
            "code": "perception",
            "label_zh": "感知觉与沟通能力",
            "label_en": "perception and communication",
            "items": [i["code"] for i in PERCEPTION_ITEMS],
            "max": 12,
            "grades": [  # [U]
                {"min": 12, "max": 12, "code": "intact", "name_zh": "能力完好"},
                {"min": 8, "max": 11, "code": "mild", "name_zh": "轻度受损"},
                {"min": 4, "max": 7, "code": "moderate", "name_zh": "中度受损"},
                {"min": 0, "max": 3, "code": "severe", "name_zh": "重度受损"},
            ],
        },
    ],
    "total_indicator": "adl",
    # [U] Level = table[row grade][column grade]; row = ADL grade, column = the worse of
    # the cognition and perception grades.
    "matrix": {
        "row": "adl",
        "columns_worst_of": ["cognition", "perception"],
        "table": {
            "intact": {"intact": 0, "mild": 0, "moderate": 1, "severe": 1},
            "mild": {"intact": 1, "mild": 1, "moderate": 1, "severe": 2},
            "moderate": {"intact": 2, "mild": 2, "moderate": 2, "severe": 3},
            "severe": {"intact": 3, "mild": 3, "moderate": 4, "severe": 5},
        },
    },
    "levels": [
        {"level": 0, "name_zh": "基本正常", "name_en": "basically normal"},
        {"level": 1, "name_zh": "轻度失能", "name_en": "mild disability"},
        {"level": 2, "name_zh": "中度失能", "name_en": "moderate disability"},
        {"level": 3, "name_zh": "重度失能Ⅰ级", "name_en": "severe disability, grade I"},
        {"level": 4, "name_zh": "重度失能Ⅱ级", "name_en": "severe disability, grade II"},
        {"level": 5, "name_zh": "重度失能Ⅲ级", "name_en": "severe disability, grade III"},
    ],
    "unverified": [
        {
            "rule": "indicators.adl.grades",
            "note": gettext_noop(
                "ADL bands 100 / 65–95 / 45–60 / ≤ 40 are marked [U] in docs/standards.md;"
                " they match the MZ/T 039-2013 ADL grading quoted on secondary web pages,"
                " not checked against the standard's own text."
            ),
        },
        {
            "rule": "indicators.cognition.grades",
            "note": gettext_noop(
                "Cognition bands 16 / 12–15 / 4–11 / 0–3 are from memory of secondary"
                " summaries; no public transcription of the band table was found."
            ),
        },
        {
            "rule": "indicators.perception.grades",
            "note": gettext_noop(
                "Perception and communication bands 12 / 8–11 / 4–7 / 0–3 are from memory of"
                " secondary summaries; no public transcription of the band table was found."
            ),
        },
        {
            "rule": "matrix",
            "note": gettext_noop(
                "The combination table (rows ADL grade, columns the worse of cognition and"
                " perception) is [U]: re-typed from memory of secondary summaries; one"
                " public worked note agrees on two cells (ADL moderate + cognition mild →"
                " 中度失能; ADL severe + cognition mild → 重度失能Ⅰ级). Check against the"
                " standard's table before relying on levels 3–5."
            ),
        },
        {
            "rule": "items.*.options.anchor",
            "note": gettext_noop(
                "Item options and scores of cognition (表C2) and perception (表C3) agree in"
                " two independent public transcriptions of 附件1 found by code search;"
                " anchors are abbreviated from them, English anchors are working"
                " translations."
            ),
        },
    ],
}
