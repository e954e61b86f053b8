"""Device registry and alert pages, mounted at ``/devices/`` (namespace ``devices``)."""

from django.urls import URLPattern, path

from yiyang.devices import pages, pages_alerts, pages_duty, pages_rules, pages_thresholds

app_name = "devices"

urlpatterns: list[URLPattern] = [
    path("", pages.device_list, name="list"),
    path("new/", pages.device_create, name="create"),
    path("quarantine/", pages.quarantine_list, name="quarantine"),
    path("residents/", pages.resident_options, name="resident_options"),
    path("residents/<int:pk>/alerts/", pages_alerts.resident_alerts, name="resident_alerts"),
    path(
        "residents/<int:pk>/thresholds/",
        pages_thresholds.resident_thresholds,
        name="resident_thresholds",
    ),
    path("alerts/", pages_alerts.alert_board, name="alerts"),
    path("alerts/poll/", pages_alerts.alert_board_poll, name="alerts_poll"),
    path("alerts/<int:pk>/", pages_alerts.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/acknowledge/", pages_alerts.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:pk>/handle/", pages_alerts.alert_handle, name="alert_handle"),
    path("alerts/<int:pk>/close/", pages_alerts.alert_close, name="alert_close"),
    path("duty/", pages_duty.duty_roster, name="duty"),
    path("duty/<int:pk>/end/", pages_duty.duty_end, name="duty_end"),
    path("escalation/", pages_duty.escalation_schedule, name="escalation"),
    path("rules/", pages_rules.rule_list, name="rules"),
    path("<int:pk>/", pages.device_detail, name="detail"),
    path("<int:pk>/edit/", pages.device_edit, name="edit"),
    path("<int:pk>/secret/", pages.device_rotate, name="rotate_secret"),
    path("<int:pk>/binding/", pages.device_bind, name="bind"),
    path("<int:pk>/unbind/", pages.device_unbind, name="unbind"),
    path("<int:pk>/retire/", pages.device_retire, name="retire"),
]
