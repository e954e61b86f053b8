"""Page forms of the residents registry: the list filter and the register/edit form.

As in the network app, an edit form only parses and types the input; every rule (ID
number, sex and birth date agreeing with it, duplicates, village/grid/household agreeing,
scope) is the service's, whose ``ValidationFailed`` the view shows next to the field.

Places at city scale: a county has hundreds of villages and a city thousands, so the
village is chosen in two steps — township, then village (the village select is refreshed
through htmx when the township changes; without script a submit does the same). The
choices *shown* are the chosen township's villages (and that village's grids and
households); the choices *accepted* are everything in the user's scope, checked with one
indexed query.

Lists are paged by keyset (``keyset_page``): ``ORDER BY name, id`` walks the
``resident_name_idx`` index and a page is ``LIMIT 51`` after the last row of the previous
one — no ``COUNT(*)``, no ``OFFSET`` over a million rows.
"""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yiyang.accounts.models import User
from yiyang.common.forms import ServiceForm
from yiyang.common.scope import ScopeKind, scope_of
from yiyang.common.validation import field_label
from yiyang.network.models import (
    LEVEL_DIGITS,
    Grid,
    Institution,
    InstitutionType,
    Region,
    RegionLevel,
)
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.institutions import institutions_for
from yiyang.network.selectors.regions import grids_for
from yiyang.residents.models import (
    FLAGS,
    CareSetting,
    ConsentGiver,
    ConsentPurpose,
    Household,
    Relation,
    Resident,
    ResidentStatus,
)
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.search import NO_GRID, search_residents
from yiyang.residents.selectors.registry import village_q
from yiyang.residents.services.registry import grid_required, needs_grid

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# The grid filter lists at most this many grids (a city has thousands): beyond it the
# user narrows the area first.
GRID_CHOICE_LIMIT = 300

# Purposes recorded at registration (a proxy grant's consent is given with the grant).
REGISTRATION_PURPOSES = [
    (value, label)
    for value, label in ConsentPurpose.choices
    if value != ConsentPurpose.PROXY_ACCESS
]
# Institutions that can provide institutional care (not clinics without beds).
CARE_EXCLUDED_TYPES = (InstitutionType.VILLAGE_CLINIC, InstitutionType.CHS)


def flag_choices() -> list[tuple[str, Any]]:
    return [(name, field_label((Resident,), name)) for name in FLAGS]


# --- places in scope ----------------------------------------------------------------------


def villages_in_scope(user: User) -> QuerySet[Region]:
    """Villages a resident registered by ``user`` may live in (the residents' scope)."""
    qs = Region.objects.filter(level=RegionLevel.VILLAGE)
    q = village_q(scope_of(user))
    return qs if q is None else qs.filter(q)


def townships_in_scope(user: User) -> QuerySet[Region]:
    villages = villages_in_scope(user)
    return Region.objects.filter(pk__in=villages.values("parent_id")).order_by("code")


def areas_in_scope(user: User) -> QuerySet[Region]:
    """Townships, counties and cities holding villages in ``user``'s scope (the list's
    area filter), in code order — a parent before its children."""
    townships = Region.objects.filter(pk__in=villages_in_scope(user).values("parent_id"))
    counties = Region.objects.filter(pk__in=townships.values("parent_id"))
    cities = Region.objects.filter(pk__in=counties.values("parent_id"), level=RegionLevel.CITY)
    return Region.objects.filter(
        Q(pk__in=townships.values("pk"))
        | Q(pk__in=counties.values("pk"))
        | Q(pk__in=cities.values("pk"))
    ).order_by("code")


def area_rows(user: User) -> list[tuple[int, str, str, str]]:
    """(id, code, name, level) of the areas in ``areas_in_scope``; for "all" and region
    scopes straight from the region table (one indexed query)."""
    scope = scope_of(user)
    levels = (RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP)
    if scope.kind == ScopeKind.ALL:
        qs = Region.objects.filter(level__in=levels)
    elif scope.kind == ScopeKind.REGION:
        qs = Region.objects.filter(level__in=levels, code__startswith=scope.region_prefix)
    else:
        qs = areas_in_scope(user)
    return list(qs.order_by("code").values_list("pk", "code", "name", "level"))


