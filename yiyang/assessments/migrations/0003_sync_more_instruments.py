"""Load the instruments added after 0002 (Morse Fall Scale, Braden, GDS-15, MNA-SF,
Mini-Cog) with the same idempotent sync (yiyang.assessments.sync)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from yiyang.assessments.sync import sync_instruments

    sync_instruments(apps.get_model("assessments", "InstrumentVersion"))


class Migration(migrations.Migration):
    dependencies = [("assessments", "0002_sync_instruments")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
