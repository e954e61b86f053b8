"""Shared plumbing for server-rendered pages (ground floor: every app's pages use it).

``page(perm)`` is the one access rule of every console page: login first (redirect to the
login page), then the role's permission (else the 403 page), then the object in scope
(a selector raising ``NotFound`` becomes the 404 page, exactly like a missing object).
``apply_error`` shows a service's ``ValidationFailed`` next to the form field at fault.
``refuse_control_characters`` runs first in both page decorators: a query parameter or form
field with a control character (a NUL cannot even be stored by PostgreSQL; many views read
``request.GET`` directly, without a form that would refuse it) is the 400 page naming the
field.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from yiyang.common.actor import Actor
from yiyang.common.errors import DomainError, NotFound, PermissionDenied
from yiyang.common.permissions import Permission
from yiyang.common.validation import control_characters_error, has_control_characters

PAGE_SIZE = 50


class PageRequest(HttpRequest):
    """The request a ``page`` view receives: a logged-in user, and htmx details."""

    user: Actor  # type: ignore[assignment]
    htmx: HtmxDetails


View = Callable[..., HttpResponseBase]


def refuse_control_characters(request: HttpRequest) -> HttpResponse | None:
    """The 400 page when a query parameter or a form field (not an uploaded file) has a
    control character other than tab, line feed and carriage return; else None."""
    for data in (request.GET, request.POST):
        for name, values in data.lists():
            if any(has_control_characters(value) for value in values):
                error = control_characters_error(name)
                return render(request, "400.html", {"message": error.detail}, status=400)
    return None


def refuses_control_characters(view: View) -> View:
    """Decorate a view that is not a ``page``: ``refuse_control_characters`` first."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return refuse_control_characters(request) or view(request, *args, **kwargs)

    return wrapped


def errors_to_http(view: View) -> View:
    """Login first; text with control characters is the 400 page; a service's ``NotFound``
    becomes the 404 page, ``PermissionDenied`` the 403 page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        refused = refuse_control_characters(request)
        if refused is not None:
            return refused
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.detail) from exc
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.detail) from exc

    return login_required(wrapped)


def page(perm: Permission) -> Callable[[View], View]:
    """Decorate a page view: login → permission → scope (NotFound → 404)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def checked(request: PageRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.has_perm_code(perm):  # type: ignore[union-attr]
                raise DjangoPermissionDenied
            return view(request, *args, **kwargs)

        return errors_to_http(checked)

    return decorator


def apply_error(
    form: forms.BaseForm, error: DomainError, aliases: dict[str, str] | None = None
) -> None:
    """Attach a service error to its field (or to the form when the field is unknown).
    ``aliases`` maps a service's field name to the form field that shows it."""
    field = (aliases or {}).get(error.field or "", error.field)
    field = field if field in form.fields else None
    form.add_error(field, error.detail)


def paginate(request: HttpRequest, queryset: Any, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current filter query string without ``page``, for the pager links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
