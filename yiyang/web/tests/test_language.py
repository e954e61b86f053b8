"""The UI language: Chinese by default whatever the browser asks for, English when the
user picks it with the language switch, back to Chinese likewise."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_page_is_chinese_even_for_an_english_browser(client):
    response = client.get(reverse("web:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    text = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in text
    assert "<title>登录 · 医养结合服务平台</title>" in text
    assert 'id="language-switch"' in text


def test_language_switch_to_english_and_back(client):
    url = reverse("web:login")
    response = client.post(reverse("set_language"), {"language": "en", "next": url})
    assert response.status_code == 302
    assert response["Location"] == url
    text = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="en">' in text
    assert "<title>Log in · Yiyang integrated care</title>" in text
    client.post(reverse("set_language"), {"language": "zh-hans", "next": url})
    assert "<title>登录 · 医养结合服务平台</title>" in client.get(url).content.decode()


def test_unknown_language_cookie_falls_back_to_chinese(client):
    client.cookies["django_language"] = "xx"
    text = client.get(reverse("web:login")).content.decode()
    assert '<html lang="zh-hans">' in text


def test_switch_offers_each_language_in_its_own_name(client):
    text = client.get(reverse("web:login")).content.decode()
    assert '<option value="zh-hans" lang="zh-hans" selected>简体中文</option>' in text
    assert '<option value="en" lang="en">English</option>' in text


def test_the_api_follows_accept_language(client):
    # API clients negotiate the language of messages the standard way; Chinese by default
    zh = client.get("/api/v1/network/institutions")
    en = client.get("/api/v1/network/institutions", HTTP_ACCEPT_LANGUAGE="en")
    assert (zh.status_code, en.status_code) == (401, 401)
    assert zh["Content-Language"] == "zh-hans"
    assert en["Content-Language"] == "en"
    assert "Accept-Language" in en["Vary"]


def test_catalogue_has_no_untranslated_or_fuzzy_entries():
    from pathlib import Path

    from babel.messages.pofile import read_po

    import yiyang

    po = Path(yiyang.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    with po.open("rb") as f:
        catalog = read_po(f)
    missing = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert missing == []
