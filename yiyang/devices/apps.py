from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "yiyang.devices"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Devices"
