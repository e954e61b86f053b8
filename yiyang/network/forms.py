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

from yiyang.accounts.models import User
from yiyang.common.forms import ServiceForm
from yiyang.network.models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    Alliance,
    AllianceKind,
    ChainNode,
    Grid,
    Institution,
    InstitutionType,
    NodeLevel,
    Profession,
    Region,
    RegionLevel,
    Skill,
    Staff,
    Team,
    TeamRole,
    expiry_q,
)
from yiyang.network.selectors.institutions import institutions_for, nodes_for
from yiyang.network.selectors.regions import grids_for, regions_for
from yiyang.network.selectors.staff import staff_for
from yiyang.network.services.institutions import INSTITUTION_FIELDS
from yiyang.network.services.nodes import NODE_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _choices(form: forms.BaseForm, name: str, queryset: QuerySet) -> None:
    """Limit a model choice field to ``queryset`` (a selector's, so: the user's scope)."""
    cast(forms.ModelChoiceField, form.fields[name]).queryset = queryset


def _scoped_or_current(user: User, current: list[Any]) -> QuerySet[Institution]:
    """The institutions in the user's scope, plus those the edited object already names."""
    scoped = institutions_for(user)
    if current:
        return Institution.objects.filter(
            Q(pk__in=scoped.values("pk")) | Q(pk__in=current)
        ).order_by("name")
    return scoped.order_by("name")


class InstitutionForm(ServiceForm):
    class Meta:
        model = Institution
        fields = INSTITUTION_FIELDS
        widgets = {"founded_on": DATE}
        labels = {"region": _("Region")}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        _choices(self, "region", regions_for(user))


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
        _choices(self, "institution", _scoped_or_current(user, current))
        _choices(self, "skills", Skill.objects.order_by("code"))


def _scoped_or_current_of(scoped: QuerySet, current: list[Any]) -> QuerySet:
    """``scoped`` plus the rows the edited object already names (they stay selectable)."""
    current = [pk for pk in current if pk is not None]
    if not current:
        return scoped
    return scoped.model._default_manager.filter(Q(pk__in=scoped.values("pk")) | Q(pk__in=current))


