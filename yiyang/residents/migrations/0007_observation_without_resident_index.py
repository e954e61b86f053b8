# The single-column index on residents_observation.resident_id duplicates the leading
# column of "observation_series_idx" (resident_id, code, effective_at DESC) and costs
# every insert (devices add thousands of observations a second). Only the index is
# dropped: Django's own AlterField would also drop and re-add the foreign key, re-checking
# every row of the table under lock.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('residents', '0006_hash_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='observation',
                    name='resident',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='observations', to='residents.resident', verbose_name='resident'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "residents_observation_resident_id_7f76f4d4"',
                    'CREATE INDEX "residents_observation_resident_id_7f76f4d4" ON "residents_observation" ("resident_id")',
                ),
            ],
        ),
    ]
