"""Alert notifications written before alerts kept their summary's facts carry only the
English ``summary`` parameter; the topic's body now reads ``summary_en`` (``summary_zh``
in Chinese). Give those rows both, from the text they have, so that they still read as
their summary instead of falling back to their raw parameters."""

from django.db import migrations

TOPIC = "devices.alert"


def forwards(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    changed = []
    for row in Notification.objects.filter(topic=TOPIC).only("pk", "params").iterator(2000):
        params = row.params if isinstance(row.params, dict) else {}
        if "summary_en" in params or "summary" not in params:
            continue
        text = params["summary"]
        row.params = {**params, "summary_en": text, "summary_zh": text}
        changed.append(row)
        if len(changed) >= 2000:
            Notification.objects.bulk_update(changed, ["params"])
            changed = []
    if changed:
        Notification.objects.bulk_update(changed, ["params"])


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0007_alert_facts"),
        ("notifications", "0001_outbox"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
