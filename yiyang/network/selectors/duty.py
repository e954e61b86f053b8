"""Reads of the duty roster (``DutyShift``, ``NetworkPerm.STAFF_VIEW``), its shifts scoped
by their institution, and who the center tier of an alert's escalation notifies.

A shift counts only at the medical member of a care-service center (the institution the
center tier of an alert's escalation asks), and only for an active doctor of it: active
staff with a current membership there, or doctors whose data scope is it — the doctors
``duty_doctors`` falls back to when nobody is on duty. Three reads take no actor:
``duty_doctors``, ``center_institutions`` and ``doctors_of`` answer the alert escalation
(the system), which notifies whoever they name.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from yiyang.accounts.models import User
from yiyang.common.errors import NotFound
from yiyang.common.permissions import Role, require_perm
from yiyang.network.models import ChainNode, DutyShift, Institution, NodeLevel, Team
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.institutions import institutions_for


def doctors_of(institution_ids: Iterable[int], today: datetime.date) -> dict[int, set[int]]:
    """Institution → the ids of its active doctors (no actor: ``duty_doctors``' fallback and
    the roster's check of who may be on duty)."""
    wanted = set(institution_ids)
    out: dict[int, set[int]] = defaultdict(set)
    if not wanted:
        return {}
    doctors = get_user_model().objects.filter(is_active=True, role=Role.DOCTOR)
    current = Q(staff__memberships__end_on__isnull=True) | Q(staff__memberships__end_on__gte=today)
    for inst, user_id in doctors.filter(
        current, staff__active=True, staff__memberships__institution_id__in=wanted
    ).values_list("staff__memberships__institution_id", "pk"):
        if inst in wanted:
            out[inst].add(user_id)
    for inst, user_id in doctors.filter(
        scope_kind="institution", scope_institution_id__in=wanted
    ).values_list("scope_institution_id", "pk"):
        out[inst].add(user_id)
    return dict(out)


def duty_places() -> QuerySet:
    """The institutions a roster counts at: the medical members of care-service centers
    (a subquery of ``medical_member_id``)."""
    return ChainNode.objects.filter(level=NodeLevel.CENTER).values("medical_member_id")


def duty_institutions(user: User) -> QuerySet[Institution]:
    """The institutions in ``user``'s scope that keep a duty roster (``NetworkPerm.STAFF_VIEW``),
    by name."""
    require_perm(user, NetworkPerm.STAFF_VIEW)
    return institutions_for(user).filter(pk__in=duty_places()).order_by("name", "pk")


def duty_candidates(user: User, institution_ids: Iterable[int]) -> dict[int, list[Any]]:
    """Institution → the doctors who may be put on duty there (by name), for the
    institutions among ``institution_ids`` that keep a roster in ``user``'s scope."""
    ids = set(
        duty_institutions(user).filter(pk__in=set(institution_ids)).values_list("pk", flat=True)
    )
    by_inst = doctors_of(ids, timezone.localdate())
    users = {
        u.pk: u
        for u in get_user_model().objects.filter(pk__in=set().union(*by_inst.values(), set()))
    }
    return {
        inst: sorted((users[i] for i in ids_), key=lambda u: (str(u), u.pk))
        for inst, ids_ in by_inst.items()
    }


def duty_shifts_for(user: User) -> QuerySet[DutyShift]:
    """The duty shifts of the institutions in ``user``'s scope (``NetworkPerm.STAFF_VIEW``)."""
    require_perm(user, NetworkPerm.STAFF_VIEW)
    scoped = DutyShift.objects.filter(institution__in=institutions_for(user).values("pk"))
    return scoped.select_related("institution", "user", "created_by")


def get_duty_shift_for(user: User, pk: Any) -> DutyShift:
    """One shift in ``user``'s scope; ``NotFound`` for a missing one and one outside alike."""
    try:
        return duty_shifts_for(user).get(pk=pk)
    except (DutyShift.DoesNotExist, ValueError, TypeError):
        raise NotFound("duty shift") from None


def on_duty(
    user: User, now: datetime.datetime, institution_ids: Iterable[int] | None = None
) -> list[dict[str, Any]]:
    """Who the center tier would notify now, per institution in ``user``'s scope that keeps
    a roster (``duty_doctors``): ``{"institution", "doctors", "by_roster"}`` — ``by_roster``
    False means nobody is on duty and the doctors listed are the institution's doctors,
    notified instead."""
    insts = duty_institutions(user)
    if institution_ids is not None:
        insts = insts.filter(pk__in=set(institution_ids))
    rows = list(insts)
    ids = [i.pk for i in rows]
    notified = duty_doctors(ids, now)
    rostered = set(
        DutyShift.objects.filter(
            institution_id__in=ids, starts_at__lte=now, ends_at__gt=now, user__is_active=True
        ).values_list("institution_id", flat=True)
    )
    users = {
        u.pk: u
        for u in get_user_model().objects.filter(pk__in=set().union(*notified.values(), set()))
    }
    return [
        {
            "institution": inst,
            "doctors": sorted(
                (users[i] for i in notified.get(inst.pk, ())), key=lambda u: (str(u), u.pk)
            ),
            "by_roster": inst.pk in rostered,
        }
        for inst in rows
    ]


def center_institutions(team_ids: Iterable[int]) -> dict[int, int]:
    """Team → the medical member of its care-service center (its home node when that is a
    center, else the center of its station): whose roster the team's center tier asks. No
    actor (the escalation)."""
    out: dict[int, int] = {}
    for team_id, level, own, parent in Team.objects.filter(pk__in=set(team_ids)).values_list(
        "pk", "node__level", "node__medical_member_id", "node__center__medical_member_id"
    ):
        inst = own if level == NodeLevel.CENTER else parent
        if inst:
            out[team_id] = inst
    return out


def duty_doctors(institution_ids: Iterable[int], now: datetime.datetime) -> dict[int, set[int]]:
    """Institution → the doctors on duty now; an institution with nobody on duty falls back
    to its doctors (active staff members of it, or doctors whose scope is it). No actor
    (the escalation)."""
    wanted = set(institution_ids)
    out: dict[int, set[int]] = defaultdict(set)
    for inst, user_id in DutyShift.objects.filter(
        institution_id__in=wanted, starts_at__lte=now, ends_at__gt=now, user__is_active=True
    ).values_list("institution_id", "user_id"):
        out[inst].add(user_id)
    rest = wanted - set(out)
    if rest:
        out.update(doctors_of(rest, timezone.localdate(now)))
    return dict(out)
