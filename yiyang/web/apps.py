from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "yiyang.web"
    label = "web"
    default_auto_field = "django.db.models.BigAutoField"
