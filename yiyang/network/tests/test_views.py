"""The network pages through the HTTP test client: access (login → permission → scope),
the tree, lists and filters, edit forms calling the services, htmx fragments and language."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from yiyang.audit.models import AuditEvent
from yiyang.common.permissions import Role
from yiyang.network.models import Agreement, AgreementKind, Institution
from yiyang.network.services.agreements import create_agreement
from yiyang.network.services.institutions import create_institution
from yiyang.network.services.nodes import create_node
from yiyang.network.services.staff import create_staff, update_staff
from yiyang.testing.network import Network, in_force, make_user

# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def manager(net: Network):
    """An institution admin of county A (may view and manage the network and staff)."""
    return make_user(Role.INSTITUTION_ADMIN, scope=net.a.county, username="manager-a")


@pytest.fixture
def doctor(net: Network):
    """A doctor of county A: may view the network and staff, may not manage."""
    return make_user(Role.DOCTOR, scope=net.a.county, username="doctor-a")


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def as_doctor(client, doctor):
    client.force_login(doctor)
    return client


def _pages(net: Network, side: str) -> list[tuple[str, str]]:
    """(label, url) of every page showing an object of county ``side`` ("a" or "b")."""
    c = getattr(net, side)
    return [
        ("node center", reverse("network:node", args=[c.center.pk])),
        ("node station", reverse("network:node", args=[c.stations[0].pk])),
        ("institution", reverse("network:institution", args=[c.thc.pk])),
        ("institution edit", reverse("network:institution_edit", args=[c.thc.pk])),
        ("agreement", reverse("network:agreement", args=[c.agreement.pk])),
        ("agreement edit", reverse("network:agreement_edit", args=[c.agreement.pk])),
        ("staff", reverse("network:staff_detail", args=[c.doctor.pk])),
        ("staff edit", reverse("network:staff_edit", args=[c.doctor.pk])),
        ("team", reverse("network:team", args=[c.team.pk])),
    ]


LIST_PAGES = [
    "network:tree",
    "network:institutions",
    "network:institution_create",
    "network:agreements",
    "network:agreement_create",
    "network:staff",
    "network:staff_create",
    "network:teams",
]


def _text(response) -> str:
    return response.content.decode()


# --- access -----------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, net):
    urls = [reverse(name) for name in LIST_PAGES] + [url for _, url in _pages(net, "a")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('web:login')}?next={url}", url


def test_role_without_permission_gets_403(client, net):
    client.force_login(make_user(Role.RESIDENT))
    urls = [reverse(name) for name in LIST_PAGES] + [url for _, url in _pages(net, "a")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert 'id="error-403"' in _text(response)


def test_in_scope_user_sees_every_page(as_manager, net):
    urls = [reverse(name) for name in LIST_PAGES] + [url for _, url in _pages(net, "a")]
    for url in urls:
        assert as_manager.get(url).status_code == 200, url


def test_out_of_scope_objects_answer_404(as_manager, net):
    for label, url in _pages(net, "b"):
        response = as_manager.get(url)
        assert response.status_code == 404, label
        assert 'id="error-404"' in _text(response)
    missing = reverse("network:institution", args=[999_999])
    assert as_manager.get(missing).status_code == 404


def test_viewer_cannot_open_edit_pages(as_doctor, net):
    for name in ["network:institution_create", "network:agreement_create", "network:staff_create"]:
        assert as_doctor.get(reverse(name)).status_code == 403, name
    for label, url in _pages(net, "a"):
        expected = 403 if label.endswith("edit") else 200
        assert as_doctor.get(url).status_code == expected, label


def test_viewer_sees_no_edit_links(as_doctor, net):
    text = _text(as_doctor.get(reverse("network:institution", args=[net.a.thc.pk])))
    assert reverse("network:institution_edit", args=[net.a.thc.pk]) not in text
    assert reverse("network:institution_create") not in _text(
        as_doctor.get(reverse("network:institutions"))
    )


def test_staff_pages_need_staff_view(client, net):
    client.force_login(make_user(Role.CAREGIVER, scope=net.a.county))
    assert client.get(reverse("network:staff")).status_code == 403
    assert client.get(reverse("network:staff_detail", args=[net.a.doctor.pk])).status_code == 403
    assert client.get(reverse("network:teams")).status_code == 200


def test_posting_an_edit_without_permission_changes_nothing(as_doctor, net):
    url = reverse("network:institution_edit", args=[net.a.thc.pk])
    response = as_doctor.post(url, {"name": "改名卫生院"})
    assert response.status_code == 403
    assert Institution.objects.get(pk=net.a.thc.pk).name == "周党镇卫生院"


# --- the tree ---------------------------------------------------------------------------


def test_tree_shows_scope_only(as_manager, net):
    text = _text(as_manager.get(reverse("network:tree")))
    assert 'id="network-tree"' in text
    for name in [
        "罗山县人民医院",
        "周党镇医养服务中心",
        "周党村医养服务站",
        "杨店村医养服务站",
        "周党镇卫生院",
        "周党镇敬老院",
        "周党村卫生室",
        "杨店村幸福院",
        "周党镇家庭医生团队",
        "周党村第一网格",
    ]:
        assert name in text, name
    for name in ["光山县人民医院", "泼陂河镇医养服务中心", "何畈村医养服务站", "何畈村卫生室"]:
        assert name not in text, name
    # member institutions carry their type
    assert re.search(r"周党村卫生室</a>\s*<span class=\"badge type\">村卫生室</span>", text)


def test_tree_for_a_county_b_user_shows_only_county_b(client, net):
    client.force_login(make_user(Role.SUPERVISOR, scope=net.b.county))
    text = _text(client.get(reverse("network:tree")))
    assert "泼陂河镇医养服务中心" in text
    assert "何畈村医养服务站" in text
    assert "周党镇医养服务中心" not in text
    assert "罗山县人民医院" not in text


def test_tree_of_a_station_user_shows_its_center_as_context(client, net):
    client.force_login(make_user(Role.INSTITUTION_ADMIN, scope=net.a.clinics[0]))
    text = _text(client.get(reverse("network:tree")))
    assert "周党村医养服务站" in text
    assert "杨店村医养服务站" not in text
    # the center appears without a link, marked as outside the scope
    assert reverse("network:node", args=[net.a.center.pk]) not in text
    assert "（不在您的数据范围内）" in text


def test_tree_query_count_does_not_grow_with_the_network(
    as_manager, net, django_assert_max_num_queries
):
    # session, user, scope region, nodes, teams, their grids, visible leads, session save (3)
    with django_assert_max_num_queries(10):
        response = as_manager.get(reverse("network:tree"))
    assert response.status_code == 200
    # a second center with its own station and team in county A: same bound
    admin = net.admin
    town = net.a.townships[1]
    village = net.a.villages[2]
    thc = create_institution(admin, name="龙山乡卫生院", type="thc", region=town)
    home = create_institution(admin, name="龙山乡敬老院", type="nursing_home", region=town)
    center = create_node(
        admin,
        level="center",
        name="龙山乡医养服务中心",
        region=town,
        medical_member=thc,
        care_member=home,
        integration_mode="care_in_medical",
        lead=net.a.lead,
    )
    clinic = create_institution(admin, name="龙山村卫生室", type="village_clinic", region=village)
    happy = create_institution(admin, name="龙山村幸福院", type="happiness_home", region=village)
    create_node(
        admin,
        level="station",
        name="龙山村医养服务站",
        region=village,
        medical_member=clinic,
        care_member=happy,
        integration_mode="contracted",
        center=center,
    )
    with django_assert_max_num_queries(10):
        text = _text(as_manager.get(reverse("network:tree")))
    assert "龙山村医养服务站" in text


# --- language ---------------------------------------------------------------------------


def test_pages_speak_chinese_by_default_and_english_after_switching(as_manager, net):
    url = reverse("network:tree")
    text = _text(as_manager.get(url))
    assert '<html lang="zh-hans">' in text
    assert '<span class="badge lvl-center">医养服务中心</span>' in text
    assert '<span class="badge lvl-station">医养服务站</span>' in text
    assert "<h1>医养服务网络</h1>" in text

    response = as_manager.post("/i18n/setlang/", {"language": "en", "next": url})
    assert response.status_code == 302
    text = _text(as_manager.get(url))
    assert '<html lang="en">' in text
    assert '<span class="badge lvl-center">Care-service center</span>' in text
    assert "<h1>Care network</h1>" in text
    assert "医养服务网络" not in text

    as_manager.post("/i18n/setlang/", {"language": "zh-hans", "next": url})
    assert "<h1>医养服务网络</h1>" in _text(as_manager.get(url))


# --- institutions -----------------------------------------------------------------------


def test_institution_list_filters(as_manager, net):
    url = reverse("network:institutions")
    text = _text(as_manager.get(url))
    for inst in net.a.institutions:
        assert inst.name in text
    assert net.b.thc.name not in text

    text = _text(as_manager.get(url, {"type": "village_clinic"}))
    assert "周党村卫生室" in text and "杨店村卫生室" in text
    assert "周党镇卫生院" not in text

    text = _text(as_manager.get(url, {"q": "敬老"}))
    assert "周党镇敬老院" in text and "周党镇卫生院" not in text

    town = net.a.townships[0]
    text = _text(as_manager.get(url, {"region": town.pk}))
    assert "周党镇卫生院" in text and "罗山县人民医院" not in text


def test_institution_detail(as_manager, net):
    text = _text(as_manager.get(reverse("network:institution", args=[net.a.thc.pk])))
    assert "PDY4115210101" in text  # medical practice licence
    assert 'id="staff-count">2<' in text  # doctor and nurse
    assert "周党镇医养服务中心" in text and "作为医疗成员" in text
    assert "周党镇医养签约协议" in text
    assert "医保定点" in text and "中医药" in text


def test_institution_edit_saves_through_the_service(as_manager, net):
    url = reverse("network:institution_edit", args=[net.a.thc.pk])
    form = as_manager.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(region=net.a.thc.region_id, beds_medical=55)
    data = {k: v for k, v in data.items() if v is not False}
    response = as_manager.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("network:institution", args=[net.a.thc.pk])
    assert Institution.objects.get(pk=net.a.thc.pk).beds_medical == 55
    event = AuditEvent.objects.filter(action="network.institution.update").get()
    assert event.details == {"changed": {"beds_medical": {"from": 40, "to": 55}}}


def _institution_post(inst: Institution, **changes) -> dict:
    data = {
        "name": inst.name,
        "type": inst.type,
        "region": inst.region_id,
        "address": inst.address,
        "phone": inst.phone,
        "medical_licence_no": inst.medical_licence_no or "",
        "care_filing_no": inst.care_filing_no or "",
        "beds_medical": inst.beds_medical,
        "beds_care": inst.beds_care,
        "beds_home": inst.beds_home,
        "founded_on": inst.founded_on.isoformat() if inst.founded_on else "",
        "active": "on",
    }
    data.update(changes)
    return data


def test_institution_edit_with_duplicate_licence_shows_error_and_changes_nothing(as_manager, net):
    url = reverse("network:institution_edit", args=[net.a.thc.pk])
    before = AuditEvent.objects.count()
    response = as_manager.post(
        url, _institution_post(net.a.thc, medical_licence_no="PDY4115210001", beds_medical=99)
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["medical_licence_no"] == [
        "医疗机构执业许可证号 PDY4115210001 已被罗山县人民医院使用。"
    ]
    text = _text(response)
    assert 'id="field-medical_licence_no"' in text
    assert re.search(
        r'id="field-medical_licence_no">.*?<p class="error field-error" role="alert">'
        r"医疗机构执业许可证号 PDY4115210001 已被罗山县人民医院使用。</p>",
        text,
        re.S,
    )
    inst = Institution.objects.get(pk=net.a.thc.pk)
    assert (inst.medical_licence_no, inst.beds_medical) == ("PDY4115210101", 40)
    assert AuditEvent.objects.count() == before


def test_institution_edit_with_future_founding_date_is_refused(as_manager, net):
    url = reverse("network:institution_edit", args=[net.a.thc.pk])
    future = timezone.localdate() + datetime.timedelta(days=10)
    response = as_manager.post(url, _institution_post(net.a.thc, founded_on=future.isoformat()))
    assert response.status_code == 200
    assert response.context["form"].errors["founded_on"] == [
        f"成立日期（{future.isoformat()}）晚于今天。"
    ]
    assert Institution.objects.get(pk=net.a.thc.pk).founded_on is None


def test_institution_form_with_htmx_returns_the_fragment(as_manager, net):
    url = reverse("network:institution_edit", args=[net.a.thc.pk])
    response = as_manager.post(
        url,
        _institution_post(net.a.thc, medical_licence_no="PDY4115210001"),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    text = _text(response)
    assert text.lstrip().startswith("<form")
    assert "<html" not in text
    assert "已被罗山县人民医院使用" in text

    response = as_manager.post(
        url, _institution_post(net.a.thc, beds_medical=41), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("network:institution", args=[net.a.thc.pk])
    assert Institution.objects.get(pk=net.a.thc.pk).beds_medical == 41


def test_institution_create(as_manager, net):
    url = reverse("network:institution_create")
    village = net.a.villages[0]
    response = as_manager.post(
        url,
        {
            "name": "周党村日间照料中心",
            "type": "day_care",
            "region": village.pk,
            "beds_medical": 0,
            "beds_care": 12,
            "beds_home": 0,
            "active": "on",
        },
    )
    inst = Institution.objects.get(name="周党村日间照料中心")
    assert response.status_code == 302
    assert response["Location"] == reverse("network:institution", args=[inst.pk])
    assert (inst.type, inst.region_id, inst.beds_care) == ("day_care", village.pk, 12)


def test_institution_create_cannot_pick_a_region_outside_the_scope(as_manager, net):
    response = as_manager.post(
        reverse("network:institution_create"),
        {"name": "越界卫生室", "type": "village_clinic", "region": net.b.villages[0].pk},
    )
    assert response.status_code == 200
    assert "region" in response.context["form"].errors
    assert not Institution.objects.filter(name="越界卫生室").exists()


# --- agreements -------------------------------------------------------------------------


def _make_agreement(net: Network, title: str, valid_to: datetime.date) -> Agreement:
    return create_agreement(
        net.admin,
        kind=AgreementKind.REFERRAL,
        party_a=net.a.lead,
        party_b=net.a.thc,
        title=title,
        valid_from=datetime.date(2020, 1, 1),
        valid_to=valid_to,
        status="active",
    )


def test_agreement_list_marks_expiring_and_expired(as_manager, net):
    today = timezone.localdate()
    expiring = _make_agreement(net, "即将到期转诊协议", today + datetime.timedelta(days=10))
    expired = _make_agreement(net, "已到期转诊协议", today - datetime.timedelta(days=1))
    later = _make_agreement(net, "长期转诊协议", today + datetime.timedelta(days=400))
    url = reverse("network:agreements")
    text = _text(as_manager.get(url))
    row = re.compile(r'<tr id="agreement-(\d+)" class="(\w*)">')
    classes = {int(pk): cls for pk, cls in row.findall(text)}
    assert classes[expiring.pk] == "expiring"
    assert classes[expired.pk] == "expired"
    assert classes[later.pk] == ""
    assert net.b.agreement.pk not in classes
    assert '<span class="badge expiring">30 天内到期</span>' in text
    assert '<span class="badge expired">已到期</span>' in text

    only_expired = row.findall(_text(as_manager.get(url, {"marker": "expired"})))
    assert [int(pk) for pk, _ in only_expired] == [expired.pk]
    only_expiring = row.findall(_text(as_manager.get(url, {"marker": "expiring"})))
    assert [int(pk) for pk, _ in only_expiring] == [expiring.pk]
    drafts = row.findall(_text(as_manager.get(url, {"status": "draft"})))
    assert drafts == []


def test_agreement_starting_later_is_shown_as_not_yet_in_force(as_manager, net):
    today = timezone.localdate()
    later = create_agreement(
        net.admin,
        kind=AgreementKind.REFERRAL,
        party_a=net.a.lead,
        party_b=net.a.thc,
        title="明年转诊协议",
        valid_from=today + datetime.timedelta(days=1),
        valid_to=today + datetime.timedelta(days=400),
        status="active",
    )
    url = reverse("network:agreements")
    text = _text(as_manager.get(url))
    row = re.compile(r'<tr id="agreement-(\d+)" class="(\w*)">(.*?)</tr>', re.S)
    rows = {int(pk): (cls, re.sub(r"<[^>]+>", " ", cells)) for pk, cls, cells in row.findall(text)}
    cls, cells = rows[later.pk]
    assert cls == "not_yet_valid"
    assert "未生效" in cells and "有效" not in cells.replace("未生效", "")
    in_force_cls, in_force_cells = rows[net.a.agreement.pk]  # active and in force
    assert in_force_cls == "" and "有效" in in_force_cells and "未生效" not in in_force_cells
    badge = '<span class="badge not_yet_valid">未生效</span>'
    assert f'<a href="?marker=not_yet_valid">{badge} 1</a>' in text
    only = row.findall(_text(as_manager.get(url, {"marker": "not_yet_valid"})))
    assert [int(pk) for pk, _cls, _cells in only] == [later.pk]
    valid = row.findall(_text(as_manager.get(url, {"marker": "valid"})))
    assert [int(pk) for pk, _cls, _cells in valid] == [net.a.agreement.pk]

    detail = _text(as_manager.get(reverse("network:agreement", args=[later.pk])))
    facts = re.search(r'<section class="card" id="agreement-facts">(.*?)</section>', detail, re.S)
    assert facts is not None
    status = re.search(r"<dt>状态</dt><dd>(.*?)</dd>", facts.group(1))
    assert status is not None and re.sub(r"<[^>]+>", "", status.group(1)) == "未生效"


def _agreement_post(net: Network, **changes) -> dict:
    valid_from, valid_to = in_force()
    data = {
        "kind": "cooperation",
        "party_a": net.a.clinics[0].pk,
        "party_b": net.a.happiness_homes[0].pk,
        "title": "周党村医养签约",
        "responsibilities": "卫生室负责巡诊。",
        "service_standards": "每月巡诊两次。",
        "valid_from": valid_from.isoformat(),
        "valid_to": valid_to.isoformat(),
        "status": "active",
    }
    data.update(changes)
    return data


def test_agreement_with_end_before_start_shows_error_and_saves_nothing(as_manager, net):
    before = Agreement.objects.count()
    response = as_manager.post(
        reverse("network:agreement_create"),
        _agreement_post(net, valid_from="2025-06-01", valid_to="2025-05-31"),
    )
    assert response.status_code == 200
    message = "截止日期（2025-05-31）早于生效日期（2025-06-01）：协议的截止日期不能早于生效日期。"
    assert response.context["form"].errors["valid_to"] == [message]
    assert message in _text(response)
    assert Agreement.objects.count() == before


def test_agreement_edit_with_end_before_start_changes_nothing(as_manager, net):
    agreement = net.a.agreement
    url = reverse("network:agreement_edit", args=[agreement.pk])
    data = _agreement_post(
        net,
        party_a=agreement.party_a_id,
        party_b=agreement.party_b_id,
        title=agreement.title,
        valid_from="2024-01-01",
        valid_to="2023-12-31",
    )
    response = as_manager.post(url, data)
    assert response.status_code == 200
    assert "valid_to" in response.context["form"].errors
    assert Agreement.objects.get(pk=agreement.pk).valid_to == agreement.valid_to


def test_agreement_document_upload_and_download(as_manager, client, net, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    pdf = SimpleUploadedFile("协议.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = as_manager.post(
        reverse("network:agreement_create"), {**_agreement_post(net), "document": pdf}
    )
    assert response.status_code == 302
    agreement = Agreement.objects.get(title="周党村医养签约")
    download = reverse("network:agreement_document", args=[agreement.pk])
    assert download in _text(as_manager.get(reverse("network:agreement", args=[agreement.pk])))
    response = as_manager.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert "attachment" in response["Content-Disposition"]

    client.force_login(make_user(Role.SUPERVISOR, scope=net.b.county))
    assert client.get(download).status_code == 404
    # no document attached: 404 as well
    assert (
        as_manager.get(reverse("network:agreement_document", args=[net.a.agreement.pk])).status_code
        == 404
    )


def test_agreement_upload_of_a_wrong_file_type_is_refused(as_manager, net, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    exe = SimpleUploadedFile("tool.exe", b"MZ", content_type="application/octet-stream")
    response = as_manager.post(
        reverse("network:agreement_create"), {**_agreement_post(net), "document": exe}
    )
    assert response.status_code == 200
    assert "document" in response.context["form"].errors
    assert not Agreement.objects.filter(title="周党村医养签约").exists()
    assert list(tmp_path.iterdir()) == []


# --- staff ------------------------------------------------------------------------------


def test_staff_list_masks_phones(as_manager, net):
    text = _text(as_manager.get(reverse("network:staff")))
    assert "王建国" in text and "李秀英" in text and "张桂兰" in text
    assert "陈立" not in text  # county B
    assert '<td class="phone">139****0001</td>' in text
    assert "13903760001" not in text
    assert "慢病管理" in text and "周党镇卫生院" in text


def test_staff_list_filters_by_profession(as_manager, net):
    text = _text(as_manager.get(reverse("network:staff"), {"profession": "nurse"}))
    assert "李秀英" in text
    assert "王建国" not in text


def test_staff_detail_is_an_audited_read(as_manager, manager, net):
    before = AuditEvent.objects.filter(action="network.staff.read").count()
    response = as_manager.get(reverse("network:staff_detail", args=[net.a.doctor.pk]))
    assert response.status_code == 200
    text = _text(response)
    assert "139****0001" in text and "13903760001" not in text
    assert "周党镇家庭医生团队" in text
    reads = AuditEvent.objects.filter(action="network.staff.read").order_by("seq")
    assert reads.count() == before + 1
    last = reads.last()
    assert (last.actor_id, last.object_id) == (manager.pk, str(net.a.doctor.pk))


def test_staff_create_and_duplicate_licence(as_manager, net):
    url = reverse("network:staff_create")
    data = {
        "name": "孙志强",
        "sex": "M",
        "phone": "13800001111",
        "profession": "tcm_doctor",
        "licence_no": "3304115000000001",
        "skills": [net.skills["tcm"].pk],
        "institution": net.a.clinics[0].pk,
        "position": "乡村医生",
        "active": "on",
    }
    response = as_manager.post(url, data)
    assert response.status_code == 302
    from yiyang.network.models import Staff

    staff = Staff.objects.get(name="孙志强")
    membership = staff.memberships.get()
    assert (membership.institution_id, membership.position, membership.primary) == (
        net.a.clinics[0].pk,
        "乡村医生",
        True,
    )
    assert list(staff.skills.values_list("code", flat=True)) == ["tcm"]

    response = as_manager.post(url, {**data, "name": "孙志刚"})
    assert response.status_code == 200
    assert response.context["form"].errors["licence_no"] == [
        "执业证书编号 3304115000000001 已登记给周党村卫生室的另一名工作人员。"
    ]
    assert not Staff.objects.filter(name="孙志刚").exists()


def test_staff_edit_keeps_other_memberships(as_manager, net):
    doctor = net.a.doctor
    update_staff(
        net.admin,
        doctor,
        memberships=[
            {"institution": net.a.thc, "position": "全科医生", "primary": True},
            {"institution": net.a.clinics[0], "position": "驻站医生", "primary": False},
        ],
    )
    url = reverse("network:staff_edit", args=[doctor.pk])
    form = as_manager.get(url).context["form"]
    data = {
        "name": "王建国",
        "sex": "M",
        "phone": "13903760001",
        "profession": "doctor",
        "licence_no": form.initial["licence_no"],
        "skills": [s.pk for s in form.initial["skills"]],
        "institution": net.a.thc.pk,
        "position": "副主任医师",
        "active": "on",
    }
    response = as_manager.post(url, data)
    assert response.status_code == 302
    rows = sorted((m.institution_id, m.position, m.primary) for m in doctor.memberships.all())
    assert rows == sorted(
        [(net.a.thc.pk, "副主任医师", True), (net.a.clinics[0].pk, "驻站医生", False)]
    )


# --- teams and nodes --------------------------------------------------------------------


def test_team_pages(as_manager, net):
    text = _text(as_manager.get(reverse("network:teams")))
    assert "周党镇家庭医生团队" in text
    assert "泼陂河镇家庭医生团队" not in text
    text = _text(as_manager.get(reverse("network:team", args=[net.a.team.pk])))
    assert re.search(r'id="team-leader"><a href="[^"]+">王建国</a>', text)
    assert "李秀英" in text and "张桂兰" in text
    assert "团队长" in text and "护士" in text  # roles in the team
    assert "周党村第一网格" in text and "杨店村第一网格" in text
    assert "周党镇医养服务中心" in text


def test_center_page_lists_its_stations_and_teams(as_manager, net):
    text = _text(as_manager.get(reverse("network:node", args=[net.a.center.pk])))
    assert "周党村医养服务站" in text and "杨店村医养服务站" in text
    assert "周党镇家庭医生团队" in text
    assert "罗山县人民医院" in text and "两院一体" in text


def test_station_page_links_its_center(as_manager, net):
    text = _text(as_manager.get(reverse("network:node", args=[net.a.stations[0].pk])))
    assert reverse("network:node", args=[net.a.center.pk]) in text
    assert "周党村卫生室" in text and "周党村幸福院" in text


def test_agreement_with_a_partner_outside_the_scope_can_be_edited(as_manager, net):
    valid_from, valid_to = in_force()
    agreement = create_agreement(
        net.admin,
        kind=AgreementKind.REFERRAL,
        party_a=net.a.lead,
        party_b=net.b.lead,
        title="跨县转诊协议",
        valid_from=valid_from,
        valid_to=valid_to,
    )
    url = reverse("network:agreement_edit", args=[agreement.pk])
    data = _agreement_post(
        net,
        kind="referral",
        party_a=net.a.lead.pk,
        party_b=net.b.lead.pk,
        title="跨县双向转诊协议",
        valid_from=valid_from.isoformat(),
        valid_to=valid_to.isoformat(),
        status="draft",
    )
    response = as_manager.post(url, data)
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert (agreement.title, agreement.party_b_id) == ("跨县双向转诊协议", net.b.lead.pk)
    # a new agreement can only name partners inside the scope
    form = as_manager.get(reverse("network:agreement_create")).context["form"]
    assert net.b.lead not in form.fields["party_b"].queryset


def test_staff_whose_primary_institution_is_outside_the_scope_can_be_edited(as_manager, net):
    staff = create_staff(
        net.admin,
        name="周敏",
        profession="nurse",
        memberships=[
            {"institution": net.b.thc, "position": "护士", "primary": True},
            {"institution": net.a.thc, "position": "兼职护士", "primary": False},
        ],
    )
    url = reverse("network:staff_edit", args=[staff.pk])
    data = {
        "name": "周敏",
        "sex": "F",
        "phone": "",
        "profession": "nurse",
        "licence_no": "",
        "institution": net.b.thc.pk,
        "position": "护士",
        "active": "on",
    }
    response = as_manager.post(url, data)
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.sex == "F"
    rows = sorted((m.institution_id, m.primary) for m in staff.memberships.all())
    assert rows == sorted([(net.b.thc.pk, True), (net.a.thc.pk, False)])
