"""Where a session's pre-filled context came from (the health record, and when)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0006_one_live_correction"),
    ]

    operations = [
        migrations.AddField(
            model_name="assessment",
            name="context_source",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
