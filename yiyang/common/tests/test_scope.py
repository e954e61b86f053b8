"""The data scope: resolved once per user, and which scopes lie inside which."""

from __future__ import annotations

from types import SimpleNamespace

from yiyang.common.scope import NOTHING, DataScope, ScopeKind, contains, scope_of


def _user(**fields):
    base = {
        "pk": 3,
        "is_authenticated": True,
        "is_active": True,
        "scope_kind": ScopeKind.SELF,
        "scope_region_id": None,
        "scope_institution_id": None,
        "scope_team_id": None,
    }
    return SimpleNamespace(**{**base, **fields})


def test_scope_of_each_kind():
    assert scope_of(None) is NOTHING
    assert scope_of(_user(is_authenticated=False)) is NOTHING
    assert scope_of(_user(is_active=False, scope_kind=ScopeKind.ALL)) is NOTHING
    assert scope_of(_user(scope_kind=ScopeKind.ALL)) == DataScope(ScopeKind.ALL, user_id=3)
    county = SimpleNamespace(prefix="330102")
    region = _user(scope_kind=ScopeKind.REGION, scope_region_id=9, scope_region=county)
    assert scope_of(region) == DataScope(ScopeKind.REGION, region_prefix="330102", user_id=3)
    inst = _user(scope_kind=ScopeKind.INSTITUTION, scope_institution_id=5)
    assert scope_of(inst) == DataScope(ScopeKind.INSTITUTION, institution_id=5, user_id=3)
    team = _user(scope_kind=ScopeKind.TEAM, scope_team_id=4)
    assert scope_of(team) == DataScope(ScopeKind.TEAM, team_id=4, user_id=3)
    # a region scope without its region is nothing (the database constraint forbids it)
    assert scope_of(_user(scope_kind=ScopeKind.REGION)).is_nothing


def test_the_scope_is_resolved_once_per_user_object():
    user = _user(scope_kind=ScopeKind.INSTITUTION, scope_institution_id=5)
    first = scope_of(user)
    user.scope_institution_id = 6
    assert scope_of(user) is first


def test_contains():
    county = DataScope(ScopeKind.REGION, region_prefix="330102")
    inside = SimpleNamespace(code="330102001000")
    outside = SimpleNamespace(code="330103001000")
    assert contains(DataScope(ScopeKind.ALL), ScopeKind.ALL)
    assert not contains(county, ScopeKind.ALL) and not contains(county, ScopeKind.SELF)
    assert contains(county, ScopeKind.REGION, region=inside)
    assert not contains(county, ScopeKind.REGION, region=outside)
    institution = SimpleNamespace(pk=5, region=inside)
    assert contains(county, ScopeKind.INSTITUTION, institution=institution)
    team = SimpleNamespace(
        pk=4, node=SimpleNamespace(region=outside, medical_member_id=5, care_member_id=8)
    )
    assert not contains(county, ScopeKind.TEAM, team=team)
    own = DataScope(ScopeKind.INSTITUTION, institution_id=5)
    assert contains(own, ScopeKind.INSTITUTION, institution=institution)
    assert contains(own, ScopeKind.TEAM, team=team)  # a team of a node she is a member of
    assert not contains(own, ScopeKind.REGION, region=inside)
    one_team = DataScope(ScopeKind.TEAM, team_id=4)
    assert contains(one_team, ScopeKind.TEAM, team=team)
    assert not contains(one_team, ScopeKind.INSTITUTION, institution=institution)
    assert not contains(NOTHING, ScopeKind.TEAM, team=team)
