from django.apps import AppConfig


class EmergencyConfig(AppConfig):
    name = "yiyang.emergency"
    label = "emergency"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Emergency calls"
