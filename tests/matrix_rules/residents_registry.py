"""Permission-matrix rules of the residents registry: list, register, read, edit, reveal —
pages and API (see ``tests/matrix_support.py``).

Who: ``residents.view`` holders list and read, and so do resident and family logins (their
"self" scope: ``world.resident_in`` is the resident's own record and the family login's
proxied one); ``residents.manage`` registers and edits; ``residents.reveal`` reveals.
Out of scope: ``world.resident_out`` (county B) answers 404; a registration naming a
county-B village is refused (the page's scoped village choice: 200 with the form again;
the API: 400 ``unknown_reference``) and saves nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from tests.matrix_support import Payload, Rule, World, form_values, holders, pk, rows
from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.residents.forms import ResidentForm
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import Resident
from yiyang.residents.permissions import ResidentPerm

SELF = frozenset({Role.RESIDENT, Role.FAMILY})
VIEW = holders(ResidentPerm.VIEW) | SELF
MANAGE = holders(ResidentPerm.MANAGE)
REVEAL = holders(ResidentPerm.REVEAL)

RESIDENTS = rows(Resident, "name", "region_id", "grid_id", "status", "phone_index")
HOUSEHOLDS = rows(Resident, "household_id")


def resident_in(w: World) -> Resident:
    return w.resident_in


def resident_out(w: World) -> Resident:
    return w.resident_out


def _new_resident(county: Any) -> dict[str, Any]:
    village = county.villages[0]
    return {
        "name": "钱淑珍",
        "id_number": make_id_number(village.code[:6], datetime.date(1944, 2, 9), 28),
        "region": village.pk,
        "phone": "13700009999",
    }


def new_resident_form(county: Callable[[World], Any]) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        data = _new_resident(county(w))
        village_pk = data["region"]
        data.update(
            township=str(county(w).villages[0].parent_id),
            region=str(village_pk),
            insurance="urban_rural",
            status="active",
            care_setting="home",
            permanent_resident="on",
            consents=["health_data"],
            consent_given_by="self",
            guardian_relation="guardian",
        )
        return data

    return payload


def new_resident(county: Callable[[World], Any]) -> Payload:
    return lambda w, user: {**_new_resident(county(w)), "consents": ["health_data"]}


def resident_form(get: Callable[[World], Resident], **overrides: Any) -> Payload:
    def payload(w: World, user: User) -> dict[str, Any]:
        form = ResidentForm(instance=get(w), user=w.net.admin)
        return form_values(form, **overrides)

    return payload


RULES: list[Rule] = [
    # --- pages ---------------------------------------------------------------------------
    Rule("residents:list", "GET", VIEW),
    Rule("residents:create", "GET", MANAGE),
    Rule(
        "residents:create",
        "POST",
        MANAGE,
        body="form",
        data=new_resident_form(lambda w: w.a),
        out_data=new_resident_form(lambda w: w.b),
        out_status=200,  # the village is not among the scoped choices: the form again
        ok=302,
        state=RESIDENTS,
    ),
    Rule("residents:detail", "GET", VIEW, pk(resident_in), out=pk(resident_out)),
    Rule("residents:edit", "GET", MANAGE, pk(resident_in), out=pk(resident_out)),
    Rule(
        "residents:edit",
        "POST",
        MANAGE,
        pk(resident_in),
        out=pk(resident_out),
        body="form",
        data=resident_form(resident_in, name="张秀英改"),
        out_data=resident_form(resident_in, name="张秀英改"),
        ok=302,
        state=RESIDENTS,
    ),
    Rule("residents:reveal", "POST", REVEAL, pk(resident_in), out=pk(resident_out), body="form"),
    Rule(
        "residents:household",
        "POST",
        MANAGE,
        pk(resident_in),
        out=pk(resident_out),
        data=lambda w, u: {"address": "周党村3组12号"},
        state=HOUSEHOLDS,
        body="form",
        ok=302,
    ),
    # --- API -----------------------------------------------------------------------------
    Rule("api:residents_list", "GET", VIEW),
    Rule(
        "api:residents_register",
        "POST",
        MANAGE,
        data=new_resident(lambda w: w.a),
        out_data=new_resident(lambda w: w.b),
        out_status=400,  # unknown_reference on the region field
        ok=201,
        state=RESIDENTS,
    ),
    Rule("api:residents_detail", "GET", VIEW, pk(resident_in), out=pk(resident_out)),
    Rule(
        "api:residents_update",
        "PATCH",
        MANAGE,
        pk(resident_in),
        out=pk(resident_out),
        data=lambda w, u: {"name": "张秀英改", "flags": ["empty_nest"]},
        state=RESIDENTS,
    ),
    Rule("api:residents_reveal", "POST", REVEAL, pk(resident_in), out=pk(resident_out)),
    Rule(
        "api:residents_household",
        "POST",
        MANAGE,
        pk(resident_in),
        out=pk(resident_out),
        data=lambda w, u: {"address": "周党村3组12号"},
        state=HOUSEHOLDS,
        ok=201,
    ),
]
