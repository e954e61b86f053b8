"""``/api/v1/assessments/``: one sub-router per area, composed into ``router`` (the dotted
path ``yiyang.assessments.api.router`` that ``assessments.plugin`` registers):

* ``score`` — ``POST /score``, the stateless scoring API.
* ``instruments`` — the instruments (current versions and definitions) and the
  eligibility rules in force.
* ``sessions`` — assessment sessions: open, answer, submit, co-sign, sign off, discard,
  correct; the printable report.
* ``residents`` — a resident's assessments, standing and dues; the due list of the
  caller's scope.
* ``common`` — what the modules share (the error answers they declare).

Each operation names its ``operation_id`` explicitly: the ids are the published schema's
and stay as they were when the API was two modules (``api.py``, ``api_sessions.py``).
Errors are ``{"code", "detail", "field"}`` (plus ``errors`` for bad answers).
"""

from __future__ import annotations

from ninja import Router

from yiyang.assessments.api import instruments, residents, score, sessions

router = Router(tags=["assessments"])
router.add_router("", score.router)
router.add_router("", instruments.router)
router.add_router("", sessions.router)
router.add_router("", residents.router)
