"""Actions on agreements between two institutions, with an optional signed document (its
file is stored with the row and removed again when the transaction fails)."""

from __future__ import annotations

import os
from typing import Any

from django.core.files.base import File
from django.db import transaction
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.audit.services import record
from yiyang.common.errors import CommonError, NotFound, ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.network.errors import NetworkError
from yiyang.network.models import (
    Agreement,
    AgreementStatus,
    Institution,
)
from yiyang.network.permissions import NetworkPerm
from yiyang.network.selectors.scope import in_scope
from yiyang.network.services.steps import (
    apply_changes,
    clean_model,
    created_details,
    diff_details,
    fetch,
    required_field,
    save,
    target,
)

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DOCUMENT_EXTENSIONS = {".pdf", ".ofd", ".jpg", ".jpeg", ".png", ".doc", ".docx"}

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
    clean_model(agreement, exclude=["party_a", "party_b", "document"])
    if agreement.valid_to < agreement.valid_from:
        raise ValidationFailed(
            NetworkError.INVALID_DATES,
            _(
                "Valid to (%(to)s) is before valid from (%(from)s): an agreement must end on "
                "or after the day it starts."
            )
            % {"to": agreement.valid_to.isoformat(), "from": agreement.valid_from.isoformat()},
            field="valid_to",
        )
    if agreement.party_a_id == agreement.party_b_id:
        raise ValidationFailed(
            NetworkError.SAME_PARTY,
            _("An agreement needs two different institutions; both parties are %(inst)s.")
            % {"inst": agreement.party_a.name},
            field="party_b",
        )


def _check_document(document: Any) -> None:
    name = getattr(document, "name", "") or ""
    ext = os.path.splitext(name)[1].lower()
    if ext not in DOCUMENT_EXTENSIONS:
        raise ValidationFailed(
            NetworkError.INVALID_DOCUMENT,
            _("The document must be one of %(exts)s, not %(name)s.")
            % {"exts": ", ".join(sorted(DOCUMENT_EXTENSIONS)), "name": name or "?"},
            field="document",
        )
    size = getattr(document, "size", 0) or 0
    if size > MAX_DOCUMENT_BYTES:
        raise ValidationFailed(
            NetworkError.INVALID_DOCUMENT,
            _("The document has %(size)d bytes; at most %(max)d are allowed.")
            % {"size": size, "max": MAX_DOCUMENT_BYTES},
            field="document",
        )


def _prepare_agreement(actor: User, values: dict[str, Any]) -> dict[str, Any]:
    for name in ("party_a", "party_b"):
        if name in values:
            values[name] = fetch(Institution, values[name], field=name)
    for name in ("title", "responsibilities", "service_standards"):
        if name in values and values[name] is None:
            values[name] = ""
    return values


def create_agreement(actor: User, *, document: Any = None, **values: Any) -> Agreement:
    """An agreement between two institutions. At least one party must be inside the
    actor's scope (an institution signs with partners outside its own scope)."""
    require_perm(actor, NetworkPerm.MANAGE)
    unknown = set(values) - set(AGREEMENT_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(
            CommonError.UNKNOWN_FIELD, _("Unknown field %(f)s.") % {"f": name}, field=name
        )
    for name in ("kind", "party_a", "party_b", "valid_from", "valid_to"):
        if values.get(name) in (None, ""):
            raise required_field(name)
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
            save(agreement)
            record(
                actor=actor,
                action="network.agreement.create",
                obj=agreement,
                details=created_details(
                    agreement, sorted(values) + (["document"] if document is not None else [])
                ),
            )
    except BaseException:
        _delete_files(stored)
        raise
    return agreement


def update_agreement(
    actor: User, agreement: Any, *, document: Any = None, **changes: Any
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
            agreement = target(actor, Agreement, agreement)
            changes = _prepare_agreement(actor, dict(changes))
            changed = apply_changes(agreement, changes, AGREEMENT_FIELDS)
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
                save(agreement, update_fields=list(changed))
                record(
                    actor=actor,
                    action="network.agreement.update",
                    obj=agreement,
                    details=diff_details(changed),
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
