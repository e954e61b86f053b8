"""The HTTP API, ``/api/v1/``: one Django Ninja router per app.

Everything every operation shares is here, once:

- every error answer is ``{"code", "detail", "field"}`` (``ErrorOut``): domain errors,
  schema errors (422), an unreadable body, authentication and CSRF failures, an unknown
  path (also a non-integer id in a path) and a method the path does not have;
- the input guard runs before an operation reads its parameters: text with a control
  character (query, path, form field, uploaded file's name, any string or key of a JSON
  body) is a 422 naming the field; a JSON body that is not valid JSON is a 400; a JSON body
  that is not an object where the operation expects one is a 422;
- the published schema declares the error answers every operation can give (400, 404, 422,
  and 401/403 when it needs authentication), and refuses two different schemas that would
  share one component name.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, re_path, resolve
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import ConfigError, HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation, PathView
from ninja.signature.details import is_pydantic_model

from yiyang.accounts.api_auth import api_auth
from yiyang.common import registry
from yiyang.common.errors import CommonError, DomainError, ValidationFailed
from yiyang.common.schemas import ErrorOut
from yiyang.common.validation import check_text

# --- the input guard ---------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_json(value: Any, path: list[str]) -> None:
    """Every string and key of a parsed JSON body, at any depth, without control characters
    (the field is the dotted path: ``members.0.name``)."""
    if isinstance(value, str):
        check_text(value, ".".join(path) or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, ".".join([*path, key]))
            _check_json(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, [*path, str(index)])


def _expects_object(body_model: Any) -> bool:
    """Whether the operation's JSON body must be an object: always, except a single body
    parameter that is itself a list (or another non-model type)."""
    single = getattr(body_model, "__read_from_single_attr__", None)
    if not single:
        return True
    annotation = body_model.model_fields[single].annotation
    return is_pydantic_model(annotation) or annotation is dict


def _parse_json_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            CommonError.INVALID_BODY,
            _("The request body is not valid JSON: %(why)s") % {"why": exc},
        ) from None


def guard_input(operation: Operation, request: HttpRequest, path_params: dict[str, Any]) -> None:
    """Refuse input that no operation may take (see the module's docstring). Raises a
    ``DomainError``; the handlers below turn it into its answer."""
    for name, value in path_params.items():
        if isinstance(value, str):
            check_text(value, name)
    for name, values in request.GET.lists():
        for value in values:
            check_text(value, name)
    sources = {model.__ninja_param_source__: model for model in operation.models}
    if "form" in sources or "file" in sources:
        for name, values in request.POST.lists():
            for value in values:
                check_text(value, name)
        for name, files in request.FILES.lists():
            for upload in files:
                check_text(upload.name or "", name)
        return
    body_model = sources.get("body")
    if body_model is None or not request.body:
        return
    data = _parse_json_body(request)
    if _expects_object(body_model) and not isinstance(data, dict):
        raise ValidationFailed(
            CommonError.INVALID, _("The request body must be a JSON object."), status=422
        )
    _check_json(data, [])


def _guard(operation: Operation) -> None:
    """Run ``guard_input`` after authentication, before the parameters are read (a schema
    error and a guard error come from the same step and answer the same way)."""
    if getattr(operation, "_yiyang_guarded", False):
        return
    read_values = operation._get_values

    def _get_values(request: HttpRequest, path_params: Any, temporal_response: Any) -> Any:
        guard_input(operation, request, path_params)
        return read_values(request, path_params, temporal_response)

    operation._get_values = _get_values  # type: ignore[method-assign]
    operation._yiyang_guarded = True  # type: ignore[attr-defined]


# --- answers outside any operation -------------------------------------------------------


def _error(code: str, detail: str, status: int, **headers: str) -> HttpResponse:
    body = json.dumps({"code": code, "detail": detail, "field": None}, ensure_ascii=False)
    response = HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    for name, value in headers.items():
        response[name] = value
    return response


def _method_not_allowed(path_view: PathView) -> HttpResponse:
    allowed = sorted({method for op in path_view.operations for method in op.methods})
    return _error(
        CommonError.METHOD_NOT_ALLOWED,
        _("This path does not answer this method; it answers %(methods)s.")
        % {"methods": ", ".join(allowed)},
        405,
        Allow=", ".join(allowed),
    )


@csrf_exempt
def endpoint_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any path under /api/v1/ that no operation has (an unknown path, or a path whose id
    is not a whole number): a JSON 404. Without a trailing slash where the path with one
    exists, a GET is redirected as Django's APPEND_SLASH would."""
    if settings.APPEND_SLASH and not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        found = match is not None and match.func is not endpoint_not_found
        if found and request.method in ("GET", "HEAD"):
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(
                request.path + "/" + (f"?{query}" if query else "")
            )
    return _error(CommonError.NOT_FOUND, _("There is no API endpoint at this path."), 404)


# --- the schema --------------------------------------------------------------------------

ERROR_COMPONENT = "ErrorOut"
_ERROR_DESCRIPTIONS = {
    400: "Bad request: the input breaks a rule, or the body cannot be read",
    401: "Not authenticated",
    403: "Not allowed (role's permission, CSRF, second factor or password change)",
    404: "Not found, or outside the caller's data scope",
    422: "Input that does not fit the schema",
}


class CheckedOpenAPISchema(OpenAPISchema):
    """Ninja's schema, refusing two different schemas under one component name (Ninja keeps
    whichever came last, so the published schema was wrong for the other one's
    operations)."""

    def add_schema_definitions(self, definitions: dict) -> None:
        known = getattr(self, "schemas", {})
        for name, definition in definitions.items():
            if name in known and known[name] != definition:
                raise ConfigError(
                    f"Two different schemas are both named {name!r} in the OpenAPI schema; "
                    "rename one of them."
                )
        super().add_schema_definitions(definitions)


def declare_errors(schema: dict[str, Any]) -> None:
    """Every operation declares the error answers it can give: 400 (a domain rule, an
    unreadable body), 404 (an id in its input not found or out of scope), 422 (input that
    does not fit), and 401/403 when it needs authentication."""
    components = schema["components"]["schemas"]
    error_schema = ErrorOut.json_schema()
    if components.setdefault(ERROR_COMPONENT, error_schema) != error_schema:
        raise ConfigError(f"{ERROR_COMPONENT} is not the common error schema")
    ref = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for operations in schema["paths"].values():
        for operation in operations.values():
            statuses = [400, 404, 422]
            if operation.get("security"):
                statuses += [401, 403]
            responses = operation["responses"]
            declared = {str(status) for status in responses}
            for status in sorted(statuses):
                if str(status) not in declared:
                    responses[status] = {
                        "description": _ERROR_DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": ref}},
                    }


# --- the API -----------------------------------------------------------------------------


class YiyangAPI(NinjaAPI):
    def _get_bound_routers(self) -> Any:
        bound = super()._get_bound_routers()
        for router in bound:
            for path_view in router.path_operations.values():
                # Ninja's own answer is a bare HttpResponseNotAllowed.
                path_view._not_allowed = partial(_method_not_allowed, path_view)  # type: ignore[method-assign]
                for operation in path_view.operations:
                    _guard(operation)
        return bound

    def _get_urls(self) -> Any:
        urls = super()._get_urls()
        # [\s\S]: a path with an encoded line break is an unknown path too (. stops there,
        # and Django's HTML 404 answered).
        urls.append(re_path(r"^(?P<rest>[\s\S]*)$", endpoint_not_found, name="not_found"))
        return urls

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        schema = CheckedOpenAPISchema(api=self, path_prefix=path_prefix)
        declare_errors(schema)
        return schema


api = YiyangAPI(
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
        "code": CommonError.INVALID,
        "detail": f"{field}: {message}" if field else message,
        "field": field,
        "errors": [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in errors
        ],
    }
    return api.create_response(request, body, status=422)


_HTTP_ERROR_CODES = {
    400: CommonError.INVALID_BODY,
    401: CommonError.NOT_AUTHENTICATED,
    403: CommonError.PERMISSION_DENIED,
    404: CommonError.NOT_FOUND,
    429: CommonError.THROTTLED,
}


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    """Ninja's own errors (authentication, the session's CSRF check, an unreadable body) in
    the common shape."""
    code = _HTTP_ERROR_CODES.get(exc.status_code, CommonError.ERROR)
    detail = str(exc)
    if exc.status_code == 401:
        detail = _("Authentication required: send 'Authorization: Bearer <token>'.")
    elif exc.status_code == 403 and "CSRF" in detail:
        code = CommonError.CSRF_FAILED
        detail = _(
            "CSRF check failed: a request with the session cookie must send the CSRF token "
            "in the X-CSRFToken header."
        )
    return api.create_response(
        request, {"code": code, "detail": detail, "field": None}, status=exc.status_code
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404):
    return api.create_response(
        request,
        {"code": CommonError.NOT_FOUND, "detail": _("Not found."), "field": None},
        status=404,
    )


@api.exception_handler(MultiPartParserError)
def unreadable_multipart(request: HttpRequest, exc: MultiPartParserError):
    """A multipart body Django cannot split (no boundary, a broken part): 400, whatever the
    caller's role (the body is read before the operation checks the permission)."""
    return _invalid_body(request, _("The multipart body cannot be read: %(why)s") % {"why": exc})


@api.exception_handler(SuspiciousOperation)
def refused_request(request: HttpRequest, exc: SuspiciousOperation):
    """A body Django refuses to read (too large, too many fields or files): 400."""
    return _invalid_body(request, _("The request body was refused: %(why)s") % {"why": exc})


def _invalid_body(request: HttpRequest, detail: str):
    return api.create_response(
        request, {"code": CommonError.INVALID_BODY, "detail": detail, "field": None}, status=400
    )


def _routers() -> None:
    """Mount every router an app registered (``common.registry.register_api_router``, from
    its ``plugin`` module; ADR 0024), in installed-app order."""
    for prefix, router_path in registry.api_routers():
        api.add_router(prefix, import_string(router_path))


_routers()


# --- who may read the schema and the docs page (settings.API_DOCS, ADR 0005) ------------
# Set before yiyang/urls.py builds the URLs (``api.urls``), which wraps both views with it.
def _docs_access() -> None:
    from yiyang.accounts.api_auth import docs_access

    api.docs_decorator = docs_access


_docs_access()
