"""Device registry pages, mounted at ``/devices/`` (namespace ``devices``)."""

from django.urls import URLPattern, path

from yiyang.devices import pages

app_name = "devices"

urlpatterns: list[URLPattern] = [
    path("", pages.device_list, name="list"),
    path("new/", pages.device_create, name="create"),
    path("quarantine/", pages.quarantine_list, name="quarantine"),
    path("residents/", pages.resident_options, name="resident_options"),
    path("<int:pk>/", pages.device_detail, name="detail"),
    path("<int:pk>/edit/", pages.device_edit, name="edit"),
    path("<int:pk>/secret/", pages.device_rotate, name="rotate_secret"),
    path("<int:pk>/binding/", pages.device_bind, name="bind"),
    path("<int:pk>/unbind/", pages.device_unbind, name="unbind"),
    path("<int:pk>/retire/", pages.device_retire, name="retire"),
]
