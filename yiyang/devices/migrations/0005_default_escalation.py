"""The default escalation schedule and the silence and NEWS2 rules
(yiyang.devices.defaults, ADR 0020)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from yiyang.devices.defaults import install_defaults, install_escalation

    install_defaults(apps.get_model("devices", "AlertRule"))
    install_escalation(apps.get_model("devices", "EscalationStep"))


class Migration(migrations.Migration):
    dependencies = [("devices", "0004_escalation")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
