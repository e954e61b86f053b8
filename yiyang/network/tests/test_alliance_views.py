"""The alliance pages (county medical communities, city medical groups) through the HTTP
test client: access (login → permission → scope), the list with its filters, the detail
(lead, members, the lead's centers), and the create/edit forms calling the services —
the service's message next to the field with nothing changed, or the write with its
audit row."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role
from yiyang.network.models import Alliance
from yiyang.network.tests.pagehelpers import audit_rows, field_error, page_text
from yiyang.testing.network import Network, make_user

# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def manager(net: Network):
    """An institution admin of county A: may view and manage the network."""
    return make_user(Role.INSTITUTION_ADMIN, scope=net.a.county, username="manager-a")


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def as_doctor(client, net):
    """A doctor of county A: may view the network, may not manage it."""
    client.force_login(make_user(Role.DOCTOR, scope=net.a.county, username="doctor-a"))
    client.cookies["django_language"] = "en"
    return client


def _state() -> list[tuple]:
    """Every alliance with its fields and members, plus the audit row count."""
    rows = [
        (a.pk, a.name, a.kind, a.region_id, a.lead_id, sorted(m.pk for m in a.members.all()))
        for a in Alliance.objects.order_by("pk").prefetch_related("members")
    ]
    return [*rows, ("audit", AuditEvent.objects.exclude(action="access.denied").count())]


def _post(net: Network, **changes) -> dict:
    """The create form of a second county-A alliance as posted, with ``changes``."""
    data = {
        "name": "罗山县第二医共体",
        "kind": "county_community",
        "region": str(net.a.county.pk),
        "lead": str(net.a.lead.pk),
        "members": [str(net.a.thc.pk), str(net.a.clinics[0].pk)],
    }
    data.update(changes)
    return data


def _edit_post(alliance: Alliance, **changes) -> dict:
    """The edit form as a browser posts it back unchanged, with ``changes``."""
    data = {
        "name": alliance.name,
        "kind": alliance.kind,
        "region": str(alliance.region_id),
        "lead": str(alliance.lead_id),
        "members": [str(pk) for pk in alliance.members.values_list("pk", flat=True)],
    }
    data.update(changes)
    return data


def _urls(net: Network, side: str) -> list[str]:
    alliance = getattr(net, side).alliance
    return [
        reverse("network:alliance", args=[alliance.pk]),
        reverse("network:alliance_edit", args=[alliance.pk]),
    ]


LIST_URLS = ["network:alliances", "network:alliance_create"]


# --- access -----------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, net):
    for url in [reverse(name) for name in LIST_URLS] + _urls(net, "a"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('web:login')}?next={url}", url


def test_role_without_permission_gets_403(client, net):
    client.force_login(make_user(Role.RESIDENT))
    for url in [reverse(name) for name in LIST_URLS] + _urls(net, "a"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert 'id="error-403"' in page_text(response)


def test_viewer_reads_but_cannot_open_the_forms(as_doctor, net):
    list_url, create_url = (reverse(name) for name in LIST_URLS)
    detail_url, edit_url = _urls(net, "a")
    assert as_doctor.get(list_url).status_code == 200
    assert as_doctor.get(detail_url).status_code == 200
    assert as_doctor.get(create_url).status_code == 403
    assert as_doctor.get(edit_url).status_code == 403
    before = _state()
    assert as_doctor.post(create_url, _post(net)).status_code == 403
    assert as_doctor.post(edit_url, _edit_post(net.a.alliance, name="改名")).status_code == 403
    assert _state() == before
    # no management links for a viewer
    assert reverse("network:alliance_create") not in page_text(as_doctor.get(list_url))
    assert edit_url not in page_text(as_doctor.get(detail_url))


def test_out_of_scope_and_missing_alliances_answer_404(as_manager, net):
    before = _state()
    for url in _urls(net, "b"):
        response = as_manager.get(url)
        assert response.status_code == 404, url
        assert 'id="error-404"' in page_text(response)
    edit_b = reverse("network:alliance_edit", args=[net.b.alliance.pk])
    assert as_manager.post(edit_b, _edit_post(net.b.alliance, name="越界")).status_code == 404
    assert as_manager.get(reverse("network:alliance", args=[999_999])).status_code == 404
    assert _state() == before


# --- list and detail --------------------------------------------------------------------


def test_list_is_scoped_and_filtered(as_manager, net):
    url = reverse("network:alliances")
    response = as_manager.get(url)
    assert list(response.context["page_obj"]) == [net.a.alliance]
    text = page_text(response)
    assert "罗山县县域医共体" in text
    assert "光山县县域医共体" not in text
    assert reverse("network:alliance_create") in text

    response = as_manager.get(url, {"kind": "city_group"})
    assert list(response.context["page_obj"]) == []
    response = as_manager.get(url, {"kind": "county_community", "q": "医共体"})
    assert list(response.context["page_obj"]) == [net.a.alliance]
    response = as_manager.get(url, {"q": "光山"})
    assert list(response.context["page_obj"]) == []


def test_list_for_all_scope_shows_both_counties(client, net):
    client.force_login(make_user(Role.INSTITUTION_ADMIN, scope="all", username="province"))
    response = client.get(reverse("network:alliances"), {"q": "县域医共体"})
    assert list(response.context["page_obj"]) == [net.b.alliance, net.a.alliance]


def test_detail_shows_lead_members_and_the_leads_centers(as_manager, net):
    alliance = net.a.alliance
    response = as_manager.get(reverse("network:alliance", args=[alliance.pk]))
    assert response.status_code == 200
    text = page_text(response)
    assert "<h1>罗山县县域医共体" in text
    assert "County medical community" in text
    lead_url = reverse("network:institution", args=[net.a.lead.pk])
    assert re.search(rf'id="alliance-lead"><a href="{lead_url}">罗山县人民医院</a>', text)
    assert [m["inst"] for m in response.context["members"]] == [net.a.thc]
    member = text.split(f'id="member-{net.a.thc.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "周党镇卫生院" in member
    assert "Township hospital" in member
    assert "周党镇" in member and "411521101000" in member
    assert list(response.context["centers"]) == [net.a.center]
    assert reverse("network:node", args=[net.a.center.pk]) in text
    assert reverse("network:alliance_edit", args=[alliance.pk]) in text


def test_detail_seen_through_a_member_links_only_what_is_in_scope(client, net):
    """A user scoped to the member township hospital sees the alliance; the lead hospital
    lies outside that scope: it is named but not linked."""
    client.force_login(make_user(Role.DOCTOR, scope=net.a.thc, username="thc-doctor"))
    response = client.get(reverse("network:alliance", args=[net.a.alliance.pk]))
    assert response.status_code == 200
    assert response.context["lead_visible"] is False
    text = page_text(response)
    assert "罗山县人民医院" in text
    assert reverse("network:institution", args=[net.a.lead.pk]) not in text
    assert reverse("network:institution", args=[net.a.thc.pk]) in text


def test_tree_links_to_the_alliances(as_manager, net):
    text = page_text(as_manager.get(reverse("network:tree")))
    assert f'href="{reverse("network:alliances")}"' in text


# --- create -----------------------------------------------------------------------------


def test_create_form_offers_only_choices_in_scope(as_manager, net):
    form = as_manager.get(reverse("network:alliance_create")).context["form"]
    assert list(form.fields["region"].queryset) == [net.a.county]
    assert set(form.fields["lead"].queryset) == set(net.a.institutions)
    assert set(form.fields["members"].queryset) == set(net.a.institutions)


def test_create_with_an_audit_row(as_manager, manager, net):
    response = as_manager.post(reverse("network:alliance_create"), _post(net))
    alliance = Alliance.objects.get(name="罗山县第二医共体")
    assert response.status_code == 302
    assert response["Location"] == reverse("network:alliance", args=[alliance.pk])
    assert (alliance.kind, alliance.region_id, alliance.lead_id) == (
        "county_community",
        net.a.county.pk,
        net.a.lead.pk,
    )
    members = sorted(alliance.members.values_list("pk", flat=True))
    assert members == sorted([net.a.thc.pk, net.a.clinics[0].pk])
    [event] = audit_rows("network.alliance.create", manager)
    assert event.object_id == str(alliance.pk)
    assert event.details == {
        "fields": {
            "name": "罗山县第二医共体",
            "kind": "county_community",
            "region": net.a.county.pk,
            "lead": net.a.lead.pk,
            # in the order of the choices (by name): 周党村卫生室, 周党镇卫生院
            "members": [net.a.clinics[0].pk, net.a.thc.pk],
        }
    }


def test_create_with_a_care_institution_as_lead_shows_the_error(as_manager, net):
    before = _state()
    response = as_manager.post(
        reverse("network:alliance_create"), _post(net, lead=str(net.a.care_home.pk))
    )
    assert response.status_code == 200
    assert field_error(response, "lead") == [
        "周党镇敬老院 is not a medical institution and cannot lead an alliance."
    ]
    assert _state() == before


def test_create_city_group_in_a_county_shows_the_region_error(as_manager, net):
    before = _state()
    response = as_manager.post(reverse("network:alliance_create"), _post(net, kind="city_group"))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["region"]
    [message] = field_error(response, "region")
    assert message.startswith("罗山县")
    assert "City" in message
    assert _state() == before


def test_create_cannot_pick_a_member_outside_the_scope(as_manager, net):
    before = _state()
    response = as_manager.post(
        reverse("network:alliance_create"), _post(net, members=[str(net.b.thc.pk)])
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["members"]
    assert _state() == before


def test_create_without_a_name_changes_nothing(as_manager, net):
    before = _state()
    response = as_manager.post(reverse("network:alliance_create"), _post(net, name="  "))
    assert response.status_code == 200
    assert field_error(response, "name") == ["This field is required."]
    assert _state() == before


# --- edit -------------------------------------------------------------------------------


def test_edit_with_an_audit_row(as_manager, manager, net):
    alliance = net.a.alliance
    url = reverse("network:alliance_edit", args=[alliance.pk])
    new_members = [str(net.a.thc.pk), str(net.a.clinics[1].pk)]
    response = as_manager.post(
        url, _edit_post(alliance, name="罗山县紧密型医共体", members=new_members)
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("network:alliance", args=[alliance.pk])
    alliance.refresh_from_db()
    assert alliance.name == "罗山县紧密型医共体"
    members = sorted(alliance.members.values_list("pk", flat=True))
    assert members == sorted([net.a.thc.pk, net.a.clinics[1].pk])
    [event] = audit_rows("network.alliance.update", manager)
    assert event.details == {
        "changed": {
            "name": {"from": "罗山县县域医共体", "to": "罗山县紧密型医共体"},
            "members": {"from": [net.a.thc.pk], "to": members},
        }
    }


def test_edit_without_changes_writes_nothing(as_manager, net):
    alliance = net.a.alliance
    before = _state()
    response = as_manager.post(
        reverse("network:alliance_edit", args=[alliance.pk]), _edit_post(alliance), follow=True
    )
    assert response.redirect_chain == [(reverse("network:alliance", args=[alliance.pk]), 302)]
    assert "Nothing changed." in page_text(response)
    assert _state() == before


def test_edit_with_a_care_institution_as_lead_changes_nothing(as_manager, net):
    alliance = net.a.alliance
    before = _state()
    response = as_manager.post(
        reverse("network:alliance_edit", args=[alliance.pk]),
        _edit_post(alliance, name="改名医共体", lead=str(net.a.care_home.pk)),
    )
    assert response.status_code == 200
    assert field_error(response, "lead") == [
        "周党镇敬老院 is not a medical institution and cannot lead an alliance."
    ]
    assert _state() == before


def test_edit_keeps_a_current_member_outside_the_scope_selectable(client, net):
    """An alliance seen through its member: editing the name keeps the lead (outside the
    user's scope) — it stays a choice instead of forcing a change."""
    user = make_user(Role.INSTITUTION_ADMIN, scope=net.a.thc, username="thc-admin")
    client.force_login(user)
    alliance = net.a.alliance
    url = reverse("network:alliance_edit", args=[alliance.pk])
    form = client.get(url).context["form"]
    assert net.a.lead in form.fields["lead"].queryset
    response = client.post(url, _edit_post(alliance, name="罗山县医共体（新）"))
    assert response.status_code == 302
    alliance.refresh_from_db()
    assert (alliance.name, alliance.lead_id) == ("罗山县医共体（新）", net.a.lead.pk)


def test_edit_with_htmx_returns_the_fragment_then_a_client_redirect(as_manager, net):
    alliance = net.a.alliance
    url = reverse("network:alliance_edit", args=[alliance.pk])
    response = as_manager.post(
        url, _edit_post(alliance, lead=str(net.a.care_home.pk)), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    text = page_text(response)
    assert text.lstrip().startswith("<form")
    assert "<html" not in text
    assert "cannot lead an alliance" in text

    response = as_manager.post(url, _edit_post(alliance, name="新名医共体"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("network:alliance", args=[alliance.pk])
    assert Alliance.objects.get(pk=alliance.pk).name == "新名医共体"


def test_pages_speak_chinese_by_default(client, manager, net):
    client.force_login(manager)
    text = page_text(client.get(reverse("network:alliance", args=[net.a.alliance.pk])))
    assert "县域医共体" in text
    assert "牵头医疗机构" in text
    assert "成员机构" in text
