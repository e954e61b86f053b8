"""An alert's one-line summary ("BP 186/118 mmHg", "血压 186/118 mmHg"), in the reader's
language.

An alert stores the facts its summary is made of (``Alert.facts``: the triggering
reading's kind and values, or the silent device's serial, kind, since and interval) and,
for logs, audit details and old rows, an English rendering (``Alert.summary``). Pages, the
API and notifications render the facts in the active language with ``render``; an alert
without facts (opened before they were kept) shows its stored text.

    facts = reading_facts("bp", {"sys": 186, "dia": 118, "hr": 92})
    render(facts)               # "BP 186/118 mmHg, HR 92/min" or "血压 186/118 mmHg，心率 92 次/分"
    render_in(facts, "zh-hans") # a given language (notification parameters)
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from yiyang.devices.kinds import DeviceKind

GLUCOSE_CONTEXT = {
    "fasting": pgettext_lazy("glucose", "fasting"),
    "random": pgettext_lazy("glucose", "random"),
    "postprandial": pgettext_lazy("glucose", "postprandial"),
}


def reading_facts(kind: str, values: dict[str, Any] | None) -> dict[str, Any]:
    """The facts of a reading's summary: its kind and values (JSON-ready)."""
    return {"kind": str(kind), "values": dict(values or {})}


def silence_facts(
    serial: str, device_kind: str, since: datetime.datetime, every_minutes: int
) -> dict[str, Any]:
    """The facts of a silent device's summary."""
    return {
        "kind": "silent",
        "serial": serial,
        "device_kind": device_kind,
        "since": since.isoformat(),
        "every": int(every_minutes),
    }


def news2_facts(scored: Any) -> dict[str, Any]:
    """The facts of a NEWS2 window alert (``news2.Score``): the total (a lower bound), its
    band and each parameter's value and points."""
    return {
        "kind": "news2",
        "total": scored.total,
        "band": scored.band,
        "parts": {k: [f"{scored.values[k]:f}", v] for k, v in scored.parts.items()},
    }


NEWS2_BANDS = {
    "low": pgettext_lazy("NEWS2 band", "low"),
    "low-medium": pgettext_lazy("NEWS2 band", "low-medium"),
    "medium": pgettext_lazy("NEWS2 band", "medium"),
    "high": pgettext_lazy("NEWS2 band", "high"),
}
NEWS2_PARAMETERS = {
    "spo2": pgettext_lazy("NEWS2 parameter", "SpO2"),
    "sbp": pgettext_lazy("NEWS2 parameter", "SBP"),
    "pulse": pgettext_lazy("NEWS2 parameter", "pulse"),
    "temp": pgettext_lazy("NEWS2 parameter", "T"),
}


def _news2(facts: dict[str, Any]) -> str:
    parts = facts.get("parts") if isinstance(facts.get("parts"), dict) else {}
    assert isinstance(parts, dict)
    shown = _(", ").join(
        _("%(parameter)s %(value)s (%(points)s)")
        % {"parameter": NEWS2_PARAMETERS.get(k, k), "value": value, "points": points}
        for k, (value, points) in parts.items()
    )
    band = facts.get("band")
    return _("NEWS2 ≥ %(total)s (%(band)s; %(parts)s; RR, ACVPU, O2 not measured)") % {
        "total": facts["total"],
        "band": NEWS2_BANDS.get(str(band), band),
        "parts": shown,
    }


def _n(value: Any) -> str:
    """A reading value as the device sent it, without a trailing ``.0``."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def _hr(values: dict[str, Any]) -> str:
    if "hr" not in values:
        return ""
    return _(", HR %(hr)s/min") % {"hr": _n(values["hr"])}


def render(facts: dict[str, Any] | None) -> str:
    """The summary of ``facts`` in the active language ("" for no or unknown facts)."""
    if not isinstance(facts, dict):
        return ""
    kind = facts.get("kind")
    v = facts.get("values") if isinstance(facts.get("values"), dict) else {}
    assert isinstance(v, dict)
    try:
        if kind == "bp":
            return _("BP %(sys)s/%(dia)s mmHg") % {"sys": _n(v["sys"]), "dia": _n(v["dia"])} + _hr(
                v
            )
        if kind == "glucose":
            context = GLUCOSE_CONTEXT.get(str(v.get("context", "")))
            text = _("Glucose %(mmol)s mmol/L") % {"mmol": _n(v["mmol"])}
            if context is not None:
                text += _(" (%(context)s)") % {"context": context}
            return text
        if kind == "spo2":
            return _("SpO2 %(spo2)s%%") % {"spo2": _n(v["spo2"])} + _hr(v)
        if kind == "temp":
            return _("Temperature %(c)s °C") % {"c": _n(v["c"])}
        if kind == "hr":
            return _("HR %(hr)s/min") % {"hr": _n(v["hr"])}
        if kind == "weight":
            return _("Weight %(kg)s kg") % {"kg": _n(v["kg"])}
        if kind == "battery":
            return _("Battery %(pct)s%%") % {"pct": _n(v["pct"])}
        if kind == "sos":
            return _("SOS pressed")
        if kind == "fall":
            return _("Fall detected")
        if kind == "news2":
            return _news2(facts)
        if kind == "silent":
            since = timezone.localtime(datetime.datetime.fromisoformat(str(facts["since"])))
            labels = dict(DeviceKind.choices)
            return _(
                "Device %(serial)s (%(kind)s) silent since %(since)s; expected every %(every)s min"
            ) % {
                "serial": facts["serial"],
                "kind": labels.get(str(facts.get("device_kind")), facts.get("device_kind")),
                "since": f"{since:%Y-%m-%d %H:%M}",
                "every": facts["every"],
            }
    except (KeyError, TypeError, ValueError):
        return ""
    return ""


def render_in(facts: dict[str, Any] | None, language: str) -> str:
    """``render`` in ``language`` (e.g. ``"en"``, ``"zh-hans"``)."""
    with translation.override(language):
        return render(facts)
