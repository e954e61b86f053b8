"""Permission-matrix rules of contacts, consent, family proxy grants and merge — pages and
API (see ``tests/matrix_support.py``).

Who: ``residents.view`` holders and the resident's own login read the contacts, consents
and grants (a family login acting for her does not: 403); ``residents.manage`` adds and
edits contacts, records consents and gives or changes family logins; withdrawing a
consent and revoking a grant may also be done by the resident herself;
``residents.merge`` merges. Out of scope: the same objects of ``world.resident_out``
(county B) answer 404 and change nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from tests.matrix_support import Kwargs, Rule, World, holders, rows
from yiyang.common.permissions import Role
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import Consent, Contact, ProxyGrant, Resident
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.services.people import add_contact, give_consent
from yiyang.residents.services.proxies import grant_proxy
from yiyang.residents.services.registry import register_resident
from yiyang.testing.network import make_user

VIEW = holders(ResidentPerm.VIEW) | {Role.RESIDENT}
MANAGE = holders(ResidentPerm.MANAGE)
WITHDRAW = MANAGE | {Role.RESIDENT}
MERGE = holders(ResidentPerm.MERGE)

CONTACTS = rows(Contact, "name", "note", "is_guardian", "phone_index")
CONSENTS = rows(Consent, "purpose", "withdrawn_at")
GRANTS = rows(ProxyGrant, "contact_id", "user_id", "can_view_alerts")
RESIDENTS = rows(Resident, "status", "merged_into_id")


def build(w: World) -> None:
    """For each county: a son without a login (``son_in``/``son_out``), a consent to
    exchange with the regional platform (``exchange_in``/``_out``), a duplicate record
    (``dup_in``/``_out``); county B also gets a family grant (``grant_out``). County A's
    grant is the world's daughter's (``grant_in``)."""
    registrar = make_user(Role.INSTITUTION_ADMIN, "all", username="m-people-registrar")
    for suffix, resident, county, seq in (
        ("in", w.resident_in, w.a, 31),
        ("out", w.resident_out, w.b, 32),
    ):
        w.extra[f"son_{suffix}"] = add_contact(
            registrar, resident, name="王强", relation="son", phone="13900003333"
        )
        w.extra[f"exchange_{suffix}"] = give_consent(registrar, resident, "platform_exchange")
        village = county.villages[0]
        w.extra[f"dup_{suffix}"], _ = register_resident(
            registrar,
            name=resident.name,
            id_number=make_id_number(village.code[:6], datetime.date(1948, 5, 6), seq),
            region=village,
        )
    w.extra["grant_in"] = ProxyGrant.objects.get(contact=w.extra["daughter"])
    daughter_out = add_contact(registrar, w.resident_out, name="赵丽", relation="daughter")
    w.extra["grant_out"], _ = grant_proxy(registrar, daughter_out)


def resident(side: str) -> Kwargs:
    return lambda w: {"pk": getattr(w, f"resident_{side}").pk}


def nested(side: str, key: str, name: str) -> Kwargs:
    """The resident of ``side`` and its object ``w.extra[f"{name}_{side}"]``."""
    return lambda w: {
        "pk": getattr(w, f"resident_{side}").pk,
        key: w.extra[f"{name}_{side}"].pk,
    }


def contact(side: str) -> Kwargs:
    return nested(side, "contact_id", "son")


def consent(side: str) -> Kwargs:
    return nested(side, "consent_id", "exchange")


def grant(side: str) -> Kwargs:
    return nested(side, "grant_id", "grant")


def body(**values: Any) -> Callable[[World, Any], dict[str, Any]]:
    return lambda w, user: dict(values)


def new_grant(side: str, form: bool = False) -> Callable[[World, Any], dict[str, Any]]:
    def payload(w: World, user: Any) -> dict[str, Any]:
        if form:
            return {"can_view_readings": "on", "given_by": "self"}
        return {"contact": w.extra[f"son_{side}"].pk, "can_view_readings": True}

    return payload


def merge_payload(form: bool = False) -> Callable[[World, Any], dict[str, Any]]:
    def payload(w: World, user: Any) -> dict[str, Any]:
        remove = w.extra["dup_in"].pk
        return {"remove": str(remove) if form else remove, "reason": "同一人重复建档"}

    return payload


NEW_CONTACT = {"name": "李芳", "relation": "child_in_law", "phone": "13900004444"}
EDIT_CONTACT_FORM = {"name": "王强", "relation": "son", "note": "住在县城", "is_emergency": "on"}

RULES: list[Rule] = [
    # --- API ------------------------------------------------------------------------------
    Rule("api:residents_contact_list", "GET", VIEW, resident("in"), out=resident("out")),
    Rule(
        "api:residents_contact_create",
        "POST",
        MANAGE,
        resident("in"),
        out=resident("out"),
        data=body(**NEW_CONTACT),
        ok=201,
        state=CONTACTS,
    ),
    Rule(
        "api:residents_contact_update",
        "PATCH",
        MANAGE,
        contact("in"),
        out=contact("out"),
        data=body(note="住在县城", is_guardian=True),
        state=CONTACTS,
    ),
    Rule(
        "api:residents_contact_delete",
        "DELETE",
        MANAGE,
        contact("in"),
        out=contact("out"),
        ok=204,
        state=CONTACTS,
    ),
    Rule("api:residents_consent_list", "GET", VIEW, resident("in"), out=resident("out")),
    Rule(
        "api:residents_consent_create",
        "POST",
        MANAGE,
        resident("in"),
        out=resident("out"),
        data=body(purpose="device_monitoring", given_by="self"),
        ok=201,
        state=CONSENTS,
    ),
    Rule(
        "api:residents_consent_withdraw",
        "POST",
        WITHDRAW,
        consent("in"),
        out=consent("out"),
        data=body(note="本人要求"),
        state=CONSENTS,
    ),
    Rule("api:residents_proxy_list", "GET", VIEW, resident("in"), out=resident("out")),
    Rule(
        "api:residents_proxy_create",
        "POST",
        MANAGE,
        resident("in"),
        out=resident("out"),
        data=new_grant("in"),
        out_data=new_grant("out"),
        ok=201,
        state=GRANTS,
    ),
    Rule(
        "api:residents_proxy_update",
        "PATCH",
        MANAGE,
        grant("in"),
        out=grant("out"),
        data=body(can_view_alerts=True),
        state=GRANTS,
    ),
    Rule(
        "api:residents_proxy_revoke",
        "POST",
        WITHDRAW,
        grant("in"),
        out=grant("out"),
        data=body(note="不再需要"),
        state=CONSENTS,
    ),
    Rule(
        "api:residents_merge",
        "POST",
        MERGE,
        resident("in"),
        out=resident("out"),
        data=merge_payload(),
        state=RESIDENTS,
    ),
    # --- pages ----------------------------------------------------------------------------
    Rule("residents:contacts", "GET", VIEW, resident("in"), out=resident("out")),
    Rule(
        "residents:contacts",
        "POST",
        MANAGE,
        resident("in"),
        out=resident("out"),
        body="form",
        data=body(**NEW_CONTACT),
        ok=302,
        state=CONTACTS,
    ),
    Rule("residents:contact_edit", "GET", MANAGE, contact("in"), out=contact("out")),
    Rule(
        "residents:contact_edit",
        "POST",
        MANAGE,
        contact("in"),
        out=contact("out"),
        body="form",
        data=body(**EDIT_CONTACT_FORM),
        ok=302,
        state=CONTACTS,
    ),
    Rule(
        "residents:contact_remove",
        "POST",
        MANAGE,
        contact("in"),
        out=contact("out"),
        body="form",
        ok=302,
        state=CONTACTS,
    ),
    Rule("residents:proxy_grant", "GET", MANAGE, contact("in"), out=contact("out")),
    Rule(
        "residents:proxy_grant",
        "POST",
        MANAGE,
        contact("in"),
        out=contact("out"),
        body="form",
        data=new_grant("in", form=True),
        ok=200,  # the answer shows the new login's one-time password (never redirected)
        state=GRANTS,
    ),
    Rule(
        "residents:proxy_update",
        "POST",
        MANAGE,
        grant("in"),
        out=grant("out"),
        body="form",
        data=body(can_view_readings="on", can_view_alerts="on"),
        ok=302,
        state=GRANTS,
    ),
    Rule(
        "residents:proxy_revoke",
        "POST",
        WITHDRAW,
        grant("in"),
        out=grant("out"),
        body="form",
        data=body(note="不再需要"),
        ok=302,
        state=CONSENTS,
    ),
    Rule("residents:consents", "GET", VIEW, resident("in"), out=resident("out")),
    Rule(
        "residents:consents",
        "POST",
        MANAGE,
        resident("in"),
        out=resident("out"),
        body="form",
        data=body(purpose="device_monitoring", given_by="self"),
        ok=302,
        state=CONSENTS,
    ),
    Rule(
        "residents:consent_withdraw",
        "POST",
        WITHDRAW,
        consent("in"),
        out=consent("out"),
        body="form",
        data=body(note="本人要求"),
        ok=302,
        state=CONSENTS,
    ),
    Rule("residents:merge", "GET", MERGE, resident("in"), out=resident("out")),
    Rule(
        "residents:merge",
        "POST",
        MERGE,
        resident("in"),
        out=resident("out"),
        body="form",
        data=merge_payload(form=True),
        ok=302,
        state=RESIDENTS,
    ),
]
