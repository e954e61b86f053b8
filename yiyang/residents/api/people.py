"""Contacts, consent, family proxy grants and merge: ``/api/v1/residents/{pk}/…``.

Reads go through ``selectors.people`` (``contacts_for`` / ``consents_for`` / ``grants_for``:
staff with ``residents.view`` and the resident's own login; the read of the record is
audited), writes through the services (``people``, ``proxies``, ``merge``). A resident out
of scope answers 404 like a missing one; an object id that belongs to another resident
answers 404 too.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from yiyang.accounts.actor import actor
from yiyang.common.params import Id
from yiyang.common.schemas import ErrorOut
from yiyang.residents.access import has_consent
from yiyang.residents.models import ConsentPurpose, ProxyGrant
from yiyang.residents.people_schemas import (
    ConsentIn,
    ConsentOut,
    ContactIn,
    ContactOut,
    ContactPatch,
    MergeIn,
    MergeOut,
    NoteIn,
    ProxyCreatedOut,
    ProxyIn,
    ProxyOut,
    ProxyPatch,
)
from yiyang.residents.selectors.people import consents_for, contacts_for, grants_for
from yiyang.residents.services.merge import merge_residents
from yiyang.residents.services.people import (
    add_contact,
    give_consent,
    remove_contact,
    update_contact,
    withdraw_consent,
)
from yiyang.residents.services.proxies import grant_proxy, revoke_proxy, update_proxy

router = Router(tags=["residents"])

ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _grant_out(grant: ProxyGrant) -> ProxyGrant:
    grant = ProxyGrant.objects.select_related("contact", "user", "consent").get(pk=grant.pk)
    return grant


# --- contacts ---------------------------------------------------------------------------


@router.get(
    "/{int:pk}/contacts",
    response={200: list[ContactOut], **ERRORS},
    url_name="residents_contact_list",
    summary="A resident's contacts (family, guardians, others)",
)
def contact_list(request: HttpRequest, pk: Id) -> Any:
    return list(contacts_for(actor(request), pk))


@router.post(
    "/{int:pk}/contacts",
    response={201: ContactOut, **ERRORS},
    url_name="residents_contact_create",
)
def contact_create(request: HttpRequest, pk: Id, payload: ContactIn) -> Any:
    return 201, add_contact(actor(request), pk, **payload.dict())


@router.patch(
    "/{int:pk}/contacts/{int:contact_id}",
    response={200: ContactOut, **ERRORS},
    url_name="residents_contact_update",
)
def contact_update(request: HttpRequest, pk: Id, contact_id: Id, payload: ContactPatch) -> Any:
    return update_contact(
        actor(request), contact_id, resident=pk, **payload.dict(exclude_unset=True)
    )


@router.delete(
    "/{int:pk}/contacts/{int:contact_id}",
    response={204: None, **ERRORS},
    url_name="residents_contact_delete",
)
def contact_delete(request: HttpRequest, pk: Id, contact_id: Id) -> Any:
    remove_contact(actor(request), contact_id, resident=pk)
    return 204, None


# --- consent ----------------------------------------------------------------------------


@router.get(
    "/{int:pk}/consents",
    response={200: list[ConsentOut], **ERRORS},
    url_name="residents_consent_list",
    summary="A resident's consents, withdrawn ones included",
)
def consent_list(request: HttpRequest, pk: Id) -> Any:
    return list(consents_for(actor(request), pk))


@router.post(
    "/{int:pk}/consents",
    response={201: ConsentOut, **ERRORS},
    url_name="residents_consent_create",
    summary="Record a consent (health data, device monitoring, family sharing, platform)",
)
def consent_create(request: HttpRequest, pk: Id, payload: ConsentIn) -> Any:
    return 201, give_consent(actor(request), pk, **payload.dict())


@router.post(
    "/{int:pk}/consents/{int:consent_id}/withdraw",
    response={200: ConsentOut, **ERRORS},
    url_name="residents_consent_withdraw",
    summary="Withdraw a consent (effective at once; the resident may withdraw her own)",
)
def consent_withdraw(request: HttpRequest, pk: Id, consent_id: Id, payload: NoteIn) -> Any:
    return withdraw_consent(actor(request), consent_id, payload.note, resident=pk)


# --- family proxy grants ----------------------------------------------------------------


@router.get(
    "/{int:pk}/proxies",
    response={200: list[ProxyOut], **ERRORS},
    url_name="residents_proxy_list",
    summary="Family logins acting for the resident, revoked ones included",
)
def proxy_list(request: HttpRequest, pk: Id) -> Any:
    grants = list(grants_for(actor(request), pk))
    sharing = has_consent(pk, ConsentPurpose.FAMILY_SHARING)
    for grant in grants:
        grant.family_sharing = sharing  # type: ignore[attr-defined]
    return grants


@router.post(
    "/{int:pk}/proxies",
    response={201: ProxyCreatedOut, **ERRORS},
    url_name="residents_proxy_create",
    summary="Give a contact a family login with graded rights (password shown once)",
)
def proxy_create(request: HttpRequest, pk: Id, payload: ProxyIn) -> Any:
    data = payload.dict()
    contact = data.pop("contact")
    grant, password = grant_proxy(actor(request), contact, resident=pk, **data)
    grant = _grant_out(grant)
    return 201, {"grant": grant, "username": grant.user.username, "password": password}


@router.patch(
    "/{int:pk}/proxies/{int:grant_id}",
    response={200: ProxyOut, **ERRORS},
    url_name="residents_proxy_update",
    summary="Change a grant's rights (recorded as a new grant and consent)",
)
def proxy_update(request: HttpRequest, pk: Id, grant_id: Id, payload: ProxyPatch) -> Any:
    data = {k: v for k, v in payload.dict().items() if v is not None}
    grant = update_proxy(actor(request), grant_id, resident=pk, **data)
    return _grant_out(grant)


@router.post(
    "/{int:pk}/proxies/{int:grant_id}/revoke",
    response={200: ProxyOut, **ERRORS},
    url_name="residents_proxy_revoke",
    summary="Revoke a family login's access to the resident (at once)",
)
def proxy_revoke(request: HttpRequest, pk: Id, grant_id: Id, payload: NoteIn) -> Any:
    grant = revoke_proxy(actor(request), grant_id, payload.note, resident=pk)
    return _grant_out(grant)


# --- merge ------------------------------------------------------------------------------


@router.post(
    "/{int:pk}/merge",
    response={200: MergeOut, **ERRORS},
    url_name="residents_merge",
    summary="Merge a duplicate record into this one (moves every linked row)",
)
def merge(request: HttpRequest, pk: Id, payload: MergeIn) -> Any:
    result = merge_residents(actor(request), pk, payload.remove, payload.reason)
    return {
        "keep": result.keep.pk,
        "removed": result.removed.pk,
        "moved": result.moved,
        "consents_withdrawn": result.consents_withdrawn,
        "filled": result.filled,
        "differed": result.differed,
        "account_moved": result.account_moved,
    }
