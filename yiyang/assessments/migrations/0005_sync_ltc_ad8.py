"""Load the instruments added after 0004 (长期护理失能等级评估标准 2021 ``ltc-disability-2021``
and the AD8 dementia screen ``ad8``) with the same idempotent sync
(yiyang.assessments.sync)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from yiyang.assessments.sync import sync_instruments

    sync_instruments(apps.get_model("assessments", "InstrumentVersion"))


class Migration(migrations.Migration):
    dependencies = [("assessments", "0004_sessions")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
