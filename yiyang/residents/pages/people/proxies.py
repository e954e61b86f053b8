"""The family logins' actions on the contacts tab: give a contact a family login (a new
login's name and one-time password are shown in the answer, once, never redirected through
the session, and marked ``no-store``), change its rights (recorded as a new grant with its
own consent) and revoke it (staff, or the resident herself). Granting and changing need
``residents.manage``.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.common.errors import ValidationFailed
from yiyang.common.pages import apply_error
from yiyang.residents.models import ProxyGrant, Resident
from yiyang.residents.pages.people.common import (
    NoteForm,
    error_notice,
    notice_or_redirect,
    require_perm,
)
from yiyang.residents.pages.people.contacts import GrantForm, RightsForm, contact_of, contacts_tab
from yiyang.residents.pages.shell import require_tab, resident_page
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.people import grants_for
from yiyang.residents.services.proxies import grant_proxy, revoke_proxy, update_proxy


@resident_page
def proxy_grant(request: PageRequest, resident: Resident, contact_id: int) -> HttpResponse:
    """Give a contact a family login (GET: the form; POST: grant). A new login's name and
    one-time password are shown in the answer, once."""
    require_tab(request, resident, "contacts")
    require_perm(request, ResidentPerm.MANAGE)
    contact = contact_of(request, resident, contact_id)
    auto_id = f"grant-{contact.pk}-%s"
    if request.method != "POST":
        form = GrantForm(resident=resident, auto_id=auto_id)
        return contacts_tab(request, resident, granting=contact, grant_form=form)
    form = GrantForm(request.POST, resident=resident, auto_id=auto_id)
    if form.is_valid():
        try:
            grant, password = grant_proxy(request.user, contact, resident=resident, **form.values())
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            if password is None:
                message = _("%(name)s can now act for %(resident)s with her login %(u)s.") % {
                    "name": contact.name,
                    "resident": resident.name,
                    "u": grant.user.username,
                }
                return notice_or_redirect(
                    request,
                    resident,
                    "contacts",
                    message,
                    lambda **kw: contacts_tab(request, resident, **kw),
                )
            credentials = {
                "name": contact.name,
                "username": grant.user.username,
                "password": password,
            }
            response = contacts_tab(request, resident, credentials=credentials)
            response["Cache-Control"] = "no-store"
            return response
    return contacts_tab(request, resident, granting=contact, grant_form=form)


def _grant_of(request: PageRequest, resident: Resident, grant_id: int) -> ProxyGrant:
    grant = grants_for(request.user, resident).filter(pk=grant_id).first()
    if grant is None:
        raise Http404("proxy grant")
    return grant


@require_POST
@resident_page
def proxy_update(request: PageRequest, resident: Resident, grant_id: int) -> HttpResponse:
    """Change a family login's rights (recorded as a new grant with its own consent)."""
    require_tab(request, resident, "contacts")
    require_perm(request, ResidentPerm.MANAGE)
    grant = _grant_of(request, resident, grant_id)
    form = RightsForm(request.POST)
    form.is_valid()
    again = lambda **kw: contacts_tab(request, resident, **kw)  # noqa: E731
    try:
        new = update_proxy(request.user, grant, resident=resident, **form.rights())
    except ValidationFailed as error:
        if getattr(request, "htmx", False):
            return contacts_tab(request, resident, rights_errors={grant.pk: error.detail})
        return error_notice(request, resident, "contacts", error, again)
    if new.pk == grant.pk:
        message = _("Nothing changed.")
    else:
        message = _("The rights of %(name)s's login were changed.") % {"name": grant.contact.name}
    return notice_or_redirect(request, resident, "contacts", message, again)


@require_POST
@resident_page
def proxy_revoke(request: PageRequest, resident: Resident, grant_id: int) -> HttpResponse:
    """Revoke a family login's access (staff, or the resident herself)."""
    require_tab(request, resident, "contacts")
    grant = _grant_of(request, resident, grant_id)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    again = lambda **kw: contacts_tab(request, resident, **kw)  # noqa: E731
    try:
        revoke_proxy(request.user, grant, note, resident=resident)
    except ValidationFailed as error:
        return error_notice(request, resident, "contacts", error, again)
    message = _("The access of %(name)s (login %(u)s) is revoked.") % {
        "name": grant.contact.name,
        "u": grant.user.username,
    }
    return notice_or_redirect(request, resident, "contacts", message, again)


urlpatterns: list[URLPattern] = [
    path("<int:pk>/contacts/<int:contact_id>/login/", proxy_grant, name="proxy_grant"),
    path("<int:pk>/proxies/<int:grant_id>/rights/", proxy_update, name="proxy_update"),
    path("<int:pk>/proxies/<int:grant_id>/revoke/", proxy_revoke, name="proxy_revoke"),
]
