"""People pages: the contacts tab (contacts, family logins), the consent tab, and merging a
duplicate record.

Each tab is a ``shell`` tab (``residents:contacts``, ``residents:consents``): an htmx
request gets the fragment, a plain one the whole resident page. Every form posts with
htmx into the tab and works as a plain form too (then it redirects back to the tab). The
one exception is the answer to a new family login: it carries the one-time password, so
it is rendered directly (never redirected through the session) and marked ``no-store``.

Access: the tabs are seen by staff with ``residents.view`` and by the resident's own login;
changes need ``residents.manage``; a consent withdrawal and a grant revocation may also
be made by the resident herself. Merging needs ``residents.merge``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from yiyang.accounts.actor import PageRequest
from yiyang.common.crypto import mask_phone
from yiyang.common.errors import NotFound, ValidationFailed
from yiyang.common.pages import apply_error, refuses_control_characters
from yiyang.common.permissions import Permission, Role
from yiyang.common.validation import field_label
from yiyang.residents.access import has_consent
from yiyang.residents.models import (
    Consent,
    ConsentGiver,
    ConsentPurpose,
    Contact,
    ProxyGrant,
    Relation,
    Resident,
    ResidentStatus,
)
from yiyang.residents.pages.shell import render_tab, require_tab, resident_page
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.search import search_residents
from yiyang.residents.selectors.people import consents_for, contacts_for, grant_state, grants_for
from yiyang.residents.selectors.registry import get_resident_for
from yiyang.residents.services.merge import (
    COMPARED,
    differing_fields,
    linked_counts,
    merge_residents,
)
from yiyang.residents.services.people import (
    CONTACT_FIELDS,
    GIVEN_PURPOSES,
    add_contact,
    give_consent,
    remove_contact,
    update_contact,
    withdraw_consent,
)
from yiyang.residents.services.proxies import (
    OFFERED_RIGHTS,
    grant_proxy,
    revoke_proxy,
    update_proxy,
)
from yiyang.residents.services.registry import duplicate_candidates

CANDIDATES = 20  # at most this many records offered for a merge


def _label(model: type[models.Model], name: str) -> Any:
    return capfirst(model._meta.get_field(name).verbose_name)  # type: ignore[union-attr]


def _require(request: PageRequest, perm: Permission) -> None:
    if not request.user.has_perm_code(perm):  # type: ignore[union-attr]
        raise DjangoPermissionDenied


# --- forms ------------------------------------------------------------------------------


class ContactForm(forms.Form):
    name = forms.CharField(label=_label(Contact, "name"), max_length=100)
    relation = forms.ChoiceField(label=_label(Contact, "relation"), choices=Relation.choices)
    phone = forms.CharField(label=_label(Contact, "phone"), max_length=30, required=False)
    is_guardian = forms.BooleanField(label=_label(Contact, "is_guardian"), required=False)
    is_emergency = forms.BooleanField(label=_label(Contact, "is_emergency"), required=False)
    address = forms.CharField(label=_label(Contact, "address"), max_length=255, required=False)
    note = forms.CharField(label=_label(Contact, "note"), max_length=255, required=False)

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


def _giver_fields(form: forms.Form, resident: Resident) -> None:
    form.fields["given_by"] = forms.ChoiceField(
        label=_label(Consent, "given_by"), choices=ConsentGiver.choices, initial="self"
    )
    form.fields["guardian"] = forms.ModelChoiceField(
        label=_label(Consent, "guardian"),
        queryset=Contact.objects.filter(resident=resident, is_guardian=True),
        required=False,
        help_text=_("When the guardian gives the consent (a contact marked legal guardian)."),
    )


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(
        label=_label(Consent, "purpose"),
        choices=[(p, ConsentPurpose(p).label) for p in GIVEN_PURPOSES],
    )
    given_at = forms.DateTimeField(
        label=_label(Consent, "given_at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=gettext_lazy("When it was signed; empty = now."),
    )
    note = forms.CharField(label=_label(Consent, "note"), max_length=255, required=False)

    def __init__(self, *args: Any, resident: Resident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _giver_fields(self, resident)
        self.order_fields(["purpose", "given_by", "guardian", "given_at", "note"])

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "purpose": data["purpose"],
            "given_by": data["given_by"],
            "guardian": data["guardian"],
            "note": data["note"],
            "given_at": data["given_at"],
        }


class RightsForm(forms.Form):
    can_view_readings = forms.BooleanField(
        label=_label(ProxyGrant, "can_view_readings"), required=False, initial=True
    )
    can_view_alerts = forms.BooleanField(
        label=_label(ProxyGrant, "can_view_alerts"), required=False
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
    note = forms.CharField(label=_label(Consent, "note"), max_length=255, required=False)

    def __init__(self, *args: Any, resident: Resident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _giver_fields(self, resident)
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


class NoteForm(forms.Form):
    note = forms.CharField(max_length=255, required=False)


class MergeForm(forms.Form):
    remove = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Why these two records are the same person (kept in the audit)."),
    )


# --- shared -----------------------------------------------------------------------------


def _notice_or_redirect(
    request: HttpRequest, resident: Resident, tab: str, message: str, render_again: Callable
) -> HttpResponse:
    """After a change: htmx gets the tab again with the message in it; a plain form post
    is redirected back to the tab (the message follows in the session)."""
    if getattr(request, "htmx", False):
        return render_again(notice=message)
    messages.success(request, message)
    return redirect(reverse(f"residents:{tab}", args=[resident.pk]))


def _reload(request: HttpRequest, resident: Resident, tab: str, message: str) -> HttpResponse:
    """After a consent change (the header shows the consent state): the whole page again,
    by a client redirect under htmx."""
    messages.success(request, message)
    url = reverse(f"residents:{tab}", args=[resident.pk])
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _can_manage(request: PageRequest) -> bool:
    return bool(request.user.has_perm_code(ResidentPerm.MANAGE))  # type: ignore[union-attr]


def _is_own(request: PageRequest, resident: Resident) -> bool:
    user = request.user
    return getattr(user, "role", None) == Role.RESIDENT and resident.account_id == user.pk


# --- contacts tab -----------------------------------------------------------------------


def _contacts_tab(
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
    can_manage = _can_manage(request) and resident.status != ResidentStatus.MERGED
    busy = editing is not None or granting is not None
    if add_form is None and can_manage and not busy:
        add_form = ContactForm(auto_id="add-contact-%s")
    context = {
        "contacts": contacts,
        "grants": grants,
        "sharing": sharing,
        "can_manage": can_manage,
        "can_revoke": can_manage or _is_own(request, resident),
        "add_form": add_form if can_manage and not busy else None,
        "editing": editing,
        "edit_form": edit_form,
        "granting": granting,
        "grant_form": grant_form,
        "credentials": credentials,
        "notice": notice,
    }
    return render_tab(request, resident, "contacts", "residents/people/contacts.html", context)


def _contact_of(request: PageRequest, resident: Resident, contact_id: int) -> Contact:
    contact = contacts_for(request.user, resident).filter(pk=contact_id).first()
    if contact is None:
        raise Http404("contact")
    return contact


@resident_page
def contacts(request: PageRequest, resident: Resident) -> HttpResponse:
    """The contacts tab; POST adds a contact."""
    require_tab(request, resident, "contacts")
    if request.method != "POST":
        return _contacts_tab(request, resident)
    _require(request, ResidentPerm.MANAGE)
    form = ContactForm(request.POST, auto_id="add-contact-%s")
    if form.is_valid():
        try:
            contact = add_contact(request.user, resident, **form.values())
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            message = _("Contact %(name)s added.") % {"name": contact.name}
            return _notice_or_redirect(
                request,
                resident,
                "contacts",
                message,
                lambda **kw: _contacts_tab(request, resident, **kw),
            )
    return _contacts_tab(request, resident, add_form=form)


@resident_page
def contact_edit(request: PageRequest, resident: Resident, contact_id: int) -> HttpResponse:
    """The contact's row as a form (GET); save it (POST)."""
    require_tab(request, resident, "contacts")
    _require(request, ResidentPerm.MANAGE)
    contact = _contact_of(request, resident, contact_id)
    auto_id = f"contact-{contact.pk}-%s"
    if request.method != "POST":
        form = ContactForm(contact=contact, auto_id=auto_id)
        return _contacts_tab(request, resident, editing=contact, edit_form=form)
    form = ContactForm(request.POST, contact=contact, auto_id=auto_id)
    if form.is_valid():
        try:
            update_contact(request.user, contact, resident=resident, **form.values())
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            message = _("Contact %(name)s saved.") % {"name": form.cleaned_data["name"]}
            return _notice_or_redirect(
                request,
                resident,
                "contacts",
                message,
                lambda **kw: _contacts_tab(request, resident, **kw),
            )
    return _contacts_tab(request, resident, editing=contact, edit_form=form)


