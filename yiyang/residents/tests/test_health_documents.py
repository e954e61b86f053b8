"""Health-record documents: allowed types by content, size limit, digest, storage name,
duplicates, removal, audited download."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from yiyang.audit.models import AuditEvent
from yiyang.common.errors import NotFound, PermissionDenied
from yiyang.residents import documents
from yiyang.residents.models import Document
from yiyang.residents.selectors.health import get_document_for
from yiyang.residents.services.documents import remove_document, upload_document

from .test_health_services import H, raises, setup_health

pytestmark = pytest.mark.usefixtures("english")

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60


def docx(extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document/>")
        for name, data in (extra or {}).items():
            package.writestr(name, data)
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type)


@pytest.fixture
def media(tmp_path, settings):
    settings.STORAGES = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def h(world, media) -> H:
    return setup_health(world)


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("出院小结.pdf", PDF, "application/pdf"),
        ("scan.PNG", PNG, "image/png"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("photo.jpg", JPEG, "image/jpeg"),
        ("report.docx", docx(), documents.DOCX.content_type),
    ],
)
def test_allowed_types(name, data, content_type):
    checked = documents.inspect_upload(upload(name, data))
    assert checked.type.content_type == content_type
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert checked.original_name == name


@pytest.mark.parametrize(
    ("name", "data", "code", "message"),
    [
        (
            "报告.pdf",
            EXE,
            "file_type",
            "报告.pdf is not a real PDF file: its content is not one of the allowed types "
            "(PDF, JPEG, PNG, Word (.docx)).",
        ),
        ("setup.exe", EXE, "file_type", "setup.exe is not an allowed file type"),
        ("notes.txt", b"hello", "file_type", "notes.txt is not an allowed file type"),
        ("no-extension", PDF, "file_type", "no-extension is not an allowed file type"),
        (
            "scan.pdf",
            PNG,
            "file_type_mismatch",
            "scan.pdf is named like a PDF file but its content is PNG.",
        ),
        ("empty.pdf", b"", "file_empty", "empty.pdf is empty."),
        ("fake.docx", b"PK\x03\x04not a zip", "file_type", "fake.docx is not a real Word"),
        (
            "macro.docx",
            docx({"word/vbaProject.bin": b"\x00"}),
            "file_type",
            "macro.docx is not a real Word",
        ),
    ],
)
def test_refused_types(name, data, code, message):
    with raises(code, "file") as info:
        documents.inspect_upload(upload(name, data, "application/pdf"))
    assert info.value.detail.startswith(message), info.value.detail


def test_size_limit():
    with override_settings(RESIDENT_DOCUMENT_MAX_BYTES=1024):
        documents.inspect_upload(upload("a.pdf", PDF + b" " * (1024 - len(PDF))))
        with raises("file_too_large", "file") as info:
            documents.inspect_upload(upload("big.pdf", PDF + b" " * 1024))
    assert info.value.detail == "big.pdf has 1 KB; at most 1 KB are allowed."
    assert documents.max_bytes() == 10 * 1024 * 1024
    with raises("file_too_large"):
        documents.inspect_upload(upload("huge.pdf", PDF + b"\x00" * (10 * 1024 * 1024)))


def test_safe_name():
    assert documents.safe_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert documents.safe_name("C:\\Users\\张\\报告.pdf") == "报告.pdf"
    assert documents.safe_name('a"<b>.pdf') == "ab.pdf"
    assert documents.safe_name("") == "document"


def test_upload_stores_under_a_random_name(h, media):
    before = AuditEvent.objects.count()
    document = upload_document(
        h.nurse, h.resident, file=upload("张三出院小结.pdf", PDF), kind="discharge"
    )
    stored = Document.objects.get(pk=document.pk)
    assert (stored.title, stored.original_name, stored.content_type, stored.size) == (
        "张三出院小结",
        "张三出院小结.pdf",
        "application/pdf",
        len(PDF),
    )
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored.file.name.startswith("residents/documents/")
    assert "张三" not in stored.file.name and stored.file.name.endswith(".pdf")
    assert (media / stored.file.name).read_bytes() == PDF
    assert AuditEvent.objects.count() == before + 1
    row = AuditEvent.objects.get(action="residents.document.create")
    assert row.details == {
        "resident": h.resident.pk,
        "kind": "discharge",
        "content_type": "application/pdf",
        "size": len(PDF),
        "sha256": stored.sha256,
    }
    assert "张三" not in row.object_repr


def test_upload_refusals_store_nothing(h, media):
    with raises("file_type", "file"):
        upload_document(h.nurse, h.resident, file=upload("x.pdf", EXE), kind="lab")
    with raises("invalid", "kind"):
        upload_document(h.nurse, h.resident, file=upload("x.pdf", PDF), kind="poem")
    with raises("no_consent"):
        upload_document(h.nurse, h.other, file=upload("x.pdf", PDF), kind="lab")
    with pytest.raises(PermissionDenied):
        upload_document(h.caregiver, h.resident, file=upload("x.pdf", PDF), kind="lab")
    with pytest.raises(NotFound):
        upload_document(h.outsider, h.resident, file=upload("x.pdf", PDF), kind="lab")
    upload_document(h.nurse, h.resident, file=upload("x.pdf", PDF), kind="lab", title="化验")
    with raises("duplicate_document", "file") as info:
        upload_document(h.nurse, h.resident, file=upload("y.pdf", PDF), kind="lab")
    assert "化验" in info.value.detail
    assert Document.objects.count() == 1
    files = [p for p in media.rglob("*") if p.is_file()]
    assert len(files) == 1


def test_remove_document_deletes_the_file_after_commit(
    h, media, django_capture_on_commit_callbacks
):
    document = upload_document(h.nurse, h.resident, file=upload("x.png", PNG), kind="imaging")
    path = media / document.file.name
    with django_capture_on_commit_callbacks(execute=True):
        remove_document(h.nurse, h.resident, document.pk)
    assert not Document.objects.exists()
    assert not path.exists()


def test_download_is_audited_and_scoped(h, media):
    document = upload_document(h.nurse, h.resident, file=upload("x.pdf", PDF), kind="lab")
    found = get_document_for(h.family, h.resident, document.pk)
    assert found == document
    row = AuditEvent.objects.filter(action="residents.document.read").get()
    assert (row.actor_id, row.details) == (h.family.pk, {"resident": h.resident.pk})
    with pytest.raises(NotFound):
        get_document_for(h.nurse, h.outside, document.pk)
    with pytest.raises(PermissionDenied):
        get_document_for(h.supervisor, h.resident, document.pk)
    with pytest.raises(NotFound):  # another resident's document
        remove_document(h.nurse, h.other, document.pk)
    assert Document.objects.count() == 1
