"""Writes to the care network. Every function here is one complete action:

* it takes the acting user and checks the permission (``PermissionDenied``);
* references (regions, institutions, nodes, staff, grids) may be given as instances or
  primary keys; each must exist and lie inside the actor's data scope, and so must the
  target of an update and the result of the write — otherwise ``NotFound`` (out of scope
  answers exactly like missing) and nothing changes;
* it validates the input (``ValidationFailed`` with a code, the field and why);
* it runs in one transaction and writes one audit row in it (details = changed fields).
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.files.base import File
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiyang.audit.services import record
from yiyang.common.errors import NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.validation import clean_fields, field_label, required
from yiyang.network.models import (
    CARE_TYPES,
    LEVEL_DIGITS,
    MEDICAL_TYPES,
    Agreement,
    AgreementStatus,
    Alliance,
    AllianceKind,
    ChainNode,
    Grid,
    Institution,
    InstitutionType,
    NodeLevel,
    Region,
    RegionLevel,
    Skill,
    Staff,
    StaffMembership,
    Team,
    TeamMember,
    TeamRole,
)
from yiyang.network.permissions import NetworkPerm
from yiyang.network.regions import RegionCodeError, validate_new_code
from yiyang.network.selectors import in_scope

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DOCUMENT_EXTENSIONS = {".pdf", ".ofd", ".jpg", ".jpeg", ".png", ".doc", ".docx"}
PHONE_RE = re.compile(r"\+?[0-9][0-9 \-]{4,19}")
_MASKED = {"phone"}  # personal data: the audit row says it changed, not the value

_WHAT = {
    Region: "region",
    Grid: "grid",
    Institution: "institution",
    Alliance: "alliance",
    ChainNode: "chain node",
    Agreement: "agreement",
    Staff: "staff member",
    Team: "team",
    Skill: "skill",
}


# --- helpers ----------------------------------------------------------------------------


def _pk_of(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


def _fetch(
    model: type[models.Model], value: Any, *, lock: bool = False, field: str | None = None
) -> Any:
    """The row for an instance or a primary key, re-read from the database. ``field``: the
    input field the reference came from (a missing value there is a ValidationFailed)."""
    what = _WHAT[model]
    pk = _pk_of(value)
    if pk is None and field is not None:
        raise _required(field)
    if pk is None or isinstance(pk, bool):
        raise NotFound(what)
    qs = model._default_manager.all()
    if lock:
        qs = qs.select_for_update()
    try:
        return qs.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound(what) from None


def _ref(actor: Any, model: type[models.Model], value: Any, field: str | None = None) -> Any:
    """A referenced object: it must exist and be inside the actor's scope.

    With ``field`` (a reference named in the input) a bad one is a 400 naming the field,
    worded the same for "missing" and "outside your scope" so nothing leaks.
    """
    try:
        obj = _fetch(model, value, field=field)
        _visible(actor, obj)
    except NotFound:
        if field is None:
            raise
        raise ValidationFailed(
            "unknown_reference",
            _("%(field)s: id %(value)s does not exist in your data scope.")
            % {"field": _label(field), "value": _pk_of(value)},
            field=field,
        ) from None
    return obj


def _target(actor: Any, model: type[models.Model], value: Any) -> Any:
    """The object an update changes, locked for the transaction; NotFound if out of scope."""
    obj = _fetch(model, value, lock=True)
    _visible(actor, obj)
    return obj


def _visible(actor: Any, obj: models.Model) -> None:
    if not in_scope(actor, obj):
        raise NotFound(_WHAT[type(obj)])


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if hasattr(value, "name") and isinstance(getattr(value, "name", None), str):
        return value.name  # a FieldFile
    return value


def _audit_value(name: str, value: Any) -> Any:
    return "***" if name in _MASKED and value else _jsonable(value)


def _created_details(obj: models.Model, names: Iterable[str], **extra: Any) -> dict[str, Any]:
    fields = {n: _audit_value(n, getattr(obj, n)) for n in names}
    fields.update({k: _audit_value(k, v) for k, v in extra.items()})
    return {"fields": fields}


def _apply(
    obj: models.Model, changes: Mapping[str, Any], allowed: Iterable[str]
) -> dict[str, tuple[Any, Any]]:
    """Set the allowed fields; return {field: (old, new)} for those that changed."""
    allowed = set(allowed)
    unknown = set(changes) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(
            "unknown_field", _("The field %(f)s cannot be changed here.") % {"f": name}, field=name
        )
    changed: dict[str, tuple[Any, Any]] = {}
    for name, new in changes.items():
        old = getattr(obj, name)
        if isinstance(old, models.Model) or isinstance(new, models.Model):
            if _pk_of(old) == _pk_of(new):
                continue
        elif old == new:
            continue
        setattr(obj, name, new)
        changed[name] = (old, new)
    return changed


def _diff_details(changed: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    return {
        "changed": {
            name: {"from": _audit_value(name, old), "to": _audit_value(name, new)}
            for name, (old, new) in changed.items()
        }
    }


_LABELLED = (Institution, Agreement, Staff, Team, ChainNode, Alliance, Grid, Region)


def _label(name: str) -> str:
    """A field's verbose name (translated) for messages; the code name if none is known."""
    return field_label(_LABELLED, name)


