"""The home of a resident's own login and of a family login (issue 12): her record in plain
words and large text — conditions by name without ICD codes, medicines with how and when
in words (每日一次, not qd), next assessment and visit, latest readings — and no API tokens
on her security page."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from yiyang.common.permissions import Role
from yiyang.residents import loinc
from yiyang.residents.models import (
    Condition,
    Encounter,
    Medication,
    Observation,
    ProxyGrant,
    Resident,
)
from yiyang.residents.prescription_words import frequency_words, route_words
from yiyang.residents.tests.conftest import family_login
from yiyang.testing.network import make_user


def chinese_client(user) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("given", "en", "zh"),
    [
        ("qd", "once a day", "每日一次"),
        ("Q.D.", "once a day", "每日一次"),
        ("bid", "twice a day", "每日两次"),
        ("tid", "three times a day", "每日三次"),
        ("qn", "once every night", "每晚一次"),
        ("prn", "when needed", "需要时服用"),
        ("每日一次", "每日一次", "每日一次"),
    ],
)
def test_frequencies_in_words(given, en, zh):
    with translation.override("en"):
        assert frequency_words(given) == en
    with translation.override("zh-hans"):
        assert frequency_words(given) == zh


def test_routes_in_words():
    with translation.override("zh-hans"):
        assert route_words("po") == "口服"
        assert route_words("ih") == "皮下注射"
        assert route_words("口服") == "口服"


@pytest.fixture
def her(world) -> Resident:
    """张三 with her own login, a condition, two medicines, readings and what is next."""
    zhang = world.zhang
    zhang.account = make_user(Role.RESIDENT, scope="self", username="zhang-own")
    zhang.save(update_fields=["account"])
    today = timezone.localdate()
    Condition.objects.create(resident=zhang, icd10="I10", name="原发性高血压")
    Condition.objects.create(resident=zhang, icd10="J45", name="哮喘", status="resolved")
    Medication.objects.create(
        resident=zhang, name="氨氯地平片", dose="5mg", frequency="qd", route="po", long_term=True
    )
    Medication.objects.create(resident=zhang, name="二甲双胍片", dose="0.5g", frequency="tid")
    Medication.objects.create(
        resident=zhang, name="已停药", frequency="qd", end=today - datetime.timedelta(days=3)
    )
    at = timezone.now() - datetime.timedelta(hours=2)
    for code, value in ((loinc.SYSTOLIC, 138), (loinc.DIASTOLIC, 86), (loinc.GLUCOSE_FASTING, 6.4)):
        Observation.objects.create(
            resident=zhang,
            code=code,
            value=Decimal(str(value)),
            unit=loinc.CODES[code].unit,
            effective_at=at,
        )
    Encounter.objects.create(
        resident=zhang, kind="home_visit", date=today + datetime.timedelta(days=10)
    )
    from yiyang.assessments.models import Due

    Due.objects.create(
        resident=zhang,
        instrument_code="barthel",
        due_on=today + datetime.timedelta(days=20),
        reason="routine",
        created_on=today,
    )
    return zhang


def card(page: str, resident: Resident) -> str:
    return page.split(f'id="plain-{resident.pk}"', 1)[1].split("</section>", 1)[0]


def test_her_home_is_her_record_in_plain_words(world, her):
    client = chinese_client(her.account)
    page = client.get("/").content.decode()
    assert "senior.css" in page  # large text and big targets on every page of hers
    mine = card(page, her)
    conditions = mine.split('id="plain-conditions', 1)[1].split("</ul>", 1)[0]
    assert "原发性高血压" in conditions and "I10" not in mine
    assert "哮喘" not in conditions  # resolved
    medicines = mine.split('id="plain-medicines', 1)[1].split("</ul>", 1)[0]
    assert "氨氯地平片" in medicines and "每次 5mg，每日一次，口服" in medicines
    assert "二甲双胍片" in medicines and "每日三次" in medicines
    assert not re.search(r"\b(qd|tid|po)\b", medicines) and "已停药" not in medicines
    readings = mine.split('id="plain-readings', 1)[1].split("</dl>", 1)[0]
    assert "血压" in readings and "138/86 mmHg" in readings and "6.4 mmol/L" in readings
    upcoming = mine.split('id="plain-next', 1)[1].split("</ul>", 1)[0]
    assert "下次评估" in upcoming and "下次随访" in upcoming and "上门巡诊" in upcoming
    assert world.net.a.team.name in mine
    assert 'data-flag="empty_nest"' in mine
    # "My record" shows the same, and the whole record is one link away
    assert 'id="plain-home"' in client.get(reverse("residents:list")).content.decode()
    assert reverse("residents:detail", args=[her.pk]) in mine


def test_family_sees_the_plain_summary_with_the_readings_right_only(world, her):
    daughter = family_login(world, her)
    page = chinese_client(daughter).get("/").content.decode()
    mine = card(page, her)
    assert "原发性高血压" in mine and "每日一次" in mine and "138/86 mmHg" in mine
    ProxyGrant.objects.filter(user=daughter).update(can_view_readings=False, can_view_alerts=True)
    page = chinese_client(daughter).get("/").content.decode()
    mine = card(page, her)
    assert "原发性高血压" not in mine and "138/86" not in mine
    assert "她的健康档案未与您共享" in mine


def test_api_tokens_are_offered_only_to_who_uses_the_api(world, her):
    security = reverse("accounts:security")
    own = chinese_client(her.account).get(security).content.decode()
    assert 'id="tokens"' not in own and "API 令牌" not in own
    daughter = family_login(world, her)
    assert 'id="tokens"' not in chinese_client(daughter).get(security).content.decode()
    doctor = make_user(Role.DOCTOR, scope=world.net.a.county)
    assert 'id="tokens"' in chinese_client(doctor).get(security).content.decode()


def test_her_whole_record_reads_in_words_too(world, her):
    client = chinese_client(her.account)
    conditions = client.get(reverse("residents:conditions", args=[her.pk])).content.decode()
    assert "原发性高血压" in conditions and "I10" not in conditions
    medications = client.get(reverse("residents:medications", args=[her.pk])).content.decode()
    assert "每日一次" in medications and "口服" in medications
    doctor = make_user(Role.DOCTOR, scope=world.net.a.county)
    staff = chinese_client(doctor).get(reverse("residents:conditions", args=[her.pk]))
    assert "I10" in staff.content.decode()
