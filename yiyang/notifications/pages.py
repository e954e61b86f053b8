"""The signed-in user's inbox: ``/notifications/`` (newest first, unread highlighted,
rendered in the page language), mark one or all read, and the unread badge of the page
header (``/notifications/badge/``, polled by htmx every few seconds).

Access: every signed-in user, for her own notifications only; another user's notification
is a 404 like a missing one. Reading one's own inbox is not audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from yiyang.accounts.actor import PageRequest
from yiyang.accounts.models import User
from yiyang.common.pages import errors_to_http, paginate, query_without_page
from yiyang.notifications import selectors, services, topics
from yiyang.notifications.models import Notification

BADGE_MAX = 99  # shown as "99+" above this


def badge_context(user: User) -> dict[str, Any]:
    count = selectors.unread_count(user)
    return {"unread": count, "unread_text": f"{BADGE_MAX}+" if count > BADGE_MAX else str(count)}


def _rendered(row: Notification) -> Notification:
    row.subject, row.body = topics.render(row.topic, row.params)  # type: ignore[attr-defined]
    return row


@require_GET
@errors_to_http
def inbox(request: PageRequest) -> HttpResponse:
    qs = selectors.inbox_for(request.user)
    only_unread = request.GET.get("unread") == "1"
    if only_unread:
        qs = qs.filter(read_at__isnull=True)
    page_obj = paginate(request, qs)
    for row in page_obj:
        _rendered(row)
    badge = badge_context(request.user)
    context = {
        "page_obj": page_obj,
        "query": query_without_page(request),
        "only_unread": only_unread,
        "unread": badge["unread"],
        "notification_badge": badge,  # the header shows the count without a second query
    }
    return render(request, "notifications/inbox.html", context)


@require_POST
@errors_to_http
def mark_read(request: PageRequest, pk: int) -> HttpResponse:
    row = services.mark_read(request.user, pk)
    if request.htmx:
        context = {"row": _rendered(row), **badge_context(request.user)}
        return render(request, "notifications/_row_read.html", context)
    return redirect("notifications:inbox")


@require_POST
@errors_to_http
def mark_all_read(request: PageRequest) -> HttpResponse:
    count = services.mark_all_read(request.user)
    if count:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked read.",
                "%(count)d notifications marked read.",
                count,
            )
            % {"count": count},
        )
    return redirect("notifications:inbox")


@require_GET
def badge(request: PageRequest) -> HttpResponseBase:
    """Only the badge. A poll whose session has ended (logged out elsewhere, or idle)
    stops polling (htmx status 286) instead of swapping the login page into the header;
    a poll does not count as activity for the idle timeout."""
    if request.htmx and not request.user.is_authenticated:  # type: ignore[attr-defined]
        return HttpResponseStopPolling()
    return _badge(request)


def _not_activity(request: HttpRequest) -> None:
    """A badge poll is the browser's doing, not the user's: it must not keep an idle
    session alive (``accounts.middleware`` logs out after ``SESSION_IDLE_TIMEOUT``). The
    middleware refreshes ``last_seen`` (at most every min(60 s, timeout/10)) before the
    view runs; when it did so for this poll, put back the value the session store holds."""
    session = request.session
    if not session.modified or not session.session_key:
        return
    stored = session.__class__(session.session_key).load()
    if "last_seen" in stored:
        session["last_seen"] = stored["last_seen"]


@errors_to_http
def _badge(request: PageRequest) -> HttpResponse:
    _not_activity(request)
    response = render(request, "notifications/_badge.html", badge_context(request.user))
    response["Cache-Control"] = "no-store"
    return response
