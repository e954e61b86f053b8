"""The documents tab of the health record: the files (PDF, images, Word) with upload,
download and remove. Uploading or removing needs ``ResidentPerm.HEALTH_MANAGE``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase
from django.urls import path
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiyang.accounts.actor import PageRequest
from yiyang.common.errors import ValidationFailed
from yiyang.residents import documents
from yiyang.residents.api.health import download_response
from yiyang.residents.models import DocumentKind, Resident
from yiyang.residents.pages.health.common import (
    HealthForm,
    back_to_tab,
    can_write,
    common_context,
    is_htmx,
    refused,
    require_perm,
    text_field,
)
from yiyang.residents.pages.shell import render_tab, require_tab, resident_page
from yiyang.residents.permissions import ResidentPerm
from yiyang.residents.selectors.health import documents_for, get_document_for
from yiyang.residents.services.documents import remove_document, upload_document


class DocumentForm(HealthForm):
    file = forms.FileField(
        label=gettext_lazy("file"),
        widget=forms.ClearableFileInput(attrs={"accept": documents.ACCEPT}),
    )
    kind = forms.ChoiceField(label=gettext_lazy("type"), choices=DocumentKind.choices)
    title = text_field(
        gettext_lazy("title"), 200, help_text=gettext_lazy("Leave empty to use the file name")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("PDF, JPEG, PNG or Word (.docx), at most %(size)s.") % {
            "size": documents.human_size(documents.max_bytes())
        }


# --- documents --------------------------------------------------------------------------


def _documents_tab(
    request: PageRequest,
    resident: Resident,
    *,
    form: HealthForm | None = None,
    notice: str | Promise | None = None,
    error: str | None = None,
) -> HttpResponse:
    user = request.user
    can_manage = can_write(request, resident, ResidentPerm.HEALTH_MANAGE)
    context = {
        **common_context(request, resident),
        "rows": documents_for(user, resident),
        "form": form or (DocumentForm(user=user) if can_manage else None),
        "can_manage": can_manage,
        "notice": notice,
        "error": error,
    }
    return render_tab(request, resident, "documents", "residents/health/documents.html", context)


@require_http_methods(["GET", "POST"])
@resident_page
def documents_tab(request: PageRequest, resident: Resident) -> HttpResponseBase:
    if request.method == "POST":
        require_perm(request, ResidentPerm.HEALTH_MANAGE)
    require_tab(request, resident, "documents")
    if request.method != "POST":
        return _documents_tab(request, resident)
    form = DocumentForm(request.POST, request.FILES, user=request.user)
    error = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            upload_document(
                request.user, resident, file=data["file"], kind=data["kind"], title=data["title"]
            )
        except ValidationFailed as exc:
            error = refused(form, exc)
        else:
            text = _("Document uploaded.")
            if is_htmx(request):
                return _documents_tab(request, resident, notice=text)
            messages.success(request, text)
            return back_to_tab(request, resident, "documents")
    return _documents_tab(request, resident, form=form, error=error)


@require_http_methods(["GET"])
@resident_page
def document_download(request: PageRequest, resident: Resident, item_id: int) -> HttpResponseBase:
    require_tab(request, resident, "documents")
    document = get_document_for(request.user, resident, item_id)
    return download_response(document)


@require_POST
@resident_page
def document_remove(request: PageRequest, resident: Resident, item_id: int) -> HttpResponseBase:
    require_perm(request, ResidentPerm.HEALTH_MANAGE)
    require_tab(request, resident, "documents")
    if not documents_for(request.user, resident).filter(pk=item_id).exists():
        raise Http404("document not found")
    try:
        remove_document(request.user, resident, item_id)
    except ValidationFailed as exc:
        if is_htmx(request):
            return _documents_tab(request, resident, error=exc.detail)
        messages.error(request, exc.detail)
        return back_to_tab(request, resident, "documents")
    text = _("Document removed.")
    if is_htmx(request):
        return _documents_tab(request, resident, notice=text)
    messages.success(request, text)
    return back_to_tab(request, resident, "documents")


urlpatterns = [
    path("<int:pk>/documents/", documents_tab, name="documents"),
    path(
        "<int:pk>/documents/<int:item_id>/download/",
        document_download,
        name="document_download",
    ),
    path("<int:pk>/documents/<int:item_id>/remove/", document_remove, name="document_remove"),
]
