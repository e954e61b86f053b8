"""Search by ID number, phone, Chinese name and pinyin, with filters, inside the scope."""

from __future__ import annotations

import datetime

import pytest

from yiyang.common.errors import ValidationFailed
from yiyang.common.permissions import Role
from yiyang.residents.search import birth_bound, search_residents
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")

TODAY = datetime.date(2026, 6, 1)


def found(user, q: str = "", **filters) -> list[str]:
    return list(search_residents(user, q, today=TODAY, **filters).values_list("name", flat=True))


@pytest.fixture
def everyone(world):
    return make_user(Role.SUPERVISOR, scope="all")


def test_search_by_id_number(world, everyone):
    number = world.zhang.id_number
    assert found(everyone, number) == ["张三"]
    assert found(everyone, number.lower()) == ["张三"]
    other = world.li.id_number
    assert found(everyone, other) == ["李四"]
    assert found(everyone, world.zhao.id_number[:6] + other[6:]) == []  # nobody has it


def test_search_by_phone(world, everyone):
    assert found(everyone, "13800000001") == ["张三"]
    assert found(everyone, "13800000002") == []


def test_search_by_name_and_pinyin(world, everyone):
    assert found(everyone, "张三") == ["张三"]
    assert found(everyone, "张") == ["张三"]
    # A name is matched from its start (an indexed prefix match, not a substring scan).
    assert found(everyone, "三") == []
    assert found(everyone, "zs") == ["张三"]
    assert found(everyone, "ZS") == ["张三"]
    assert found(everyone, "zhangsan") == ["张三"]
    assert found(everyone, "zhang") == ["张三"]
    assert found(everyone, "w") == ["王五"]
    assert found(everyone, "zx") == []


def test_search_stays_in_scope(world):
    doctor = make_user(Role.DOCTOR, scope=world.net.a.county)
    assert found(doctor, world.zhao.id_number) == []
    assert found(doctor, "赵六") == []
    assert found(doctor, "zl") == []


def test_age_band(world, everyone):
    # On 2026-06-01: 张三 76, 李四 66 (born 1960-06-01: birthday today), 王五 86,
    # 赵六 70, 孙七 80.
    assert sorted(found(everyone, min_age=66, max_age=70)) == sorted(["李四", "赵六"])
    assert sorted(found(everyone, min_age=67)) == sorted(["张三", "王五", "赵六", "孙七"])
    assert found(everyone, max_age=65) == []
    assert found(everyone, min_age=80, max_age=85) == ["孙七"]


def test_birth_bound_on_leap_day():
    assert birth_bound(datetime.date(2024, 2, 29), 1) == datetime.date(2023, 2, 28)
    assert birth_bound(datetime.date(2026, 6, 1), 66) == datetime.date(1960, 6, 1)


def test_filters(world, everyone):
    a = world.net.a
    assert sorted(found(everyone, region=a.townships[0])) == sorted(["张三", "李四"])
    assert sorted(found(everyone, region="411522")) == sorted(["赵六", "孙七"])
    assert found(everyone, grid=a.grids[0].pk) == ["张三"]
    assert found(everyone, care_setting="institution") == ["孙七"]
    assert found(everyone, flags=["empty_nest"]) == ["张三"]
    assert found(everyone, flags=["empty_nest", "living_alone"]) == []
    assert found(everyone, "王", flags=["living_alone"]) == ["王五"]
    assert sorted(found(everyone, status="active")) == sorted(
        ["张三", "李四", "王五", "赵六", "孙七"]
    )
    with pytest.raises(ValidationFailed) as unknown:
        found(everyone, flags=["rich"])
    assert (unknown.value.code, unknown.value.field) == ("unknown_filter", "flags")


def test_pinyin_search_orders_by_the_column_searched(world, everyone):
    # "z": initials — 赵六 (zl) before 张三 (zs); "zha": full pinyin — zhangsan, zhaoliu.
    assert found(everyone, "z") == ["赵六", "张三"]
    assert found(everyone, "zha") == ["张三", "赵六"]
    assert search_residents(everyone, "zha").query.order_by == ("name_pinyin", "pk")
    assert search_residents(everyone, "zs").query.order_by == ("name_initials", "pk")
    assert search_residents(everyone, "").query.order_by == ("name", "pk")


def test_initials_with_a_vowel_fall_back_from_pinyin(world, everyone):
    from yiyang.residents.tests.conftest import register

    register(world.registrar, world.net.a.villages[0], "王爱华", datetime.date(1952, 2, 2), 66)
    # "wah" contains a vowel but no pinyin starts with it: read as initials.
    assert found(everyone, "wah") == ["王爱华"]
    assert found(everyone, "wangai") == ["王爱华"]


def test_a_narrow_filter_reads_the_region_first_with_the_same_result(world, everyone):
    village = world.net.a.villages[0]
    assert found(everyone, region=village.prefix) == ["张三"]
    assert found(everyone, region=village.prefix, flags=["empty_nest"]) == ["张三"]
    assert found(everyone, region=village.prefix, flags=["living_alone"]) == []
    assert found(everyone, grid=world.net.a.grids[0].pk) == ["张三"]
    assert found(everyone, region=village.prefix, status="deceased") == []
