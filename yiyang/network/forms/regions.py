"""Page forms of regions and grids: the region CSV import, the grid edit form, and the
filter forms of their lists."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yiyang.accounts.models import User
from yiyang.common.forms import ServiceForm
from yiyang.network.forms.common import (
    RegionChoiceField,
    limit_choices,
    scoped_or_current_of,
)
from yiyang.network.models import (
    Grid,
    Region,
    RegionLevel,
)
from yiyang.network.selectors.regions import regions_for


class RegionImportForm(forms.Form):
    file = forms.FileField(
        label=_("Region CSV file"),
        help_text=_("UTF-8 text, one region per line: code,name (a header line is allowed)."),
    )
    year = forms.IntegerField(label=_("Code year"), initial=2023, min_value=1980, max_value=2100)


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
        limit_choices(self, "village", scoped_or_current_of(villages, current).order_by("code"))


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
