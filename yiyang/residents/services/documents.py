"""The health record's documents: ``upload_document`` and ``remove_document``. They
follow the steps of ``services.health`` (permission ``ResidentPerm.HEALTH_MANAGE``, the
resident locked in the actor's scope, her consent to health-data processing, validation,
one transaction and one audit row); the file's type and size are checked by
``residents.documents``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yiyang.accounts.models import User
from yiyang.common.errors import ValidationFailed
from yiyang.common.permissions import require_perm
from yiyang.common.validation import clean_fields, required
from yiyang.residents.access import require_health_consent
from yiyang.residents.documents import inspect_upload
from yiyang.residents.errors import ResidentError
from yiyang.residents.models import Document
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.services.health_steps import (
    audit_entry,
    check_names,
    health_label,
    locked_entry,
    locked_resident,
    strip_texts,
)

DOCUMENT_FIELDS: tuple[str, ...] = ("kind", "title")


def _prepare_document(values: dict[str, Any]) -> dict[str, Any]:
    strip_texts(values, "kind", "title")
    return values


def _validate_document(document: Document) -> None:
    if not document.kind:
        raise required("kind", health_label("kind"))
    if not document.title:
        raise required("title", health_label("title"))
    clean_fields(document, ["resident", "uploaded_by", "file", "sha256"], health_label)


def upload_document(actor: User, resident: Any, *, file: Any, **values: Any) -> Document:
    """Store a file in the health record: ``file`` (type and size checked by
    ``residents.documents``), ``kind``, ``title`` (the file name when empty). The same
    content twice for one resident is refused."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    check_names(values, DOCUMENT_FIELDS)
    stored: list[str] = []
    try:
        with transaction.atomic():
            target = locked_resident(actor, resident)
            require_health_consent(target)
            checked = inspect_upload(file)
            values = _prepare_document(dict(values))
            if not values.get("title"):
                values["title"] = checked.original_name.rsplit(".", 1)[0][:200]
            document = Document(
                resident=target,
                uploaded_by=actor,
                original_name=checked.original_name,
                content_type=checked.type.content_type,
                size=checked.size,
                sha256=checked.sha256,
                **values,
            )
            _validate_document(document)
            twin = Document.objects.filter(resident=target, sha256=checked.sha256).first()
            if twin is not None:
                raise ValidationFailed(
                    ResidentError.DUPLICATE_DOCUMENT,
                    _("This file is already in the record as “%(title)s”.") % {"title": twin.title},
                    field="file",
                )
            file.seek(0)
            document.file.save(checked.storage_name(), file, save=False)
            stored.append(document.file.name)
            document.save()
            audit_entry(
                actor,
                "create",
                document,
                target,
                kind=document.kind,
                content_type=document.content_type,
                size=document.size,
                sha256=document.sha256,
            )
    except BaseException:
        _delete_files(stored)
        raise
    return document


def remove_document(actor: User, resident: Any, item: Any) -> None:
    """Delete a document; its file goes once the deletion is committed."""
    require_perm(actor, ResidentPerm.HEALTH_MANAGE)
    with transaction.atomic():
        target = locked_resident(actor, resident)
        document = locked_entry(Document, target, item)
        require_health_consent(target)
        name = document.file.name
        audit_entry(actor, "delete", document, target, kind=document.kind, sha256=document.sha256)
        document.delete()
        if name:
            transaction.on_commit(lambda: _delete_files([name]))


def _delete_files(names: list[str]) -> None:
    storage = Document._meta.get_field("file").storage  # type: ignore[attr-defined]
    for name in names:
        storage.delete(name)
