"""Load the shipped instrument definitions (yiyang.assessments.sync). A later definition
version ships as a new data migration calling the same function."""

from django.db import migrations


def forwards(apps, schema_editor):
    from yiyang.assessments.sync import sync_instruments

    sync_instruments(apps.get_model("assessments", "InstrumentVersion"))


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
