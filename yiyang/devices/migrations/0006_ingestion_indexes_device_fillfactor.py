# The single-column indexes on devices_reading.device_id and .resident_id duplicate the
# leading column of "reading_device_seq" (device_id, seq) and "reading_resident"
# (resident_id, measured_at DESC), and cost every insert. Only the indexes are dropped:
# Django's own AlterField would also drop and re-add the foreign keys, re-checking every
# row of the table under lock.

import django.db.models.deletion
from django.db import migrations, models


def device_fillfactor(apps, schema_editor, value=50):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE devices_device SET (fillfactor = {int(value)})")


def device_fillfactor_back(apps, schema_editor):
    device_fillfactor(apps, schema_editor, 100)


class Migration(migrations.Migration):

    dependencies = [
        ('devices', '0005_default_escalation'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='reading',
                    name='device',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='readings', to='devices.device'),
                ),
                migrations.AlterField(
                    model_name='reading',
                    name='resident',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='device_readings', to='residents.resident'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "devices_reading_device_id_3947b8ce"',
                    'CREATE INDEX "devices_reading_device_id_3947b8ce" ON "devices_reading" ("device_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "devices_reading_resident_id_2f845340"',
                    'CREATE INDEX "devices_reading_resident_id_2f845340" ON "devices_reading" ("resident_id")',
                ),
            ],
        ),
        migrations.RunPython(device_fillfactor, device_fillfactor_back),
    ]
