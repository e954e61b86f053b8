"""The caller's own notifications, mounted at ``/api/v1/notifications``.

* ``GET /notifications`` — the caller's inbox, newest first, paged (``?page=&page_size=``);
  ``?unread=1`` only the unread ones. ``subject`` and ``body`` are rendered in the
  request's language (``Accept-Language``, Chinese by default).
* ``POST /notifications/{id}/read`` — mark one read (again: no change).
* ``POST /notifications/read-all`` — mark all read: ``{"marked": n}``.

Every signed-in user may use her own inbox; another user's notification answers 404 like
a missing one. Errors: ``{"code", "detail", "field"}``.
"""

import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from yiyang.accounts.actor import actor
from yiyang.common.params import Id, Pagination
from yiyang.common.schemas import ErrorOut
from yiyang.notifications import selectors, services, topics
from yiyang.notifications.models import Notification

router = Router(tags=["notifications"])

PAGE_SIZE = 50
ERRORS: dict[int, Any] = {400: ErrorOut, 404: ErrorOut}


class NotificationOut(Schema):
    id: int
    topic: str
    params: dict[str, Any]
    subject: str
    body: str
    link: str
    ref: str
    created_at: datetime.datetime
    read_at: datetime.datetime | None = None
    unread: bool

    @staticmethod
    def resolve_subject(obj: Notification) -> str:
        return topics.render(obj.topic, obj.params)[0]

    @staticmethod
    def resolve_body(obj: Notification) -> str:
        return topics.render(obj.topic, obj.params)[1]

    @staticmethod
    def resolve_unread(obj: Notification) -> bool:
        return obj.read_at is None


class InboxFilter(Schema):
    unread: bool = False


class MarkedOut(Schema):
    marked: int


@router.get(
    "",
    response=list[NotificationOut],
    url_name="notifications_list",
    summary="My notifications, newest first",
)
@paginate(Pagination, page_size=PAGE_SIZE)
def notification_list(request: HttpRequest, filters: Query[InboxFilter]) -> QuerySet:
    qs = selectors.inbox_for(actor(request))
    if filters.unread:
        qs = qs.filter(read_at__isnull=True)
    return qs


@router.post(
    "/read-all",
    response={200: MarkedOut, **ERRORS},
    url_name="notifications_read_all",
    summary="Mark all my notifications read",
)
def notification_read_all(request: HttpRequest) -> Any:
    return {"marked": services.mark_all_read(actor(request))}


@router.post(
    "/{int:pk}/read",
    response={200: NotificationOut, **ERRORS},
    url_name="notifications_read",
    summary="Mark one of my notifications read",
)
def notification_read(request: HttpRequest, pk: Id) -> Any:
    return services.mark_read(actor(request), pk)
