"""Forms of the account pages. They only collect input: rules live in ``services``."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from yiyang.accounts.services.signin import LoginRefused, sign_in
from yiyang.common.errors import DomainError
from yiyang.common.permissions import Role
from yiyang.common.scope import ScopeKind


class LoginForm(AuthenticationForm):
    """Username, password and — for accounts with two-step login — the current code, all
    in one step (``services.signin.sign_in``, under the lockout). Asking for the code only after
    a right password told an attacker that the password was right."""

    code = forms.CharField(
        label=_("6-digit code"),
        help_text=_("Only for accounts with two-step login: the code of your authenticator app."),
        required=False,
        max_length=8,
    )  # rendered by the template, never with the code typed before

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = sign_in(
                    self.request,
                    username=username,
                    password=password,
                    code=self.cleaned_data.get("code") or "",
                )
            except LoginRefused as exc:
                raise forms.ValidationError(exc.detail, code=exc.code) from None
        return self.cleaned_data


class TotpForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": r"[0-9 ]{6,8}",
                "autofocus": True,
            }
        ),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


class ScopeFields(forms.Form):
    """Role and data scope. Choices of institutions and teams are limited to the actor's
    scope by the view; the service checks again."""

    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    scope_kind = forms.ChoiceField(
        label=_("Data scope"), choices=[("", "—"), *ScopeKind.choices], required=False
    )
    scope_region = forms.CharField(
        label=_("Region code (12 digits)"), max_length=12, required=False
    )
    scope_institution = forms.TypedChoiceField(
        label=_("Institution"), coerce=int, empty_value=None, required=False
    )
    scope_team = forms.TypedChoiceField(
        label=_("Team"), coerce=int, empty_value=None, required=False
    )
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)

    def __init__(self, *args, institutions=(), teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        institution_field = cast(forms.TypedChoiceField, self.fields["scope_institution"])
        institution_field.choices = [("", "—")] + [(i.pk, str(i)) for i in institutions]
        team_field = cast(forms.TypedChoiceField, self.fields["scope_team"])
        team_field.choices = [("", "—")] + [(t.pk, str(t)) for t in teams]

    def scope_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "role": data["role"],
            "scope_kind": data.get("scope_kind") or None,
            "region_code": data.get("scope_region") or None,
            "institution_id": data.get("scope_institution"),
            "team_id": data.get("scope_team"),
        }

    def add_domain_error(self, exc: DomainError) -> None:
        field = exc.field if exc.field in self.fields else None
        self.add_error(field, exc.detail)


class UserCreateForm(ScopeFields):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False)
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    field_order = [
        "username",
        "display_name",
        "email",
        "password",
        "role",
        "scope_kind",
        "scope_region",
        "scope_institution",
        "scope_team",
    ]


class UserEditForm(ScopeFields):
    field_order = [
        "display_name",
        "role",
        "scope_kind",
        "scope_region",
        "scope_institution",
        "scope_team",
    ]


class UnlockForm(forms.Form):
    username = forms.CharField(max_length=150)
    address = forms.GenericIPAddressField(required=False)
