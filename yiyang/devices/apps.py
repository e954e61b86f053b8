from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "yiyang.devices"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Devices"

    def ready(self) -> None:
        from yiyang.devices import escalation

        escalation.register_topic()  # the outbox topic of alerts (ADR 0020)