def _error_notice(
    request: HttpRequest, resident: Resident, tab: str, error: ValidationFailed, again: Callable
) -> HttpResponse:
    """A refused small action (remove, revoke, withdraw): the tab with the reason."""
    if getattr(request, "htmx", False):
        return again(notice=error.detail)
    messages.error(request, error.detail)
    return redirect(reverse(f"residents:{tab}", args=[resident.pk]))


@require_POST
@resident_page
def contact_remove(request: PageRequest, resident: Resident, contact_id: int) -> HttpResponse:
    require_tab(request, resident, "contacts")
    _require(request, ResidentPerm.MANAGE)
    contact = _contact_of(request, resident, contact_id)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    again = lambda **kw: _contacts_tab(request, resident, **kw)  # noqa: E731
    try:
        remove_contact(request.user, contact, resident=resident, note=note)
    except ValidationFailed as error:
        return _error_notice(request, resident, "contacts", error, again)
    message = _("Contact %(name)s removed.") % {"name": contact.name}
    return _notice_or_redirect(request, resident, "contacts", message, again)


@resident_page
def proxy_grant(request: PageRequest, resident: Resident, contact_id: int) -> HttpResponse:
    """Give a contact a family login (GET: the form; POST: grant). A new login's name and
    one-time password are shown in the answer, once."""
    require_tab(request, resident, "contacts")
    _require(request, ResidentPerm.MANAGE)
    contact = _contact_of(request, resident, contact_id)
    auto_id = f"grant-{contact.pk}-%s"
    if request.method != "POST":
        form = GrantForm(resident=resident, auto_id=auto_id)
        return _contacts_tab(request, resident, granting=contact, grant_form=form)
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
                return _notice_or_redirect(
                    request,
                    resident,
                    "contacts",
                    message,
                    lambda **kw: _contacts_tab(request, resident, **kw),
                )
            credentials = {
                "name": contact.name,
                "username": grant.user.username,
                "password": password,
            }
            response = _contacts_tab(request, resident, credentials=credentials)
            response["Cache-Control"] = "no-store"
            return response
    return _contacts_tab(request, resident, granting=contact, grant_form=form)


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
    _require(request, ResidentPerm.MANAGE)
    grant = _grant_of(request, resident, grant_id)
    form = RightsForm(request.POST)
    form.is_valid()
    again = lambda **kw: _contacts_tab(request, resident, **kw)  # noqa: E731
    try:
        new = update_proxy(request.user, grant, resident=resident, **form.rights())
    except ValidationFailed as error:
        if getattr(request, "htmx", False):
            return _contacts_tab(request, resident, rights_errors={grant.pk: error.detail})
        return _error_notice(request, resident, "contacts", error, again)
    if new.pk == grant.pk:
        message = _("Nothing changed.")
    else:
        message = _("The rights of %(name)s's login were changed.") % {"name": grant.contact.name}
    return _notice_or_redirect(request, resident, "contacts", message, again)


