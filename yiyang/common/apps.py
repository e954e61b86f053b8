from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CommonConfig(AppConfig):
    name = "yiyang.common"
    label = "common"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each installed app plugs itself in from its own package (ADR 0024): its
        # ``permissions`` module registers its permissions and the roles holding them, its
        # ``plugin`` module its pages, API routers, navigation entries, resident tabs …, its
        # ``errors`` module its error-code enum (listed in docs/api-errors.md).
        # Imported in INSTALLED_APPS order once every app's models are loaded (Django calls
        # ready() then), so these modules may import their app's models.
        autodiscover_modules("permissions", "plugin", "errors")
