"""Permission-matrix rules of the notifications app (to be filled in)."""

from __future__ import annotations

from tests.matrix_support import Rule

RULES: list[Rule] = []