@require_POST
@resident_page
def proxy_revoke(request: PageRequest, resident: Resident, grant_id: int) -> HttpResponse:
    """Revoke a family login's access (staff, or the resident herself)."""
    require_tab(request, resident, "contacts")
    grant = _grant_of(request, resident, grant_id)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    again = lambda **kw: _contacts_tab(request, resident, **kw)  # noqa: E731
    try:
        revoke_proxy(request.user, grant, note, resident=resident)
    except ValidationFailed as error:
        return _error_notice(request, resident, "contacts", error, again)
    message = _("The access of %(name)s (login %(u)s) is revoked.") % {
        "name": grant.contact.name,
        "u": grant.user.username,
    }
    return _notice_or_redirect(request, resident, "contacts", message, again)


# --- consent tab ------------------------------------------------------------------------


def _consents_tab(
    request: PageRequest,
    resident: Resident,
    *,
    notice: str = "",
    form: ConsentForm | None = None,
) -> HttpResponse:
    history = list(consents_for(request.user, resident))
    latest: dict[str, Consent] = {}
    for consent in history:
        latest.setdefault(consent.purpose, consent)
    state = [
        {"purpose": p, "label": ConsentPurpose(p).label, "consent": latest.get(p)}
        for p in GIVEN_PURPOSES
    ]
    can_manage = _can_manage(request) and resident.status != ResidentStatus.MERGED
    if form is None and can_manage:
        form = ConsentForm(resident=resident, auto_id="consent-%s")
    context = {
        "state": state,
        "history": history,
        "can_manage": can_manage,
        "can_withdraw": can_manage or _is_own(request, resident),
        "form": form if can_manage else None,
        "notice": notice,
    }
    return render_tab(request, resident, "consents", "residents/people/consents.html", context)


@resident_page
def consents(request: PageRequest, resident: Resident) -> HttpResponse:
    """The consent tab (state per purpose, history); POST records a consent."""
    require_tab(request, resident, "consents")
    if request.method != "POST":
        return _consents_tab(request, resident)
    _require(request, ResidentPerm.MANAGE)
    form = ConsentForm(request.POST, resident=resident, auto_id="consent-%s")
    if form.is_valid():
        try:
            consent = give_consent(request.user, resident, **form.values())
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            message = _("Consent recorded: %(purpose)s.") % {
                "purpose": consent.get_purpose_display()
            }
            return _reload(request, resident, "consents", message)
    return _consents_tab(request, resident, form=form)


