"""Reads of institutions, medical alliances, chain nodes (care-service centers and their
stations) and the agreements between institutions (``NetworkPerm.VIEW``), scoped to the
actor's data scope."""

from __future__ import annotations

from django.db.models import QuerySet

from yiyang.accounts.models import User
from yiyang.common.errors import NotFound
from yiyang.common.permissions import require_perm
from yiyang.common.scope import scope_of
from yiyang.network.models import Agreement, Alliance, ChainNode, Institution
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.scope import (
    agreement_q,
    alliance_q,
    apply_scope,
    institution_q,
    node_q,
)


def institutions_for(user: User) -> QuerySet[Institution]:
    require_perm(user, NetworkPerm.VIEW)
    qs = Institution.objects.select_related("region")
    return apply_scope(qs, institution_q(scope_of(user)))


def get_institution_for(user: User, pk: int) -> Institution:
    try:
        return institutions_for(user).get(pk=pk)
    except (Institution.DoesNotExist, ValueError, TypeError):
        raise NotFound("institution") from None


def alliances_for(user: User) -> QuerySet[Alliance]:
    require_perm(user, NetworkPerm.VIEW)
    qs = Alliance.objects.select_related("region", "lead").prefetch_related("members")
    return apply_scope(qs, alliance_q(scope_of(user)))


def get_alliance_for(user: User, pk: int) -> Alliance:
    try:
        return alliances_for(user).get(pk=pk)
    except Alliance.DoesNotExist:
        raise NotFound("alliance") from None


def nodes_for(user: User) -> QuerySet[ChainNode]:
    require_perm(user, NetworkPerm.VIEW)
    qs = ChainNode.objects.select_related(
        "region", "medical_member", "care_member", "center", "lead"
    )
    return apply_scope(qs, node_q(scope_of(user)))


def get_node_for(user: User, pk: int) -> ChainNode:
    try:
        return nodes_for(user).get(pk=pk)
    except ChainNode.DoesNotExist:
        raise NotFound("chain node") from None


def agreements_for(user: User) -> QuerySet[Agreement]:
    require_perm(user, NetworkPerm.VIEW)
    qs = Agreement.objects.select_related("party_a", "party_b")
    return apply_scope(qs, agreement_q(scope_of(user)))


def get_agreement_for(user: User, pk: int) -> Agreement:
    try:
        return agreements_for(user).get(pk=pk)
    except Agreement.DoesNotExist:
        raise NotFound("agreement") from None
