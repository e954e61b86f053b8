"""Merging two records of one person (ADR 0011): ``merge_residents`` moves every row of
any app that points at the duplicate to the record kept, resolves duplicate consents and
marks the duplicate merged; ``resident_links``, ``linked_counts`` and
``differing_fields`` show the merge page what would move and what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.validation import clean_text, required
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import Consent, Resident, ResidentStatus, active_consent
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.services.base import close_consent, pk_of, scoped_resident
from yiyang.residents.services.people import GIVEN_PURPOSES
from yiyang.residents.services.registry import RESIDENT_FIELDS

MERGE_NOTE = "merged"
# Fields of ``keep`` filled from ``remove`` when blank on ``keep`` (never overwritten).
FILLABLE: tuple[str, ...] = ("phone", "address", "ethnicity", "grid", "household")
# Fields compared for the audit row and the side-by-side page.
COMPARED: tuple[str, ...] = RESIDENT_FIELDS


@dataclass(frozen=True)
class Link:
    """A relation from any model to ``Resident`` (found by introspection, so a later app's
    table is moved too)."""

    model: type[models.Model]
    field: str
    unique: bool

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


def resident_links() -> list[Link]:
    """Every foreign key and one-to-one pointing at ``Resident``, from any installed app
    (hidden ones and many-to-many tables included)."""
    links = []
    for rel in Resident._meta.get_fields(include_hidden=True):
        if not rel.is_relation or rel.concrete or not rel.auto_created:
            continue
        if rel.many_to_many:  # its table's own foreign key is listed separately
            continue
        remote = rel.field  # type: ignore[union-attr]
        links.append(Link(rel.related_model, remote.name, bool(rel.one_to_one)))  # type: ignore[arg-type]
    return sorted(links, key=lambda link: (link.label, link.field))


def linked_counts(resident: Resident) -> dict[str, int]:
    """How many rows of each model point at ``resident`` (models with none left out)."""
    counts: dict[str, int] = {}
    for link in resident_links():
        n = link.model._base_manager.filter(**{link.field: resident}).count()
        if n:
            counts[link.label] = counts.get(link.label, 0) + n
    return counts


@dataclass
class MergeResult:
    keep: Resident
    removed: Resident
    moved: dict[str, int] = field(default_factory=dict)
    consents_withdrawn: list[int] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)
    differed: list[str] = field(default_factory=list)
    account_moved: bool = False


def _attname(name: str) -> str:
    f = Resident._meta.get_field(name)
    return f.attname if isinstance(f, models.Field) else name


def _value(resident: Resident, name: str) -> Any:
    return getattr(resident, _attname(name))


def differing_fields(keep: Resident, remove: Resident) -> list[str]:
    return [name for name in COMPARED if _value(keep, name) != _value(remove, name)]


def _blank(value: Any) -> bool:
    return value in (None, "")


def _merge_conflict(link: Link) -> ValidationFailed:
    return ValidationFailed(
        ResidentError.MERGE_CONFLICT,
        _(
            "Both records have a %(what)s, which a resident can have only once: resolve that "
            "on one of the records before merging."
        )
        % {"what": link.model._meta.verbose_name},
    )


def _move(link: Link, keep: Resident, remove: Resident) -> int:
    manager = link.model._base_manager
    rows = manager.filter(**{link.field: remove})
    if link.unique and rows.exists() and manager.filter(**{link.field: keep}).exists():
        raise _merge_conflict(link)
    try:
        with transaction.atomic():
            return rows.update(**{link.field: keep})
    except IntegrityError:
        raise _merge_conflict(link) from None


def _dedupe_consents(actor: User, keep: Resident, remove: Resident) -> list[int]:
    """Where both records hold an active consent for a purpose, the older stays active
    (on ``keep`` after the move) and the newer is withdrawn with the note "merged"."""
    withdrawn = []
    for purpose in GIVEN_PURPOSES:
        active = list(
            Consent.objects.select_for_update(no_key=True)
            .filter(active_consent(), resident__in=[keep, remove], purpose=purpose)
            .order_by("given_at", "pk")
        )
        for duplicate in active[1:]:
            close_consent(actor, duplicate, MERGE_NOTE)
            withdrawn.append(duplicate.pk)
    return withdrawn


def _fill(keep: Resident, remove: Resident) -> list[str]:
    """Copy ``remove``'s value into ``keep``'s blank fields (grid and household only when
    they lie in ``keep``'s village). The names of the fields filled."""
    filled = []
    for name in FILLABLE:
        mine, theirs = _value(keep, name), _value(remove, name)
        if not _blank(mine) or _blank(theirs):
            continue
        if name == "grid" and remove.grid is not None and remove.grid.village_id != keep.region_id:
            continue
        household = remove.household if name == "household" else None
        if household is not None and household.region_id != keep.region_id:
            continue
        setattr(keep, _attname(name), theirs)
        filled.append(name)
        if name == "phone":
            keep.phone_index = remove.phone_index
            filled.append("phone_index")
    return filled


def _int_pk(value: Any) -> int:
    try:
        return int(pk_of(value))
    except (TypeError, ValueError):
        raise NotFound("resident") from None


def merge_residents(actor: User, keep: Any, remove: Any, reason: str) -> MergeResult:
    """Merge ``remove`` into ``keep`` (two records of one person; ``ResidentPerm.MERGE``).

    Every row of any app pointing at ``remove`` is moved to ``keep``; duplicate active
    consents are resolved (the older stays); ``remove``'s own login moves when ``keep`` has
    none (both having one is refused); ``keep``'s fields win — its blank fields are filled
    from ``remove`` and the fields that differed are named in the audit row. ``remove`` is
    then marked merged into ``keep``; it stays for the audit trail and old links.
    """
    require_perm(actor, ResidentPerm.MERGE)
    text = clean_text(reason, "reason", _("reason"))
    if not text:
        raise required("reason", _("reason"))
    if pk_of(remove) in (None, ""):
        raise required("remove", _("duplicate record"))
    keep_pk, remove_pk = _int_pk(keep), _int_pk(remove)
    if keep_pk == remove_pk:
        raise ValidationFailed(
            ResidentError.SAME_RECORD, _("A record cannot be merged into itself."), field="remove"
        )
    with transaction.atomic():
        locked = {}
        for pk in sorted([keep_pk, remove_pk]):  # always the same lock order: no deadlock
            locked[pk] = scoped_resident(actor, pk, lock=True)
        kept, removed = locked[keep_pk], locked[remove_pk]
        for resident in (kept, removed):
            if resident.status == ResidentStatus.MERGED:
                raise ValidationFailed(
                    ResidentError.ALREADY_MERGED,
                    _("Record %(id)s (%(name)s) was already merged into record %(into)s.")
                    % {"id": resident.pk, "name": resident.name, "into": resident.merged_into_id},
                    field="remove" if resident is removed else None,
                )
        if kept.account_id is not None and removed.account_id is not None:
            raise ValidationFailed(
                ResidentError.BOTH_HAVE_LOGIN,
                _(
                    "Both records have their own resident login: deactivate the login of the "
                    "duplicate (or unlink it) before merging."
                ),
                field="remove",
            )
        result = MergeResult(keep=kept, removed=removed)
        result.differed = differing_fields(kept, removed)
        result.consents_withdrawn = _dedupe_consents(actor, kept, removed)
        for link in resident_links():
            n = _move(link, kept, removed)
            if n:
                result.moved[link.label] = result.moved.get(link.label, 0) + n
        changed = _fill(kept, removed)
        result.filled = [name for name in changed if name != "phone_index"]
        removed_before = {
            "status": removed.status,
            "deceased_on": removed.deceased_on.isoformat() if removed.deceased_on else None,
        }
        if removed.account_id is not None:
            kept.account_id, removed.account_id = removed.account_id, None
            removed.save(update_fields=["account"])
            changed.append("account")
            result.account_moved = True
        removed.status = ResidentStatus.MERGED
        removed.merged_into = kept
        removed.deceased_on = None  # "merged" replaces "deceased" (a database check)
        removed.save(update_fields=["status", "merged_into", "deceased_on", "updated_at"])
        if changed:
            kept.save(update_fields=[*changed, "updated_at"])
        record(
            actor=actor,
            action="residents.resident.merge",
            obj=kept,
            details={
                "removed": removed.pk,
                "reason": text,
                "moved": result.moved,
                "consents_withdrawn": result.consents_withdrawn,
                "filled": result.filled,
                "differed": result.differed,
                "account_moved": result.account_moved,
                "removed_before": removed_before,
            },
        )
    return result
