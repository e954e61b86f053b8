"""Page forms of institutions and the structures they form: the institution, agreements
between two institutions, medical alliances and chain nodes (care-service centers and their
stations), with the filter forms of their lists."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yiyang.accounts.models import User
from yiyang.common.forms import ServiceForm
from yiyang.network.forms.common import (
    DATE,
    InstitutionChoiceField,
    RegionChoiceField,
    limit_choices,
    scoped_or_current,
    scoped_or_current_of,
)
from yiyang.network.models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    Alliance,
    AllianceKind,
    ChainNode,
    Institution,
    InstitutionType,
    NodeLevel,
    Region,
    RegionLevel,
    expiry_q,
)
from yiyang.network.selectors.institutions import nodes_for
from yiyang.network.selectors.regions import regions_for
from yiyang.network.services.institutions import INSTITUTION_FIELDS
from yiyang.network.services.nodes import NODE_FIELDS


class InstitutionForm(ServiceForm):
    class Meta:
        model = Institution
        fields = INSTITUTION_FIELDS
        widgets = {"founded_on": DATE}
        labels = {"region": _("Region")}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        limit_choices(self, "region", regions_for(user))


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

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        # An agreement may have a partner outside the user's scope: when editing, the
        # current parties stay selectable; new partners come from the scope.
        current = [self.instance.party_a_id, self.instance.party_b_id] if self.instance.pk else []
        institutions = scoped_or_current(user, current)
        limit_choices(self, "party_a", institutions)
        limit_choices(self, "party_b", institutions)


class MemberInstitutionsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.get_type_display()} · {obj.region.name}"


class AllianceForm(ServiceForm):
    class Meta:
        model = Alliance
        fields = ["name", "kind", "region", "lead", "members"]
        widgets = {"members": forms.CheckboxSelectMultiple}
        field_classes = {
            "region": RegionChoiceField,
            "lead": InstitutionChoiceField,
            "members": MemberInstitutionsField,
        }
        labels = {
            "region": _("Region (county for a county medical community, city for a city group)"),
            "lead": _("Lead medical institution"),
            "members": _("Member institutions"),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        alliance = self.instance
        member_current: list[Any] = []
        if alliance.pk:
            member_current = list(alliance.members.values_list("pk", flat=True))
        # The current region, lead and members stay selectable when they lie outside the
        # scope (so that editing the name does not force a change of them).
        regions = regions_for(user).filter(level__in=[RegionLevel.CITY, RegionLevel.COUNTY])
        limit_choices(
            self,
            "region",
            scoped_or_current_of(regions, [alliance.region_id] if alliance.pk else []).order_by(
                "code"
            ),
        )
        limit_choices(
            self, "lead", scoped_or_current(user, [alliance.lead_id] if alliance.pk else [])
        )
        limit_choices(
            self,
            "members",
            scoped_or_current(user, member_current).select_related("region"),
        )

    def service_values(self) -> dict[str, Any]:
        """The arguments of create_alliance, or of update_alliance (the changed fields)."""
        names = self.changed_data if self.instance.pk else list(self.cleaned_data)
        values = {name: self.cleaned_data[name] for name in names}
        if "members" in values:
            values["members"] = list(values["members"])
        return values


class NodeForm(ServiceForm):
    class Meta:
        model = ChainNode
        fields = NODE_FIELDS
        field_classes = {
            "region": RegionChoiceField,
            "medical_member": InstitutionChoiceField,
            "care_member": InstitutionChoiceField,
            "lead": InstitutionChoiceField,
        }
        labels = {
            "region": _("Region (township for a center, village for a station)"),
            "medical_member": _("Medical member"),
            "care_member": _("Elderly-care member"),
            "center": _("Center (for a station)"),
            "lead": _("Lead institution (for a center)"),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        node = self.instance
        current = [node.medical_member_id, node.care_member_id, node.lead_id] if node.pk else []
        institutions = scoped_or_current(user, [pk for pk in current if pk is not None])
        for name in ("medical_member", "care_member", "lead"):
            limit_choices(self, name, institutions)
        regions = regions_for(user).filter(level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE])
        limit_choices(
            self,
            "region",
            scoped_or_current_of(regions, [node.region_id] if node.pk else []).order_by("code"),
        )
        centers = nodes_for(user).filter(level=NodeLevel.CENTER)
        if node.pk:
            centers = centers.exclude(pk=node.pk)
        limit_choices(
            self,
            "center",
            scoped_or_current_of(centers, [node.center_id] if node.pk else []).order_by(
                "region__code", "name"
            ),
        )
        self.fields["center"].required = False
        self.fields["lead"].required = False
        if node.pk:
            # A node's level never changes (the service says so); it is shown, not edited.
            self.fields["level"].disabled = True


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

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Villages are too many for a drop-down; a township narrows enough.
        limit_choices(self, "region", regions_for(user).exclude(level=RegionLevel.VILLAGE))

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
        ("not_yet_valid", _("Not yet in force")),
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
        if data["marker"]:
            queryset = queryset.filter(expiry_q(data["marker"], today))
        return queryset


class AllianceFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *AllianceKind.choices]
    )

    def filter(self, queryset: QuerySet[Alliance]) -> QuerySet[Alliance]:
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            queryset = queryset.filter(name__icontains=data["q"].strip())
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        return queryset