def grids_in_scope(user: User) -> QuerySet[Grid]:
    """Grids the user may file a resident under (the network's grid scope)."""
    if not user.has_perm_code(NetworkPerm.VIEW):
        return Grid.objects.none()
    return grids_for(user)


def _or_current(qs: QuerySet[Any], current: Any) -> QuerySet[Any]:
    """``qs`` plus the object the edited record already names (it may lie outside the
    scope, e.g. a resident in an institution's care living elsewhere)."""
    pk = getattr(current, "pk", current)
    if not pk:
        return qs
    return qs.model._default_manager.filter(Q(pk__in=qs.values("pk")) | Q(pk=pk))


def region_prefix(value: str) -> str:
    """A region filter value as a code prefix: a full 12-digit code becomes its
    significant digits (``411521000000`` → ``411521``); else its digits as given."""
    digits = re.sub(r"[^0-9]", "", value or "")
    if len(digits) == 12:
        for level in (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY):
            size = LEVEL_DIGITS[level]
            if set(digits[size:]) == {"0"}:
                return digits[:size]
        if digits[9:] == "000":
            return digits[:9]
    return digits


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        indent = {RegionLevel.COUNTY: "\u2003", RegionLevel.TOWNSHIP: "\u2003\u2003"}
        return f"{indent.get(obj.level, '')}{obj.name}"


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.code})"


class GridChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.village.name})"


# --- the list filter ----------------------------------------------------------------------

AGE_BANDS: list[tuple[str, Any]] = [
    ("", _("Any age")),
    ("60-64", "60–64"),
    ("65-69", "65–69"),
    ("70-74", "70–74"),
    ("75-79", "75–79"),
    ("80-84", "80–84"),
    ("85-89", "85–89"),
    ("90-", _("90 and over")),
    ("65-", _("65 and over")),
    ("80-", _("80 and over")),
    ("-59", _("Under 60")),
]
LIST_STATUSES = [
    ("", _("Any status")),
    *[(v, lbl) for v, lbl in ResidentStatus.choices if v != ResidentStatus.MERGED],
]


