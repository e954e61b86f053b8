from django.apps import AppConfig


class PluginExampleConfig(AppConfig):
    name = "tests.plugin_example"
    label = "plugin_example"
    default_auto_field = "django.db.models.BigAutoField"
