"""Domain errors: a stable code, the field at fault (if any) and a human detail.

Services raise these; the API turns them into ``{"code", "detail", "field"}`` JSON with
status 400 (or the status given), pages show them next to the field.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400

    def __init__(
        self, code: str, detail: str, *, field: str | None = None, status: int | None = None
    ):
        super().__init__(detail)
        self.code = code
        self.detail = str(detail)
        self.field = field
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "detail": self.detail, "field": self.field}


class ValidationFailed(DomainError):
    """Input that breaks a rule; nothing was changed."""


class NotFound(DomainError):
    """Missing or outside the actor's data scope (the two answer the same)."""

    status = 404

    def __init__(self, what: str = "object"):
        super().__init__("not_found", f"{what} not found")


class PermissionDenied(DomainError):
    """The actor's role lacks the permission for this action."""

    status = 403

    def __init__(self, detail: str = "permission denied"):
        super().__init__("permission_denied", detail)
