"""The duty roster (``DutyShift``) now lives in the network app: remove it from devices'
state only (network 0002 added it to network's state on the same table,
``devices_dutyshift``; see there why the table keeps its name). The database does not
change; the content type follows the model (``devices.dutyshift`` becomes
``network.dutyshift``) so that nothing refers to a model devices no longer has."""

from django.db import migrations


def _move_content_type(apps, schema_editor, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows = ContentType.objects.using(schema_editor.connection.alias)
    if not rows.filter(app_label=new, model="dutyshift").exists():
        rows.filter(app_label=old, model="dutyshift").update(app_label=new)


def forwards(apps, schema_editor):
    _move_content_type(apps, schema_editor, "devices", "network")


def backwards(apps, schema_editor):
    _move_content_type(apps, schema_editor, "network", "devices")


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0008_alert_notification_summaries"),
        ("network", "0002_dutyshift"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DutyShift")],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
