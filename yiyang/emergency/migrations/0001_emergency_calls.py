# Emergency calls and their steps (ADR 0022). Depends on the alert model only.

import django.db.models.deletion
import yiyang.common.fields
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("devices", "0002_alerts"),
        ("residents", "0006_hash_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EmergencyCall",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("sos_device", "SOS or fall device"),
                            ("phone", "Phone call"),
                            ("alert", "Opened from an alert"),
                        ],
                        max_length=12,
                        verbose_name="source",
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[("open", "Open"), ("closed", "Closed")],
                        default="open",
                        max_length=6,
                        verbose_name="state",
                    ),
                ),
                (
                    "caller_phone",
                    yiyang.common.fields.EncryptedCharField(
                        blank=True, verbose_name="caller's phone"
                    ),
                ),
                ("caller_phone_index", models.CharField(blank=True, editable=False, max_length=64)),
                ("opened_at", models.DateTimeField(verbose_name="opened")),
                ("taken_at", models.DateTimeField(blank=True, null=True, verbose_name="taken")),
                ("closed_at", models.DateTimeField(blank=True, null=True, verbose_name="closed")),
                (
                    "outcome",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("false_alarm", "False alarm"),
                            ("resolved_by_phone", "Resolved by phone"),
                            ("team_visit", "Team visited"),
                            ("ambulance_120", "Ambulance (120)"),
                            ("hospital_transfer", "Transferred to hospital"),
                            ("died", "Died"),
                            ("other", "Other"),
                        ],
                        max_length=20,
                        verbose_name="outcome",
                    ),
                ),
                ("outcome_note", models.TextField(blank=True, verbose_name="outcome note")),
                (
                    "alert",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="emergency_call",
                        to="devices.alert",
                        verbose_name="alert",
                    ),
                ),
                (
                    "closed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "opened_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "resident",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="emergency_calls",
                        to="residents.resident",
                        verbose_name="resident",
                    ),
                ),
                (
                    "taken_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "emergency call",
                "verbose_name_plural": "emergency calls",
                "ordering": ["-opened_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="CallStep",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("called_back", "Called back"),
                            ("team_sent", "Team sent"),
                            ("ambulance_120_called", "120 called"),
                            ("family_informed", "Family informed"),
                            ("note", "Note"),
                        ],
                        max_length=24,
                        verbose_name="step",
                    ),
                ),
                ("at", models.DateTimeField(verbose_name="at")),
                ("note", models.TextField(blank=True, verbose_name="note")),
                (
                    "by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "call",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="steps",
                        to="emergency.emergencycall",
                    ),
                ),
            ],
            options={
                "verbose_name": "call step",
                "verbose_name_plural": "call steps",
                "ordering": ["at", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="emergencycall",
            index=models.Index(fields=["state", "-opened_at"], name="call_state_opened"),
        ),
        migrations.AddIndex(
            model_name="emergencycall",
            index=models.Index(fields=["caller_phone_index"], name="call_phone_idx"),
        ),
        migrations.AddConstraint(
            model_name="emergencycall",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("closed_at__isnull", True), ("outcome", ""), ("state", "open")),
                    models.Q(
                        ("closed_at__isnull", False),
                        ("state", "closed"),
                        models.Q(("outcome", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="call_closed_iff_outcome",
            ),
        ),
    ]