@require_POST
@resident_page
def consent_withdraw(request: PageRequest, resident: Resident, consent_id: int) -> HttpResponse:
    """Withdraw a consent (staff, or the resident herself); effective at once."""
    require_tab(request, resident, "consents")
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        consent = withdraw_consent(request.user, consent_id, note, resident=resident)
    except ValidationFailed as error:
        again = lambda **kw: _consents_tab(request, resident, **kw)  # noqa: E731
        return _error_notice(request, resident, "consents", error, again)
    message = _("Consent withdrawn: %(purpose)s. This takes effect now.") % {
        "purpose": consent.get_purpose_display()
    }
    return _reload(request, resident, "consents", message)


# --- merge ------------------------------------------------------------------------------


def _display(resident: Resident, name: str) -> str:
    if name == "id_number":
        return resident.id_number_masked
    if name == "phone":
        return mask_phone(resident.phone) if resident.phone else ""
    value = getattr(resident, name)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    display = getattr(resident, f"get_{name}_display", None)
    if display is not None:
        return str(display())
    if value is None:
        return ""
    return str(value)


def _comparison(keep: Resident, other: Resident) -> list[dict[str, Any]]:
    differed = set(differing_fields(keep, other))
    return [
        {
            "name": name,
            "label": capfirst(field_label((Resident,), name)),
            "keep": _display(keep, name),
            "other": _display(other, name),
            "differs": name in differed,
        }
        for name in COMPARED
    ]


def _linked(resident: Resident) -> dict[str, int]:
    from django.apps import apps

    return {
        str(apps.get_model(label)._meta.verbose_name_plural): n
        for label, n in linked_counts(resident).items()
    }


@login_required
@refuses_control_characters
def merge(request: PageRequest, pk: int) -> HttpResponseBase:
    """Merge a duplicate into this record: find it (ID number, phone, name or the possible
    duplicates), compare both side by side, confirm with a reason."""
    _require(request, ResidentPerm.MERGE)
    return _merge(request, pk)


@resident_page
def _merge(request: PageRequest, keep: Resident) -> HttpResponse:
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    q = (request.GET.get("q") or "").strip()
    other: Resident | None = None
    problem = ""
    raw = source.get("remove")
    if raw:
        try:
            other = get_resident_for(user, raw)
        except NotFound:
            problem = _("There is no record %(id)s in your data scope.") % {"id": raw}
    form = MergeForm(request.POST or None, initial={"remove": other.pk if other else None})
    if request.method == "POST" and other is not None and form.is_valid():
        try:
            result = merge_residents(user, keep, other, form.cleaned_data["reason"])
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            moved = sum(result.moved.values())
            messages.success(
                request,
                _("Record %(id)s was merged into this one (%(n)d linked rows moved).")
                % {"id": other.pk, "n": moved},
            )
            url = reverse("residents:detail", args=[keep.pk])
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(url)
            return redirect(url)
    elif request.method == "POST" and other is None and not problem:
        problem = _("Choose the duplicate record first.")
    candidates: list[Resident] = []
    if keep.status != ResidentStatus.MERGED:
        candidates = duplicate_candidates(user, keep)[:CANDIDATES]
        if q:
            found = search_residents(user, q).exclude(pk=keep.pk)[:CANDIDATES]
            candidates = list(found)
    context = {
        "keep": keep,
        "resident": keep,
        "q": q,
        "searched": bool(q),
        "candidates": [c for c in candidates if c.pk != keep.pk],
        "other": other,
        "problem": problem,
        "form": form,
        "comparison": _comparison(keep, other) if other is not None else [],
        "linked_keep": _linked(keep) if other is not None else {},
        "linked_other": _linked(other) if other is not None else {},
        "blocked": keep.status == ResidentStatus.MERGED
        or (other is not None and (other.status == ResidentStatus.MERGED or other.pk == keep.pk)),
    }
    return render(request, "residents/people/merge.html", context)


urlpatterns: list[URLPattern] = [
    path("<int:pk>/contacts/", contacts, name="contacts"),
    path("<int:pk>/contacts/<int:contact_id>/edit/", contact_edit, name="contact_edit"),
    path("<int:pk>/contacts/<int:contact_id>/remove/", contact_remove, name="contact_remove"),
    path("<int:pk>/contacts/<int:contact_id>/login/", proxy_grant, name="proxy_grant"),
    path("<int:pk>/proxies/<int:grant_id>/rights/", proxy_update, name="proxy_update"),
    path("<int:pk>/proxies/<int:grant_id>/revoke/", proxy_revoke, name="proxy_revoke"),
    path("<int:pk>/consents/", consents, name="consents"),
    path(
        "<int:pk>/consents/<int:consent_id>/withdraw/",
        consent_withdraw,
        name="consent_withdraw",
    ),
    path("<int:pk>/merge/", merge, name="merge"),
]
