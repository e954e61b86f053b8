"""Chinese name pools for synthetic data: people, places, institutions.

Every function takes the caller's ``random.Random`` so a seed reproduces the same names.
"""

from __future__ import annotations

import random
from itertools import accumulate

# Common surnames, most frequent first; the weights follow their rough frequency.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江"
    "尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_WEIGHTS = [max(1.0, 60.0 / (i + 1)) for i in range(len(SURNAMES))]
# Cumulative weights: ``choices`` draws exactly as with ``weights`` but skips summing them
# on every call (a million names for the city preset).
_SURNAME_CUM = list(accumulate(_SURNAME_WEIGHTS))

GIVEN_MALE = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘"  # noqa: E501
GIVEN_FEMALE = "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"  # noqa: E501

# Place-name syllables: a "quality" first character and a "landform" second one.
PLACE_FIRST = (
    "东西南北上下大小新青石白金银玉丰安宁和平乐泰福兴隆富源清云龙凤马花黄红长永明光古"
    "梅竹松柳桃杏桑麻茶莲荷枫桂柏杨槐双三五六九高前后中望仙灵秀华盛广太长顺吉"
)
PLACE_SECOND = (
    "山河湖溪林桥塘湾坪岭岗坝口港洲田庄园沟峰堡集铺寨坡浦渡滩泉川原阳城关屯埠营门亭"
    "岩堰潭圩垄溪冲坳店井陂"
)
CLAN_FIRST = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
CLAN_SECOND = "家庄坪湾岭寨堡屯店集"

# Provinces used for synthetic regions: (2-digit code, name, telephone area code of the
# capital). Cities and counties below them get fictional codes (city 71–89) so they never
# clash with a real code table.
PROVINCES = (
    ("33", "浙江省", "0571"),
    ("32", "江苏省", "025"),
    ("37", "山东省", "0531"),
    ("41", "河南省", "0371"),
    ("43", "湖南省", "0731"),
    ("51", "四川省", "028"),
    ("36", "江西省", "0791"),
    ("34", "安徽省", "0551"),
)


def person_name(rng: random.Random, sex: str) -> str:
    """A two- or three-character name: surname + one or two given-name characters."""
    surname = rng.choices(SURNAMES, cum_weights=_SURNAME_CUM, k=1)[0]
    pool = GIVEN_MALE if sex == "M" else GIVEN_FEMALE
    length = 1 if rng.random() < 0.3 else 2
    return surname + "".join(rng.choice(pool) for _ in range(length))


# Given names popular among people born 1925–1965 (the elderly of the 2020s), most common
# first: real registries repeat them a lot (张秀英, 王建国), and so does the seed.
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ELDER_FEMALE = _words(
    "秀英 桂英 秀兰 玉兰 桂兰 秀珍 凤英 玉珍 玉英 兰英 玉梅 凤兰 桂芳 秀云 桂珍 淑珍 淑兰 "
    "淑英 秀芳 翠兰 秀荣 桂荣 凤珍 玉芳 秀华 丽华 桂香 素珍 素英 金凤 美华 月英 冬梅 春梅 "
    "红梅 秀梅 玉华 金兰 玉凤 淑华 爱华 爱英 秀琴 桂芝 秀芝 淑芳 国英 丽英 彩云 秀莲 玉莲 "
    "凤琴 秀清 桂莲 春兰 翠英 金花 菊花 桂花 秀娥 玉琴 雪梅 丽君 素芳 淑琴 秀凤 玉香"
)
ELDER_MALE = _words(
    "建国 建华 国华 志强 德明 国强 建军 建平 志明 卫国 国庆 建新 明华 文华 永华 德华 国平 "
    "金山 永明 志刚 振华 玉林 春生 学文 文明 有才 德胜 长江 保国 福生 国栋 树林 广田 永福 "
    "洪波 志勇 国良 金生 庆华 宝山 万福 春林 富贵 海涛 宏伟 建设 红军 援朝 胜利 解放 "
    "德福 富强 振国 国富 忠诚 家兴 永康 长林 金龙 玉山 少华 光明 世杰 文斌 继红 朝阳"
)
_ELDER_CUM = {
    sex: list(accumulate(1.0 / (i + 4) for i in range(len(pool))))
    for sex, pool in (("F", ELDER_FEMALE), ("M", ELDER_MALE))
}


def elder_name(rng: random.Random, sex: str) -> str:
    """A name of someone aged 60 or more: 60 % a given name popular in their generation,
    the rest drawn like ``person_name``."""
    if rng.random() >= 0.6:
        return person_name(rng, sex)
    surname = rng.choices(SURNAMES, cum_weights=_SURNAME_CUM, k=1)[0]
    pool = ELDER_MALE if sex == "M" else ELDER_FEMALE
    return surname + rng.choices(pool, cum_weights=_ELDER_CUM["M" if sex == "M" else "F"])[0]


def place_stem(rng: random.Random, taken: set[str]) -> str:
    """A two-character place stem (e.g. 青溪) not yet in ``taken``; adds it."""
    for _ in range(10_000):
        if rng.random() < 0.25:
            stem = rng.choice(CLAN_FIRST) + rng.choice(CLAN_SECOND)
        else:
            stem = rng.choice(PLACE_FIRST) + rng.choice(PLACE_SECOND)
        if stem not in taken and stem[0] != stem[1]:
            taken.add(stem)
            return stem
    raise RuntimeError("place-name pool exhausted")  # pragma: no cover - pool is ~4,000


def mobile(rng: random.Random) -> str:
    """An 11-digit mainland mobile number."""
    prefix = rng.choice(
        (
            "130",
            "133",
            "135",
            "136",
            "138",
            "139",
            "150",
            "151",
            "158",
            "159",
            "177",
            "180",
            "186",
            "187",
            "189",
            "199",
        )
    )
    return prefix + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random, area: str = "0571") -> str:
    return f"{area}-{rng.randrange(10**7, 10**8)}"
