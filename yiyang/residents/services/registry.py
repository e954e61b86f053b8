"""Writes to the residents registry. Every function is one complete action: it checks the
actor's permission and scope, validates the input (``ValidationFailed`` naming the field
and saying why), runs in one transaction and writes one audit row in it. The ID number
never appears in an audit row (it is masked), nor does the phone.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common import crypto
from yiyang.common.errors import CommonError, NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.scope import ScopeKind, scope_of
from yiyang.common.validation import clean_fields, field_label, required
from yiyang.network.models import Grid, Institution, Region, RegionLevel
from yiyang.network.selectors.scope import in_scope
from yiyang.residents.errors import ResidentError
from yiyang.residents.idnumber import IdNumber, parse_id_number
from yiyang.residents.models import (
    FLAGS,
    CareSetting,
    Household,
    Resident,
    ResidentStatus,
)
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.registry import scoped_residents, village_in_scope

RESIDENT_FIELDS: tuple[str, ...] = (
    "name",
    "id_number",
    "sex",
    "birth_date",
    "phone",
    "address",
    "region",
    "grid",
    "household",
    "ethnicity",
    "insurance",
    "ltc_insured",
    "status",
    "deceased_on",
    "care_setting",
    "institution",
    *FLAGS,
    "permanent_resident",
)
_REFERENCES = {"region", "grid", "household", "institution"}
PHONE_RE = re.compile(r"\+?[0-9]{5,20}")
_SEX_LABEL = {"M": "male (M)", "F": "female (F)"}


# --- helpers ----------------------------------------------------------------------------


def name_pinyin(name: str) -> tuple[str, str]:
    """(full pinyin, initials) of a name, lower case without spaces: 张三 → ("zhangsan", "zs").
    Latin parts are kept as they are (their words give one initial each)."""
    pinyin: list[str] = []
    initials: list[str] = []
    for part in lazy_pinyin(name, style=Style.NORMAL, errors="default"):
        words = re.findall(r"[a-z0-9]+", part.lower().replace("ü", "v"))
        pinyin.extend(words)
        initials.extend(word[0] for word in words)
    return "".join(pinyin)[:200], "".join(initials)[:50]


def normalise_phone(value: Any) -> str:
    """Digits only (a leading + kept); spaces and dashes dropped; "" for no phone."""
    text = "" if value is None else re.sub(r"[\s\-()]", "", str(value))
    if text and not PHONE_RE.fullmatch(text):
        raise ValidationFailed(
            CommonError.INVALID_PHONE,
            _("The phone number %(value)s is not valid: use digits only.") % {"value": value},
            field="phone",
        )
    return text


def resident_label(name: str) -> str:
    return field_label((Resident, Household), name)


def required_field(name: str) -> ValidationFailed:
    return required(name, resident_label(name))


def _unknown_reference(field: str, value: Any) -> ValidationFailed:
    return ValidationFailed(
        CommonError.UNKNOWN_REFERENCE,
        _("%(field)s: id %(value)s does not exist in your data scope.")
        % {
            "field": resident_label(field),
            "value": value.pk if isinstance(value, models.Model) else value,
        },
        field=field,
    )


def _fetch(model: type[models.Model], value: Any, field: str) -> Any:
    """The row for an instance or a primary key; a missing one is ``unknown_reference``."""
    pk = value.pk if isinstance(value, models.Model) else value
    if pk is None or isinstance(pk, bool):
        raise _unknown_reference(field, value)
    try:
        return model._default_manager.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError, ValidationError):  # type: ignore[attr-defined]
        raise _unknown_reference(field, value) from None


def to_date(value: Any, field: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(
            CommonError.INVALID_DATE,
            _("%(f)s: %(v)s is not a date (use YYYY-MM-DD).")
            % {"f": resident_label(field), "v": value},
            field=field,
        ) from None


def _check_fields(data: dict[str, Any]) -> None:
    unknown = set(data) - set(RESIDENT_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(
            CommonError.UNKNOWN_FIELD, _("Unknown field %(f)s.") % {"f": name}, field=name
        )


def check_derived(parsed: IdNumber, sex: Any, birth_date: Any) -> None:
    """Entered sex and birth date must agree with what the ID number encodes."""
    if sex not in (None, "") and str(sex).upper() != parsed.sex:
        raise ValidationFailed(
            ResidentError.SEX_MISMATCH,
            _("Sex %(given)s does not match the ID number, which implies %(implied)s.")
            % {"given": sex, "implied": _SEX_LABEL[parsed.sex]},
            field="sex",
        )
    given = to_date(birth_date, "birth_date")
    if given is not None and given != parsed.birth_date:
        raise ValidationFailed(
            ResidentError.BIRTH_DATE_MISMATCH,
            _("Birth date %(given)s does not match the ID number, which implies %(implied)s.")
            % {"given": given.isoformat(), "implied": parsed.birth_date.isoformat()},
            field="birth_date",
        )


def _duplicate_id(index: str, exclude_pk: int | None = None) -> None:
    qs = Resident.objects.filter(id_number_index=index)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationFailed(
            ResidentError.DUPLICATE_ID_NUMBER,
            _("A resident with this ID number is already registered."),
            field="id_number",
        )


def resolve_region(actor: User, value: Any) -> Region:
    if value in (None, ""):
        raise required_field("region")
    region = _fetch(Region, value, "region")
    if not village_in_scope(actor, region):
        raise _unknown_reference("region", value)
    if region.level != RegionLevel.VILLAGE:
        raise ValidationFailed(
            ResidentError.REGION_NOT_VILLAGE,
            _("%(region)s is a %(level)s: a resident's region must be a village.")
            % {"region": region, "level": region.get_level_display()},
            field="region",
        )
    return region


def resolve_grid(actor: User, value: Any, region: Region) -> Grid | None:
    if value in (None, ""):
        return None
    grid = _fetch(Grid, value, "grid")
    if not in_scope(actor, grid):
        raise _unknown_reference("grid", value)
    if grid.village_id != region.pk:
        raise ValidationFailed(
            ResidentError.GRID_OUTSIDE_VILLAGE,
            _("Grid %(grid)s lies in another village than %(region)s.")
            % {"grid": grid, "region": region},
            field="grid",
        )
    return grid


def _resolve_household(value: Any, region: Region) -> Household | None:
    if value in (None, ""):
        return None
    household = _fetch(Household, value, "household")
    if household.region_id != region.pk:
        raise ValidationFailed(
            ResidentError.HOUSEHOLD_OUTSIDE_VILLAGE,
            _("The household at %(address)s lies in another village than %(region)s.")
            % {"address": household.address, "region": region},
            field="household",
        )
    return household


def resolve_institution(actor: User, value: Any) -> Institution | None:
    if value in (None, ""):
        return None
    institution = _fetch(Institution, value, "institution")
    if not in_scope(actor, institution):
        raise _unknown_reference("institution", value)
    return institution


def check_rules(resident: Resident, today: datetime.date) -> None:
    """Cross-field rules (status/date of death, care setting/institution, choices)."""
    if resident.status == ResidentStatus.DECEASED:
        if resident.deceased_on is None:
            raise required_field("deceased_on")
        if resident.deceased_on > today or resident.deceased_on < resident.birth_date:
            raise ValidationFailed(
                CommonError.INVALID_DATE,
                _("The date of death must lie between the birth date and today."),
                field="deceased_on",
            )
    elif resident.deceased_on is not None:
        raise ValidationFailed(
            ResidentError.DECEASED_ON_NOT_ALLOWED,
            _("A date of death is only recorded for a deceased resident."),
            field="deceased_on",
        )
    if resident.care_setting == CareSetting.INSTITUTION and resident.institution_id is None:
        raise ValidationFailed(
            CommonError.REQUIRED,
            _("Institutional care needs the institution that provides it."),
            field="institution",
        )
    if resident.care_setting != CareSetting.INSTITUTION and resident.institution_id is not None:
        raise ValidationFailed(
            ResidentError.INSTITUTION_NOT_ALLOWED,
            _("An institution is only recorded for a resident in institutional care."),
            field="institution",
        )
    clean_fields(
        resident,
        ["id_number", "phone", "id_number_index", "phone_index", *_REFERENCES],
        resident_label,
    )


def needs_grid(actor: User) -> bool:
    """Whether ``actor`` must file a resident under a grid: a team-scoped user sees only
    the residents of the grids the team serves (ADR 0010, "A resident without a grid")."""
    return scope_of(actor).kind == ScopeKind.TEAM


def grid_required() -> ValidationFailed:
    return ValidationFailed(
        ResidentError.GRID_REQUIRED,
        _(
            "Choose her grid: you see the residents of the grids your team serves, so a "
            "resident registered without a grid would not be on your lists."
        ),
        field="grid",
    )


def check_reachable(actor: User, resident: Resident) -> None:
    """The rule that keeps a resident on the registering user's lists (no query): a
    team-scoped user files her under a grid (which ``resolve_grid`` keeps to the team's
    grids)."""
    if resident.grid_id is None and needs_grid(actor):
        raise grid_required()


def _check_found_again(actor: User, resident: Resident) -> None:
    """After a registration: the actor must find the resident in her scope (the backstop
    of ``check_reachable``; the transaction rolls back otherwise). Not applied to edits:
    an institution may record that a resident left its care, and so its scope."""
    if not scoped_residents(actor).filter(pk=resident.pk).exists():
        raise ValidationFailed(
            ResidentError.OUTSIDE_SCOPE_AFTER_SAVE,
            _(
                "She would be outside your data scope once registered: choose a village, "
                "grid or institution you serve."
            ),
            field="region",
        )


def duplicate_candidates(actor: User, resident: Resident) -> list[Resident]:
    """Possible duplicates inside the actor's scope: same name + birth date + village, or
    the same phone."""
    q = models.Q(name=resident.name, birth_date=resident.birth_date, region_id=resident.region_id)
    if resident.phone_index:
        q |= models.Q(phone_index=resident.phone_index)
    qs = scoped_residents(actor).filter(q)
    if resident.pk is not None:
        qs = qs.exclude(pk=resident.pk)
    return list(qs.order_by("pk"))


def _audit_value(name: str, value: Any) -> Any:
    if name == "id_number":
        return parse_id_number(value).masked if value else ""
    if name == "phone":
        return crypto.mask_phone(value) if value else ""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _save(resident: Resident, update_fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            if update_fields is None:
                resident.save()
            else:
                resident.save(update_fields=update_fields)
    except IntegrityError:
        _duplicate_id(resident.id_number_index, resident.pk)
        raise


def _apply(actor: User, resident: Resident, data: dict[str, Any]) -> list[str]:
    """Validate ``data`` and set it on ``resident``; return the names of changed fields."""
    changed: list[str] = []

    def put(name: str, value: Any) -> None:
        if getattr(resident, name) != value:
            setattr(resident, name, value)
            changed.append(name)

    if "name" in data:
        name = "" if data["name"] is None else str(data["name"]).strip()
        if not name:
            raise required_field("name")
        put("name", name)
        pinyin, initials = name_pinyin(name)
        put("name_pinyin", pinyin)
        put("name_initials", initials)

    if "id_number" in data or "sex" in data or "birth_date" in data:
        raw = data.get("id_number", resident.id_number if resident.pk else None)
        if raw in (None, ""):
            raise required_field("id_number")
        parsed = parse_id_number(str(raw))
        check_derived(parsed, data.get("sex"), data.get("birth_date"))
        put("id_number", parsed.value)
        put("id_number_index", crypto.blind_index(parsed.value))
        put("sex", parsed.sex)
        put("birth_date", parsed.birth_date)
        _duplicate_id(resident.id_number_index, resident.pk)

    if "phone" in data:
        phone = normalise_phone(data["phone"])
        put("phone", phone)
        put("phone_index", crypto.blind_index(phone) if phone else "")

    if "region" in data:
        new_region = resolve_region(actor, data["region"])
        if resident.region_id != new_region.pk:
            resident.region = new_region
            resident.region_code = new_region.code
            changed.extend(["region", "region_code"])
    region = resident.region
    if "grid" in data or "region" in data:
        grid = resolve_grid(actor, data.get("grid", resident.grid_id), region)
        if resident.grid_id != (grid.pk if grid else None):
            resident.grid = grid
            changed.append("grid")
    if "household" in data or "region" in data:
        household = _resolve_household(data.get("household", resident.household_id), region)
        if resident.household_id != (household.pk if household else None):
            resident.household = household
            changed.append("household")
    if "institution" in data:
        institution = resolve_institution(actor, data["institution"])
        if resident.institution_id != (institution.pk if institution else None):
            resident.institution = institution
            changed.append("institution")

    for name in ("address", "ethnicity"):
        if name in data:
            put(name, "" if data[name] is None else str(data[name]).strip())
    if data.get("status") == ResidentStatus.MERGED:
        raise ValidationFailed(
            ResidentError.MERGE_REQUIRED,
            _("A record is marked merged only by merging it into another (the merge page)."),
            field="status",
        )
    for name in ("insurance", "status", "care_setting"):
        if name in data:
            put(name, data[name])
    if "deceased_on" in data:
        put("deceased_on", to_date(data["deceased_on"], "deceased_on"))
    for name in (*FLAGS, "ltc_insured", "permanent_resident"):
        if name in data:
            if not isinstance(data[name], bool):
                raise ValidationFailed(
                    CommonError.INVALID,
                    _("%(f)s must be true or false.") % {"f": resident_label(name)},
                    field=name,
                )
            put(name, data[name])
    return changed


# --- services ---------------------------------------------------------------------------


def register_resident(actor: User, **data: Any) -> tuple[Resident, list[Resident]]:
    """Register a resident; return it with the possible duplicates found (a warning, not an
    error: same name + birth date + village, or same phone)."""
    require_perm(actor, ResidentPerm.MANAGE)
    _check_fields(data)
    for name in ("name", "id_number", "region"):
        if data.get(name) in (None, ""):
            raise required_field(name)
    with transaction.atomic():
        resident = Resident()
        _apply(actor, resident, data)
        check_rules(resident, timezone.localdate())
        check_reachable(actor, resident)
        _save(resident)
        _check_found_again(actor, resident)
        candidates = duplicate_candidates(actor, resident)
        record(
            actor=actor,
            action="residents.resident.create",
            obj=resident,
            details={
                "fields": {name: _audit_value(name, data[name]) for name in sorted(data)},
                "duplicate_candidates": [c.pk for c in candidates],
            },
        )
    return resident, candidates


def update_resident(actor: User, resident: Resident | int, **changes: Any) -> Resident:
    """Change a resident's fields (only those given); the ID number, if changed, is checked
    again (format, agreement with sex and birth date, uniqueness)."""
    require_perm(actor, ResidentPerm.MANAGE)
    _check_fields(changes)
    pk = resident.pk if isinstance(resident, Resident) else resident
    with transaction.atomic():
        target = scoped_residents(actor).select_for_update().filter(pk=pk).first()
        if target is None:
            raise NotFound("resident")
        changed = _apply(actor, target, changes)
        check_rules(target, timezone.localdate())
        if changed:
            check_reachable(actor, target)
            _save(target, update_fields=[*changed, "updated_at"])
            record(
                actor=actor,
                action="residents.resident.update",
                obj=target,
                details={
                    "changed": {
                        name: _audit_value(name, getattr(target, name))
                        for name in changed
                        if name not in ("id_number_index", "phone_index")
                    }
                },
            )
    return target


def reveal_identifiers(actor: User, resident: Resident | int) -> tuple[str, str]:
    """The full ID number and phone of a resident in scope (``ResidentPerm.REVEAL``); one
    audit row naming both fields."""
    require_perm(actor, ResidentPerm.REVEAL)
    pk = resident.pk if isinstance(resident, Resident) else resident
    with transaction.atomic():
        target = scoped_residents(actor).filter(pk=pk).first()
        if target is None:
            raise NotFound("resident")
        record(
            actor=actor,
            action="residents.resident.reveal",
            obj=target,
            details={"fields": ["id_number", "phone"]},
        )
    return target.id_number, target.phone or ""


def reveal_id_number(actor: User, resident: Resident | int) -> str:
    """The full ID number of a resident in scope (``ResidentPerm.REVEAL``); audited."""
    return reveal_identifiers(actor, resident)[0]


def start_household(actor: User, resident: Resident | int, *, address: str = "") -> Household:
    """Start a household (户) for a resident who has none, at ``address`` (default: her own
    address) in her village, with her as its first member. Others join it by choosing it
    on their registration or edit (same village)."""
    require_perm(actor, ResidentPerm.MANAGE)
    pk = resident.pk if isinstance(resident, Resident) else resident
    with transaction.atomic():
        target = scoped_residents(actor).select_for_update().filter(pk=pk).first()
        if target is None:
            raise NotFound("resident")
        if target.household_id is not None:
            raise ValidationFailed(
                ResidentError.ALREADY_IN_HOUSEHOLD,
                _("%(name)s already belongs to a household.") % {"name": target.name},
                field="household",
            )
        where = (address or target.address or "").strip()
        if not where:
            raise ValidationFailed(
                CommonError.REQUIRED,
                _("Give the household's address (she has no address on record)."),
                field="address",
            )
        household = Household(address=where, region_id=target.region_id)
        clean_fields(household, ["region"], resident_label)
        household.save()
        target.household = household
        target.save(update_fields=["household", "updated_at"])
        record(
            actor=actor,
            action="residents.household.create",
            obj=household,
            details={"resident": target.pk},
        )
    return household
