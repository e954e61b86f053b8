"""Permission-matrix rules (see ``tests/matrix_support.py``)."""

from __future__ import annotations

from tests.matrix_support import Rule

RULES: list[Rule] = []
