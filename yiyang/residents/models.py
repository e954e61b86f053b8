"""The residents registry: one record per elderly person, grouped in households.

The ID number and phone are encrypted at rest (``EncryptedCharField``) and found through
keyed hashes (``id_number_index`` unique, ``phone_index``) — see ADR 0003. Name pinyin and
initials are kept for search ("zs" and "zhangsan" find 张三); the service fills them.
Reads of a resident are audited by the selectors; writes go through ``services``.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiyang.common.fields import EncryptedCharField
from yiyang.residents.prescription_words import frequency_words, route_words


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Insurance(models.TextChoices):
    EMPLOYEE = "employee", _("Employee basic medical insurance")
    URBAN_RURAL = "urban_rural", _("Urban-rural resident basic medical insurance")
    NONE = "none", _("None")


class ResidentStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("resident status", "Active")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")
    MERGED = "merged", _("Merged into another record")


class CareSetting(models.TextChoices):
    HOME = "home", pgettext_lazy("care setting", "Home")
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


# Filters that keep few rows, each with its own partial indexes (``Resident.Meta``). Common
# ones (empty-nest, living alone) find a page quickly in name order without one.
RARE_FILTERS: dict[str, Q] = {
    "leftbehind": Q(left_behind=True),
    "widowed": Q(widowed_childless=True),
    "lostchild": Q(lost_only_child=True),
    "allowance": Q(minimum_allowance=True),
    "poverty": Q(extreme_poverty=True),
    "veteran": Q(veteran=True),
    "deceased": Q(status="deceased"),
    "movedout": Q(status="moved_out"),
    "community": Q(care_setting="community"),
    "institution": Q(care_setting="institution"),
    "nogrid": Q(grid__isnull=True),  # the "to be assigned a grid" work list
}


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
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.address


class Resident(models.Model):
    """An elderly person served by the platform (a person: reads are audited)."""

    name = models.CharField(pgettext_lazy("person", "name"), max_length=100)
    name_pinyin = models.CharField(_("name (pinyin)"), max_length=200, blank=True)
    name_initials = models.CharField(_("name initials"), max_length=50, blank=True)
    id_number = EncryptedCharField(_("ID number"))
    # Keyed hashes, matched exactly: plain b-tree indexes declared in Meta (a field's
    # unique/db_index would add a second, LIKE-capable index on PostgreSQL).
    id_number_index = models.CharField(max_length=64, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    phone = EncryptedCharField(_("phone"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, editable=False)
    address = models.CharField(_("address"), max_length=255, blank=True)
    region = models.ForeignKey(
        "network.Region",
        on_delete=models.PROTECT,
        related_name="residents",
        verbose_name=_("village"),
    )
    # The village's 12-digit code, copied from ``region`` by the services so that scope
    # and subtree filters are one indexed prefix match without a join (1,000,000 rows).
    region_code = models.CharField(max_length=12, editable=False, default="")
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
    # The resident's own login (role "resident"), when she has one.
    account = models.OneToOneField(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resident_record",
        verbose_name=_("own login"),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        constraints = [
            models.UniqueConstraint(fields=["id_number_index"], name="resident_id_number_unique"),
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
            models.Index(fields=["phone_index"], name="resident_phone_idx"),
            # Search by pinyin reads a range of one of these in order (``search``).
            models.Index(fields=["name_initials", "id"], name="resident_initials_idx"),
            models.Index(fields=["name_pinyin", "id"], name="resident_pinyin_idx"),
            models.Index(fields=["region", "status"], name="resident_region_status_idx"),
            models.Index(
                fields=["region_code"],
                name="resident_region_code_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["name", "id"], name="resident_name_idx"),
            models.Index(
                fields=["name"], name="resident_name_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["birth_date"], name="resident_birth_idx"),
            # A rare filter (a special group, a status or care setting other than the
            # usual one): two small partial indexes each — by (name, id) for a wide scope
            # (read in list order, skipping rows of other regions) and by village code for
            # a narrow one (read the few rows, then sort) — instead of walking the whole
            # name order (measured at 1,000,000 residents: 190 ms → 1–2 ms).
            *[
                index
                for name, condition in RARE_FILTERS.items()
                for index in (
                    models.Index(
                        fields=["name", "id"], name=f"resident_{name}_n_idx", condition=condition
                    ),
                    models.Index(
                        fields=["region_code"],
                        name=f"resident_{name}_r_idx",
                        condition=condition,
                        opclasses=["varchar_pattern_ops"],
                    ),
                )
            ],
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def id_number_masked(self) -> str:
        value = self.id_number or ""
        return value[:4] + "*" * 10 + value[-4:] if len(value) == 18 else "****"

    def age_on(self, day: datetime.date) -> int:
        """Completed years on ``day`` (a 29 February birthday counts from 1 March)."""
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())

    @property
    def flags(self) -> list[str]:
        return [name for name in FLAGS if getattr(self, name)]

    @property
    def special_groups(self) -> list[tuple[str, str]]:
        """(flag, translated label) of each special-group flag she has, in display order:
        the one source for every place that shows them (header, overview, list)."""
        fields = {f.name: f for f in self._meta.concrete_fields}
        return [(name, str(fields[name].verbose_name)) for name in self.flags]


# --- contacts, consent and family proxies --------------------------------------------------


class Relation(models.TextChoices):
    SPOUSE = "spouse", _("Spouse")
    SON = "son", _("Son")
    DAUGHTER = "daughter", _("Daughter")
    CHILD_IN_LAW = "child_in_law", _("Son- or daughter-in-law")
    GRANDCHILD = "grandchild", _("Grandchild")
    SIBLING = "sibling", _("Sibling")
    OTHER_RELATIVE = "other_relative", _("Other relative")
    NEIGHBOUR = "neighbour", _("Neighbour")
    GUARDIAN = "guardian", _("Appointed guardian")
    OTHER = "other", _("Other")


class Contact(models.Model):
    """A family member, guardian or other contact of a resident."""

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("resident")
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100)
    relation = models.CharField(_("relation"), max_length=20, choices=Relation.choices)
    phone = EncryptedCharField(_("phone"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, editable=False)
    is_guardian = models.BooleanField(_("legal guardian"), default=False)
    is_emergency = models.BooleanField(_("emergency contact"), default=False)
    address = models.CharField(_("address"), max_length=255, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    # The contact's own login (role "family"), created when a proxy grant is given.
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact_records",
        verbose_name=_("family login"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["resident_id", "-is_guardian", "-is_emergency", "name", "pk"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [models.Index(fields=["phone_index"], name="contact_phone_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relation_display()})"


class ConsentPurpose(models.TextChoices):
    HEALTH_DATA = "health_data", _("Processing of health data")
    DEVICE_MONITORING = "device_monitoring", _("Home device monitoring")
    FAMILY_SHARING = "family_sharing", _("Sharing with family")
    PLATFORM_EXCHANGE = "platform_exchange", _("Exchange with the regional health platform")
    PROXY_ACCESS = "proxy_access", _("Family proxy access")


class ConsentGiver(models.TextChoices):
    SELF = "self", _("The resident")
    GUARDIAN = "guardian", _("Guardian")


def active_consent(prefix: str = "") -> Q:
    """The one definition of an active consent: on record and not withdrawn. ``prefix``
    reaches consents through a relation (``"consent__"`` from a proxy grant,
    ``"resident__consents__"`` from a row about a resident); combine it in the same
    ``filter()`` call as the relation's other conditions, so that they speak of one
    consent."""
    return Q(**{f"{prefix}withdrawn_at__isnull": True})


class ConsentQuerySet(models.QuerySet["Consent"]):
    def active(self) -> ConsentQuerySet:
        """The consents in force (``active_consent``)."""
        return self.filter(active_consent())


class Consent(models.Model):
    """One consent (PIPL separate consent for sensitive personal information) for one
    purpose. Never edited: a withdrawal sets ``withdrawn_at`` (effective at once), giving
    consent again makes a new row. A proxy grant's consent has purpose ``proxy_access``."""

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="consents", verbose_name=_("resident")
    )
    purpose = models.CharField(_("purpose"), max_length=30, choices=ConsentPurpose.choices)
    given_by = models.CharField(_("given by"), max_length=10, choices=ConsentGiver.choices)
    guardian = models.ForeignKey(
        Contact,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consents_given",
        verbose_name=_("guardian"),
    )
    given_at = models.DateTimeField(_("given at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawal recorded by"),
    )
    withdrawal_note = models.CharField(_("withdrawal note"), max_length=255, blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["resident_id", "purpose", "-given_at", "-pk"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [models.Index(fields=["resident", "purpose"], name="consent_resident_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(given_by=ConsentGiver.SELF, guardian__isnull=True)
                | Q(given_by=ConsentGiver.GUARDIAN, guardian__isnull=False),
                name="consent_guardian_iff_given_by_guardian",
            ),
            # At most one active consent per resident and purpose (proxy consents excepted:
            # one per grant).
            models.UniqueConstraint(
                fields=["resident", "purpose"],
                condition=active_consent() & ~Q(purpose="proxy_access"),
                name="consent_one_active_per_purpose",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.resident_id})"

    @property
    def active(self) -> bool:
        """This consent is in force (``active_consent``, for one row)."""
        return self.withdrawn_at is None


class ProxyGrant(models.Model):
    """A contact's family login acting for the resident, with graded rights. Its consent
    (purpose ``proxy_access``) is the grant's life: withdrawn = revoked, at once."""

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="proxy_grants", verbose_name=_("resident")
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="grants", verbose_name=_("contact")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="proxy_grants",
        verbose_name=_("family login"),
    )
    consent = models.OneToOneField(
        Consent, on_delete=models.PROTECT, related_name="grant", verbose_name=_("consent")
    )
    can_view_readings = models.BooleanField(_("view readings and health record"), default=True)
    can_view_alerts = models.BooleanField(_("view alerts"), default=False)
    can_book_services = models.BooleanField(_("book services"), default=False)
    can_view_bills = models.BooleanField(_("see bills"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["resident_id", "-created_at", "-pk"]
        verbose_name = _("proxy grant")
        verbose_name_plural = _("proxy grants")

    def __str__(self) -> str:
        return f"{self.contact} → {self.resident_id}"

    @property
    def active(self) -> bool:
        return self.consent.active


# --- health record ------------------------------------------------------------------------


class ConditionStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("condition status", "Active")
    REMISSION = "remission", _("In remission")
    RESOLVED = "resolved", _("Resolved")


class _Recorded(models.Model):
    """Who recorded a health-record entry, and when."""

    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        abstract = True


class Condition(_Recorded):
    """A diagnosis, coded in ICD-10 (GB/T 14396 national edition) with its Chinese name."""

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="conditions", verbose_name=_("resident")
    )
    icd10 = models.CharField(_("ICD-10 code"), max_length=10)
    name = models.CharField(_("diagnosis"), max_length=100)
    onset = models.DateField(_("onset"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ConditionStatus.choices, default=ConditionStatus.ACTIVE
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["resident_id", "status", "icd10", "pk"]
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        indexes = [models.Index(fields=["icd10", "status"], name="condition_code_idx")]

    def __str__(self) -> str:
        return f"{self.icd10} {self.name}"


class Medication(_Recorded):
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="medications", verbose_name=_("resident")
    )
    name = models.CharField(_("medicine"), max_length=100)
    dose = models.CharField(_("dose"), max_length=50, blank=True)
    frequency = models.CharField(_("frequency"), max_length=50, blank=True)
    route = models.CharField(_("route"), max_length=30, blank=True)
    long_term = models.BooleanField(_("long-term prescription"), default=False)
    start = models.DateField(_("start"), null=True, blank=True)
    end = models.DateField(_("end"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["resident_id", "-long_term", "name", "pk"]
        verbose_name = _("medication")
        verbose_name_plural = _("medications")

    def __str__(self) -> str:
        return self.name

    @property
    def frequency_in_words(self) -> str:
        """The frequency in words (qd → 每日一次), for readers who are not clinicians."""
        return frequency_words(self.frequency)

    @property
    def route_in_words(self) -> str:
        return route_words(self.route)


class AllergySeverity(models.TextChoices):
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")


class Allergy(_Recorded):
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="allergies", verbose_name=_("resident")
    )
    substance = models.CharField(_("substance"), max_length=100)
    reaction = models.CharField(_("reaction"), max_length=255, blank=True)
    severity = models.CharField(
        _("severity"), max_length=10, choices=AllergySeverity.choices, default=AllergySeverity.MILD
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["resident_id", "substance", "pk"]
        verbose_name = _("allergy")
        verbose_name_plural = _("allergies")

    def __str__(self) -> str:
        return self.substance


class EncounterKind(models.TextChoices):
    CLINIC = "clinic", _("Clinic visit")
    HOME_VISIT = "home_visit", _("Home visit")
    PHONE = "phone", _("Phone call")
    HOSPITAL_STAY = "hospital_stay", _("Hospital stay")


class Encounter(_Recorded):
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="encounters", verbose_name=_("resident")
    )
    kind = models.CharField(_("type"), max_length=20, choices=EncounterKind.choices)
    date = models.DateField(_("date"))
    end_date = models.DateField(_("discharge date"), null=True, blank=True)
    institution = models.ForeignKey(
        "network.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="encounters",
        verbose_name=_("institution"),
    )
    practitioner = models.ForeignKey(
        "network.Staff",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="encounters",
        verbose_name=_("practitioner"),
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["resident_id", "-date", "-pk"]
        verbose_name = _("encounter")
        verbose_name_plural = _("encounters")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


class ObservationSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    DEVICE = "device", _("Device")
    DERIVED = "derived", _("Calculated")


class Observation(models.Model):
    """One measured value, LOINC-coded (``residents.loinc.CODES`` lists the codes, units
    and plausible ranges). A blood-pressure reading is two rows sharing ``panel``."""

    # No index of its own: "observation_series_idx" (resident, code, effective_at) leads
    # with it (devices insert thousands of observations a second; each index costs).
    resident = models.ForeignKey(
        Resident,
        on_delete=models.CASCADE,
        related_name="observations",
        verbose_name=_("resident"),
        db_index=False,
    )
    code = models.CharField(_("LOINC code"), max_length=10)
    value = models.DecimalField(_("value"), max_digits=8, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=20)
    effective_at = models.DateTimeField(_("measured at"))
    source = models.CharField(
        _("source"),
        max_length=10,
        choices=ObservationSource.choices,
        default=ObservationSource.MANUAL,
    )
    panel = models.UUIDField(_("panel"), null=True, blank=True)
    device_serial = models.CharField(_("device"), max_length=64, blank=True)
    encounter = models.ForeignKey(
        Encounter,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="observations",
        verbose_name=_("encounter"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["resident_id", "-effective_at", "code", "pk"]
        verbose_name = _("observation")
        verbose_name_plural = _("observations")
        indexes = [
            models.Index(
                fields=["resident", "code", "-effective_at"], name="observation_series_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.value} {self.unit}"


class DocumentKind(models.TextChoices):
    DISCHARGE = "discharge", _("Discharge summary")
    LAB = "lab", _("Laboratory report")
    IMAGING = "imaging", _("Imaging report")
    PRESCRIPTION = "prescription", _("Prescription")
    CONSENT = "consent", _("Signed consent form")
    OTHER = "other", _("Other")


class Document(models.Model):
    """A file in the health record (type and size limits in ``residents.documents``)."""

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="documents", verbose_name=_("resident")
    )
    kind = models.CharField(_("type"), max_length=20, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to="residents/documents/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["resident_id", "-uploaded_at", "-pk"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.title


class ImportJob(models.Model):
    """One resident import (Excel or CSV): its progress and, when done, its report."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    file = models.FileField(_("file"), upload_to="residents/imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="queued")
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("rows processed"), default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    error = models.TextField(_("error"), blank=True)
    report = models.FileField(_("report"), upload_to="residents/imports/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When the worker last reported on a running job (claimed, file read, each batch): a
    # job silent for longer than ``imports.jobs.STALE_AFTER`` was interrupted.
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("resident import")
        verbose_name_plural = _("resident imports")

    def __str__(self) -> str:
        return self.original_name
