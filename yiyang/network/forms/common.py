"""What the network's page forms share: the date widget, limiting a choice field to the
user's scope (plus what the edited object already names), and the choice fields that label
institutions, regions, staff and grids."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import Q, QuerySet

from yiyang.accounts.models import User
from yiyang.network.models import (
    Institution,
)
from yiyang.network.selectors.institutions import institutions_for

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def limit_choices(form: forms.BaseForm, name: str, queryset: QuerySet) -> None:
    """Limit a model choice field to ``queryset`` (a selector's, so: the user's scope)."""
    cast(forms.ModelChoiceField, form.fields[name]).queryset = queryset


def scoped_or_current(user: User, current: list[Any]) -> QuerySet[Institution]:
    """The institutions in the user's scope, plus those the edited object already names."""
    scoped = institutions_for(user)
    if current:
        return Institution.objects.filter(
            Q(pk__in=scoped.values("pk")) | Q(pk__in=current)
        ).order_by("name")
    return scoped.order_by("name")


def scoped_or_current_of(scoped: QuerySet, current: list[Any]) -> QuerySet:
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
