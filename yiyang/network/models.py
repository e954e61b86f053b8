"""The care network: regions, grids, institutions, alliances, chain nodes, agreements,
staff and family-doctor teams."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiyang.common.fields import EncryptedCharField


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    TOWNSHIP = "township", _("Township")
    VILLAGE = "village", _("Village")


# How many leading digits are significant at each level of the 12-digit code.
LEVEL_DIGITS = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
}


class Region(models.Model):
    """A statistical division (统计用区划代码), 12 digits, with the code's year."""

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    code_year = models.PositiveSmallIntegerField(_("code year"), default=2023)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def prefix(self) -> str:
        """The significant digits: every descendant's code starts with them."""
        return self.code[: LEVEL_DIGITS[RegionLevel(self.level)]]


class Grid(models.Model):
    """A grid (网格) inside a village/community: a team's unit of responsibility."""

    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="grids")
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("grid")

    def __str__(self) -> str:
        return self.name


class InstitutionType(models.TextChoices):
    LEAD_HOSPITAL = "lead_hospital", _("Lead hospital")
    CHC = "chc", _("Community health center")
    THC = "thc", _("Township hospital")
    CHS = "chs", _("Community health station")
    VILLAGE_CLINIC = "village_clinic", _("Village clinic")
    NURSING_HOME = "nursing_home", _("Elderly-care home")
    DAY_CARE = "day_care", _("Day-care center")
    HAPPINESS_HOME = "happiness_home", _("Rural happiness home")
    INTEGRATED = "integrated", _("Integrated care institution")
    OTHER = "other", _("Other")


MEDICAL_TYPES = {
    InstitutionType.LEAD_HOSPITAL,
    InstitutionType.CHC,
    InstitutionType.THC,
    InstitutionType.CHS,
    InstitutionType.VILLAGE_CLINIC,
    InstitutionType.INTEGRATED,
}
CARE_TYPES = {
    InstitutionType.NURSING_HOME,
    InstitutionType.DAY_CARE,
    InstitutionType.HAPPINESS_HOME,
    InstitutionType.INTEGRATED,
}


