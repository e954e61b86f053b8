from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CommonConfig(AppConfig):
    name = "yiyang.common"
    label = "common"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each installed app plugs itself in from its own package: its ``permissions``
        # module registers its permissions and the roles holding them (ADR 0024). Django
        # calls ready() once every app's models are loaded, so these modules may import
        # their app's models.
        autodiscover_modules("permissions")
