"""What a health-record document may be, checked before anything is stored.

Allowed: PDF, JPEG, PNG and Word (.docx) files, recognised by their content (magic bytes;
for .docx the OOXML package parts, and no macros) — the extension alone proves nothing, so
a program renamed ``报告.pdf`` is refused, and so is a PNG calling itself ``.pdf``. The
size limit is ``settings.RESIDENT_DOCUMENT_MAX_BYTES`` (default 10 MiB); empty files are
refused. The SHA-256 of the content is kept with the document.

Stored files get a random name (the original name, which may carry the resident's name,
is kept in the row only) and are served only through the scoped download view and API,
never from a public media URL.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from yiyang.common.errors import CommonError, ValidationFailed
from yiyang.residents.errors import ResidentError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class FileType:
    key: str
    content_type: str
    extensions: tuple[str, ...]
    label: str


PDF = FileType("pdf", "application/pdf", (".pdf",), "PDF")
JPEG = FileType("jpeg", "image/jpeg", (".jpg", ".jpeg"), "JPEG")
PNG = FileType("png", "image/png", (".png",), "PNG")
DOCX = FileType(
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
    "Word (.docx)",
)
TYPES: tuple[FileType, ...] = (PDF, JPEG, PNG, DOCX)
BY_EXTENSION: dict[str, FileType] = {ext: t for t in TYPES for ext in t.extensions}
ACCEPT = ",".join(ext for t in TYPES for ext in t.extensions)  # for <input accept=…>


def max_bytes() -> int:
    return int(getattr(settings, "RESIDENT_DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass(frozen=True)
class Inspected:
    """A checked upload: its type, size, digest and a safe original name."""

    type: FileType
    size: int
    sha256: str
    original_name: str

    def storage_name(self) -> str:
        """A random file name with the type's extension (the directory is the model's)."""
        return f"{uuid.uuid4().hex}{self.type.extensions[0]}"


def _head(upload: Any, length: int = 16) -> bytes:
    upload.seek(0)
    data = upload.read(length)
    upload.seek(0)
    return data if isinstance(data, bytes) else bytes(data)


def _is_docx(upload: Any) -> bool:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as package:
            names = set(package.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        upload.seek(0)
    has_parts = "[Content_Types].xml" in names and "word/document.xml" in names
    has_macros = any(name.lower().endswith("vbaproject.bin") for name in names)
    return has_parts and not has_macros


def sniff(upload: Any) -> FileType | None:
    """The allowed type the content is, by its first bytes; ``None`` for anything else."""
    head = _head(upload)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"PK\x03\x04") and _is_docx(upload):
        return DOCX
    return None


def _digest(upload: Any) -> tuple[int, str]:
    upload.seek(0)
    digest = hashlib.sha256()
    size = 0
    chunks = upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(65536), b"")
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    return size, digest.hexdigest()


def _invalid(code: str, detail: str) -> ValidationFailed:
    return ValidationFailed(code, detail, field="file")


def safe_name(name: str) -> str:
    """The base name of an uploaded file, without path parts or control characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|')
    return cleaned.strip()[:255] or "document"


def inspect_upload(upload: Any) -> Inspected:
    """Check an uploaded file (type by content and extension, size); ``ValidationFailed``
    on the field ``file`` otherwise."""
    if upload is None or upload is False:
        raise _invalid(CommonError.REQUIRED, _("Choose a file to upload."))
    name = safe_name(getattr(upload, "name", "") or "")
    allowed = ", ".join(t.label for t in TYPES)
    limit = max_bytes()
    declared_size = getattr(upload, "size", None)
    if declared_size is not None and declared_size > limit:
        raise _invalid(
            ResidentError.FILE_TOO_LARGE,
            _("%(name)s has %(size)s; at most %(max)s are allowed.")
            % {"name": name, "size": human_size(declared_size), "max": human_size(limit)},
        )
    ext = os.path.splitext(name)[1].lower()
    declared = BY_EXTENSION.get(ext)
    if declared is None:
        raise _invalid(
            ResidentError.FILE_TYPE,
            _("%(name)s is not an allowed file type (allowed: %(types)s).")
            % {"name": name, "types": allowed},
        )
    size, sha256 = _digest(upload)
    if size == 0:
        raise _invalid(ResidentError.FILE_EMPTY, _("%(name)s is empty.") % {"name": name})
    if size > limit:
        raise _invalid(
            ResidentError.FILE_TOO_LARGE,
            _("%(name)s has %(size)s; at most %(max)s are allowed.")
            % {"name": name, "size": human_size(size), "max": human_size(limit)},
        )
    actual = sniff(upload)
    if actual is None:
        raise _invalid(
            ResidentError.FILE_TYPE,
            _(
                "%(name)s is not a real %(declared)s file: its content is not one of the "
                "allowed types (%(types)s)."
            )
            % {"name": name, "declared": declared.label, "types": allowed},
        )
    if actual != declared:
        raise _invalid(
            ResidentError.FILE_TYPE_MISMATCH,
            _("%(name)s is named like a %(declared)s file but its content is %(actual)s.")
            % {"name": name, "declared": declared.label, "actual": actual.label},
        )
    return Inspected(type=actual, size=size, sha256=sha256, original_name=name)


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"
