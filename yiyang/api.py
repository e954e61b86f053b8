"""The HTTP API, ``/api/v1/``: one Django Ninja router per app."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI

from yiyang.accounts.api_auth import api_auth
from yiyang.common.errors import DomainError

api = NinjaAPI(
    title="Yiyang API",
    version="1",
    urls_namespace="api",
    auth=api_auth,
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


def _routers() -> None:
    from yiyang.accounts.api import router as accounts_router
    from yiyang.audit.api import router as audit_router
    from yiyang.network.api import router as network_router

    api.add_router("/auth", accounts_router)
    api.add_router("/network", network_router)
    api.add_router("/audit", audit_router)


_routers()
