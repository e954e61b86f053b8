"""The HTTP API, ``/api/v1/``: one Django Ninja router per app."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import ValidationError as SchemaError

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


# Where a schema error happened and the parameter names that wrap the input fields.
_ERROR_LOCATIONS = {"body", "query", "path", "form", "file", "header", "cookie"}
_WRAPPERS = {"payload", "filters"}


@api.exception_handler(SchemaError)
def schema_error(request: HttpRequest, exc: SchemaError):
    """Input that does not fit the schema: 422 in the same shape as a DomainError."""
    errors = exc.errors or [{}]
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if str(p) not in _ERROR_LOCATIONS]
    if loc and loc[0] in _WRAPPERS:
        loc = loc[1:]
    field = ".".join(loc) or None
    message = str(first.get("msg", "invalid input"))
    body = {
        "code": "invalid",
        "detail": f"{field}: {message}" if field else message,
        "field": field,
        "errors": [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in errors
        ],
    }
    return api.create_response(request, body, status=422)


def _routers() -> None:
    from yiyang.accounts.api import router as accounts_router
    from yiyang.assessments.api import router as assessments_router
    from yiyang.audit.api import router as audit_router
    from yiyang.devices.api import router as devices_router
    from yiyang.devices.api_alerts import router as alerts_router
    from yiyang.devices.api_duty import router as escalation_router
    from yiyang.devices.api_ingest import router as ingest_router
    from yiyang.devices.api_rules import router as rules_router
    from yiyang.devices.api_thresholds import router as thresholds_router
    from yiyang.emergency.api import router as emergency_router
    from yiyang.network.api import router as network_router
    from yiyang.notifications.api import router as notifications_router
    from yiyang.residents.api import router as residents_router

    api.add_router("/auth", accounts_router)
    api.add_router("/network", network_router)
    api.add_router("/audit", audit_router)
    api.add_router("/residents", residents_router)
    api.add_router("/assessments", assessments_router)
    api.add_router("/devices", devices_router)
    api.add_router("/alerts", alerts_router)
    api.add_router("/alerts/residents", thresholds_router)
    api.add_router("/alerts/rules", rules_router)
    api.add_router("/escalation", escalation_router)
    api.add_router("/ingest", ingest_router)
    api.add_router("/emergency", emergency_router)
    api.add_router("/notifications", notifications_router)


_routers()


# --- who may read the schema and the docs page (settings.API_DOCS, ADR 0005) ------------
# Set before yiyang/urls.py builds the URLs (``api.urls``), which wraps both views with it.
def _docs_access() -> None:
    from yiyang.accounts.api_auth import docs_access

    api.docs_decorator = docs_access


_docs_access()
