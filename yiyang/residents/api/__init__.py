"""``/api/v1/residents/``: one sub-router per area (registry, people and consent, health
record, import/export). Object paths use ``{int:...}`` converters so that literal paths
(``/imports/``) never collide with ids."""

from __future__ import annotations

from ninja import Router

from yiyang.residents.api import health, imports, people, registry

router = Router(tags=["residents"])
router.add_router("", imports.router)
router.add_router("", people.router)
router.add_router("", health.router)
router.add_router("", registry.router)
