"""Page forms of family-doctor teams: the edit form with its rows of members and their
roles (``MembersField`` and its widget), and the filter form of the team list."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from yiyang.accounts.models import User
from yiyang.common.forms import ServiceForm
from yiyang.network.forms.common import (
    GridMultipleChoiceField,
    StaffChoiceField,
    limit_choices,
    scoped_or_current_of,
)
from yiyang.network.models import (
    Staff,
    Team,
    TeamRole,
)
from yiyang.network.selectors.institutions import nodes_for
from yiyang.network.selectors.regions import grids_for
from yiyang.network.selectors.staff import staff_for


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
        staff = scoped_or_current_of(staff_for(user), staff_current).order_by("name", "pk")
        limit_choices(self, "leader", staff)
        cast(MembersField, self.fields["members"]).queryset = staff
        limit_choices(
            self,
            "node",
            scoped_or_current_of(nodes_for(user), node_current)
            .select_related("region")
            .order_by("region__code", "name"),
        )
        limit_choices(
            self,
            "grids",
            scoped_or_current_of(grids_for(user), grid_current)
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


class TeamFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False)

    def filter(self, queryset: QuerySet) -> QuerySet:
        if self.is_valid() and self.cleaned_data["q"]:
            queryset = queryset.filter(name__icontains=self.cleaned_data["q"].strip())
        return queryset
