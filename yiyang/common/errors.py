"""Domain errors: a stable code, the field at fault (if any) and a human detail.

Services raise these; the API turns them into ``{"code", "detail", "field"}`` JSON with
status 400 (or the status given), pages show them next to the field.

Every code is a member of an error-code enum: ``CommonError`` below for the codes any app
(and the API layer) answers, each app's own ``<App>Error`` in ``yiyang/<app>/errors.py``
for the codes whose meaning belongs to it. An app registers its enum with
``register_error_codes`` from that module (imported for every installed app by
``CommonConfig.ready``); ``docs/api-errors.md`` lists every registered code with the
``#:`` comment above its member (``python -m yiyang.tools.error_codes`` writes it). A
member is a ``str``: the JSON answer carries the code itself.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import ImproperlyConfigured


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
        super().__init__(CommonError.NOT_FOUND, f"{what} not found")


class PermissionDenied(DomainError):
    """The actor's role lacks the permission for this action."""

    status = 403

    def __init__(self, detail: str = "permission denied"):
        super().__init__(CommonError.PERMISSION_DENIED, detail)


# --- the registry of error codes ---------------------------------------------------------

_ENUMS: list[type[StrEnum]] = []


def register_error_codes(codes: type[StrEnum]) -> type[StrEnum]:
    """Register an app's error-code enum (from its ``errors`` module).

    A code is one meaning: a code already registered by another enum is a configuration
    error, found at start-up. Registering the same enum again (a module reloaded in tests)
    replaces it in its place."""
    for index, known in enumerate(_ENUMS):
        if (known.__module__, known.__qualname__) == (codes.__module__, codes.__qualname__):
            _ENUMS[index] = codes
            return codes
    taken = {member.value: enum for enum in _ENUMS for member in enum}
    for member in codes:
        if member.value in taken:
            raise ImproperlyConfigured(
                f"The error code {member.value!r} of {codes.__qualname__} is already "
                f"registered by {taken[member.value].__qualname__}: a code means one thing."
            )
    _ENUMS.append(codes)
    return codes


def error_codes() -> list[type[StrEnum]]:
    """The registered error-code enums, in the order they were registered."""
    return list(_ENUMS)


class CommonError(StrEnum):
    """Codes any part of the API can answer: the request itself, authentication, and the
    checks of a single input field that every app makes the same way."""

    # --- the request, authentication, the server ---

    #: The object does not exist or lies outside your data scope (the two answer the same,
    #: 404); also a path under ``/api/v1/`` that no endpoint has, or a path whose id is not
    #: a whole number.
    NOT_FOUND = "not_found"
    #: Your role does not have the permission this action needs (403).
    PERMISSION_DENIED = "permission_denied"
    #: The request carries no valid credentials: send ``Authorization: Bearer <token>``
    #: (or the session cookie of a signed-in user) (401).
    NOT_AUTHENTICATED = "not_authenticated"
    #: A request authenticated by the session cookie did not send the CSRF token in the
    #: ``X-CSRFToken`` header (403).
    CSRF_FAILED = "csrf_failed"
    #: The path exists but does not answer this HTTP method; the ``Allow`` header lists the
    #: methods it answers (405).
    METHOD_NOT_ALLOWED = "method_not_allowed"
    #: The request body cannot be read: JSON that does not parse, a multipart body that
    #: cannot be split, or a body refused as too large or with too many fields (400).
    INVALID_BODY = "invalid_body"
    #: Too many requests in a short time (429): wait, then send the request again.
    THROTTLED = "throttled"
    #: Another HTTP error of the framework, with the status of the answer.
    ERROR = "error"
    #: An unexpected error on the server (500). It is logged; ``detail`` gives the
    #: reference (request id) to quote to an administrator.
    SERVER_ERROR = "server_error"

    # --- checks of one input field ---

    #: A value breaks the rule of its field; ``detail`` says which rule. As a 422: the
    #: input does not fit the operation's schema (``errors`` lists every problem), text
    #: contains a control character (only tab, line feed and carriage return are allowed),
    #: or a JSON body is not an object where one is expected.
    INVALID = "invalid"
    #: A required value is missing or empty.
    REQUIRED = "required"
    #: A text is longer than its field allows; ``detail`` gives the limit.
    TOO_LONG = "too_long"
    #: A value is not one of the values its field allows; ``detail`` lists them.
    INVALID_CHOICE = "invalid_choice"
    #: A number lies outside the range its field allows (or outside the plausible range of
    #: a measurement); ``detail`` gives the range.
    OUT_OF_RANGE = "out_of_range"
    #: The body names a field that the operation does not know or does not let you change.
    UNKNOWN_FIELD = "unknown_field"
    #: An id (or code) refers to an object that does not exist or lies outside your data
    #: scope.
    UNKNOWN_REFERENCE = "unknown_reference"
    #: A value is not a valid date (use ``YYYY-MM-DD``), or a date that cannot be true
    #: (e.g. a date of death outside the resident's lifetime).
    INVALID_DATE = "invalid_date"
    #: A date lies in the future where only a past date or today makes sense.
    FUTURE_DATE = "future_date"
    #: A date lies before the resident's birth date.
    BEFORE_BIRTH = "before_birth"
    #: A phone number contains characters a phone number cannot have.
    INVALID_PHONE = "invalid_phone"
    #: Another object of the same kind already has this code.
    DUPLICATE_CODE = "duplicate_code"
    #: A text (e.g. a cell of an imported file) contains a control character, which cannot
    #: be stored.
    CONTROL_CHARACTER = "control_character"


register_error_codes(CommonError)