class InstitutionChoiceField(forms.ModelChoiceField):
    """An institution with its type, so that a medical and a care member are easy to tell."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.get_type_display()}"


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.code})"


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.get_profession_display()}"


class GridMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.village.name})"


# --- teams ----------------------------------------------------------------------------


class MemberRowsWidget(forms.Widget):
    """Rows of (staff member, role in the team): the current members plus a few empty rows.
    Posted as ``members-<i>-staff`` / ``members-<i>-role``; a row without a staff member
    is ignored (clearing the staff member of a row removes that member)."""

    template_name = "network/widgets/member_rows.html"
    EXTRA_ROWS = 3
    MAX_ROWS = 500

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.staff_choices: Any = []
        self.role_choices: list[tuple[str, Any]] = list(TeamRole.choices)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[tuple[str, str]]:
        rows = []
        for i in range(self.MAX_ROWS):
            staff_key, role_key = f"{name}-{i}-staff", f"{name}-{i}-role"
            if staff_key not in data and role_key not in data:
                break
            staff = (data.get(staff_key) or "").strip()
            if staff:
                rows.append((staff, (data.get(role_key) or "").strip()))
        return rows

    def id_for_label(self, id_: str) -> str:
        return f"{id_}-0-staff" if id_ else id_

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return f"{name}-0-staff" not in data

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        rows = [(str(s), str(r)) for s, r in (value or [])]
        rows += [("", "")] * self.EXTRA_ROWS
        staff_choices = [(str(pk), label) for pk, label in self.staff_choices]
        context["widget"]["rows"] = [
            {"index": i, "staff": staff, "role": role} for i, (staff, role) in enumerate(rows)
        ]
        context["widget"]["staff_choices"] = staff_choices
        context["widget"]["role_choices"] = self.role_choices
        return context


class _StaffChoices:
    """(pk, "name · profession") of a staff queryset, read when the widget is rendered."""

    def __init__(self, queryset: QuerySet[Staff]) -> None:
        self.queryset = queryset

    def __iter__(self) -> Any:
        for staff in self.queryset:
            yield staff.pk, f"{staff.name} · {staff.get_profession_display()}"


class MembersField(forms.Field):
    """The team's members with their roles: parses the rows into ``[{"staff", "role"}]``.
    Staff members come from ``queryset`` (the user's scope); the rules (a member listed
    twice, the leader among the members, a valid role) are the service's."""

    widget = MemberRowsWidget
    default_error_messages = {
        "invalid_choice": _("Select a valid staff member: %(value)s is not one of the choices.")
    }

    def __init__(self, *, queryset: QuerySet[Staff], **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.queryset = queryset

    @property
    def queryset(self) -> QuerySet[Staff]:
        return self._queryset

    @queryset.setter
    def queryset(self, queryset: QuerySet[Staff]) -> None:
        self._queryset = queryset
        cast(MemberRowsWidget, self.widget).staff_choices = _StaffChoices(queryset)

    def to_python(self, value: Any) -> list[dict[str, Any]]:
        rows = list(value or [])
        keys = [staff for staff, _role in rows]
        found = {}
        numeric = [k for k in keys if str(k).isdigit()]
        if numeric:
            found = {str(s.pk): s for s in self.queryset.filter(pk__in=numeric)}
        out = []
        for staff, role in rows:
            obj = found.get(str(staff))
            if obj is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": staff},
                )
            out.append({"staff": obj, "role": role})
        return out

    def has_changed(self, initial: Any, data: Any) -> bool:
        def norm(rows: Any) -> list[tuple[str, str]]:
            return sorted((str(getattr(s, "pk", s)), str(r)) for s, r in (rows or []))

        return norm(initial) != norm(data)


class TeamForm(ServiceForm):
    members = MembersField(
        label=_("Members and their roles"),
        queryset=Staff.objects.none(),
        help_text=_("The leader must be one of the members. Clear a row to remove a member."),
    )

    class Meta:
        model = Team
        fields = ["name", "node", "leader", "grids"]
        widgets = {"grids": forms.CheckboxSelectMultiple}
        field_classes = {"leader": StaffChoiceField, "grids": GridMultipleChoiceField}
        labels = {"grids": _("Grids served"), "node": _("Home node"), "leader": _("Leader")}

    field_order = ["name", "node", "leader", "members", "grids"]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        team = self.instance
        staff_current: list[Any] = []
        grid_current: list[Any] = []
        node_current: list[Any] = []
        if team.pk:
            members = list(team.memberships.order_by("pk").values_list("staff_id", "role"))
            self.initial.setdefault("members", members)
            staff_current = [team.leader_id, *(s for s, _r in members)]
            grid_current = list(team.grids.values_list("pk", flat=True))
            node_current = [team.node_id]
        # Existing members, grids and node stay selectable when they lie outside the scope
        # (so that editing the name does not force a change of them).
        staff = _scoped_or_current_of(staff_for(user), staff_current).order_by("name", "pk")
        _choices(self, "leader", staff)
        cast(MembersField, self.fields["members"]).queryset = staff
        _choices(
            self,
            "node",
            _scoped_or_current_of(nodes_for(user), node_current)
            .select_related("region")
            .order_by("region__code", "name"),
        )
        _choices(
            self,
            "grids",
            _scoped_or_current_of(grids_for(user), grid_current)
            .select_related("village")
            .order_by("village__code", "code"),
        )

    def service_values(self) -> dict[str, Any]:
        """The arguments of create_team, or of update_team (the changed fields only)."""
        names = self.changed_data if self.instance.pk else list(self.cleaned_data)
        values = {name: self.cleaned_data[name] for name in names}
        if "grids" in values:
            values["grids"] = list(values["grids"])
        return values


