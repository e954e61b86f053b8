"""The emergency API (to be filled in)."""

from ninja import Router

router = Router(tags=["emergency"])
