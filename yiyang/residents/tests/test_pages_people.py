"""The contacts and consent tabs, family logins and the merge page — in the browser's
shoes (plain form posts and htmx), and the family member's own experience."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from yiyang.common.permissions import Role
from yiyang.residents.models import Consent, Contact, ProxyGrant, Resident
from yiyang.residents.services.people import add_contact, give_consent
from yiyang.residents.services.proxies import grant_proxy, update_proxy
from yiyang.residents.tests.conftest import register
from yiyang.testing.clients import client_for
from yiyang.testing.network import make_user

pytestmark = pytest.mark.usefixtures("english")

HTMX = {"HTTP_HX_REQUEST": "true"}


def text(response) -> str:
    return response.content.decode()


def field_error(response, field: str) -> list[str]:
    page = text(response)
    assert f'id="field-{field}"' in page, f"no field {field}"
    block = page.split(f'id="field-{field}"', 1)[1].split('id="field-', 1)[0]
    found = re.findall(r'<p class="error field-error" role="alert">(.*?)</p>', block)
    return [html.unescape(m) for m in found]


def url(name: str, *args) -> str:
    return reverse(f"residents:{name}", args=args)


@pytest.fixture
def nurse(world):
    return make_user(Role.NURSE, world.net.a.county, username="nurse-a")


@pytest.fixture
def browser(nurse) -> Client:
    return client_for(nurse)


@pytest.fixture
def daughter(world, nurse) -> Contact:
    return add_contact(nurse, world.zhang, name="李娟", relation="daughter", phone="13900001111")


# --- contacts tab -----------------------------------------------------------------------


def test_contacts_tab_full_page_and_fragment(world, browser, daughter):
    page = browser.get(url("contacts", world.zhang.pk))
    assert page.status_code == 200
    body = text(page)
    assert 'id="resident-tabs"' in body and 'id="contact-table"' in body
    assert "李娟" in body and "139****1111" in body and "13900001111" not in body
    assert 'id="contact-add-form"' in body
    fragment = browser.get(url("contacts", world.zhang.pk), **HTMX)
    assert 'id="resident-tabs"' not in text(fragment)
    assert 'id="contact-table"' in text(fragment)


def test_add_contact_plain_post_redirects_to_the_tab(world, browser):
    response = browser.post(
        url("contacts", world.zhang.pk),
        {"name": "张强", "relation": "son", "phone": "13900002222", "is_guardian": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == url("contacts", world.zhang.pk)
    contact = Contact.objects.get()
    assert (contact.name, contact.is_guardian, contact.phone) == ("张强", True, "13900002222")
    followed = browser.get(response["Location"])
    assert "Contact 张强 added." in text(followed)


def test_add_contact_htmx_answers_the_tab_with_a_notice(world, browser):
    response = browser.post(
        url("contacts", world.zhang.pk), {"name": "张强", "relation": "son"}, **HTMX
    )
    assert response.status_code == 200
    assert 'id="people-notice"' in text(response) and "Contact 张强 added." in text(response)
    assert 'id="resident-tabs"' not in text(response)


def test_add_contact_error_next_to_the_field(world, browser):
    response = browser.post(
        url("contacts", world.zhang.pk), {"name": "张强", "relation": "son", "phone": "abc"}
    )
    assert response.status_code == 200
    assert field_error(response, "phone") == ["The phone number abc is not valid: use digits only."]
    assert not Contact.objects.exists()


def test_edit_contact_inline_keeps_or_clears_the_phone(world, browser, daughter):
    edit = url("contact_edit", world.zhang.pk, daughter.pk)
    form = browser.get(edit, **HTMX)
    assert form.status_code == 200
    assert 'id="contact-edit-form"' in text(form)
    assert "13900001111" not in text(form) and "139****1111" in text(form)
    saved = browser.post(edit, {"name": "李娟", "relation": "daughter", "note": "住县城"})
    assert saved.status_code == 302
    daughter.refresh_from_db()
    assert (daughter.note, daughter.phone) == ("住县城", "13900001111")
    cleared = browser.post(
        edit, {"name": "李娟", "relation": "daughter", "note": "住县城", "clear_phone": "on"}
    )
    assert cleared.status_code == 302
    daughter.refresh_from_db()
    assert (daughter.phone, daughter.phone_index) == ("", "")


def test_remove_contact(world, browser, daughter):
    response = browser.post(url("contact_remove", world.zhang.pk, daughter.pk), **HTMX)
    assert response.status_code == 200
    assert "Contact 李娟 removed." in text(response)
    assert not Contact.objects.exists()


def test_contact_of_another_resident_is_404(world, browser, nurse):
    other = add_contact(nurse, world.li, name="李明", relation="son")
    assert browser.get(url("contact_edit", world.zhang.pk, other.pk)).status_code == 404
    assert browser.post(url("contact_remove", world.zhang.pk, other.pk)).status_code == 404
    assert Contact.objects.filter(pk=other.pk).exists()


# --- family logins ----------------------------------------------------------------------


def grant_page(browser: Client, world, contact: Contact, **extra):
    data = {"can_view_readings": "on", "given_by": "self", **extra}
    return browser.post(url("proxy_grant", world.zhang.pk, contact.pk), data)


def test_grant_shows_the_login_and_one_time_password_once(world, browser, nurse, daughter):
    give_consent(nurse, world.zhang, "family_sharing")
    form = browser.get(url("proxy_grant", world.zhang.pk, daughter.pk), **HTMX)
    assert 'id="grant-form"' in text(form)
    response = grant_page(browser, world, daughter)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    grant = ProxyGrant.objects.get()
    body = text(response)
    username = re.search(r'id="family-login-username">([^<]+)<', body).group(1)
    password = re.search(r'id="family-login-password">([^<]+)<', body).group(1)
    assert username == grant.user.username
    assert grant.user.check_password(html.unescape(password))
    assert "Hand these to 李娟 now, in person." in body
    # Not repeated: the tab afterwards shows the login, not the password.
    again = browser.get(url("contacts", world.zhang.pk))
    assert password not in text(again) and username in text(again)


def test_grant_refused_without_family_sharing_consent(world, browser, daughter):
    response = grant_page(browser, world, daughter)
    assert response.status_code == 200
    assert "has not consented to sharing her data with family" in text(response)
    assert not ProxyGrant.objects.exists()


def test_revoke_and_change_rights(world, browser, nurse, daughter):
    give_consent(nurse, world.zhang, "family_sharing")
    grant, _ = grant_proxy(nurse, daughter)
    changed = browser.post(
        url("proxy_update", world.zhang.pk, grant.pk),
        {"can_view_readings": "on", "can_view_alerts": "on"},
    )
    assert changed.status_code == 302
    new = ProxyGrant.objects.exclude(pk=grant.pk).get()
    assert new.can_view_alerts and not ProxyGrant.objects.get(pk=grant.pk).active
    none = browser.post(url("proxy_update", world.zhang.pk, new.pk), {}, **HTMX)
    assert "Choose at least one right" in text(none)
    revoked = browser.post(url("proxy_revoke", world.zhang.pk, new.pk), {"note": "不再需要"})
    assert revoked.status_code == 302
    new.consent.refresh_from_db()
    assert new.consent.withdrawal_note == "不再需要"
    again = browser.post(url("proxy_revoke", world.zhang.pk, new.pk), **HTMX)
    assert "This grant is already revoked." in text(again)


# --- consent tab ------------------------------------------------------------------------


def test_consent_tab_give_and_withdraw(world, browser):
    tab = browser.get(url("consents", world.zhang.pk))
    assert tab.status_code == 200
    assert 'id="consent-form"' in text(tab)
    assert 'id="consent-state-health_data" data-state="none"' in text(tab)
    given = browser.post(
        url("consents", world.zhang.pk), {"purpose": "health_data", "given_by": "self"}, **HTMX
    )
    assert given.status_code == 200
    assert given["HX-Redirect"] == url("consents", world.zhang.pk)
    consent = Consent.objects.get()
    again = browser.post(
        url("consents", world.zhang.pk), {"purpose": "health_data", "given_by": "self"}
    )
    assert any("already given" in e for e in field_error(again, "purpose"))
    withdrawn = browser.post(
        url("consent_withdraw", world.zhang.pk, consent.pk), {"note": "本人要求"}
    )
    assert withdrawn.status_code == 302
    page = browser.get(withdrawn["Location"])
    assert 'id="consent-state-health_data" data-state="withdrawn"' in text(page)
    assert "This takes effect now." in text(page)


def test_guardian_consent_form_offers_only_guardians(world, browser, nurse, daughter):
    guardian = add_contact(nurse, world.zhang, name="张强", relation="son", is_guardian=True)
    tab = text(browser.get(url("consents", world.zhang.pk)))
    assert f'<option value="{guardian.pk}">' in tab
    assert f'<option value="{daughter.pk}">' not in tab
    response = browser.post(
        url("consents", world.zhang.pk),
        {"purpose": "health_data", "given_by": "guardian", "guardian": str(guardian.pk)},
    )
    assert response.status_code == 302
    assert Consent.objects.get().guardian == guardian
    missing = browser.post(
        url("consents", world.zhang.pk), {"purpose": "device_monitoring", "given_by": "guardian"}
    )
    assert field_error(missing, "guardian") == ["Name the guardian who gives the consent."]


def test_resident_sees_her_consents_and_withdraws_one(world, nurse, daughter):
    own = make_user(Role.RESIDENT, username="zhang-self")
    Resident.objects.filter(pk=world.zhang.pk).update(account=own)
    consent = give_consent(nurse, world.zhang, "platform_exchange")
    client = client_for(own)
    tab = client.get(url("consents", world.zhang.pk))
    assert tab.status_code == 200
    assert 'id="consent-form"' not in text(tab)  # she cannot record one herself …
    assert url("consent_withdraw", world.zhang.pk, consent.pk) in text(tab)  # … but withdraw
    contacts = client.get(url("contacts", world.zhang.pk))
    assert contacts.status_code == 200 and "李娟" in text(contacts)
    assert 'id="contact-add-form"' not in text(contacts)
    denied = client.post(url("contacts", world.zhang.pk), {"name": "x", "relation": "son"})
    assert denied.status_code == 403
    response = client.post(url("consent_withdraw", world.zhang.pk, consent.pk))
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_by == own


# --- the family member's own experience -------------------------------------------------


HEALTH_TABS = ("conditions", "medications", "allergies", "observations", "encounters")


def tab_keys(response) -> set[str]:
    return set(re.findall(r'data-tab="([a-z_]+)"', text(response).split('id="tab-content"')[0]))


@pytest.fixture
def family(world, nurse, daughter):
    """李娟 logs in with the login and password she was handed."""
    sharing = give_consent(nurse, world.zhang, "family_sharing")
    grant, password = grant_proxy(nurse, daughter)
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert client.login(username=grant.user.username, password=password)
    # First she must choose her own password (a one-time password was handed over).
    assert client.get(reverse("residents:list"))["Location"] == reverse("accounts:password")
    own = "Lijuan#Mima2027"
    client.post(
        reverse("accounts:password"),
        {"old_password": password, "new_password": own, "new_password2": own},
    )
    return client, grant, sharing


def test_family_login_finds_her_mother_and_sees_the_health_tabs(world, family):
    client, grant, _ = family
    listed = client.get(reverse("residents:list"))
    assert listed.status_code == 200
    assert "张三" in text(listed) and "李四" not in text(listed)
    detail = client.get(url("detail", world.zhang.pk))
    assert detail.status_code == 200
    keys = tab_keys(detail)
    assert set(HEALTH_TABS) <= keys
    assert not {"contacts", "consents"} & keys
    assert client.get(url("observations", world.zhang.pk)).status_code == 200
    assert client.get(url("contacts", world.zhang.pk)).status_code == 403
    assert client.get(url("detail", world.li.pk)).status_code == 404


def test_family_login_without_the_readings_right_sees_no_health_tab(world, nurse, family):
    client, grant, _ = family
    update_proxy(nurse, grant, can_view_readings=False, can_view_alerts=True)
    detail = client.get(url("detail", world.zhang.pk))
    assert detail.status_code == 200
    assert not set(HEALTH_TABS) & tab_keys(detail)
    assert client.get(url("observations", world.zhang.pk)).status_code == 403


def test_family_login_gets_404_at_once_after_revoke(world, nurse, family, browser):
    client, grant, _ = family
    assert client.get(url("observations", world.zhang.pk)).status_code == 200
    browser.post(url("proxy_revoke", world.zhang.pk, grant.pk))
    assert client.get(url("detail", world.zhang.pk)).status_code == 404
    assert client.get(url("observations", world.zhang.pk)).status_code == 404
    assert "张三" not in text(client.get(reverse("residents:list")))


def test_family_login_gets_404_at_once_after_family_sharing_is_withdrawn(world, family):
    client, grant, sharing = family
    own = make_user(Role.RESIDENT, username="zhang-self")
    Resident.objects.filter(pk=world.zhang.pk).update(account=own)
    # The mother herself withdraws the consent to sharing with family.
    response = client_for(own).post(url("consent_withdraw", world.zhang.pk, sharing.pk))
    assert response.status_code == 302
    assert client.get(url("detail", world.zhang.pk)).status_code == 404
    assert client.get(url("observations", world.zhang.pk)).status_code == 404


# --- merge ------------------------------------------------------------------------------


@pytest.fixture
def merger(world):
    return client_for(make_user(Role.INSTITUTION_ADMIN, world.net.a.county, username="adm-a"))


@pytest.fixture
def duplicate(world) -> Resident:
    return register(
        world.registrar,
        world.net.a.villages[0],
        "张三",
        datetime.date(1950, 3, 15),
        77,
        address="周党村3组",
    )


def test_merge_page_offers_the_possible_duplicates(world, merger, duplicate):
    page = merger.get(url("merge", world.zhang.pk))
    assert page.status_code == 200
    assert f'id="candidate-{duplicate.pk}"' in text(page)
    assert f'id="candidate-{world.zhang.pk}"' not in text(page)
    found = merger.get(url("merge", world.zhang.pk), {"q": duplicate.id_number})
    assert f'id="candidate-{duplicate.pk}"' in text(found)
    row = text(found).split(f'id="candidate-{duplicate.pk}"', 1)[1].split("</tr>", 1)[0]
    assert duplicate.id_number_masked in row and duplicate.id_number not in row


def test_merge_page_side_by_side_then_merge(world, merger, duplicate, nurse):
    add_contact(nurse, duplicate, name="张强", relation="son")
    compare = merger.get(url("merge", world.zhang.pk), {"remove": duplicate.pk})
    body = text(compare)
    assert 'id="merge-compare"' in body
    assert '<tr data-field="id_number" class="differs">' in body
    assert '<tr data-field="name">' in body
    assert world.zhang.id_number_masked in body and duplicate.id_number_masked in body
    assert "contacts: 1" in body
    refused = merger.post(url("merge", world.zhang.pk), {"remove": duplicate.pk, "reason": ""})
    assert refused.status_code == 200
    assert field_error(refused, "reason") == ["This field is required."]
    done = merger.post(url("merge", world.zhang.pk), {"remove": duplicate.pk, "reason": "重复"})
    assert done.status_code == 302
    assert done["Location"] == url("detail", world.zhang.pk)
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == ("merged", world.zhang.pk)
    assert Contact.objects.get().resident_id == world.zhang.pk


def test_merge_page_out_of_scope_duplicate_and_permissions(world, merger, browser):
    page = merger.get(url("merge", world.zhang.pk), {"remove": world.zhao.pk})
    assert page.status_code == 200
    assert f"There is no record {world.zhao.pk} in your data scope." in text(page)
    assert 'id="merge-form"' not in text(page)
    assert merger.get(url("merge", world.zhao.pk)).status_code == 404
    assert browser.get(url("merge", world.zhang.pk)).status_code == 403  # a nurse


# --- query counts -----------------------------------------------------------------------


def test_tabs_query_count_does_not_grow_with_rows(world, browser, nurse):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    give_consent(nurse, world.zhang, "family_sharing")

    def counts() -> tuple[int, int]:
        result = []
        for name in ("contacts", "consents"):
            with CaptureQueriesContext(connection) as ctx:
                assert browser.get(url(name, world.zhang.pk), **HTMX).status_code == 200
            result.append(len(ctx.captured_queries))
        return result[0], result[1]

    contact = add_contact(nurse, world.zhang, name="李娟", relation="daughter")
    grant_proxy(nurse, contact)
    counts()  # warm up (session, caches)
    few = counts()
    for n, name in enumerate(("张强", "张伟", "张敏")):
        guardian = add_contact(
            nurse, world.zhang, name=name, relation="son", phone=f"1390000{n:04d}", is_guardian=True
        )
        grant_proxy(nurse, guardian, given_by="guardian", guardian=guardian)
    give_consent(nurse, world.zhang, "health_data", given_by="guardian", guardian=guardian)
    assert counts() == few