class Institution(models.Model):
    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=InstitutionType.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="institutions")
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    medical_licence_no = models.CharField(
        _("medical practice licence no."), max_length=64, null=True, blank=True
    )
    care_filing_no = models.CharField(
        _("elderly-care filing no."), max_length=64, null=True, blank=True
    )
    beds_medical = models.PositiveIntegerField(_("medical beds"), default=0)
    beds_care = models.PositiveIntegerField(_("elderly-care beds"), default=0)
    beds_home = models.PositiveIntegerField(_("home beds"), default=0)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    elderly_friendly = models.BooleanField(_("elderly-friendly certified"), default=False)
    tcm_services = models.BooleanField(_("TCM services"), default=False)
    mi_designated = models.BooleanField(_("designated for medical insurance"), default=False)
    ltc_designated = models.BooleanField(_("designated for LTC insurance"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["region__code", "name"]
        verbose_name = _("institution")
        constraints = [
            models.UniqueConstraint(
                fields=["medical_licence_no"],
                condition=Q(medical_licence_no__isnull=False) & ~Q(medical_licence_no=""),
                name="uniq_institution_medical_licence",
            ),
            models.UniqueConstraint(
                fields=["care_filing_no"],
                condition=Q(care_filing_no__isnull=False) & ~Q(care_filing_no=""),
                name="uniq_institution_care_filing",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AllianceKind(models.TextChoices):
    COUNTY_COMMUNITY = "county_community", _("County medical community")
    CITY_GROUP = "city_group", _("City medical group")


class Alliance(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=AllianceKind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="alliances")
    lead = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="led_alliances", verbose_name=_("lead")
    )
    members = models.ManyToManyField(Institution, related_name="alliances", blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("alliance")

    def __str__(self) -> str:
        return self.name


class NodeLevel(models.TextChoices):
    CENTER = "center", _("Care-service center")
    STATION = "station", _("Care-service station")


class IntegrationMode(models.TextChoices):
    ONE_CAMPUS = "one_campus", _("Two institutions, one campus")
    CARE_IN_MEDICAL = "care_in_medical", _("Elderly care inside medical")
    MEDICAL_IN_CARE = "medical_in_care", _("Medical inside elderly care")
    CONTRACTED = "contracted", _("Contracted cooperation")


class ChainNode(models.Model):
    """A center (township) or station (village): a medical and an elderly-care member."""

    level = models.CharField(_("level"), max_length=10, choices=NodeLevel.choices)
    name = models.CharField(_("name"), max_length=200)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="chain_nodes")
    medical_member = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="medical_nodes"
    )
    care_member = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="care_nodes"
    )
    integration_mode = models.CharField(
        _("integration mode"), max_length=20, choices=IntegrationMode.choices
    )
    # A station belongs to a center; a center to a lead institution.
    center = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="stations"
    )
    lead = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="led_centers"
    )

    class Meta:
        ordering = ["region__code", "name"]
        verbose_name = _("chain node")
        constraints = [
            models.CheckConstraint(
                condition=(Q(level="center", center__isnull=True, lead__isnull=False))
                | (Q(level="station", center__isnull=False, lead__isnull=True)),
                name="chainnode_level_parent",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AgreementKind(models.TextChoices):
    COOPERATION = "cooperation", _("Medical–elderly-care cooperation")
    CHAIN_MEMBERSHIP = "chain_membership", _("Chain membership")
    REFERRAL = "referral", _("Referral")


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    TERMINATED = "terminated", _("Terminated")


# An agreement in force that ends within this many days is marked "expiring".
EXPIRY_WINDOW_DAYS = 30


class Agreement(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=AgreementKind.choices)
    party_a = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="agreements_as_a"
    )
    party_b = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="agreements_as_b"
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    responsibilities = models.TextField(_("responsibilities"), blank=True)
    service_standards = models.TextField(_("service standards"), blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    status = models.CharField(
        _("status"), max_length=12, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    document = models.FileField(_("document"), upload_to="agreements/%Y/", blank=True)

    class Meta:
        ordering = ["valid_to"]
        verbose_name = _("agreement")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")), name="agreement_dates_order"
            ),
            models.CheckConstraint(
                condition=~Q(party_a=models.F("party_b")), name="agreement_two_parties"
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.party_a} – {self.party_b}"

    def expiry_marker(self, today: datetime.date | None = None) -> str:
        """'expired', 'not_yet_valid' (starts after ``today``), 'expiring' (in force and
        ending within 30 days) or '' (in force beyond that) for this agreement, as of
        ``today`` (default: today in the deployment's time zone, Asia/Shanghai).
        ``expiry_q`` selects the same agreements in a query."""
        today = today or timezone.localdate()
        if self.valid_to < today:
            return "expired"
        if self.valid_from > today:
            return "not_yet_valid"
        if self.valid_to <= today + datetime.timedelta(days=EXPIRY_WINDOW_DAYS):
            return "expiring"
        return ""


def expiry_q(marker: str, today: datetime.date) -> Q:
    """The agreements whose ``expiry_marker(today)`` is ``marker`` ("" or "valid": in
    force beyond the expiry window), as a query condition."""
    horizon = today + datetime.timedelta(days=EXPIRY_WINDOW_DAYS)
    if marker == "expired":
        return Q(valid_to__lt=today)
    if marker == "not_yet_valid":
        return Q(valid_from__gt=today)  # valid_to >= valid_from: never also expired
    started = Q(valid_from__lte=today)
    if marker == "expiring":
        return started & Q(valid_to__gte=today, valid_to__lte=horizon)
    return started & Q(valid_to__gt=horizon)


class Profession(models.TextChoices):
    DOCTOR = "doctor", _("Doctor")
    TCM_DOCTOR = "tcm_doctor", _("TCM doctor")
    NURSE = "nurse", _("Nurse")
    REHAB_THERAPIST = "rehab_therapist", _("Rehabilitation therapist")
    PUBLIC_HEALTH = "public_health", _("Public-health worker")
    CAREGIVER = "caregiver", _("Caregiver")
    HOUSEKEEPING = "housekeeping", _("Housekeeping worker")
    DISPATCHER = "dispatcher", _("Dispatcher")
    ASSESSOR = "assessor", _("Assessor")


class Skill(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    """A practitioner or worker (a person: reads of this record are audited)."""

    name = models.CharField(_("name"), max_length=100)
    sex = models.CharField(
        _("sex"), max_length=1, choices=[("M", _("Male")), ("F", _("Female"))], blank=True
    )
    phone = EncryptedCharField(_("phone"), blank=True)
    profession = models.CharField(_("profession"), max_length=20, choices=Profession.choices)
    licence_no = models.CharField(_("licence no."), max_length=64, null=True, blank=True)
    skills = models.ManyToManyField(Skill, related_name="staff", blank=True)
    institutions: models.ManyToManyField[Institution, StaffMembership] = models.ManyToManyField(
        Institution, through="StaffMembership", related_name="staff", blank=True
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [
            models.UniqueConstraint(
                fields=["licence_no"],
                condition=Q(licence_no__isnull=False) & ~Q(licence_no=""),
                name="uniq_staff_licence",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StaffMembership(models.Model):
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="memberships")
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="memberships"
    )
    position = models.CharField(_("position"), max_length=100, blank=True)
    primary = models.BooleanField(_("primary"), default=True)
    start_on = models.DateField(_("start"), null=True, blank=True)
    end_on = models.DateField(_("end"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["staff", "institution"], name="uniq_membership"),
        ]


class TeamRole(models.TextChoices):
    LEADER = "leader", _("Leader")
    DOCTOR = "doctor", _("Doctor")
    NURSE = "nurse", _("Nurse")
    PUBLIC_HEALTH = "public_health", _("Public-health worker")
    SPECIALIST = "specialist", _("Specialist")
    CAREGIVER = "caregiver", _("Caregiver")
    OTHER = "other", _("Other")


class Team(models.Model):
    """A family-doctor team (家庭医生团队)."""

    name = models.CharField(_("name"), max_length=200)
    node = models.ForeignKey(
        ChainNode, on_delete=models.PROTECT, related_name="teams", verbose_name=_("home node")
    )
    leader = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="led_teams", verbose_name=_("leader")
    )
    members: models.ManyToManyField[Staff, TeamMember] = models.ManyToManyField(
        Staff, through="TeamMember", related_name="teams"
    )
    grids = models.ManyToManyField(Grid, related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("family-doctor team")

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="team_memberships")
    role = models.CharField(_("role"), max_length=20, choices=TeamRole.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "staff"], name="uniq_team_member"),
        ]


class DutyShift(models.Model):
    """A doctor on duty at an institution (a center's medical member) for a while: the
    center tier of an alert's escalation (devices) goes to whoever is on duty when it is
    due. The duty roster (值班表) is the network's: ``services.duty`` changes it, the
    ``duty_*`` selectors read it."""

    institution = models.ForeignKey(
        Institution,
        on_delete=models.CASCADE,
        related_name="duty_shifts",
        verbose_name=_("institution"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="duty_shifts",
        verbose_name=_("doctor on duty"),
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("duty shift")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="duty_shift_order"
            )
        ]
        indexes = [models.Index(fields=["institution", "ends_at"], name="duty_shift_inst_end")]
        # The table, its constraint and its index keep the names they had when the roster
        # lived in the devices app (moved by state only: network 0002, devices 0009).
        db_table = "devices_dutyshift"
