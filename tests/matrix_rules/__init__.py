"""Permission-matrix rules by area. Each module exports ``RULES`` and may export
``build(world)``; ``EXTENSIONS`` lists them in the order their ``build`` runs."""

from __future__ import annotations

import datetime

from django.utils import timezone

from tests.matrix_rules import (
    assessments,
    devices,
    emergency,
    notifications,
    residents_health,
    residents_imports,
    residents_people,
    residents_registry,
)
from tests.matrix_support import World
from yiyang.accounts.models import User
from yiyang.common.permissions import Role
from yiyang.residents.idnumber import make_id_number
from yiyang.residents.models import (
    Consent,
    ConsentGiver,
    ConsentPurpose,
    Contact,
    ProxyGrant,
    Relation,
    Resident,
)
from yiyang.residents.services.registry import register_resident

EXTENSIONS = (
    residents_registry,
    residents_people,
    residents_health,
    residents_imports,
    assessments,
    devices,
    notifications,
    emergency,
)


def _consent(resident: Resident, purpose: str, by: User) -> Consent:
    return Consent.objects.create(
        resident=resident,
        purpose=purpose,
        given_by=ConsentGiver.SELF,
        given_at=timezone.now(),
        recorded_by=by,
    )


def build_residents(w: World) -> None:
    """``w.resident_in`` (county A, first village, first grid), ``w.resident_out``
    (county B), consents, the resident's own login and a family proxy grant."""
    admin = User.objects.create(
        username="m-resident-registrar", role=Role.INSTITUTION_ADMIN, scope_kind="all"
    )
    people = []
    for county, name, seq in ((w.a, "张秀英", 11), (w.b, "赵桂兰", 22)):
        village = county.villages[0]
        resident, _ = register_resident(
            admin,
            name=name,
            id_number=make_id_number(village.code[:6], datetime.date(1948, 5, 6), seq),
            region=village,
            grid=county.grids[0],
            phone=f"1390000{seq:04d}",
        )
        for purpose in (ConsentPurpose.HEALTH_DATA, ConsentPurpose.FAMILY_SHARING):
            _consent(resident, purpose, admin)
        people.append(resident)
    w.resident_in, w.resident_out = people
    Resident.objects.filter(pk=w.resident_in.pk).update(account=w.users[Role.RESIDENT])
    w.resident_in.refresh_from_db()
    daughter = Contact.objects.create(
        resident=w.resident_in,
        name="李娟",
        relation=Relation.DAUGHTER,
        phone="13900001111",
        account=w.users[Role.FAMILY],
    )
    ProxyGrant.objects.create(
        resident=w.resident_in,
        contact=daughter,
        user=w.users[Role.FAMILY],
        consent=_consent(w.resident_in, ConsentPurpose.PROXY_ACCESS, admin),
        can_view_readings=True,
    )
    w.extra["daughter"] = daughter
