"""The contacts tab (``residents:contacts``): the resident's contacts — added, edited in
place (the stored phone never put in the page) and removed — and the family logins
granted to them, each with its rights and state. The forms of the family logins live here
too, as the tab renders them; their actions are in ``proxies``. Changes need
``residents.manage``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.common.crypto import mask_phone
from yiyang.common.errors import ValidationFailed
from yiyang.common.pages import apply_error
from yiyang.residents.access import has_consent
from yiyang.residents.models import (
    Consent,
    ConsentPurpose,
    Contact,
    ProxyGrant,
    Relation,
    Resident,
    ResidentStatus,
)
from yiyang.residents.pages.people.common import (
    NoteForm,
    add_giver_fields,
    error_notice,
    is_own,
    may_manage,
    notice_or_redirect,
    require_perm,
    verbose_label,
)
from yiyang.residents.pages.shell import render_tab, require_tab, resident_page
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.people import contacts_for, grant_state, grants_for
from yiyang.residents.services.people import (
    CONTACT_FIELDS,
    add_contact,
    remove_contact,
    update_contact,
)
from yiyang.residents.services.proxies import OFFERED_RIGHTS

# --- forms ------------------------------------------------------------------------------


class ContactForm(forms.Form):
    name = forms.CharField(label=verbose_label(Contact, "name"), max_length=100)
    relation = forms.ChoiceField(label=verbose_label(Contact, "relation"), choices=Relation.choices)
    phone = forms.CharField(label=verbose_label(Contact, "phone"), max_length=30, required=False)
    is_guardian = forms.BooleanField(label=verbose_label(Contact, "is_guardian"), required=False)
    is_emergency = forms.BooleanField(label=verbose_label(Contact, "is_emergency"), required=False)
    address = forms.CharField(
        label=verbose_label(Contact, "address"), max_length=255, required=False
    )
    note = forms.CharField(label=verbose_label(Contact, "note"), max_length=255, required=False)

    def __init__(self, *args: Any, contact: Contact | None = None, **kwargs: Any) -> None:
        self.contact = contact
        if contact is not None:
            kwargs.setdefault(
                "initial",
                {name: getattr(contact, name) for name in CONTACT_FIELDS if name != "phone"},
            )
        super().__init__(*args, **kwargs)
        if contact is not None:
            # The stored phone is never put in the page: empty keeps it.
            self.fields["phone"].help_text = (
                _("Now %(masked)s — leave empty to keep it.")
                % {"masked": mask_phone(contact.phone)}
                if contact.phone
                else ""
            )
            self.fields["clear_phone"] = forms.BooleanField(
                label=_("Remove the phone number"), required=False
            )

    def values(self) -> dict[str, Any]:
        """The service arguments: everything for a new contact; for an edit, the fields
        that differ (an empty phone keeps the stored one)."""
        data = {name: self.cleaned_data[name] for name in CONTACT_FIELDS}
        if self.contact is None:
            return data
        if self.cleaned_data.get("clear_phone"):
            data["phone"] = ""
        elif not data["phone"]:
            del data["phone"]
        return {name: value for name, value in data.items() if getattr(self.contact, name) != value}


class RightsForm(forms.Form):
    can_view_readings = forms.BooleanField(
        label=verbose_label(ProxyGrant, "can_view_readings"), required=False, initial=True
    )
    can_view_alerts = forms.BooleanField(
        label=verbose_label(ProxyGrant, "can_view_alerts"), required=False
    )
    # Only the rights a family login can use (``OFFERED_RIGHTS``): booking services
    # and bills do not exist yet.

    def rights(self) -> dict[str, Any]:
        return {name: bool(self.cleaned_data[name]) for name in OFFERED_RIGHTS}


class GrantForm(RightsForm):
    username = forms.CharField(
        label=_("Login name"),
        max_length=150,
        required=False,
        help_text=gettext_lazy(
            "Empty: a new login name is made. To reuse the family login she already has "
            "(for another parent), enter its name — her phone number must match."
        ),
    )
    note = forms.CharField(label=verbose_label(Consent, "note"), max_length=255, required=False)

    def __init__(self, *args: Any, resident: Resident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_giver_fields(self, resident)
        self.order_fields([*OFFERED_RIGHTS, "given_by", "guardian", "username", "note"])

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **self.rights(),
            "username": data["username"] or None,
            "given_by": data["given_by"],
            "guardian": data["guardian"],
            "note": data["note"],
        }


# --- contacts tab -----------------------------------------------------------------------


def contacts_tab(
    request: PageRequest,
    resident: Resident,
    *,
    notice: str = "",
    add_form: ContactForm | None = None,
    editing: Contact | None = None,
    edit_form: ContactForm | None = None,
    granting: Contact | None = None,
    grant_form: GrantForm | None = None,
    credentials: dict[str, Any] | None = None,
    rights_errors: dict[int, str] | None = None,
) -> HttpResponse:
    user = request.user
    contacts = list(contacts_for(user, resident))
    grants = list(grants_for(user, resident))
    sharing = has_consent(resident, ConsentPurpose.FAMILY_SHARING)
    active_by_contact: dict[int, ProxyGrant] = {}
    for grant in grants:
        grant.state = grant_state(grant, sharing)  # type: ignore[attr-defined]
        grant.rights_form = RightsForm(  # type: ignore[attr-defined]
            initial={name: getattr(grant, name) for name in OFFERED_RIGHTS},
            auto_id=f"rights-{grant.pk}-%s",
        )
        grant.error = (rights_errors or {}).get(grant.pk, "")  # type: ignore[attr-defined]
        if grant.state != "revoked":  # type: ignore[attr-defined]
            active_by_contact[grant.contact_id] = grant
    for contact in contacts:
        contact.phone_masked = mask_phone(contact.phone) if contact.phone else ""  # type: ignore[attr-defined]
        contact.active_grant = active_by_contact.get(contact.pk)  # type: ignore[attr-defined]
    can_manage = may_manage(request) and resident.status != ResidentStatus.MERGED
    busy = editing is not None or granting is not None
    if add_form is None and can_manage and not busy:
        add_form = ContactForm(auto_id="add-contact-%s")
    context = {
        "contacts": contacts,
        "grants": grants,
        "sharing": sharing,
        "can_manage": can_manage,
        "can_revoke": can_manage or is_own(request, resident),
        "add_form": add_form if can_manage and not busy else None,
        "editing": editing,
        "edit_form": edit_form,
        "granting": granting,
        "grant_form": grant_form,
        "credentials": credentials,
        "notice": notice,
    }
    return render_tab(request, resident, "contacts", "residents/people/contacts.html", context)


def contact_of(request: PageRequest, resident: Resident, contact_id: int) -> Contact:
    contact = contacts_for(request.user, resident).filter(pk=contact_id).first()
    if contact is None:
        raise Http404("contact")
    return contact


@resident_page
def contacts(request: PageRequest, resident: Resident) -> HttpResponse:
    """The contacts tab; POST adds a contact."""
    require_tab(request, resident, "contacts")
    if request.method != "POST":
        return contacts_tab(request, resident)
    require_perm(request, ResidentPerm.MANAGE)
    form = ContactForm(request.POST, auto_id="add-contact-%s")
    if form.is_valid():
        try:
            contact = add_contact(request.user, resident, **form.values())
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            message = _("Contact %(name)s added.") % {"name": contact.name}
            return notice_or_redirect(
                request,
                resident,
                "contacts",
                message,
                lambda **kw: contacts_tab(request, resident, **kw),
            )
    return contacts_tab(request, resident, add_form=form)


@resident_page
def contact_edit(request: PageRequest, resident: Resident, contact_id: int) -> HttpResponse:
    """The contact's row as a form (GET); save it (POST)."""
    require_tab(request, resident, "contacts")
    require_perm(request, ResidentPerm.MANAGE)
    contact = contact_of(request, resident, contact_id)
    auto_id = f"contact-{contact.pk}-%s"
    if request.method != "POST":
        form = ContactForm(contact=contact, auto_id=auto_id)
        return contacts_tab(request, resident, editing=contact, edit_form=form)
    form = ContactForm(request.POST, contact=contact, auto_id=auto_id)
    if form.is_valid():
        try:
            update_contact(request.user, contact, resident=resident, **form.values())
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            message = _("Contact %(name)s saved.") % {"name": form.cleaned_data["name"]}
            return notice_or_redirect(
                request,
                resident,
                "contacts",
                message,
                lambda **kw: contacts_tab(request, resident, **kw),
            )
    return contacts_tab(request, resident, editing=contact, edit_form=form)


@require_POST
@resident_page
def contact_remove(request: PageRequest, resident: Resident, contact_id: int) -> HttpResponse:
    require_tab(request, resident, "contacts")
    require_perm(request, ResidentPerm.MANAGE)
    contact = contact_of(request, resident, contact_id)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    again = lambda **kw: contacts_tab(request, resident, **kw)  # noqa: E731
    try:
        remove_contact(request.user, contact, resident=resident, note=note)
    except ValidationFailed as error:
        return error_notice(request, resident, "contacts", error, again)
    message = _("Contact %(name)s removed.") % {"name": contact.name}
    return notice_or_redirect(request, resident, "contacts", message, again)


urlpatterns: list[URLPattern] = [
    path("<int:pk>/contacts/", contacts, name="contacts"),
    path("<int:pk>/contacts/<int:contact_id>/edit/", contact_edit, name="contact_edit"),
    path("<int:pk>/contacts/<int:contact_id>/remove/", contact_remove, name="contact_remove"),
]
