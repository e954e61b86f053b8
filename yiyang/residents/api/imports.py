"""Residents API (see ``yiyang.residents.api``)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["residents"])
