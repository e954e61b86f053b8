"""Page forms of staff members: the edit form (with the primary institution and position)
and the filter form of the staff list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from yiyang.accounts.models import User
from yiyang.common.forms import ServiceForm
from yiyang.network.forms.common import (
    limit_choices,
    scoped_or_current,
)
from yiyang.network.models import (
    Institution,
    Profession,
    Skill,
    Staff,
)


class StaffForm(ServiceForm):
    institution = forms.ModelChoiceField(
        label=_("Institution"), queryset=Institution.objects.none(), required=True
    )
    position = forms.CharField(label=_("Position"), max_length=100, required=False)

    class Meta:
        model = Staff
        fields = ["name", "sex", "phone", "profession", "licence_no", "skills", "active"]
        widgets = {
            "phone": forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
            "skills": forms.CheckboxSelectMultiple,
        }
        labels = {"skills": _("Skills")}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        current = []
        if self.instance.pk:
            membership = self.instance.memberships.order_by("-primary", "id").first()
            if membership is not None:
                current = [membership.institution_id]
                self.initial.setdefault("institution", membership.institution_id)
                self.initial.setdefault("position", membership.position)
        # The primary institution may lie outside the scope (a member of several); it stays
        # selectable so that editing other fields does not force a change of it.
        limit_choices(self, "institution", scoped_or_current(user, current))
        limit_choices(self, "skills", Skill.objects.order_by("code"))


class StaffFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False)
    profession = forms.ChoiceField(
        label=_("Profession"),
        required=False,
        choices=[("", _("All professions")), *Profession.choices],
    )

    def filter(self, queryset: QuerySet[Staff]) -> QuerySet[Staff]:
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            queryset = queryset.filter(name__icontains=data["q"].strip())
        if data["profession"]:
            queryset = queryset.filter(profession=data["profession"])
        return queryset
