"""Actions on institutions: create and update (licence numbers unique; a type change must
still fit the chain nodes the institution is a member of)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.network.errors import NetworkError
from yiyang.network.models import (
    CARE_TYPES,
    MEDICAL_TYPES,
    Institution,
    Region,
)
from yiyang.network.permissions import NetworkPerm
from yiyang.network.services.steps import (
    apply_changes,
    clean_model,
    created_details,
    diff_details,
    ensure_visible,
    licence_or_none,
    not_in_future,
    reference,
    required_field,
    save,
    stripped_text,
    target,
)

INSTITUTION_FIELDS = [
    "name",
    "type",
    "region",
    "address",
    "phone",
    "medical_licence_no",
    "care_filing_no",
    "beds_medical",
    "beds_care",
    "beds_home",
    "founded_on",
    "elderly_friendly",
    "tcm_services",
    "mi_designated",
    "ltc_designated",
    "active",
]
_LICENCE_FIELDS = {
    "medical_licence_no": _("Medical practice licence no."),
    "care_filing_no": _("Elderly-care filing no."),
}


def institution_licence_conflicts(inst: Institution) -> None:
    """Refuse a licence or filing number another institution already holds
    (``ValidationFailed`` naming the field)."""
    for name in _LICENCE_FIELDS:
        value = getattr(inst, name)
        if not value:
            continue
        holder = Institution.objects.filter(**{name: value}).exclude(pk=inst.pk).first()
        if holder is not None:
            label = {
                "medical_licence_no": _("Medical practice licence no."),
                "care_filing_no": _("Elderly-care filing no."),
            }[name]
            raise ValidationFailed(
                NetworkError.DUPLICATE_LICENCE,
                _("%(label)s %(value)s is already held by %(holder)s.")
                % {"label": label, "value": value, "holder": holder.name},
                field=name,
            )


def _prepare_institution(actor: User, values: dict[str, Any]) -> dict[str, Any]:
    if "name" in values:
        values["name"] = stripped_text(values["name"], "name")
    if "region" in values:
        values["region"] = reference(actor, Region, values["region"], field="region")
    for name in _LICENCE_FIELDS:
        if name in values:
            values[name] = licence_or_none(values[name])
    for name in ("address", "phone"):
        if name in values and values[name] is None:
            values[name] = ""
    return values


def _validate_institution(inst: Institution) -> None:
    clean_model(inst, exclude=["region"])
    not_in_future(inst.founded_on, "founded_on")
    institution_licence_conflicts(inst)


def create_institution(actor: User, **values: Any) -> Institution:
    require_perm(actor, NetworkPerm.MANAGE)
    unknown = set(values) - set(INSTITUTION_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(
            CommonError.UNKNOWN_FIELD, _("Unknown field %(f)s.") % {"f": name}, field=name
        )
    for name in ("name", "type", "region"):
        if name not in values:
            raise required_field(name)
    with transaction.atomic():
        values = _prepare_institution(actor, dict(values))
        inst = Institution(**values)
        _validate_institution(inst)
        save(inst, on_conflict=lambda: institution_licence_conflicts(inst))
        ensure_visible(actor, inst)
        record(
            actor=actor,
            action="network.institution.create",
            obj=inst,
            details=created_details(inst, sorted(values)),
        )
    return inst


def update_institution(actor: User, institution: Any, **changes: Any) -> Institution:
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        inst = target(actor, Institution, institution)
        changes = _prepare_institution(actor, dict(changes))
        changed = apply_changes(inst, changes, INSTITUTION_FIELDS)
        _validate_institution(inst)
        if "type" in changed:
            _check_type_still_fits(inst)
        if changed:
            save(
                inst,
                update_fields=list(changed),
                on_conflict=lambda: institution_licence_conflicts(inst),
            )
            ensure_visible(actor, inst)
            record(
                actor=actor,
                action="network.institution.update",
                obj=inst,
                details=diff_details(changed),
            )
    return inst


def _check_type_still_fits(inst: Institution) -> None:
    """A new type must still fit the nodes the institution is a member of."""
    if inst.type not in MEDICAL_TYPES and inst.medical_nodes.exists():
        raise ValidationFailed(
            NetworkError.WRONG_MEMBER_TYPE,
            _("%(inst)s is the medical member of a chain node; its type must stay medical.")
            % {"inst": inst.name},
            field="type",
        )
    if inst.type not in CARE_TYPES and inst.care_nodes.exists():
        raise ValidationFailed(
            NetworkError.WRONG_MEMBER_TYPE,
            _(
                "%(inst)s is the elderly-care member of a chain node; its type must stay a care "
                "type."
            )
            % {"inst": inst.name},
            field="type",
        )
