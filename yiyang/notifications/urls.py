"""Pages of the notifications app, mounted at ``/notifications/`` (namespace ``notifications``)."""

from django.urls import URLPattern, path

from yiyang.notifications import pages

app_name = "notifications"

urlpatterns: list[URLPattern] = [
    path("", pages.inbox, name="inbox"),
    path("badge/", pages.badge, name="badge"),
    path("read-all/", pages.mark_all_read, name="read_all"),
    path("<int:pk>/read/", pages.mark_read, name="read"),
]