def _required(name: str) -> ValidationFailed:
    return required(name, _label(name))


def _clean(obj: models.Model, exclude: Iterable[str] = ()) -> None:
    """Field-level validation (choices, lengths, types); the first problem is raised."""
    clean_fields(obj, exclude, _label)


def _text(value: Any, field: str, *, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise _required(field)
    return text


def _licence(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _no_future(value: datetime.date | None, field: str) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationFailed(
            "date_in_future",
            _("%(f)s (%(d)s) is in the future.") % {"f": _label(field), "d": value.isoformat()},
            field=field,
        )


def _level_prefix(region: Region) -> str:
    return region.code[: LEVEL_DIGITS[RegionLevel(region.level)]]


def _require_level(region: Region, levels: set[str], field: str) -> None:
    if region.level not in levels:
        wanted = " / ".join(sorted(str(RegionLevel(lv).label) for lv in levels))
        raise ValidationFailed(
            "wrong_region_level",
            _("%(region)s is a %(level)s; %(field)s must be a %(wanted)s.")
            % {
                "region": str(region),
                "level": RegionLevel(region.level).label,
                "field": _label(field),
                "wanted": wanted,
            },
            field=field,
        )


def _save(obj: models.Model, *, update_fields: list[str] | None = None, on_conflict=None) -> None:
    """Save in a savepoint; an IntegrityError is turned into a ValidationFailed by
    ``on_conflict`` (which re-runs the duplicate checks) so a lost race is a clear error."""
    try:
        with transaction.atomic():
            if update_fields is None:
                obj.save()
            elif update_fields:
                obj.save(update_fields=update_fields)
    except IntegrityError:
        if on_conflict is not None:
            on_conflict()
        raise


# --- regions and grids ------------------------------------------------------------------


def _region_conflict(code: str) -> None:
    holder = Region.objects.filter(code=code).first()
    if holder is not None:
        raise ValidationFailed(
            "duplicate_code",
            _("Region code %(code)s already exists (%(name)s).")
            % {"code": code, "name": holder.name},
            field="code",
        )


def create_region(actor: Any, *, code: str, name: str, code_year: int = 2023) -> Region:
    require_perm(actor, NetworkPerm.REGION_IMPORT)
    code = str(code).strip()
    name = _text(name, "name")
    try:
        level, parent = validate_new_code(code)
    except RegionCodeError as exc:
        raise exc.as_validation() from None
    with transaction.atomic():
        _region_conflict(code)
        region = Region(code=code, name=name, level=level, parent=parent, code_year=code_year)
        _clean(region, exclude=["parent"])
        _save(region, on_conflict=lambda: _region_conflict(code))
        _visible(actor, region)
        record(
            actor=actor,
            action="network.region.create",
            obj=region,
            details=_created_details(region, ["code", "name", "level", "parent", "code_year"]),
        )
    return region


def update_region(actor: Any, region: Any, **changes: Any) -> Region:
    """Rename a region or change its code year (the code itself never changes)."""
    require_perm(actor, NetworkPerm.REGION_IMPORT)
    if "name" in changes:
        changes["name"] = _text(changes["name"], "name")
    with transaction.atomic():
        region = _target(actor, Region, region)
        changed = _apply(region, changes, ["name", "code_year"])
        _clean(region, exclude=["parent"])
        if changed:
            _save(region, update_fields=list(changed))
            record(
                actor=actor,
                action="network.region.update",
                obj=region,
                details=_diff_details(changed),
            )
    return region


def _grid_conflict(code: str, exclude_pk: Any = None) -> None:
    if Grid.objects.filter(code=code).exclude(pk=exclude_pk).exists():
        raise ValidationFailed(
            "duplicate_code", _("Grid code %(code)s already exists.") % {"code": code}, field="code"
        )


def create_grid(actor: Any, *, village: Any, code: str, name: str, description: str = "") -> Grid:
    require_perm(actor, NetworkPerm.MANAGE)
    code = _text(code, "code")
    name = _text(name, "name")
    with transaction.atomic():
        village = _ref(actor, Region, village, field="village")
        _require_level(village, {RegionLevel.VILLAGE}, "village")
        _grid_conflict(code)
        grid = Grid(village=village, code=code, name=name, description=description or "")
        _clean(grid, exclude=["village"])
        _save(grid, on_conflict=lambda: _grid_conflict(code))
        _visible(actor, grid)
        record(
            actor=actor,
            action="network.grid.create",
            obj=grid,
            details=_created_details(grid, ["village", "code", "name"]),
        )
    return grid


def update_grid(actor: Any, grid: Any, **changes: Any) -> Grid:
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        grid = _target(actor, Grid, grid)
        if "village" in changes:
            changes["village"] = _ref(actor, Region, changes["village"], field="village")
            _require_level(changes["village"], {RegionLevel.VILLAGE}, "village")
        for key in ("code", "name"):
            if key in changes:
                changes[key] = _text(changes[key], key)
        changed = _apply(grid, changes, ["village", "code", "name", "description"])
        _clean(grid, exclude=["village"])
        if "code" in changed:
            _grid_conflict(grid.code, grid.pk)
        if changed:
            _save(
                grid,
                update_fields=list(changed),
                on_conflict=lambda: _grid_conflict(grid.code, grid.pk),
            )
            _visible(actor, grid)
            record(
                actor=actor,
                action="network.grid.update",
                obj=grid,
                details=_diff_details(changed),
            )
    return grid


# --- institutions -----------------------------------------------------------------------

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


def _institution_licence_conflicts(inst: Institution) -> None:
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
                "duplicate_licence",
                _("%(label)s %(value)s is already held by %(holder)s.")
                % {"label": label, "value": value, "holder": holder.name},
                field=name,
            )


def _prepare_institution(actor: Any, values: dict[str, Any]) -> dict[str, Any]:
    if "name" in values:
        values["name"] = _text(values["name"], "name")
    if "region" in values:
        values["region"] = _ref(actor, Region, values["region"], field="region")
    for name in _LICENCE_FIELDS:
        if name in values:
            values[name] = _licence(values[name])
    for name in ("address", "phone"):
        if name in values and values[name] is None:
            values[name] = ""
    return values


def _validate_institution(inst: Institution) -> None:
    _clean(inst, exclude=["region"])
    _no_future(inst.founded_on, "founded_on")
    _institution_licence_conflicts(inst)


def create_institution(actor: Any, **values: Any) -> Institution:
    require_perm(actor, NetworkPerm.MANAGE)
    unknown = set(values) - set(INSTITUTION_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed("unknown_field", _("Unknown field %(f)s.") % {"f": name}, field=name)
    for name in ("name", "type", "region"):
        if name not in values:
            raise _required(name)
    with transaction.atomic():
        values = _prepare_institution(actor, dict(values))
        inst = Institution(**values)
        _validate_institution(inst)
        _save(inst, on_conflict=lambda: _institution_licence_conflicts(inst))
        _visible(actor, inst)
        record(
            actor=actor,
            action="network.institution.create",
            obj=inst,
            details=_created_details(inst, sorted(values)),
        )
    return inst


def update_institution(actor: Any, institution: Any, **changes: Any) -> Institution:
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        inst = _target(actor, Institution, institution)
        changes = _prepare_institution(actor, dict(changes))
        changed = _apply(inst, changes, INSTITUTION_FIELDS)
        _validate_institution(inst)
        if "type" in changed:
            _check_type_still_fits(inst)
        if changed:
            _save(
                inst,
                update_fields=list(changed),
                on_conflict=lambda: _institution_licence_conflicts(inst),
            )
            _visible(actor, inst)
            record(
                actor=actor,
                action="network.institution.update",
                obj=inst,
                details=_diff_details(changed),
            )
    return inst


def _check_type_still_fits(inst: Institution) -> None:
    """A new type must still fit the nodes the institution is a member of."""
    if inst.type not in MEDICAL_TYPES and inst.medical_nodes.exists():
        raise ValidationFailed(
            "wrong_member_type",
            _("%(inst)s is the medical member of a chain node; its type must stay medical.")
            % {"inst": inst.name},
            field="type",
        )
    if inst.type not in CARE_TYPES and inst.care_nodes.exists():
        raise ValidationFailed(
            "wrong_member_type",
            _(
                "%(inst)s is the elderly-care member of a chain node; its type must stay a care "
                "type."
            )
            % {"inst": inst.name},
            field="type",
        )


# --- alliances --------------------------------------------------------------------------


def _validate_alliance(alliance: Alliance, members: list[Institution]) -> None:
    _clean(alliance, exclude=["region", "lead", "members"])
    wanted = {
        AllianceKind.COUNTY_COMMUNITY: RegionLevel.COUNTY,
        AllianceKind.CITY_GROUP: RegionLevel.CITY,
    }[AllianceKind(alliance.kind)]
    _require_level(alliance.region, {wanted}, "region")
    if alliance.lead.type not in MEDICAL_TYPES:
        raise ValidationFailed(
            "invalid_lead",
            _("%(inst)s is not a medical institution and cannot lead an alliance.")
            % {"inst": alliance.lead.name},
            field="lead",
        )
    prefix = _level_prefix(alliance.region)
    for inst, field in [(alliance.lead, "lead")] + [(m, "members") for m in members]:
        if not inst.region.code.startswith(prefix):
            raise ValidationFailed(
                "outside_region",
                _("%(inst)s is not inside %(region)s.")
                % {"inst": inst.name, "region": alliance.region.name},
                field=field,
            )


def create_alliance(
    actor: Any,
    *,
    name: str,
    kind: str,
    region: Any,
    lead: Any,
    members: Iterable[Any] = (),
) -> Alliance:
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        alliance = Alliance(
            name=_text(name, "name"),
            kind=kind,
            region=_ref(actor, Region, region, field="region"),
            lead=_ref(actor, Institution, lead, field="lead"),
        )
        member_objs = _distinct([_ref(actor, Institution, m, field="members") for m in members])
        _validate_alliance(alliance, member_objs)
        _save(alliance)
        alliance.members.set(member_objs)
        _visible(actor, alliance)
        record(
            actor=actor,
            action="network.alliance.create",
            obj=alliance,
            details=_created_details(
                alliance, ["name", "kind", "region", "lead"], members=member_objs
            ),
        )
    return alliance


def update_alliance(actor: Any, alliance: Any, **changes: Any) -> Alliance:
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        alliance = _target(actor, Alliance, alliance)
        members_in = changes.pop("members", None)
        if "region" in changes:
            changes["region"] = _ref(actor, Region, changes["region"], field="region")
        if "lead" in changes:
            changes["lead"] = _ref(actor, Institution, changes["lead"], field="lead")
        if "name" in changes:
            changes["name"] = _text(changes["name"], "name")
        changed = _apply(alliance, changes, ["name", "kind", "region", "lead"])
        old_members = sorted(alliance.members.values_list("pk", flat=True))
        if members_in is not None:
            members = _distinct([_ref(actor, Institution, m, field="members") for m in members_in])
        else:
            members = list(alliance.members.select_related("region"))
        _validate_alliance(alliance, members)
        if changed:
            _save(alliance, update_fields=list(changed))
        new_members = sorted(m.pk for m in members)
        if new_members != old_members:
            alliance.members.set(members)
            changed["members"] = (old_members, new_members)
        if changed:
            _visible(actor, alliance)
            record(
                actor=actor,
                action="network.alliance.update",
                obj=alliance,
                details=_diff_details(changed),
            )
    return alliance


def _distinct(objs: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for obj in objs:
        if obj.pk not in seen:
            seen.add(obj.pk)
            out.append(obj)
    return out


# --- chain nodes ------------------------------------------------------------------------

NODE_FIELDS = [
    "level",
    "name",
    "region",
    "medical_member",
    "care_member",
    "integration_mode",
    "center",
    "lead",
]


def _valid_lead(inst: Institution) -> bool:
    """A center's lead: a lead hospital, or a medical institution of an alliance."""
    if inst.type == InstitutionType.LEAD_HOSPITAL:
        return True
    if inst.type not in MEDICAL_TYPES:
        return False
    return inst.led_alliances.exists() or inst.alliances.exists()


def _validate_node(node: ChainNode) -> None:
    _clean(node, exclude=["region", "medical_member", "care_member", "center", "lead"])
    if node.medical_member.type not in MEDICAL_TYPES:
        raise ValidationFailed(
            "wrong_member_type",
            _("%(inst)s (%(type)s) is not a medical institution.")
            % {
                "inst": node.medical_member.name,
                "type": InstitutionType(node.medical_member.type).label,
            },
            field="medical_member",
        )
    if node.care_member.type not in CARE_TYPES:
        raise ValidationFailed(
            "wrong_member_type",
            _("%(inst)s (%(type)s) is not an elderly-care institution.")
            % {
                "inst": node.care_member.name,
                "type": InstitutionType(node.care_member.type).label,
            },
            field="care_member",
        )
    if node.level == NodeLevel.CENTER:
        _require_level(node.region, {RegionLevel.TOWNSHIP}, "region")
        if node.center_id is not None:
            raise ValidationFailed(
                "unexpected_center",
                _("A center does not belong to another center."),
                field="center",
            )
        lead = node.lead
        if lead is None:
            raise ValidationFailed(
                "required", _("A center needs its lead institution."), field="lead"
            )
        if not _valid_lead(lead):
            raise ValidationFailed(
                "invalid_lead",
                _(
                    "%(inst)s cannot lead a center: it must be a lead hospital or a medical "
                    "institution of an alliance."
                )
                % {"inst": lead.name},
                field="lead",
            )
        if node.pk is not None:
            prefix = _level_prefix(node.region)
            outside = node.stations.exclude(region__code__startswith=prefix).first()
            if outside is not None:
                raise ValidationFailed(
                    "outside_region",
                    _("Station %(station)s would no longer be inside %(region)s.")
                    % {"station": outside.name, "region": node.region.name},
                    field="region",
                )
    else:
        _require_level(node.region, {RegionLevel.VILLAGE}, "region")
        if node.lead_id is not None:
            raise ValidationFailed(
                "unexpected_lead",
                _("A station has no lead of its own; it belongs to a center."),
                field="lead",
            )
        center = node.center
        if center is None:
            raise ValidationFailed("required", _("A station needs its center."), field="center")
        if center.level != NodeLevel.CENTER:
            raise ValidationFailed(
                "invalid_center",
                _("%(node)s is a station, not a center.") % {"node": center.name},
                field="center",
            )
        if not node.region.code.startswith(_level_prefix(center.region)):
            raise ValidationFailed(
                "outside_region",
                _("%(village)s is not inside the center's township %(township)s.")
                % {"village": node.region.name, "township": center.region.name},
                field="region",
            )


def _prepare_node(actor: Any, values: dict[str, Any]) -> dict[str, Any]:
    if "name" in values:
        values["name"] = _text(values["name"], "name")
    if "region" in values:
        values["region"] = _ref(actor, Region, values["region"], field="region")
    for name in ("medical_member", "care_member"):
        if name in values:
            values[name] = _ref(actor, Institution, values[name], field=name)
    if values.get("lead") is not None:
        values["lead"] = _ref(actor, Institution, values["lead"], field="lead")
    if values.get("center") is not None:
        values["center"] = _ref(actor, ChainNode, values["center"], field="center")
    return values


def create_node(actor: Any, **values: Any) -> ChainNode:
    """A center (township; lead institution) or a station (village; its center)."""
    require_perm(actor, NetworkPerm.MANAGE)
    unknown = set(values) - set(NODE_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed("unknown_field", _("Unknown field %(f)s.") % {"f": name}, field=name)
    for name in ("level", "name", "region", "medical_member", "care_member", "integration_mode"):
        if values.get(name) in (None, ""):
            raise _required(name)
    if values["level"] not in NodeLevel.values:
        raise ValidationFailed("invalid", _("level must be center or station."), field="level")
    with transaction.atomic():
        values = _prepare_node(actor, dict(values))
        node = ChainNode(**values)
        _validate_node(node)
        _save(node)
        _visible(actor, node)
        record(
            actor=actor,
            action="network.node.create",
            obj=node,
            details=_created_details(node, sorted(values)),
        )
    return node


def update_node(actor: Any, node: Any, **changes: Any) -> ChainNode:
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        node = _target(actor, ChainNode, node)
        if "level" in changes and changes["level"] != node.level:
            raise ValidationFailed(
                "immutable",
                _("A node's level cannot change; create a new node instead."),
                field="level",
            )
        changes = _prepare_node(actor, dict(changes))
        changed = _apply(node, changes, NODE_FIELDS)
        _validate_node(node)
        if changed:
            _save(node, update_fields=list(changed))
            _visible(actor, node)
            record(
                actor=actor,
                action="network.node.update",
                obj=node,
                details=_diff_details(changed),
            )
    return node


# --- agreements -------------------------------------------------------------------------

AGREEMENT_FIELDS = [
    "kind",
    "party_a",
    "party_b",
    "title",
    "responsibilities",
    "service_standards",
    "valid_from",
    "valid_to",
    "status",
]


def _validate_agreement(agreement: Agreement) -> None:
    _clean(agreement, exclude=["party_a", "party_b", "document"])
    if agreement.valid_to < agreement.valid_from:
        raise ValidationFailed(
            "invalid_dates",
            _(
                "Valid to (%(to)s) is before valid from (%(from)s): an agreement must end on "
                "or after the day it starts."
            )
            % {"to": agreement.valid_to.isoformat(), "from": agreement.valid_from.isoformat()},
            field="valid_to",
        )
    if agreement.party_a_id == agreement.party_b_id:
        raise ValidationFailed(
            "same_party",
            _("An agreement needs two different institutions; both parties are %(inst)s.")
            % {"inst": agreement.party_a.name},
            field="party_b",
        )


def _check_document(document: Any) -> None:
    name = getattr(document, "name", "") or ""
    ext = os.path.splitext(name)[1].lower()
    if ext not in DOCUMENT_EXTENSIONS:
        raise ValidationFailed(
            "invalid_document",
            _("The document must be one of %(exts)s, not %(name)s.")
            % {"exts": ", ".join(sorted(DOCUMENT_EXTENSIONS)), "name": name or "?"},
            field="document",
        )
    size = getattr(document, "size", 0) or 0
    if size > MAX_DOCUMENT_BYTES:
        raise ValidationFailed(
            "invalid_document",
            _("The document has %(size)d bytes; at most %(max)d are allowed.")
            % {"size": size, "max": MAX_DOCUMENT_BYTES},
            field="document",
        )


def _prepare_agreement(actor: Any, values: dict[str, Any]) -> dict[str, Any]:
    for name in ("party_a", "party_b"):
        if name in values:
            values[name] = _fetch(Institution, values[name], field=name)
    for name in ("title", "responsibilities", "service_standards"):
        if name in values and values[name] is None:
            values[name] = ""
    return values


def create_agreement(actor: Any, *, document: Any = None, **values: Any) -> Agreement:
    """An agreement between two institutions. At least one party must be inside the
    actor's scope (an institution signs with partners outside its own scope)."""
    require_perm(actor, NetworkPerm.MANAGE)
    unknown = set(values) - set(AGREEMENT_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed("unknown_field", _("Unknown field %(f)s.") % {"f": name}, field=name)
    for name in ("kind", "party_a", "party_b", "valid_from", "valid_to"):
        if values.get(name) in (None, ""):
            raise _required(name)
    values.setdefault("status", AgreementStatus.DRAFT)
    document = document or None  # a form's empty file field gives None or False
    if document is not None:
        _check_document(document)
    stored: list[str] = []
    try:
        with transaction.atomic():
            values = _prepare_agreement(actor, dict(values))
            agreement = Agreement(**values)
            _validate_agreement(agreement)
            if not (in_scope(actor, agreement.party_a) or in_scope(actor, agreement.party_b)):
                raise NotFound("institution")
            if document is not None:
                _store_document(agreement, document, stored)
            _save(agreement)
            record(
                actor=actor,
                action="network.agreement.create",
                obj=agreement,
                details=_created_details(
                    agreement, sorted(values) + (["document"] if document is not None else [])
                ),
            )
    except BaseException:
        _delete_files(stored)
        raise
    return agreement


def update_agreement(
    actor: Any, agreement: Any, *, document: Any = None, **changes: Any
) -> Agreement:
    """Change fields; ``document`` replaces the attached file (``False`` removes it)."""
    require_perm(actor, NetworkPerm.MANAGE)
    remove_document = document is False
    document = document or None
    if document is not None:
        _check_document(document)
    stored: list[str] = []
    old_file = ""
    try:
        with transaction.atomic():
            agreement = _target(actor, Agreement, agreement)
            changes = _prepare_agreement(actor, dict(changes))
            changed = _apply(agreement, changes, AGREEMENT_FIELDS)
            _validate_agreement(agreement)
            if not (in_scope(actor, agreement.party_a) or in_scope(actor, agreement.party_b)):
                raise NotFound("institution")
            if document is not None:
                old_file = agreement.document.name or ""
                _store_document(agreement, document, stored)
                changed["document"] = (old_file, agreement.document.name)
            elif remove_document and agreement.document:
                old_file = agreement.document.name
                agreement.document = ""
                changed["document"] = (old_file, "")
            if changed:
                _save(agreement, update_fields=list(changed))
                record(
                    actor=actor,
                    action="network.agreement.update",
                    obj=agreement,
                    details=_diff_details(changed),
                )
            if old_file:
                # the replaced file goes once the change is committed
                transaction.on_commit(lambda: _delete_files([old_file]))
    except BaseException:
        _delete_files(stored)
        raise
    return agreement


def _store_document(agreement: Agreement, document: Any, stored: list[str]) -> None:
    if not isinstance(document, File):
        document = File(document, name=getattr(document, "name", "document"))
    agreement.document.save(os.path.basename(document.name or "document"), document, save=False)
    stored.append(agreement.document.name)


def _delete_files(names: list[str]) -> None:
    storage = Agreement._meta.get_field("document").storage  # type: ignore[attr-defined]
    for name in names:
        storage.delete(name)


# --- skills and staff -------------------------------------------------------------------


def create_skill(actor: Any, *, code: str, name: str) -> Skill:
    require_perm(actor, NetworkPerm.STAFF_MANAGE)
    with transaction.atomic():
        if Skill.objects.filter(code=code).exists():
            raise ValidationFailed(
                "duplicate_code", _("Skill %(code)s already exists.") % {"code": code}, field="code"
            )
        skill = Skill(code=_text(code, "code"), name=_text(name, "name"))
        _clean(skill)
        _save(skill)
        record(
            actor=actor,
            action="network.skill.create",
            obj=skill,
            details=_created_details(skill, ["code", "name"]),
        )
    return skill


STAFF_FIELDS = ["name", "sex", "phone", "profession", "licence_no", "active"]


def _staff_licence_conflict(staff: Staff) -> None:
    if not staff.licence_no:
        return
    holder = Staff.objects.filter(licence_no=staff.licence_no).exclude(pk=staff.pk).first()
    if holder is None:
        return
    membership = holder.memberships.select_related("institution").order_by("-primary", "pk").first()
    if membership is not None:
        detail = _(
            "Licence no. %(value)s is already registered to another staff member of %(inst)s."
        ) % {"value": staff.licence_no, "inst": membership.institution.name}
    else:
        detail = _("Licence no. %(value)s is already registered to another staff member.") % {
            "value": staff.licence_no
        }
    raise ValidationFailed("duplicate_licence", detail, field="licence_no")


def _prepare_staff(values: dict[str, Any]) -> dict[str, Any]:
    if "name" in values:
        values["name"] = _text(values["name"], "name")
    if "licence_no" in values:
        values["licence_no"] = _licence(values["licence_no"])
    for name in ("sex", "phone"):
        if name in values and values[name] is None:
            values[name] = ""
    if values.get("phone"):
        values["phone"] = str(values["phone"]).strip()
        if not PHONE_RE.fullmatch(values["phone"]):
            raise ValidationFailed(
                "invalid_phone",
                _("The phone number may contain digits, spaces, '-' and a leading '+'."),
                field="phone",
            )
    return values


def _membership_rows(actor: Any, memberships: Iterable[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[Any] = set()
    for item in memberships:
        data = dict(item) if isinstance(item, Mapping) else {"institution": item}
        inst = _ref(actor, Institution, data.get("institution"), field="institution")
        if inst.pk in seen:
            raise ValidationFailed(
                "duplicate_membership",
                _("%(inst)s is listed twice.") % {"inst": inst.name},
                field="memberships",
            )
        seen.add(inst.pk)
        start, end = data.get("start_on"), data.get("end_on")
        if start and end and end < start:
            raise ValidationFailed(
                "invalid_dates",
                _("The membership at %(inst)s ends (%(end)s) before it starts (%(start)s).")
                % {"inst": inst.name, "end": end.isoformat(), "start": start.isoformat()},
                field="memberships",
            )
        rows.append(
            {
                "institution": inst,
                "position": (data.get("position") or "").strip(),
                "primary": bool(data.get("primary", not rows)),
                "start_on": start,
                "end_on": end,
            }
        )
    if sum(1 for r in rows if r["primary"]) > 1:
        raise ValidationFailed(
            "multiple_primary",
            _("Only one membership can be the primary one."),
            field="memberships",
        )
    return rows


def _membership_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "institution": r["institution"].pk,
            "position": r["position"],
            "primary": r["primary"],
            "start_on": _jsonable(r["start_on"]),
            "end_on": _jsonable(r["end_on"]),
        }
        for r in rows
    ]


def _set_memberships(staff: Staff, rows: list[dict[str, Any]]) -> None:
    staff.memberships.all().delete()
    StaffMembership.objects.bulk_create([StaffMembership(staff=staff, **row) for row in rows])


def _skill_objs(skills: Iterable[Any]) -> list[Skill]:
    out = []
    for value in skills:
        if isinstance(value, str) and not value.isdigit():
            skill = Skill.objects.filter(code=value).first()
            if skill is None:
                raise ValidationFailed(
                    "unknown_skill", _("Unknown skill %(code)s.") % {"code": value}, field="skills"
                )
            out.append(skill)
        else:
            out.append(_fetch(Skill, value))
    return _distinct(out)


def create_staff(
    actor: Any,
    *,
    skills: Iterable[Any] = (),
    memberships: Iterable[Any] = (),
    **values: Any,
) -> Staff:
    """A staff member with skills and institution memberships (each a dict with
    institution, position, primary, start_on, end_on — or just an institution)."""
    require_perm(actor, NetworkPerm.STAFF_MANAGE)
    unknown = set(values) - set(STAFF_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed("unknown_field", _("Unknown field %(f)s.") % {"f": name}, field=name)
    for name in ("name", "profession"):
        if values.get(name) in (None, ""):
            raise _required(name)
    with transaction.atomic():
        values = _prepare_staff(dict(values))
        staff = Staff(**values)
        _clean(staff, exclude=["phone"])
        _staff_licence_conflict(staff)
        skill_objs = _skill_objs(skills)
        rows = _membership_rows(actor, memberships)
        _save(staff, on_conflict=lambda: _staff_licence_conflict(staff))
        staff.skills.set(skill_objs)
        _set_memberships(staff, rows)
        _visible(actor, staff)
        record(
            actor=actor,
            action="network.staff.create",
            obj=staff,
            details=_created_details(
                staff,
                sorted(values),
                skills=[s.code for s in skill_objs],
                memberships=_membership_summary(rows),
            ),
        )
    return staff


def update_staff(actor: Any, staff: Any, **changes: Any) -> Staff:
    """Change fields; ``skills`` and ``memberships``, when given, replace the old ones."""
    require_perm(actor, NetworkPerm.STAFF_MANAGE)
    with transaction.atomic():
        staff = _target(actor, Staff, staff)
        skills_in = changes.pop("skills", None)
        memberships_in = changes.pop("memberships", None)
        changes = _prepare_staff(dict(changes))
        changed = _apply(staff, changes, STAFF_FIELDS)
        _clean(staff, exclude=["phone"])
        if "licence_no" in changed:
            _staff_licence_conflict(staff)
        if changed:
            _save(
                staff,
                update_fields=list(changed),
                on_conflict=lambda: _staff_licence_conflict(staff),
            )
        if skills_in is not None:
            old = sorted(staff.skills.values_list("code", flat=True))
            skill_objs = _skill_objs(skills_in)
            new = sorted(s.code for s in skill_objs)
            if old != new:
                staff.skills.set(skill_objs)
                changed["skills"] = (old, new)
        if memberships_in is not None:
            old_rows = [
                {
                    "institution": m.institution,
                    "position": m.position,
                    "primary": m.primary,
                    "start_on": m.start_on,
                    "end_on": m.end_on,
                }
                for m in staff.memberships.select_related("institution").order_by("pk")
            ]
            rows = _membership_rows(actor, memberships_in)
            before, after = _membership_summary(old_rows), _membership_summary(rows)
            if before != after:
                # Memberships outside the actor's scope are not the actor's to remove.
                for row in old_rows:
                    if not in_scope(actor, row["institution"]) and not any(
                        r["institution"].pk == row["institution"].pk for r in rows
                    ):
                        raise NotFound("institution")
                _set_memberships(staff, rows)
                changed["memberships"] = (before, after)
        if changed:
            _visible(actor, staff)
            record(
                actor=actor,
                action="network.staff.update",
                obj=staff,
                details=_diff_details(changed),
            )
    return staff


# --- teams ------------------------------------------------------------------------------


def _member_rows(actor: Any, members: Iterable[Any]) -> list[tuple[Staff, str]]:
    rows: list[tuple[Staff, str]] = []
    seen: set[Any] = set()
    for item in members:
        if isinstance(item, Mapping):
            staff_value, role = item.get("staff"), item.get("role") or TeamRole.OTHER
        else:
            staff_value, role = item, TeamRole.OTHER
        staff = _ref(actor, Staff, staff_value, field="members")
        if role not in TeamRole.values:
            raise ValidationFailed(
                "invalid",
                _("%(role)s is not a team role.") % {"role": role},
                field="members",
            )
        if staff.pk in seen:
            raise ValidationFailed(
                "duplicate_member",
                _("%(name)s is listed twice.") % {"name": staff.name},
                field="members",
            )
        seen.add(staff.pk)
        rows.append((staff, str(role)))
    return rows


def _validate_team(team: Team, members: list[tuple[Staff, str]], grids: list[Grid]) -> None:
    _clean(team, exclude=["node", "leader"])
    if team.leader_id not in {s.pk for s, _role in members}:
        raise ValidationFailed(
            "leader_not_member",
            _("The leader %(name)s must also be a member of the team.")
            % {"name": team.leader.name},
            field="leader",
        )
    prefix = _level_prefix(team.node.region)
    for grid in grids:
        if not grid.village.code.startswith(prefix):
            raise ValidationFailed(
                "outside_region",
                _("Grid %(grid)s is not inside %(region)s, the region of the team's node.")
                % {"grid": grid.name, "region": team.node.region.name},
                field="grids",
            )


def _grid_objs(actor: Any, grids: Iterable[Any]) -> list[Grid]:
    return _distinct([_ref(actor, Grid, g, field="grids") for g in grids])


def create_team(
    actor: Any,
    *,
    name: str,
    node: Any,
    leader: Any,
    members: Iterable[Any] = (),
    grids: Iterable[Any] = (),
) -> Team:
    """A family-doctor team: home node, leader (who must be a member), members with their
    roles (dicts {"staff", "role"}) and the grids it serves (inside its node's region)."""
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        team = Team(
            name=_text(name, "name"),
            node=_ref(actor, ChainNode, node, field="node"),
            leader=_ref(actor, Staff, leader, field="leader"),
        )
        member_rows = _member_rows(actor, members)
        grid_objs = _grid_objs(actor, grids)
        _validate_team(team, member_rows, grid_objs)
        _save(team)
        TeamMember.objects.bulk_create(
            [TeamMember(team=team, staff=s, role=role) for s, role in member_rows]
        )
        team.grids.set(grid_objs)
        _visible(actor, team)
        record(
            actor=actor,
            action="network.team.create",
            obj=team,
            details=_created_details(
                team,
                ["name", "node", "leader"],
                members=[{"staff": s.pk, "role": role} for s, role in member_rows],
                grids=[g.pk for g in grid_objs],
            ),
        )
    return team


def update_team(actor: Any, team: Any, **changes: Any) -> Team:
    """Change name, node or leader; ``members`` and ``grids``, when given, replace them."""
    require_perm(actor, NetworkPerm.MANAGE)
    with transaction.atomic():
        team = _target(actor, Team, team)
        members_in = changes.pop("members", None)
        grids_in = changes.pop("grids", None)
        if "name" in changes:
            changes["name"] = _text(changes["name"], "name")
        if "node" in changes:
            changes["node"] = _ref(actor, ChainNode, changes["node"], field="node")
        if "leader" in changes:
            changes["leader"] = _ref(actor, Staff, changes["leader"], field="leader")
        changed = _apply(team, changes, ["name", "node", "leader"])
        old_members = [
            (m.staff, m.role) for m in team.memberships.select_related("staff").order_by("pk")
        ]
        members = _member_rows(actor, members_in) if members_in is not None else old_members
        old_grids = list(team.grids.select_related("village").order_by("pk"))
        grids = _grid_objs(actor, grids_in) if grids_in is not None else old_grids
        _validate_team(team, members, grids)
        if changed:
            _save(team, update_fields=list(changed))
        before = sorted((s.pk, r) for s, r in old_members)
        after = sorted((s.pk, r) for s, r in members)
        if before != after:
            team.memberships.all().delete()
            TeamMember.objects.bulk_create(
                [TeamMember(team=team, staff=s, role=role) for s, role in members]
            )
            changed["members"] = (
                [{"staff": pk, "role": r} for pk, r in before],
                [{"staff": pk, "role": r} for pk, r in after],
            )
        old_grid_ids = sorted(g.pk for g in old_grids)
        new_grid_ids = sorted(g.pk for g in grids)
        if old_grid_ids != new_grid_ids:
            team.grids.set(grids)
            changed["grids"] = (old_grid_ids, new_grid_ids)
        if changed:
            _visible(actor, team)
            record(
                actor=actor,
                action="network.team.update",
                obj=team,
                details=_diff_details(changed),
            )
    return team
