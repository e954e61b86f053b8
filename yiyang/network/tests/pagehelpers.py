"""Reading rendered network pages in tests."""

from __future__ import annotations

import html
import re

from yiyang.audit.models import AuditEvent


def page_text(response) -> str:
    return response.content.decode()


def field_error(response, field: str) -> list[str]:
    """The messages shown next to ``field`` in the rendered form (unescaped)."""
    text = page_text(response)
    assert f'id="field-{field}"' in text, f"no field {field}"
    block = text.split(f'id="field-{field}"', 1)[1].split('id="field-', 1)[0]
    found = re.findall(r'<p class="error field-error" role="alert">(.*?)</p>', block)
    return [html.unescape(m) for m in found]


def audit_rows(action: str, actor) -> list[AuditEvent]:
    """The audit rows of ``action`` written by ``actor`` (the test network has its own)."""
    return list(AuditEvent.objects.filter(action=action, actor=actor).order_by("seq"))
