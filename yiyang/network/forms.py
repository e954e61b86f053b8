"""Page forms of the network app.

Edit forms only parse and type the input (labels, widgets and choices come from the
models); every rule (dates in order, unique licences, scope) is the service's, whose
``ValidationFailed`` the view shows next to the field. Filter forms narrow a list that a
selector has already scoped to the user.
"""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yiyang.network import selectors
from yiyang.network.models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    Institution,
    InstitutionType,
    Profession,
    Region,
    RegionLevel,
    Skill,
    Staff,
)
from yiyang.network.services import INSTITUTION_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
EXPIRY_WINDOW_DAYS = 30


def _choices(form: forms.BaseForm, name: str, queryset: QuerySet) -> None:
    """Limit a model choice field to ``queryset`` (a selector's, so: the user's scope)."""
    cast(forms.ModelChoiceField, form.fields[name]).queryset = queryset


def _scoped_or_current(user: Any, current: list[Any]) -> QuerySet[Institution]:
    """The institutions in the user's scope, plus those the edited object already names."""
    scoped = selectors.institutions_for(user)
    if current:
        return Institution.objects.filter(
            Q(pk__in=scoped.values("pk")) | Q(pk__in=current)
        ).order_by("name")
    return scoped.order_by("name")


class ServiceForm(forms.ModelForm):
    """A ModelForm that leaves validation of the model's rules to the service.

    ``_post_clean`` would build the instance and run the model's unique and constraint
    checks; the service does that (with its own clear messages) in its transaction.
    """

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def _post_clean(self) -> None:
        return None

    def changed_data_values(self) -> dict[str, Any]:
        """The cleaned values of the fields the user changed (for update services)."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


class InstitutionForm(ServiceForm):
    class Meta:
        model = Institution
        fields = INSTITUTION_FIELDS
        widgets = {"founded_on": DATE}
        labels = {"region": _("Region")}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        _choices(self, "region", selectors.regions_for(user))


class AgreementForm(ServiceForm):
    class Meta:
        model = Agreement
        fields = [
            "kind",
            "party_a",
            "party_b",
            "title",
            "responsibilities",
            "service_standards",
            "valid_from",
            "valid_to",
            "status",
            "document",
        ]
        widgets = {
            "valid_from": DATE,
            "valid_to": DATE,
            "responsibilities": forms.Textarea(attrs={"rows": 4}),
            "service_standards": forms.Textarea(attrs={"rows": 4}),
            # A new file replaces the old one; removing a signed document is not offered.
            "document": forms.FileInput,
        }
        labels = {"party_a": _("Party A"), "party_b": _("Party B")}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        # An agreement may have a partner outside the user's scope: when editing, the
        # current parties stay selectable; new partners come from the scope.
        current = [self.instance.party_a_id, self.instance.party_b_id] if self.instance.pk else []
        institutions = _scoped_or_current(user, current)
        _choices(self, "party_a", institutions)
        _choices(self, "party_b", institutions)


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

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
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
        _choices(self, "institution", _scoped_or_current(user, current))
        _choices(self, "skills", Skill.objects.order_by("code"))


# --- filters ------------------------------------------------------------------------


class InstitutionFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False)
    type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("All types")), *InstitutionType.choices]
    )
    region = forms.ModelChoiceField(
        label=_("Region"),
        required=False,
        queryset=Region.objects.none(),
        empty_label=_("All regions"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Villages are too many for a drop-down; a township narrows enough.
        _choices(self, "region", selectors.regions_for(user).exclude(level=RegionLevel.VILLAGE))

    def filter(self, queryset: QuerySet[Institution]) -> QuerySet[Institution]:
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            queryset = queryset.filter(name__icontains=data["q"].strip())
        if data["type"]:
            queryset = queryset.filter(type=data["type"])
        if data["region"] is not None:
            queryset = queryset.filter(region__code__startswith=data["region"].prefix)
        return queryset


class AgreementFilterForm(forms.Form):
    MARKERS = [
        ("", _("Any validity")),
        ("expiring", _("Expiring in 30 days")),
        ("expired", _("Expired")),
        ("valid", _("Valid beyond 30 days")),
    ]

    q = forms.CharField(label=_("Title or party"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *AgreementKind.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *AgreementStatus.choices],
    )
    marker = forms.ChoiceField(label=_("Validity"), required=False, choices=MARKERS)

    def filter(self, queryset: QuerySet[Agreement], today: datetime.date) -> QuerySet[Agreement]:
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            q = data["q"].strip()
            queryset = queryset.filter(
                Q(title__icontains=q)
                | Q(party_a__name__icontains=q)
                | Q(party_b__name__icontains=q)
            )
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        horizon = today + datetime.timedelta(days=EXPIRY_WINDOW_DAYS)
        if data["marker"] == "expired":
            queryset = queryset.filter(valid_to__lt=today)
        elif data["marker"] == "expiring":
            queryset = queryset.filter(valid_to__gte=today, valid_to__lte=horizon)
        elif data["marker"] == "valid":
            queryset = queryset.filter(valid_to__gt=horizon)
        return queryset


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


class TeamFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False)

    def filter(self, queryset: QuerySet) -> QuerySet:
        if self.is_valid() and self.cleaned_data["q"]:
            queryset = queryset.filter(name__icontains=self.cleaned_data["q"].strip())
        return queryset