# --- chain nodes ----------------------------------------------------------------------


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
        institutions = _scoped_or_current(user, [pk for pk in current if pk is not None])
        for name in ("medical_member", "care_member", "lead"):
            _choices(self, name, institutions)
        regions = regions_for(user).filter(level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE])
        _choices(
            self,
            "region",
            _scoped_or_current_of(regions, [node.region_id] if node.pk else []).order_by("code"),
        )
        centers = nodes_for(user).filter(level=NodeLevel.CENTER)
        if node.pk:
            centers = centers.exclude(pk=node.pk)
        _choices(
            self,
            "center",
            _scoped_or_current_of(centers, [node.center_id] if node.pk else []).order_by(
                "region__code", "name"
            ),
        )
        self.fields["center"].required = False
        self.fields["lead"].required = False
        if node.pk:
            # A node's level never changes (the service says so); it is shown, not edited.
            self.fields["level"].disabled = True


# --- grids ----------------------------------------------------------------------------


class GridForm(ServiceForm):
    class Meta:
        model = Grid
        fields = ["village", "code", "name", "description"]
        field_classes = {"village": RegionChoiceField}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"village": _("Village or community")}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        villages = regions_for(user).filter(level=RegionLevel.VILLAGE)
        current = [self.instance.village_id] if self.instance.pk else []
        _choices(self, "village", _scoped_or_current_of(villages, current).order_by("code"))


# --- alliances ------------------------------------------------------------------------


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
        _choices(
            self,
            "region",
            _scoped_or_current_of(regions, [alliance.region_id] if alliance.pk else []).order_by(
                "code"
            ),
        )
        _choices(self, "lead", _scoped_or_current(user, [alliance.lead_id] if alliance.pk else []))
        _choices(
            self,
            "members",
            _scoped_or_current(user, member_current).select_related("region"),
        )

    def service_values(self) -> dict[str, Any]:
        """The arguments of create_alliance, or of update_alliance (the changed fields)."""
        names = self.changed_data if self.instance.pk else list(self.cleaned_data)
        values = {name: self.cleaned_data[name] for name in names}
        if "members" in values:
            values["members"] = list(values["members"])
        return values


# --- regions --------------------------------------------------------------------------


class RegionImportForm(forms.Form):
    file = forms.FileField(
        label=_("Region CSV file"),
        help_text=_("UTF-8 text, one region per line: code,name (a header line is allowed)."),
    )
    year = forms.IntegerField(label=_("Code year"), initial=2023, min_value=1980, max_value=2100)


# --- filters ------------------------------------------------------------------------


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
        _choices(self, "region", regions_for(user).exclude(level=RegionLevel.VILLAGE))

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


class RegionFilterForm(forms.Form):
    code = forms.CharField(
        label=_("Code or prefix"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    q = forms.CharField(label=_("Name"), required=False)
    level = forms.ChoiceField(
        label=_("Level"), required=False, choices=[("", _("All levels")), *RegionLevel.choices]
    )

    def filter(self, queryset: QuerySet[Region]) -> QuerySet[Region]:
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        prefix = data["code"].strip()
        if prefix:
            # A full 12-digit code names a region: show it and its subtree.
            if len(prefix) == 12 and prefix.isdigit():
                region = Region.objects.filter(code=prefix).first()
                if region is not None:
                    prefix = region.prefix
            queryset = queryset.filter(code__startswith=prefix)
        if data["q"]:
            queryset = queryset.filter(name__icontains=data["q"].strip())
        if data["level"]:
            queryset = queryset.filter(level=data["level"])
        return queryset


class GridFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or code"), required=False)
    village = forms.CharField(label=_("Region code or prefix"), required=False, max_length=12)

    def filter(self, queryset: QuerySet[Grid]) -> QuerySet[Grid]:
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            q = data["q"].strip()
            queryset = queryset.filter(Q(name__icontains=q) | Q(code__icontains=q))
        if data["village"].strip():
            queryset = queryset.filter(village__code__startswith=data["village"].strip())
        return queryset