class ResidentFilterForm(forms.Form):
    """The list page's search box and filters (GET). Always applied inside the user's
    scope (``search_residents``). Choices are loaded as plain rows (no model instances):
    the list page is the registry's hot path."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("ID number, phone, name or pinyin (zs, zhangsan)"),
                "autocomplete": "off",
            }
        ),
    )
    area = forms.TypedChoiceField(label=_("Area"), coerce=int, required=False, empty_value=None)
    region = forms.CharField(
        label=_("Region code"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    # A grid id, or ``NO_GRID`` for the residents waiting for a grid (ADR 0010).
    grid = forms.CharField(label=_("Grid"), required=False, widget=forms.Select)
    age = forms.ChoiceField(label=_("Age"), choices=AGE_BANDS, required=False)
    care_setting = forms.ChoiceField(
        label=_("Care setting"),
        choices=[("", _("Any")), *CareSetting.choices],
        required=False,
    )
    status = forms.ChoiceField(label=_("Status"), choices=LIST_STATUSES, required=False)
    flags = forms.MultipleChoiceField(
        label=_("Special groups"),
        choices=flag_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, data: Any, *, user: User) -> None:
        super().__init__(data)
        self.user = user
        indent: dict[str, str] = {
            RegionLevel.COUNTY: "\u2003",
            RegionLevel.TOWNSHIP: "\u2003\u2003",
        }
        self.area_prefixes: dict[int, str] = {}
        choices: list[tuple[Any, Any]] = [("", _("All"))]
        rows = area_rows(user)
        for pk, code, name, level in rows:
            self.area_prefixes[pk] = code[: LEVEL_DIGITS[RegionLevel(level)]]
            choices.append((pk, f"{indent.get(level, '')}{name}"))
        # The example is a code of the user's own area (a township's when there is one),
        # not a fixed one from another deployment.
        example = next((r[1] for r in rows if r[3] == RegionLevel.TOWNSHIP), None)
        if example or rows:
            self.fields["region"].widget.attrs["placeholder"] = example or rows[0][1]
        cast(forms.TypedChoiceField, self.fields["area"]).choices = choices
        grids = grids_in_scope(user)
        area = self._raw_int("area")
        if area in self.area_prefixes:
            grids = grids.filter(village__code__startswith=self.area_prefixes[area])
        shown = list(
            grids.order_by("village__code", "code").values_list("pk", "name", "village__name")[
                : GRID_CHOICE_LIMIT + 1
            ]
        )
        self.too_many_grids = len(shown) > GRID_CHOICE_LIMIT
        grid_field = self.fields["grid"]
        if self.too_many_grids:
            shown = []
            grid_field.help_text = _("Choose a township first to filter by grid.")
        # Who may assign grids finds the residents without one (a team-scoped user has
        # none in scope: she files every resident under a grid).
        self.offers_no_grid = user.has_perm_code(ResidentPerm.VIEW) and not needs_grid(user)
        no_grid = [(NO_GRID, _("No grid yet (to be assigned)"))] if self.offers_no_grid else []
        grid_field.widget.choices = [("", _("All")), *no_grid] + [  # type: ignore[attr-defined]
            (pk, f"{name} ({village})") for pk, name, village in shown
        ]

    def _raw_int(self, name: str) -> int | None:
        raw = self.data.get(name) if self.data else None
        return int(raw) if raw and str(raw).isdigit() else None

    def clean_grid(self) -> int | str | None:
        raw = (self.cleaned_data.get("grid") or "").strip()
        if not raw:
            return None
        if raw == NO_GRID and self.offers_no_grid:
            return NO_GRID
        valid = raw.isdigit() and len(raw) <= 18
        if not valid or not grids_in_scope(self.user).filter(pk=int(raw)).exists():
            raise forms.ValidationError(
                _("Select a valid choice. That choice is not one of the available choices.")
            )
        return int(raw)

    def clean_region(self) -> str:
        value = self.cleaned_data.get("region") or ""
        prefix = region_prefix(value)
        if value.strip() and (not prefix or len(prefix) > 12):
            raise forms.ValidationError(_("Enter a region code (digits only)."))
        return prefix

    def age_bounds(self) -> tuple[int | None, int | None]:
        band = self.cleaned_data.get("age") or ""
        if not band:
            return None, None
        low, _sep, high = band.partition("-")
        return (int(low) if low else None), (int(high) if high else None)

    def results(self) -> QuerySet[Resident]:
        """The residents matching the (valid) filters, in the user's scope."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        min_age, max_age = self.age_bounds() if data else (None, None)
        area = data.get("area")
        qs = search_residents(
            self.user,
            data.get("q") or "",
            region=self.area_prefixes[area] if area is not None else None,
            grid=data.get("grid"),
            status=data.get("status") or None,
            care_setting=data.get("care_setting") or None,
            min_age=min_age,
            max_age=max_age,
            flags=data.get("flags") or (),
        )
        if data.get("region"):
            qs = qs.filter(region_code__startswith=data["region"])
        return qs


# --- register and edit --------------------------------------------------------------------

RESIDENT_FORM_FIELDS = [
    "name",
    "id_number",
    "sex",
    "birth_date",
    "phone",
    "ethnicity",
    "region",
    "grid",
    "household",
    "address",
    "permanent_resident",
    "insurance",
    "ltc_insured",
    "status",
    "deceased_on",
    "care_setting",
    "institution",
    *FLAGS,
]
# How the form groups its fields (legend, field names).
SECTIONS: list[tuple[Any, list[str]]] = [
    (_("Identity"), ["name", "id_number", "sex", "birth_date", "phone", "ethnicity"]),
    (
        _("Where she lives"),
        ["township", "region", "grid", "household", "address", "permanent_resident"],
    ),
    (_("Insurance"), ["insurance", "ltc_insured"]),
    (_("Status and care"), ["status", "deceased_on", "care_setting", "institution"]),
    (_("Living situation and special groups"), list(FLAGS)),
]
CONSENT_SECTION: tuple[Any, list[str]] = (
    _("Consent"),
    ["consents", "consent_given_by", "guardian_name", "guardian_relation", "guardian_phone"],
)


