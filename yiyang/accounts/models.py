"""Users with a role and a data scope; API tokens; login failures for lockout."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiyang.common.fields import EncryptedCharField
from yiyang.common.permissions import Role, perms_for
from yiyang.common.scope import ScopeKind


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    scope_kind = models.CharField(
        _("data scope"), max_length=12, choices=ScopeKind.choices, default=ScopeKind.SELF
    )
    scope_region = models.ForeignKey(
        "network.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scope_institution = models.ForeignKey(
        "network.Institution", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scope_team = models.ForeignKey(
        "network.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    staff = models.OneToOneField(
        "network.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="user"
    )
    totp_secret = EncryptedCharField(_("TOTP secret"), blank=True)
    totp_confirmed = models.BooleanField(_("TOTP enrolled"), default=False)
    totp_last_step = models.BigIntegerField(default=0)  # refuse replay of a used code
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # Set when someone else chose the password (a one-time password handed over, e.g. a
    # family login): the user must change it before anything else.
    must_change_password = models.BooleanField(_("must change password"), default=False)

    class Meta:
        verbose_name = _("user")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope_kind="region", scope_region__isnull=False)
                    | Q(scope_kind="institution", scope_institution__isnull=False)
                    | Q(scope_kind="team", scope_team__isnull=False)
                    | Q(scope_kind__in=["all", "self"])
                ),
                name="user_scope_target",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    def has_perm_code(self, perm: str) -> bool:
        return self.is_active and perm in perms_for(self.role)


class ApiToken(models.Model):
    """A bearer token for the API; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)


class LoginFailure(models.Model):
    """Failed logins per (username, client address); the lockout counts these."""

    username = models.CharField(max_length=150)
    address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["username", "address", "at"])]
