"""The default alert rules (yiyang.devices.defaults)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from yiyang.devices.defaults import install_defaults

    install_defaults(apps.get_model("devices", "AlertRule"))


class Migration(migrations.Migration):
    dependencies = [("devices", "0002_alerts")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
