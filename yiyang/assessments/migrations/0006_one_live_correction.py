"""A correction that was discarded no longer blocks another one: ``supersedes`` becomes a
foreign key, unique only among corrections that are not discarded. Existing rows satisfy
the new constraint (the old one allowed a single correction of any status), so a database
where a discarded correction blocked the assessment recovers by this migration alone."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0005_sync_ltc_ad8"),
    ]

    operations = [
        migrations.AlterField(
            model_name="assessment",
            name="supersedes",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="corrections",
                to="assessments.assessment",
                verbose_name="corrects",
            ),
        ),
        migrations.AddConstraint(
            model_name="assessment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "discarded"), _negated=True),
                fields=("supersedes",),
                name="assess_one_correction",
            ),
        ),
    ]
