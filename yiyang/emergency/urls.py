"""Pages of the emergency app, mounted at ``/emergency/`` (namespace ``emergency``)."""

from django.urls import URLPattern, path

from yiyang.emergency import pages

app_name = "emergency"

urlpatterns: list[URLPattern] = [
    path("", pages.call_list, name="list"),
    path("log/", pages.call_log, name="log"),
    path("lookup/", pages.phone_lookup, name="lookup"),
    path("from-alert/<int:alert_pk>/", pages.from_alert, name="from_alert"),
    path("<int:pk>/", pages.call_detail, name="detail"),
    path("<int:pk>/take/", pages.call_take, name="take"),
    path("<int:pk>/steps/", pages.call_step, name="step"),
    path("<int:pk>/identify/", pages.call_identify, name="identify"),
    path("<int:pk>/close/", pages.call_close, name="close"),
    path(
        "<int:pk>/contacts/<int:contact_pk>/phone/",
        pages.contact_phone,
        name="contact_phone",
    ),
]
