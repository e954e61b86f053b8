"""Chinese name pools for synthetic data: people, places, institutions.

Every function takes the caller's ``random.Random`` so a seed reproduces the same names.
"""

from __future__ import annotations

import random

# Common surnames, most frequent first; the weights follow their rough frequency.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江"
    "尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_WEIGHTS = [max(1.0, 60.0 / (i + 1)) for i in range(len(SURNAMES))]

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
    surname = rng.choices(SURNAMES, weights=_SURNAME_WEIGHTS, k=1)[0]
    pool = GIVEN_MALE if sex == "M" else GIVEN_FEMALE
    length = 1 if rng.random() < 0.3 else 2
    return surname + "".join(rng.choice(pool) for _ in range(length))


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
