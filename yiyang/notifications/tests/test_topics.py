"""Topics: rendered in the active language, replaced when registered again, and never an
error for an unknown topic or parameters that do not fit."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from yiyang.notifications import topics

PARAMS = {"serial": "BP-411521-000123", "name": "张秀英"}


def test_rendered_in_chinese_and_english(topic) -> None:
    with translation.override("zh-hans"):
        assert topics.render(topic, PARAMS) == (
            "BP-411521-000123 已绑定到 张秀英。",
            "BP-411521-000123 已解绑。",
        )
    with translation.override("en"):
        assert topics.render(topic, PARAMS) == (
            "BP-411521-000123 is bound to 张秀英.",
            "BP-411521-000123 is unbound.",
        )


def test_registering_again_replaces(topic) -> None:
    topics.register(topic, subject=gettext_lazy("Hello %(name)s"), body="Body %(serial)s")
    with translation.override("en"):
        assert topics.render(topic, PARAMS) == ("Hello 张秀英", "Body BP-411521-000123")


def test_unknown_topic_shows_the_topic_and_the_params() -> None:
    assert topics.render("nobody.registered", {"b": 2, "a": "一"}) == (
        "nobody.registered",
        "a: 一; b: 2",
    )
    assert topics.render("nobody.registered", {}) == ("nobody.registered", "")


def test_missing_param_falls_back_without_raising(topic) -> None:
    with translation.override("en"):
        # The subject needs "name", the body only "serial".
        assert topics.render(topic, {"serial": "S-1"}) == (topic, "S-1 is unbound.")
        assert topics.render(topic, {}) == (topic, "")


def test_params_that_are_not_a_mapping_do_not_raise(topic) -> None:
    assert topics.render(topic, None) == (topic, "")  # type: ignore[arg-type]


def test_a_topic_needs_a_name() -> None:
    with pytest.raises(ValueError):
        topics.register(" ", subject="s", body="b")
