"""The network's actions, being split by topic (this commit only moves the module so
that ``git log --follow`` keeps its history on the largest part; the next commit splits
it and drops this re-export)."""

from yiyang.network.services.staff import *  # noqa: F403
from yiyang.network.services.staff import (  # noqa: F401
    _institution_licence_conflicts,
    _save,
)