class ResidentForm(ServiceForm):
    """Register a resident, or edit one (``instance``). On edit the ID number and phone
    are not shown (they are sensitive): left blank they stay as they are."""

    township = AreaChoiceField(
        label=_("Township"),
        queryset=Region.objects.none(),
        required=False,
        help_text=_("Choose the township to list its villages."),
    )
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=18,
        min_length=1,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    # Consents, given at registration (create only).
    consents = forms.MultipleChoiceField(
        label=_("Consents given"),
        choices=REGISTRATION_PURPOSES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent_given_by = forms.ChoiceField(
        label=_("Consent given by"),
        choices=ConsentGiver.choices,
        initial=ConsentGiver.SELF,
        required=False,
        widget=forms.RadioSelect,
    )
    guardian_name = forms.CharField(
        label=_("Guardian's name"),
        required=False,
        max_length=100,
        help_text=_("When the guardian gave the consents: recorded as her guardian."),
    )
    guardian_relation = forms.ChoiceField(
        label=_("Guardian's relation"),
        choices=Relation.choices,
        initial=Relation.GUARDIAN,
        required=False,
    )
    guardian_phone = forms.CharField(
        label=_("Guardian's phone"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )

    class Meta:
        model = Resident
        fields = RESIDENT_FORM_FIELDS
        widgets = {
            "birth_date": DATE,
            "deceased_on": DATE,
        }
        field_classes = {"region": VillageChoiceField, "grid": GridChoiceField}
        labels = {"region": _("Village")}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        resident: Resident = self.instance
        editing = resident.pk is not None
        self.editing = editing
        self.fields["sex"].required = False
        self.fields["birth_date"].required = False
        self.fields["sex"].help_text = _("Optional: taken from the ID number.")
        self.fields["birth_date"].help_text = _("Optional: taken from the ID number.")
        if editing:
            for name in CONSENT_SECTION[1]:
                del self.fields[name]
            # Never put the full ID number or phone into the page: blank keeps them.
            self.initial["id_number"] = ""
            self.initial["phone"] = ""
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = _(
                "Now %(masked)s. Leave blank to keep it; enter the full number to correct it."
            ) % {"masked": resident.id_number_masked}
            self.fields["phone"].help_text = (
                _("Now %(masked)s. Leave blank to keep it.")
                % {"masked": self._masked_phone(resident.phone)}
                if resident.phone
                else _("None on record.")
            )
        statuses = [
            (v, lbl)
            for v, lbl in ResidentStatus.choices
            if v != ResidentStatus.MERGED or resident.status == ResidentStatus.MERGED
        ]
        cast(forms.ChoiceField, self.fields["status"]).choices = statuses

        # Places: accepted = in scope (plus what the record already names); shown = the
        # chosen township's villages, that village's grids and households.
        current_region = resident.region if editing else None
        villages = _or_current(villages_in_scope(user), current_region)
        townships = Region.objects.filter(pk__in=villages.values("parent_id")).order_by("code")
        self._set_queryset("township", townships)
        self._set_queryset("region", villages)
        self._set_queryset(
            "grid", _or_current(grids_in_scope(user), resident.grid_id if editing else None)
        )
        self._set_queryset("household", Household.objects.filter(region__in=villages))
        institutions = _or_current(
            institutions_for(user).exclude(type__in=CARE_EXCLUDED_TYPES)
            if user.has_perm_code(NetworkPerm.VIEW)
            else Institution.objects.none(),
            resident.institution_id if editing else None,
        )
        self._set_queryset("institution", institutions.order_by("name"))
        if editing and current_region is not None:
            self.initial.setdefault("township", current_region.parent_id)

        township = self._chosen("township", townships)
        village = self._chosen("region", villages)
        if township is None and village is not None:
            township = village.parent
            if not self.is_bound:
                self.initial["township"] = township.pk if township else None
        self.chosen_township = township
        self.chosen_village = village
        self._show(
            "region",
            villages.filter(parent=township).order_by("code") if township else villages.none(),
            _("Choose a township first") if township is None else "—",
        )
        grids = (
            _or_current(grids_in_scope(user), resident.grid_id if editing else None)
            .filter(village=village)
            .select_related("village")
            .order_by("code")
            if village
            else Grid.objects.none()
        )
        self._show("grid", grids, "—")
        if needs_grid(user):  # a team-scoped user files her under one of the team's grids
            grid_field = self.fields["grid"]
            grid_field.required = True
            grid_field.error_messages["required"] = grid_required().detail
            grid_field.help_text = _("Required: one of the grids your team serves.")
        households = (
            Household.objects.filter(region=village).order_by("address")
            if village
            else Household.objects.none()
        )
        self._show("household", households, "—")

    @staticmethod
    def _masked_phone(phone: str) -> str:
        from yiyang.common.crypto import mask_phone

        return mask_phone(phone)

    def _set_queryset(self, name: str, qs: QuerySet[Any]) -> None:
        cast(forms.ModelChoiceField, self.fields[name]).queryset = qs

    def _raw(self, name: str) -> Any:
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        value = self.initial.get(name)
        if value is None and self.instance.pk is not None and name in ("region", "grid"):
            value = getattr(self.instance, f"{name}_id")
        return getattr(value, "pk", value)

    def _current_pk(self, name: str) -> int | None:
        raw = self._raw(name)
        return int(raw) if raw not in (None, "") and str(raw).isdigit() else None

    def _chosen(self, name: str, qs: QuerySet[Any]) -> Any:
        pk = self._current_pk(name)
        return None if pk is None else qs.filter(pk=pk).first()

    def _show(self, name: str, qs: QuerySet[Any], empty: Any) -> None:
        """Render only ``qs`` as the field's options (validation keeps the full set)."""
        field = cast(forms.ModelChoiceField, self.fields[name])
        field.widget.choices = [("", empty)] + [
            (obj.pk, field.label_from_instance(obj)) for obj in qs
        ]

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        township, village = data.get("township"), data.get("region")
        if township is not None and village is not None and village.parent_id != township.pk:
            self.add_error(
                "region",
                _("%(village)s does not lie in %(township)s: choose the village again.")
                % {"village": village.name, "township": township.name},
            )
        if self.editing:
            return data
        by_guardian = data.get("consent_given_by") == ConsentGiver.GUARDIAN
        if data.get("consents") and by_guardian and not data.get("guardian_name"):
            self.add_error(
                "guardian_name",
                _("Name the guardian who gave the consents (recorded as her guardian)."),
            )
        return data

    def service_values(self) -> dict[str, Any]:
        """What goes to ``register_resident`` / ``update_resident``: on edit only the
        fields the user changed (a blank ID number or phone keeps the stored one)."""
        data = self.cleaned_data
        names = [n for n in RESIDENT_FORM_FIELDS if n in self.fields]
        if self.editing:
            names = [n for n in names if n in self.changed_data]
            names = [n for n in names if not (n in ("id_number", "phone") and not data.get(n))]
            return {n: data[n] for n in names}
        values = {n: data[n] for n in names}
        for name in ("sex", "birth_date"):
            if values.get(name) in (None, ""):
                values.pop(name)
        return values

    def consent_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        guardian = None
        if data.get("consent_given_by") == ConsentGiver.GUARDIAN and data.get("guardian_name"):
            guardian = {
                "name": data["guardian_name"],
                "relation": data.get("guardian_relation") or Relation.GUARDIAN,
                "phone": data.get("guardian_phone") or "",
            }
        return {
            "purposes": list(data.get("consents") or []),
            "given_by": data.get("consent_given_by") or ConsentGiver.SELF,
            "guardian": guardian,
        }

    def sections(self) -> list[tuple[Any, list[forms.BoundField]]]:
        groups = [*SECTIONS, CONSENT_SECTION] if not self.editing else SECTIONS
        return [(legend, [self[n] for n in names if n in self.fields]) for legend, names in groups]
