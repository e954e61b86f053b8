"""Pages of the notifications app, mounted at ``/notifications/`` (namespace ``notifications``)."""

from django.urls import URLPattern

app_name = "notifications"

urlpatterns: list[URLPattern] = []
