"""The residents registry: one record per elderly person, grouped in households.

The ID number and phone are encrypted at rest (``EncryptedCharField``) and found through
keyed hashes (``id_number_index`` unique, ``phone_index``) — see ADR 0003. Name pinyin and
initials are kept for search ("zs" and "zhangsan" find 张三); the service fills them.
Reads of a resident are audited by the selectors; writes go through ``services``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiyang.common.fields import EncryptedCharField


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Insurance(models.TextChoices):
    EMPLOYEE = "employee", _("Employee basic medical insurance")
    URBAN_RURAL = "urban_rural", _("Urban-rural resident basic medical insurance")
    NONE = "none", _("None")


class ResidentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")


class CareSetting(models.TextChoices):
    HOME = "home", _("Home")
    COMMUNITY = "community", _("Community")
    INSTITUTION = "institution", _("Institution")


# Special-group and living-situation flags (boolean fields of Resident), in display order.
FLAGS: tuple[str, ...] = (
    "empty_nest",
    "living_alone",
    "left_behind",
    "widowed_childless",
    "lost_only_child",
    "minimum_allowance",
    "extreme_poverty",
    "veteran",
)


class Household(models.Model):
    """A household (户): residents living at one address."""

    address = models.CharField(_("address"), max_length=255)
    region = models.ForeignKey(
        "network.Region",
        on_delete=models.PROTECT,
        related_name="households",
        verbose_name=_("village"),
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["region__code", "address"]
        verbose_name = _("household")

    def __str__(self) -> str:
        return self.address


class Resident(models.Model):
    """An elderly person served by the platform (a person: reads are audited)."""

    name = models.CharField(_("name"), max_length=100)
    name_pinyin = models.CharField(_("name (pinyin)"), max_length=200, blank=True)
    name_initials = models.CharField(_("name initials"), max_length=50, blank=True)
    id_number = EncryptedCharField(_("ID number"))
    id_number_index = models.CharField(max_length=64, unique=True, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    phone = EncryptedCharField(_("phone"), blank=True)
    phone_index = models.CharField(max_length=64, db_index=True, blank=True, editable=False)
    address = models.CharField(_("address"), max_length=255, blank=True)
    region = models.ForeignKey(
        "network.Region",
        on_delete=models.PROTECT,
        related_name="residents",
        verbose_name=_("village"),
    )
    grid = models.ForeignKey(
        "network.Grid",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="residents",
        verbose_name=_("grid"),
    )
    household = models.ForeignKey(
        Household,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("household"),
    )
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    insurance = models.CharField(
        _("medical insurance"), max_length=20, choices=Insurance.choices, default=Insurance.NONE
    )
    ltc_insured = models.BooleanField(_("LTC insurance enrolled"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=ResidentStatus.choices, default=ResidentStatus.ACTIVE
    )
    deceased_on = models.DateField(_("date of death"), null=True, blank=True)
    care_setting = models.CharField(
        _("care setting"), max_length=20, choices=CareSetting.choices, default=CareSetting.HOME
    )
    institution = models.ForeignKey(
        "network.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="residents",
        verbose_name=_("institution"),
    )
    empty_nest = models.BooleanField(_("empty-nest"), default=False)
    living_alone = models.BooleanField(_("living alone"), default=False)
    left_behind = models.BooleanField(_("left-behind"), default=False)
    widowed_childless = models.BooleanField(_("widowed, childless"), default=False)
    lost_only_child = models.BooleanField(_("lost only child"), default=False)
    minimum_allowance = models.BooleanField(_("minimum living allowance"), default=False)
    extreme_poverty = models.BooleanField(_("extreme poverty"), default=False)
    veteran = models.BooleanField(_("veteran"), default=False)
    permanent_resident = models.BooleanField(_("permanent resident"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("resident")
        constraints = [
            models.CheckConstraint(
                condition=(Q(status=ResidentStatus.DECEASED, deceased_on__isnull=False))
                | (~Q(status=ResidentStatus.DECEASED) & Q(deceased_on__isnull=True)),
                name="resident_deceased_on_iff_deceased",
            ),
            models.CheckConstraint(
                condition=(Q(care_setting=CareSetting.INSTITUTION, institution__isnull=False))
                | (~Q(care_setting=CareSetting.INSTITUTION) & Q(institution__isnull=True)),
                name="resident_institution_iff_institutional",
            ),
        ]
        indexes = [
            # Prefix search (LIKE 'zs%'): pattern operator classes on PostgreSQL, ignored
            # elsewhere.
            models.Index(
                fields=["name_initials"],
                name="resident_initials_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(
                fields=["name_pinyin"],
                name="resident_pinyin_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["region", "status"], name="resident_region_status_idx"),
            models.Index(fields=["birth_date"], name="resident_birth_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def id_number_masked(self) -> str:
        value = self.id_number or ""
        return value[:4] + "*" * 10 + value[-4:] if len(value) == 18 else "****"
