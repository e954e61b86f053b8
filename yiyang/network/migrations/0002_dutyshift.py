"""The duty roster (``DutyShift``) moves from the devices app to the network app, by
state only: this migration adds the model to network's state, devices 0009 removes it
from devices' state. The database does not change.

Choice: the table keeps its name, ``devices_dutyshift`` (``Meta.db_table``), rather than
being renamed to ``network_dutyshift`` with ``AlterModelTable``:

* nothing in the database changes, so the move is instant and safe on a live database —
  a process still running the previous code during a deploy (the alert timers read the
  roster every second) keeps finding its table;
* the check constraint (``duty_shift_order``) and the index (``duty_shift_inst_end``) have
  explicit names and keep them; the names PostgreSQL derived from the table at creation
  (primary key, sequence, foreign keys) would say ``devices_dutyshift`` even after a
  rename;
* a rename can follow on its own later (one ``AlterModelTable`` in network, once no old
  code runs).

Either way this migration depends on devices 0004, which created the table: on a fresh
database network's state must not claim the table before it exists.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0001_initial"),
        ("devices", "0004_escalation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DutyShift",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("starts_at", models.DateTimeField(verbose_name="starts")),
                        ("ends_at", models.DateTimeField(verbose_name="ends")),
                        (
                            "created_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "institution",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="duty_shifts",
                                to="network.institution",
                                verbose_name="institution",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="duty_shifts",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="doctor on duty",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "duty shift",
                        "db_table": "devices_dutyshift",
                        "ordering": ["-starts_at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["institution", "ends_at"], name="duty_shift_inst_end"
                            )
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("ends_at__gt", models.F("starts_at"))),
                                name="duty_shift_order",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
