from __future__ import annotations

from ninja import Router, Schema

from yiyang.common.permissions import require_perm
from yiyang.common.schemas import ErrorOut

from .permissions import ExamplePerm

router = Router(tags=["example"])


class PingOut(Schema):
    pong: str


@router.get("/ping", response={200: PingOut, 403: ErrorOut})
def ping(request):
    require_perm(request.auth, ExamplePerm.VIEW)
    return {"pong": request.auth.username}
