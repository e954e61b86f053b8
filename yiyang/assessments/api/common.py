"""What the assessments API modules share: the error answers their operations declare."""

from __future__ import annotations

from typing import Any

from yiyang.common.schemas import ErrorOut

ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: dict[str, Any]}
