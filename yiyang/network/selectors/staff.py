"""Reads of staff members with their skills and memberships (``NetworkPerm.STAFF_VIEW``),
scoped to the actor's data scope; reading one member's record is audited."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import NotFound
from yiyang.common.permissions import require_perm
from yiyang.common.scope import scope_of
from yiyang.network.models import Staff, StaffMembership
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.scope import apply_scope, staff_q


def staff_for(user: User) -> QuerySet[Staff]:
    require_perm(user, NetworkPerm.STAFF_VIEW)
    qs = Staff.objects.prefetch_related(
        "skills",
        Prefetch(
            "memberships",
            queryset=StaffMembership.objects.select_related("institution").order_by(
                "-primary", "institution__name"
            ),
        ),
    )
    return apply_scope(qs, staff_q(scope_of(user)))


def get_staff_for(user: User, pk: int) -> Staff:
    """One staff member's record; the read is audited ("network.staff.read")."""
    try:
        staff = staff_for(user).get(pk=pk)
    except Staff.DoesNotExist:
        raise NotFound("staff member") from None
    record(actor=user, action="network.staff.read", obj=staff)
    return staff
