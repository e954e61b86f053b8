"""Resident pages (see ``yiyang.residents.pages``)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern

from yiyang.residents.models import Resident

urlpatterns: list[URLPattern] = []


def header_extra(user: Any, resident: Resident) -> dict[str, Any]:
    """Extra context for the resident header (filled in by the registry area)."""
    return {}
