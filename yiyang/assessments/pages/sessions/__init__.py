"""Assessment session pages (ADR 0017), one module per step of a session; each page
module exports ``urlpatterns`` (``assessments.urls`` mounts them, namespace
``assessments``, at ``/assessments/``):

* ``start`` — open a draft (``start``).
* ``answering`` — the bedside form, autosaved with htmx (``answer``).
* ``finishing`` — submit with on-device co-signing, sign-off, discard (``submit``,
  ``sign_off``, ``discard``).
* ``result`` — a session's page: the bedside form of a draft, else the result
  (``session``); the PDF report (``report``).
* ``common`` — what they share: the access checks, the ``session_page`` decorator, the
  UI language.

Access: login; the session's resident through ``get_resident_for`` (scope, audited read;
missing or out of scope → 404) and ``can_view_health`` (else 403) for every view;
recording (start, answer, submit, sign-off, discard) also needs ``AssessmentPerm.RECORD``
(403). The services check the rest (participants, consent, state) and their
``ValidationFailed`` is shown next to the field at fault.
"""
