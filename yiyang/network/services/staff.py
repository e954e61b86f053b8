"""Actions on staff: skills, and staff members with their skills and institution
memberships (licence numbers unique; phone numbers masked in the audit row)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.network.errors import NetworkError
from yiyang.network.models import (
    Institution,
    Skill,
    Staff,
    StaffMembership,
)
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.scope import in_scope
from yiyang.network.services.steps import (
    apply_changes,
    clean_model,
    created_details,
    diff_details,
    distinct,
    ensure_visible,
    fetch,
    jsonable,
    licence_or_none,
    reference,
    required_field,
    save,
    stripped_text,
    target,
)

PHONE_RE = re.compile(r"\+?[0-9][0-9 \-]{4,19}")


def create_skill(actor: User, *, code: str, name: str) -> Skill:
    require_perm(actor, NetworkPerm.STAFF_MANAGE)
    with transaction.atomic():
        if Skill.objects.filter(code=code).exists():
            raise ValidationFailed(
                CommonError.DUPLICATE_CODE,
                _("Skill %(code)s already exists.") % {"code": code},
                field="code",
            )
        skill = Skill(code=stripped_text(code, "code"), name=stripped_text(name, "name"))
        clean_model(skill)
        save(skill)
        record(
            actor=actor,
            action="network.skill.create",
            obj=skill,
            details=created_details(skill, ["code", "name"]),
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
    raise ValidationFailed(NetworkError.DUPLICATE_LICENCE, detail, field="licence_no")


def _prepare_staff(values: dict[str, Any]) -> dict[str, Any]:
    if "name" in values:
        values["name"] = stripped_text(values["name"], "name")
    if "licence_no" in values:
        values["licence_no"] = licence_or_none(values["licence_no"])
    for name in ("sex", "phone"):
        if name in values and values[name] is None:
            values[name] = ""
    if values.get("phone"):
        values["phone"] = str(values["phone"]).strip()
        if not PHONE_RE.fullmatch(values["phone"]):
            raise ValidationFailed(
                CommonError.INVALID_PHONE,
                _("The phone number may contain digits, spaces, '-' and a leading '+'."),
                field="phone",
            )
    return values


def _membership_rows(actor: User, memberships: Iterable[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[Any] = set()
    for item in memberships:
        data = dict(item) if isinstance(item, Mapping) else {"institution": item}
        inst = reference(actor, Institution, data.get("institution"), field="institution")
        if inst.pk in seen:
            raise ValidationFailed(
                NetworkError.DUPLICATE_MEMBERSHIP,
                _("%(inst)s is listed twice.") % {"inst": inst.name},
                field="memberships",
            )
        seen.add(inst.pk)
        start, end = data.get("start_on"), data.get("end_on")
        if start and end and end < start:
            raise ValidationFailed(
                NetworkError.INVALID_DATES,
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
            NetworkError.MULTIPLE_PRIMARY,
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
            "start_on": jsonable(r["start_on"]),
            "end_on": jsonable(r["end_on"]),
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
                    NetworkError.UNKNOWN_SKILL,
                    _("Unknown skill %(code)s.") % {"code": value},
                    field="skills",
                )
            out.append(skill)
        else:
            out.append(fetch(Skill, value))
    return distinct(out)


def create_staff(
    actor: User,
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
        raise ValidationFailed(
            CommonError.UNKNOWN_FIELD, _("Unknown field %(f)s.") % {"f": name}, field=name
        )
    for name in ("name", "profession"):
        if values.get(name) in (None, ""):
            raise required_field(name)
    with transaction.atomic():
        values = _prepare_staff(dict(values))
        staff = Staff(**values)
        clean_model(staff, exclude=["phone"])
        _staff_licence_conflict(staff)
        skill_objs = _skill_objs(skills)
        rows = _membership_rows(actor, memberships)
        save(staff, on_conflict=lambda: _staff_licence_conflict(staff))
        staff.skills.set(skill_objs)
        _set_memberships(staff, rows)
        ensure_visible(actor, staff)
        record(
            actor=actor,
            action="network.staff.create",
            obj=staff,
            details=created_details(
                staff,
                sorted(values),
                skills=[s.code for s in skill_objs],
                memberships=_membership_summary(rows),
            ),
        )
    return staff


def update_staff(actor: User, staff: Any, **changes: Any) -> Staff:
    """Change fields; ``skills`` and ``memberships``, when given, replace the old ones."""
    require_perm(actor, NetworkPerm.STAFF_MANAGE)
    with transaction.atomic():
        staff = target(actor, Staff, staff)
        skills_in = changes.pop("skills", None)
        memberships_in = changes.pop("memberships", None)
        changes = _prepare_staff(dict(changes))
        changed = apply_changes(staff, changes, STAFF_FIELDS)
        clean_model(staff, exclude=["phone"])
        if "licence_no" in changed:
            _staff_licence_conflict(staff)
        if changed:
            save(
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
            ensure_visible(actor, staff)
            record(
                actor=actor,
                action="network.staff.update",
                obj=staff,
                details=diff_details(changed),
            )
    return staff
