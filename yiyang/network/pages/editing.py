"""The edit flow the care network's create and edit pages share: GET shows the form, POST
validates it, calls the action and redirects to the object, or shows the form again with
the action's message next to the field (htmx: the form fragment, a client redirect)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from yiyang.accounts.actor import PageRequest
from yiyang.common.errors import ValidationFailed
from yiyang.common.pages import apply_error


def edit_page(
    request: PageRequest,
    form: Any,
    *,
    save: Callable[[], Any],
    heading: str,
    back: tuple[str, str],
    done: Callable[[Any], str],
    aliases: dict[str, str] | None = None,
) -> HttpResponse:
    """GET shows the form; POST validates the input, calls the service and redirects to
    the object, or shows the form again with the service's message next to the field.
    With htmx the form fragment is returned (and a client redirect on success)."""
    if request.method == "POST" and form.is_valid():
        if form.instance.pk and not form.has_changed():
            messages.info(request, _("Nothing changed."))
            return redirect_to(request, done(form.instance))
        try:
            obj = save()
        except ValidationFailed as error:
            apply_error(form, error, aliases)
        else:
            messages.success(request, _("Saved."))
            return redirect_to(request, done(obj))
    context = {
        "form": form,
        "heading": heading,
        "back_url": back[0],
        "back_label": back[1],
        "cancel_url": back[0],
    }
    template = "network/_form.html" if request.htmx else "network/form_page.html"
    return render(request, template, context)


def redirect_to(request: PageRequest, url: str) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)
