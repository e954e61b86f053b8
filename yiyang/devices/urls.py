"""Device registry and alert pages, mounted at ``/devices/`` (namespace ``devices``)."""

from django.urls import URLPattern, path

from yiyang.devices.pages import alerts, duty, registry, rules, thresholds

app_name = "devices"

urlpatterns: list[URLPattern] = [
    path("", registry.device_list, name="list"),
    path("new/", registry.device_create, name="create"),
    path("quarantine/", registry.quarantine_list, name="quarantine"),
    path("residents/", registry.resident_options, name="resident_options"),
    path("residents/<int:pk>/alerts/", alerts.resident_alerts, name="resident_alerts"),
    path(
        "residents/<int:pk>/thresholds/",
        thresholds.resident_thresholds,
        name="resident_thresholds",
    ),
    path("alerts/", alerts.alert_board, name="alerts"),
    path("alerts/poll/", alerts.alert_board_poll, name="alerts_poll"),
    path("alerts/<int:pk>/", alerts.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/acknowledge/", alerts.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:pk>/handle/", alerts.alert_handle, name="alert_handle"),
    path("alerts/<int:pk>/close/", alerts.alert_close, name="alert_close"),
    path("duty/", duty.duty_roster, name="duty"),
    path("duty/<int:pk>/end/", duty.duty_end, name="duty_end"),
    path("escalation/", duty.escalation_schedule, name="escalation"),
    path("rules/", rules.rule_list, name="rules"),
    path("<int:pk>/", registry.device_detail, name="detail"),
    path("<int:pk>/edit/", registry.device_edit, name="edit"),
    path("<int:pk>/secret/", registry.device_rotate, name="rotate_secret"),
    path("<int:pk>/binding/", registry.device_bind, name="bind"),
    path("<int:pk>/unbind/", registry.device_unbind, name="unbind"),
    path("<int:pk>/retire/", registry.device_retire, name="retire"),
]
