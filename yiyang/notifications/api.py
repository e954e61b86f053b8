"""The notifications API (to be filled in)."""

from ninja import Router

router = Router(tags=["notifications"])
